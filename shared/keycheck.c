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
	C_NOW,
	C_DURABLE,
	C_VERSIONS /* STMT_AUTH_COUNTED_VERSIONS: the versions from here */
};

/*
 * Read a key statement's result r for out.  Returns 1 when it has the
 * key's row, 0 when it has none (an unknown key).
 */
static int
read_key(const PGresult *r, struct arena *a, struct key_check *out)
{
	if (PQntuples(r) != 1)
		return 0;
	out->verdict = key_verdict_of(1, db_get_bool(r, 0, K_ENABLED, 0),
	    db_get_bool(r, 0, K_EXPIRED, 0));
	snprintf(
	    out->key_id, sizeof(out->key_id), "%s", PQgetvalue(r, 0, K_ID));
	out->user_id = db_get_ll(r, 0, K_USER, 0);
	if (!PQgetisnull(r, 0, K_PREFS))
		out->preferences = arena_strdup(a, PQgetvalue(r, 0, K_PREFS));
	return 1;
}

/* What a lookup knows before its round trip: an unknown key. */
static void
key_unknown(struct key_check *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = VERDICT_UNKNOWN;
	out->preferences = "{}";
}

enum db_status
key_check(
    struct db *db, const char *token, struct arena *a, struct key_check *out)
{
	char hash[AUTH_HASH_LEN + 1];
	const char *params[1] = { hash };
	enum db_status st;
	PGresult *r;

	key_unknown(out);
	if (!auth_key_wellformed(token))
		return DB_OK;
	auth_hash_key(token, hash);
	r = db_exec(db, STMT_AUTH_KEY, params, 1, &st);
	if (r == NULL)
		return st;
	(void)read_key(r, a, out);
	PQclear(r);
	return DB_OK;
}

/* The counted lookup's result r into out. */
static void
read_counted(const PGresult *r, struct arena *a, struct counted_check *out)
{
	if (!read_key(r, a, &out->key))
		return;
	out->catalog_version = db_get_ll(r, 0, C_VERSION, 0);
	out->last_sync_ms = db_get_ll(r, 0, C_LAST_SYNC, -1);
	out->db_now_ms = db_get_ll(r, 0, C_NOW, 0);
	out->quota.count = db_get_ll(r, 0, C_COUNT, 0);
	out->quota.limit = db_get_ll(r, 0, C_LIMIT, 0);
	out->quota.window_seconds = db_get_ll(r, 0, C_WINDOW, 86400);
	out->quota.window_start_ms = db_get_ll(r, 0, C_WINDOW_START, 0);
	out->quota.now_ms = out->db_now_ms;
}

enum db_status
key_check_counted_versions(struct db *db, const char *token, struct arena *a,
    long long window_s, struct counted_check *out)
{
	char hash[AUTH_HASH_LEN + 1], secs[24];
	const char *params[2] = { hash, NULL };
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	key_unknown(&out->key);
	out->last_sync_ms = -1;
	if (!auth_key_wellformed(token))
		return DB_OK;
	auth_hash_key(token, hash);
	data_versions_params(window_s, secs, &params[1]);
	r = db_exec(db, STMT_AUTH_COUNTED_VERSIONS, params, 2, &st);
	if (r == NULL)
		return st;
	read_counted(r, a, out);
	if (data_versions_parse(r, C_VERSIONS, &out->versions) == DB_OK) {
		out->have_versions = 1;
		out->versions_window = window_s;
	}
	PQclear(r);
	return DB_OK;
}

enum db_status
key_check_counted(struct db *db, const char *token, struct arena *a,
    struct counted_check *out)
{
	char hash[AUTH_HASH_LEN + 1];
	const char *params[1] = { hash };
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	key_unknown(&out->key);
	out->last_sync_ms = -1;
	if (!auth_key_wellformed(token))
		return DB_OK;
	auth_hash_key(token, hash);
	r = db_exec(db, STMT_AUTH_COUNTED, params, 1, &st);
	if (r == NULL)
		return st;
	read_counted(r, a, out);
	PQclear(r);
	return DB_OK;
}
