/*
 * Who holds this key: the one verdict every route gives a Bearer token
 * (unknown, disabled, expired or valid), read through the two typed
 * statements that look a key up — plain (STMT_AUTH_KEY) and counted
 * against its user's quota in the same round trip (STMT_AUTH_COUNTED).
 *
 * A worker remembers what recent lookups said, so that bogus keys cost
 * no round trip: the hashes the database did not have (for
 * FLR_KEY_NEGATIVE_TTL seconds), and per client address the unknown
 * keys it looked up; an address past FLR_KEY_UNKNOWN_LIMIT of those in
 * FLR_KEY_UNKNOWN_WINDOW seconds is refused (VERDICT_THROTTLED) until
 * its window ends, except for keys this worker found valid lately.
 */
#ifndef FLR_KEYCHECK_H
#define FLR_KEYCHECK_H

#include <stdint.h>

#include "addrlimit.h"
#include "auth.h"
#include "db.h"
#include "etag.h"
#include "metrics.h"
#include "quota.h"
#include "util.h"

enum key_verdict {
	VERDICT_VALID,
	VERDICT_UNKNOWN, /* no such key, or not even the shape of one */
	VERDICT_DISABLED,
	VERDICT_EXPIRED,
	VERDICT_THROTTLED, /* not looked up: too many unknown keys */
	VERDICT__MAX
};

#define KEY_CACHE_SETS 256
#define KEY_CACHE_WAYS 4 /* 1024 hashes in all */

struct key_cache_entry {
	char hash[AUTH_HASH_LEN]; /* no NUL */
	int64_t expires_ms; /* monotonic; 0: empty */
};

/*
 * A fixed table of key hashes (auth_hash_key()), each held for ttl_ms:
 * sets of four, chosen by the hash's first characters (SHA-256 bits,
 * as even as any).  No allocation: it lives in its owner.
 */
struct key_cache {
	int64_t ttl_ms; /* 0: holds nothing */
	struct key_cache_entry set[KEY_CACHE_SETS][KEY_CACHE_WAYS];
};

/* An empty table whose entries last ttl_ms (0: off). */
void key_cache_init(struct key_cache *c, int64_t ttl_ms);

/* 1 when hash was put less than ttl_ms before now_ms, else 0. */
int key_cache_has(const struct key_cache *c, const char *hash, int64_t now_ms);

/*
 * Hold hash until now_ms + ttl_ms: again if it is there, else in an
 * empty or expired entry of its set, else instead of the one that
 * expires first.
 */
void key_cache_put(struct key_cache *c, const char *hash, int64_t now_ms);

/* Forget hash, if held. */
void key_cache_drop(struct key_cache *c, const char *hash);

/* How long a worker trusts that a key it found valid is still one. */
#define KEY_VALID_MEMORY_MS (600 * 1000)

/* What a worker remembers of its key lookups; see the top of this file. */
struct key_memory {
	struct key_cache unknown; /* hashes the database did not have */
	struct key_cache valid; /* found valid: let through a refused address */
	struct addr_limit limit; /* unknown keys looked up, per address */
	struct metrics *metrics; /* NULL: not counted */
};

/*
 * An empty memory: unknown hashes for negative_ttl_ms (0: never
 * remembered), and at most unknown_max unknown keys looked up per
 * address in window_ms (0: no limit).  metrics (NULL allowed) counts
 * lookups and refusals; it must outlive m.
 */
void key_memory_init(struct key_memory *m, int64_t negative_ttl_ms,
    long long unknown_max, int64_t window_ms, struct metrics *metrics);

/*
 * Before token, sent from client address addr (REMOTE_ADDR; NULL
 * allowed), is looked up.  Returns 0 with its hash in hash: ask the
 * database, then tell key_learn() what it said.  Returns 1 with *v to
 * answer without a round trip: VERDICT_UNKNOWN (not shaped like a key,
 * or the database lately had no such hash) or VERDICT_THROTTLED with
 * *retry_after (seconds until addr's window ends).  m NULL: only the
 * shape is checked.
 */
int key_screen(struct key_memory *m, const char *addr, const char *token,
    char hash[AUTH_HASH_LEN + 1], enum key_verdict *v,
    long long *retry_after) WUR;

/*
 * What the database said of hash (VERDICT_UNKNOWN: it has no such
 * key), for the next key_screen().  Only that answer is remembered as
 * unknown, and counted against addr; m NULL: nothing happens.
 */
void key_learn(struct key_memory *m, const char *addr, const char *hash,
    enum key_verdict v);

/* The verdict of a key lookup's row: found, enabled, expired. */
enum key_verdict key_verdict_of(int found, int enabled, int expired);

/* The problem's code and detail for a refused verdict. */
const char *key_verdict_code(enum key_verdict v);
const char *key_verdict_detail(enum key_verdict v);

struct key_check {
	enum key_verdict verdict;
	long long retry_after; /* VERDICT_THROTTLED: seconds */
	char key_id[UUID_LEN + 1];
	long long user_id;
	const char *preferences; /* jsonb text in the arena; "{}" if none */
};

/* What a counted lookup adds: the quota after this request, and meta. */
struct counted_check {
	struct key_check key;
	struct quota quota; /* filled when the verdict is VERDICT_VALID */
	long long catalog_version;
	int64_t last_sync_ms; /* -1: never synced */
	int64_t db_now_ms;
	/* key_check_counted_versions(): the versions, when read. */
	int have_versions;
	long long versions_window;
	struct data_versions versions;
};

/*
 * Look token, sent from addr, up, unless key_screen() through m (NULL
 * allowed) answers without a round trip.  Fills *out (strings in arena
 * a) and returns DB_OK whatever the verdict, or DB_UNAVAILABLE /
 * DB_ERROR.
 */
enum db_status key_check(struct db *db, struct key_memory *m, const char *addr,
    const char *token, struct arena *a, struct key_check *out) WUR;

/*
 * The same, and when the key is valid, advance its user's quota window
 * atomically (the request counts whether or not it fits: see
 * quota_allowed()).  Returns DB_OK, DB_UNAVAILABLE or DB_ERROR.
 */
enum db_status key_check_counted(struct db *db, struct key_memory *m,
    const char *addr, const char *token, struct arena *a,
    struct counted_check *out) WUR;

/*
 * key_check_counted() and, in the same statement, data_versions_read()
 * for a window of window_s seconds (-1: all time): what a counted
 * listing reads before its body (STMT_AUTH_COUNTED_VERSIONS).
 * out->have_versions says whether out->versions were read (not for a
 * malformed or unknown key).  Returns what key_check_counted() does.
 */
enum db_status key_check_counted_versions(struct db *db, struct key_memory *m,
    const char *addr, const char *token, struct arena *a, long long window_s,
    struct counted_check *out) WUR;

#endif
