/*
 * A feedback report (SPEC.md §3 as amended): reading its JSON body —
 * strictly, or leniently as the hosted service does, where a report is
 * never refused over an auxiliary field (details over 1000 characters
 * are cut at a character boundary, a requestId that is not a UUID is
 * dropped) — and storing it in one statement, idempotently when the
 * client sends an Idempotency-Key.
 */
#ifndef FLR_REPORT_H
#define FLR_REPORT_H

#include <json-c/json.h>

#include "auth.h"
#include "db.h"
#include "keycheck.h"
#include "params.h"
#include "util.h"

#define REPORT_MODEL_ID_MAX 256 /* bytes */
#define REPORT_DETAILS_MAX 1000 /* characters */
#define IDEMPOTENCY_KEY_MAX 255 /* bytes */

struct report {
	const char *model_id;
	const char *outcome; /* success, rate_limited, unavailable, error */
	const char *details; /* NULL: none */
	const char *request_id; /* a UUID, or NULL */
	int dry_run;
};

/* A refused body: always a 400 invalid_field naming the field. */
struct report_error {
	const char *field;
	const char *detail;
};

/*
 * Read body into *rep (strings in arena a or in body, which must
 * outlive rep).  When strict is 0, an over-long details or a requestId
 * that is not a UUID is adjusted (recorded in adj) instead of refused.
 * Returns 0, or -1 with *err.
 */
int report_read(struct json_object *body, int strict, struct arena *a,
    struct report *rep, struct param_adjustments *adj,
    struct report_error *err) WUR;

/*
 * The key of an Idempotency-Key header (an RFC 8941 String or a bare
 * token of visible ASCII, 1 to 255 bytes) into out.  Returns 0, or -1
 * when it is malformed.
 */
int report_idempotency_key(
    const char *header, char out[IDEMPOTENCY_KEY_MAX + 1]);

enum report_outcome {
	REPORT_STORED,
	REPORT_DRY_RUN, /* valid, nothing stored */
	REPORT_REPLAYED, /* the key's earlier report, nothing new stored */
	REPORT_KEY_REUSED, /* the key came with another body: 422 */
	REPORT_KEY_REFUSED, /* see verdict */
	REPORT_UNKNOWN_MODEL, /* 422 */
	REPORT_RATE_LIMITED, /* see retry_after */
	REPORT__MAX
};

struct report_result {
	enum report_outcome outcome;
	enum key_verdict verdict;
	char id[UUID_LEN + 1]; /* the stored (or replayed) report's id */
	long long retry_after; /* seconds: REPORT_RATE_LIMITED, or a
	                          VERDICT_THROTTLED key */
};

/*
 * Store rep for the key token (well-formed or not) sent from addr, at
 * most limit an hour per user; idem_key (NULL: none) with fingerprint
 * (of the body) makes a retry find the first report.  The key is
 * screened through m (NULL allowed) first, as key_check() does; a
 * refused key is REPORT_KEY_REFUSED with its verdict (and retry_after
 * for VERDICT_THROTTLED).  Returns DB_OK with *out, or DB_UNAVAILABLE
 * / DB_ERROR.
 */
enum db_status report_store(struct db *db, struct key_memory *m,
    const char *addr, const char *token, const struct report *rep, int limit,
    const char *idem_key, const char *fingerprint,
    struct report_result *out) WUR;

#endif
