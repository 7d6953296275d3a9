/*
 * Who is calling: the Authorization header, the key behind it and, for
 * counted routes, the quota, with every refusal answered on res.
 */
#ifndef FLR_GUARD_H
#define FLR_GUARD_H

#include <stdint.h>

#include "app.h"
#include "keycheck.h"
#include "quota.h"

struct caller {
	char key_id[UUID_LEN + 1];
	long long user_id;
	const char *preferences; /* jsonb text, in the request arena */
	long long catalog_version;
	int64_t last_sync_ms; /* -1: never synced */
	int64_t db_now_ms;
	struct quota quota;
	/* guard_counted_listing(): the data versions, when read. */
	int have_versions;
	long long versions_window; /* seconds; -1: all time */
	struct data_versions versions;
};

/*
 * Take the token of "Authorization: Bearer <key>".  Returns 0, or -1
 * with 401 missing_auth / invalid_auth_format written to res.
 */
int guard_token(
    const struct request *req, struct response *res, const char **token) WUR;

/*
 * The one answer to a key that is not valid: 401 with the verdict's
 * code (invalid_key, expired_key) and WWW-Authenticate; for
 * VERDICT_THROTTLED, 429 too_many_invalid_keys with Retry-After:
 * retry_after (seconds).
 */
void guard_refuse(
    struct response *res, enum key_verdict v, long long retry_after);

/*
 * Check the key and count the request against its user's quota in one
 * statement; writes the quota headers.  Returns 0 when the request may
 * go on, or -1 with 401 invalid_key / expired_key, 429 rate_limited or
 * too_many_invalid_keys, or 503 written to res.  A 429 rate_limited is
 * logged as a counted call.
 */
int guard_counted(struct app *app, const struct request *req, const char *token,
    struct response *res, struct caller *who) WUR;

/*
 * guard_counted() for a counted listing, whose ETag needs the data
 * versions of a window of window_s seconds (-1: all time): they are
 * read in the same round trip into who->versions (who->have_versions).
 */
int guard_counted_listing(struct app *app, const struct request *req,
    const char *token, long long window_s, struct response *res,
    struct caller *who) WUR;

/*
 * Check the key of a request that is not counted (keys, usage,
 * preferences): enabled and unexpired, quota untouched.  Fills who's
 * key_id, user_id and preferences.  Returns 0, or -1 with 401
 * invalid_key / expired_key, 429 too_many_invalid_keys or 503 written
 * to res.
 */
int guard_key(struct app *app, const struct request *req, const char *token,
    struct response *res, struct caller *who) WUR;

/*
 * The gate of the admin routes: X-Admin-Secret must equal ADMIN_SECRET,
 * compared in constant time.  Returns 0, or -1 with 503 admin_disabled
 * (no secret configured) or 401 missing_admin_secret /
 * invalid_admin_secret written to res.
 */
int guard_admin(
    const struct app *app, const struct request *req, struct response *res) WUR;

/*
 * Arrange the request-log row of a counted call (written after the
 * response has left): its status and the ids it returned, in order.
 */
void pending_log(struct app *app, const struct request *req,
    const struct caller *who, const char *endpoint, int status,
    const struct ranked *v, size_t n);

#endif
