#include "keycheck.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static const struct {
	const char *code;
	const char *detail;
} verdicts[VERDICT__MAX] = {
	[VERDICT_VALID] = { "ok", "the key is valid" },
	[VERDICT_UNKNOWN] = { "invalid_key", "unknown API key" },
	[VERDICT_DISABLED] = { "invalid_key", "this API key is disabled" },
	[VERDICT_EXPIRED] = { "expired_key", "this API key has expired" },
	[VERDICT_THROTTLED] = { "too_many_invalid_keys",
	    "too many unknown API keys from this address" },
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

void
key_cache_init(struct key_cache *c, int64_t ttl_ms)
{
	memset(c, 0, sizeof(*c));
	c->ttl_ms = ttl_ms;
}

/* The value of a base64url character; 0 for any other byte. */
static unsigned
b64_value(char ch)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p = ch != '\0' ? strchr(digits, ch) : NULL;

	return p != NULL ? (unsigned)(p - digits) : 0;
}

/* The set of hash: 8 bits of its first two characters (12 bits). */
static size_t
set_of(const char *hash)
{
	return ((b64_value(hash[0]) << 6) | b64_value(hash[1])) %
	    KEY_CACHE_SETS;
}

/* The way of set that holds hash (expired or not), or -1. */
static int
way_of(const struct key_cache_entry *set, const char *hash)
{
	int w;

	for (w = 0; w < KEY_CACHE_WAYS; w++)
		if (set[w].expires_ms != 0 &&
		    memcmp(set[w].hash, hash, AUTH_HASH_LEN) == 0)
			return w;
	return -1;
}

int
key_cache_has(const struct key_cache *c, const char *hash, int64_t now_ms)
{
	const struct key_cache_entry *set = c->set[set_of(hash)];
	int w = way_of(set, hash);

	return w >= 0 && now_ms < set[w].expires_ms;
}

void
key_cache_put(struct key_cache *c, const char *hash, int64_t now_ms)
{
	struct key_cache_entry *set = c->set[set_of(hash)], *e;
	int w;

	if (c->ttl_ms <= 0)
		return;
	w = way_of(set, hash);
	if (w >= 0) {
		e = &set[w];
	} else {
		e = &set[0];
		for (w = 0; w < KEY_CACHE_WAYS; w++) {
			if (now_ms >= set[w].expires_ms) {
				e = &set[w];
				break;
			}
			if (set[w].expires_ms < e->expires_ms)
				e = &set[w];
		}
		memcpy(e->hash, hash, AUTH_HASH_LEN);
	}
	e->expires_ms = now_ms + c->ttl_ms;
}

void
key_cache_drop(struct key_cache *c, const char *hash)
{
	struct key_cache_entry *set = c->set[set_of(hash)];
	int w = way_of(set, hash);

	if (w >= 0)
		memset(&set[w], 0, sizeof(set[w]));
}

void
key_memory_init(struct key_memory *m, int64_t negative_ttl_ms,
    long long unknown_max, int64_t window_ms, struct metrics *metrics)
{
	key_cache_init(&m->unknown, negative_ttl_ms);
	key_cache_init(&m->valid, KEY_VALID_MEMORY_MS);
	addr_limit_init(&m->limit, unknown_max, window_ms);
	m->metrics = metrics;
}

/* Monotonic ms: the tables must not follow the wall clock's jumps. */
static int64_t
mono_now(void)
{
	return (int64_t)mono_ms();
}

int
key_screen(struct key_memory *m, const char *addr, const char *token,
    char hash[AUTH_HASH_LEN + 1], enum key_verdict *v, long long *retry_after)
{
	struct addr_key ak;
	int64_t now, wait;

	*v = VERDICT_UNKNOWN;
	*retry_after = 0;
	hash[0] = '\0';
	if (!auth_key_wellformed(token)) {
		if (m != NULL)
			metrics_key_refusal(m->metrics, MKR_MALFORMED);
		return 1;
	}
	auth_hash_key(token, hash);
	if (m == NULL)
		return 0;
	now = mono_now();
	if (key_cache_has(&m->unknown, hash, now)) {
		metrics_key_refusal(m->metrics, MKR_CACHED);
		return 1;
	}
	if (key_cache_has(&m->valid, hash, now) ||
	    addr_key_parse(addr, &ak) != 0)
		return 0;
	wait = addr_limit_wait(&m->limit, &ak, now);
	if (wait <= 0)
		return 0;
	*v = VERDICT_THROTTLED;
	*retry_after = (wait + 999) / 1000;
	metrics_key_refusal(m->metrics, MKR_THROTTLED);
	return 1;
}

