#include "keycheck.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *code;
	const char *detail;
} verdicts[VERDICT__MAX] = {
	[VERDICT_VALID] = { "ok", "the key is valid" },
	[VERDICT_UNKNOWN] = { "invalid_key", "unknown API key" },
	[VERDICT_DISABLED] = { "invalid_key", "this API key is disabled" },
	[VERDICT_EXPIRED] = { "expired_key", "this API key has expired" },
};

enum key_verdict
key_verdict_of(int found, int enabled, int expired)
{
	if (!found)
		return VERDICT_UNKNOWN;
	if (!enabled)
		return VERDICT_DISABLED;
	return expired ? VERDICT_EXPIRED : VERDICT_VALID;
}

const char *
key_verdict_code(enum key_verdict v)
{
	return verdicts[v].code;
}

const char *
key_verdict_detail(enum key_verdict v)
{
	return verdicts[v].detail;
}

/* Columns of STMT_AUTH_KEY, and the first five of STMT_AUTH_COUNTED. */
enum { K_ID, K_USER, K_ENABLED, K_EXPIRED, K_PREFS };

/* Columns of STMT_AUTH_COUNTED after those five. */
enum {
	C_COUNT = K_PREFS + 1,
	C_LIMIT,
	C_WINDOW,
	C_WINDOW_START,
	C_VERSION,
	C_LAST_SYNC,
	C_NOW
};

/* Run key statement s for token; NULL with *st when there is no row. */
static PGresult *
lookup(struct db *db, enum stmt s, const char *token, struct arena *a,
    struct key_check *out, enum db_status *st)
{
	char hash[AUTH_HASH_LEN + 1];
	const char *params[1] = { hash };
	PGresult *r;

	memset(out, 0, sizeof(*out));
	out->verdict = VERDICT_UNKNOWN;
	out->preferences = "{}";
	*st = DB_OK;
	if (!auth_key_wellformed(token))
		return NULL;
	auth_hash_key(token, hash);
	r = db_exec(db, s, params, 1, st);
	if (r == NULL)
		return NULL;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return NULL;
	}
	out->verdict = key_verdict_of(1, db_get_bool(r, 0, K_ENABLED, 0),
	    db_get_bool(r, 0, K_EXPIRED, 0));
	snprintf(
	    out->key_id, sizeof(out->key_id), "%s", PQgetvalue(r, 0, K_ID));
	out->user_id = db_get_ll(r, 0, K_USER, 0);
	if (!PQgetisnull(r, 0, K_PREFS))
		out->preferences = arena_strdup(a, PQgetvalue(r, 0, K_PREFS));
	return r;
}

enum db_status
key_check(
    struct db *db, const char *token, struct arena *a, struct key_check *out)
{
	enum db_status st;

	PQclear(lookup(db, STMT_AUTH_KEY, token, a, out, &st));
	return st;
}

enum db_status
key_check_counted(struct db *db, const char *token, struct arena *a,
    struct counted_check *out)
{
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	out->last_sync_ms = -1;
	r = lookup(db, STMT_AUTH_COUNTED, token, a, &out->key, &st);
	if (r == NULL)
		return st;
	out->catalog_version = db_get_ll(r, 0, C_VERSION, 0);
	out->last_sync_ms = db_get_ll(r, 0, C_LAST_SYNC, -1);
	out->db_now_ms = db_get_ll(r, 0, C_NOW, 0);
	out->quota.count = db_get_ll(r, 0, C_COUNT, 0);
	out->quota.limit = db_get_ll(r, 0, C_LIMIT, 0);
	out->quota.window_seconds = db_get_ll(r, 0, C_WINDOW, 86400);
	out->quota.window_start_ms = db_get_ll(r, 0, C_WINDOW_START, 0);
	out->quota.now_ms = out->db_now_ms;
	PQclear(r);
	return DB_OK;
}
