/*
 * Who holds this key: the one verdict every route gives a Bearer token
 * (unknown, disabled, expired or valid), read through the two typed
 * statements that look a key up — plain (STMT_AUTH_KEY) and counted
 * against its user's quota in the same round trip (STMT_AUTH_COUNTED).
 */
#ifndef FLR_KEYCHECK_H
#define FLR_KEYCHECK_H

#include <stdint.h>

#include "auth.h"
#include "db.h"
#include "etag.h"
#include "quota.h"
#include "util.h"

enum key_verdict {
	VERDICT_VALID,
	VERDICT_UNKNOWN, /* no such key, or not even the shape of one */
	VERDICT_DISABLED,
	VERDICT_EXPIRED,
	VERDICT__MAX
};

/* The verdict of a key lookup's row: found, enabled, expired. */
enum key_verdict key_verdict_of(int found, int enabled, int expired);

/* The problem's code and detail for a refused verdict. */
const char *key_verdict_code(enum key_verdict v);
const char *key_verdict_detail(enum key_verdict v);

struct key_check {
	enum key_verdict verdict;
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
 * Look token up (a malformed one is VERDICT_UNKNOWN without a round
 * trip).  Fills *out (strings in arena a) and returns DB_OK whatever
 * the verdict, or DB_UNAVAILABLE / DB_ERROR.
 */
enum db_status key_check(struct db *db, const char *token, struct arena *a,
    struct key_check *out) WUR;

/*
 * The same, and when the key is valid, advance its user's quota window
 * atomically (the request counts whether or not it fits: see
 * quota_allowed()).  Returns DB_OK, DB_UNAVAILABLE or DB_ERROR.
 */
enum db_status key_check_counted(struct db *db, const char *token,
    struct arena *a, struct counted_check *out) WUR;

/*
 * key_check_counted() and, in the same statement, data_versions_read()
 * for a window of window_s seconds (-1: all time): what a counted
 * listing reads before its body (STMT_AUTH_COUNTED_VERSIONS).
 * out->have_versions says whether out->versions were read (not for a
 * malformed or unknown key).  Returns what key_check_counted() does.
 */
enum db_status key_check_counted_versions(struct db *db, const char *token,
    struct arena *a, long long window_s, struct counted_check *out) WUR;

#endif
