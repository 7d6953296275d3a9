/*
 * A user's usage (SPEC.md §5): the quota as it stands, read and never
 * advanced, and the history of its counted requests (api_request_logs)
 * and reports (model_feedback), newest first, a page at a time; and
 * the JSON of both, kept apart from the reading so it can be tested
 * without a database.
 */
#ifndef FLR_USAGE_H
#define FLR_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "db.h"
#include "json.h"
#include "util.h"

/* A user's quota window as stored, and how long its history is. */
struct usage {
	long long limit; /* rate_limit_max */
	long long window_seconds;
	int64_t window_start_ms; /* -1: no window opened yet */
	long long window_count; /* may exceed limit (refused attempts) */
	int64_t now_ms; /* the database's clock */
	long long history_total; /* request logs and reports */
};

enum usage_kind {
	USAGE_REQUEST, /* a counted request */
	USAGE_REPORT, /* a feedback report */
	USAGE__MAX
};

/*
 * One entry of the history.  Strings are in the arena the page was
 * read into; NULL stands for SQL NULL.  The request members are unset
 * for a report and the report members for a request.
 */
struct usage_entry {
	enum usage_kind kind;
	char id[UUID_LEN + 1];
	int64_t created_ms;
	const char *key_id; /* NULL: the key has been deleted since */
	/* a request */
	const char *endpoint;
	long long status;
	double duration_ms;
	const char *model_ids; /* the ids returned, as a JSON array */
	/* a report */
	const char *model_id;
	const char *outcome; /* "success" or the issue */
	const char *details;
	const char *request_id;
};

struct usage_page {
	struct usage_entry *entries; /* n entries in the arena */
	size_t n;
	int has_more; /* entries follow this page */
};

/*
 * Read user uid's quota and history length (STMT_USAGE) into *out.
 * Returns DB_OK, DB_NOTFOUND (no such user), DB_ERROR or
 * DB_UNAVAILABLE.  Nothing to free.
 */
enum db_status usage_read(struct db *db, long long uid, struct usage *out) WUR;

/*
 * Read up to limit (at least 1) entries of user uid's history after
 * the first offset, newest first (STMT_USAGE_HISTORY), into *out; the
 * entries and their strings live in arena a, freed when it is reset.
 * Returns DB_OK, DB_ERROR or DB_UNAVAILABLE.
 */
enum db_status usage_history(struct db *db, long long uid, long long offset,
    long long limit, struct arena *a, struct usage_page *out) WUR;

/*
 * Write the quota of u as members of the object being written by w
 * (limit, remaining, resetAt, windowStart, windowSeconds,
 * requestCount), as a reader sees the window: one that has run out is
 * no window, and the count stops at the limit.
 */
void usage_write_quota(struct jw *w, const struct usage *u);

/* Write e as one history object (SPEC.md §5). */
void usage_write_entry(struct jw *w, const struct usage_entry *e);

#endif
