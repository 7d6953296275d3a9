/*
 * What an upstream answers, read strictly: another instance of this
 * project exports the counts of its own reports, and the hosted
 * original service publishes error rates per window.  Every payload
 * is checked whole before anything is kept; one that breaks any rule,
 * or goes over a cap, is refused with a one-line reason, and the sync
 * then changes no data row (shared/sync_upstream.c).
 *
 * An instance's GET /api/federation/export:
 *   {"format": "flr-federation/1", "generatedAt": "<ISO 8601>",
 *    "columns": ["grain","bucket","modelId","success","rateLimited",
 *                "unavailable","error"],
 *    "rows": [[60, "2026-12-01T10:07:00.000Z", "a/b:free", 3, 0, 1, 0],
 *             ...]}
 * format and columns exactly so; grain 60, 3600 or 86400; bucket a
 * UTC time "YYYY-MM-DDTHH:MM:SS[.mmm]Z" that is a multiple of its
 * grain, from 2000-01-01 to one day after now; modelId 1 to 256 bytes
 * without control characters; the four counts JSON integers from 0 to
 * 10^9; no (grain, bucket, modelId) twice; at most 500 000 rows and
 * 10 000 distinct models.
 *
 * The hosted service's GET /api/health?range=<window>:
 *   {"issues": [{"modelId": "a/b:free", "errorRate": 12.5, ...}, ...],
 *    "range": "24h", ...}
 * range the window asked for (a service that does not know a window
 * answers another one); each issue's modelId as above, errorRate a
 * number from 0 to 100; no model twice; at most 10 000 issues.  Rates
 * are kept as rates: no count is ever made up from them.
 */
#ifndef FLR_UPSTREAM_H
#define FLR_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define UPSTREAM_FORMAT "flr-federation/1"
#define UPSTREAM_MAX_ROWS 500000
#define UPSTREAM_MAX_MODELS 10000
#define UPSTREAM_MAX_COUNT 1000000000LL
#define UPSTREAM_ID_MAX 256
#define UPSTREAM_MAX_DEPTH 32
/* The hosted service's windows, asked one by one. */
#define UPSTREAM_WINDOWS 7

/* What kind of upstream answered (upstream_meta.kind). */
enum upstream_kind {
	UPSTREAM_UNKNOWN, /* nothing good came back yet */
	UPSTREAM_FLR, /* an instance of this project: counts */
	UPSTREAM_HOSTED, /* the hosted service: rates */
	UPSTREAM__MAX
};

/* One exported bucket of one model. */
struct upstream_row {
	int grain; /* seconds: 60, 3600 or 86400 */
	int64_t bucket_s; /* its start, seconds since the epoch */
	const char *model_id; /* one of the export's ids */
	long long success, rate_limited, unavailable, error;
};

/* A checked export: its rows, sorted by model, grain and bucket. */
struct upstream_export {
	struct upstream_row *rows;
	size_t n;
	char **ids; /* the distinct model ids, sorted */
	size_t nids;
	int64_t generated_ms;
};

/* One model's error rate (percent) in one window. */
struct upstream_rate {
	char *model_id;
	double error_rate;
};

struct upstream_rates {
	struct upstream_rate *v;
	size_t n;
};

/* "15m", "30m", "1h", "6h", "24h", "7d", "30d". */
extern const char *const upstream_windows[UPSTREAM_WINDOWS];

/* "flr", "hosted", or "unknown". */
const char *upstream_kind_name(enum upstream_kind k);

/*
 * Read len bytes of s as "YYYY-MM-DDTHH:MM:SSZ" or with milliseconds
 * ("…:SS.mmmZ"), a real UTC date and time from year 1970 to 9999, into
 * *ms (milliseconds since the epoch).  Returns 0 or -1.
 */
int upstream_parse_time(const char *s, size_t len, int64_t *ms) WUR;

/*
 * Check len bytes of body as an export (now_s: the present, in seconds
 * since the epoch, for the bound on future buckets) and keep it in
 * *out.  Returns 0 (the caller frees *out with upstream_export_free),
 * or -1 with a one-line reason in err (errsz bytes) and *out empty.
 */
int upstream_parse_export(const char *body, size_t len, int64_t now_s,
    struct upstream_export *out, char *err, size_t errsz) WUR;

/* Free what upstream_parse_export() kept; NULL-safe, leaves *e empty. */
void upstream_export_free(struct upstream_export *e);

/*
 * Check len bytes of body as the hosted service's health answer for
 * window range and keep its rates in *out.  Returns 0 (the caller
 * frees *out with upstream_rates_free), or -1 with a one-line reason
 * in err and *out empty.
 */
int upstream_parse_health(const char *body, size_t len, const char *range,
    struct upstream_rates *out, char *err, size_t errsz) WUR;

/* Free what upstream_parse_health() kept; NULL-safe, leaves *r empty. */
void upstream_rates_free(struct upstream_rates *r);

#endif