void
key_learn(struct key_memory *m, const char *addr, const char *hash,
    enum key_verdict v)
{
	struct addr_key ak;
	int64_t now;

	if (m == NULL)
		return;
	now = mono_now();
	metrics_key_lookup(m->metrics);
	if (v == VERDICT_VALID) {
		key_cache_put(&m->valid, hash, now);
		return;
	}
	/* Deleted or disabled since: it no longer opens a refused address. */
	key_cache_drop(&m->valid, hash);
	if (v != VERDICT_UNKNOWN)
		return;
	key_cache_put(&m->unknown, hash, now);
	if (addr_key_parse(addr, &ak) == 0 &&
	    addr_limit_count(&m->limit, &ak, now))
		log_warn("client %s sent %lld unknown API keys within %lld s: "
		         "keys from it not known valid here get 429 "
		         "too_many_invalid_keys for the rest of the window",
		    addr, m->limit.max, (long long)(m->limit.window_ms / 1000));
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
 * Run key statement s for token, screened through m first: its hash is
 * the first parameter, and with nparams 2 extra (NULL: SQL's) the
 * second.  NULL with *st when there is no row (or no round trip).
 */
static PGresult *
lookup(struct db *db, struct key_memory *m, const char *addr, enum stmt s,
    const char *token, int nparams, const char *extra, struct arena *a,
    struct key_check *out, enum db_status *st)
{
	char hash[AUTH_HASH_LEN + 1];
	const char *params[2] = { hash, extra };
	PGresult *r;

	memset(out, 0, sizeof(*out));
	out->verdict = VERDICT_UNKNOWN;
	out->preferences = "{}";
	*st = DB_OK;
	if (key_screen(m, addr, token, hash, &out->verdict, &out->retry_after))
		return NULL;
	r = db_exec(db, s, params, nparams, st);
	if (r == NULL)
		return NULL;
	if (PQntuples(r) != 1) {
		PQclear(r);
		key_learn(m, addr, hash, VERDICT_UNKNOWN);
		return NULL;
	}
	out->verdict = key_verdict_of(1, db_get_bool(r, 0, K_ENABLED, 0),
	    db_get_bool(r, 0, K_EXPIRED, 0));
	key_learn(m, addr, hash, out->verdict);
	snprintf(
	    out->key_id, sizeof(out->key_id), "%s", PQgetvalue(r, 0, K_ID));
	out->user_id = db_get_ll(r, 0, K_USER, 0);
	if (!PQgetisnull(r, 0, K_PREFS))
		out->preferences = arena_strdup(a, PQgetvalue(r, 0, K_PREFS));
	return r;
}

enum db_status
key_check(struct db *db, struct key_memory *m, const char *addr,
    const char *token, struct arena *a, struct key_check *out)
{
	enum db_status st;

	PQclear(
	    lookup(db, m, addr, STMT_AUTH_KEY, token, 1, NULL, a, out, &st));
	return st;
}

/* The quota and meta of a counted lookup's row r into out. */
static void
read_counted(const PGresult *r, struct counted_check *out)
{
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
key_check_counted(struct db *db, struct key_memory *m, const char *addr,
    const char *token, struct arena *a, struct counted_check *out)
{
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	out->last_sync_ms = -1;
	r = lookup(
	    db, m, addr, STMT_AUTH_COUNTED, token, 1, NULL, a, &out->key, &st);
	if (r == NULL)
		return st;
	read_counted(r, out);
	PQclear(r);
	return DB_OK;
}

enum db_status
key_check_counted_versions(struct db *db, struct key_memory *m,
    const char *addr, const char *token, struct arena *a, long long window_s,
    struct counted_check *out)
{
	char secs[24];
	const char *extra = NULL;
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	out->last_sync_ms = -1;
	data_versions_params(window_s, secs, &extra);
	r = lookup(db, m, addr, STMT_AUTH_COUNTED_VERSIONS, token, 2, extra, a,
	    &out->key, &st);
	if (r == NULL)
		return st;
	read_counted(r, out);
	if (data_versions_parse(r, C_VERSIONS, &out->versions) == DB_OK) {
		out->have_versions = 1;
		out->versions_window = window_s;
	}
	PQclear(r);
	return DB_OK;
}
