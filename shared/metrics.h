/*
 * The counters of a whole worker pool, for GET /metrics in the
 * Prometheus text format.  Workers are separate processes, so the
 * counters live in one shared segment: a file (FLR_METRICS_FILE, in the
 * service's runtime directory) that every worker maps MAP_SHARED and
 * updates with C11 atomic adds, lock-free, and that any worker reads to
 * answer a scrape.  Nothing is kept in a process: a worker that dies
 * (SIGKILL included) and is replaced takes no count with it, and a
 * scrape sees every worker's requests whichever worker answers it.
 */
#ifndef FLR_METRICS_H
#define FLR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

#define METRICS_ROUTES_MAX 48 /* route table entries the segment holds */

/* A route of the route table, as its labels say it. */
struct metrics_route {
	const char *method;
	const char *path; /* the table's pattern, never a raw path */
};

enum metrics_db_error {
	MDB_CONNECT, /* a connection attempt failed */
	MDB_LOST, /* the connection broke under a statement */
	MDB_STATEMENT, /* a statement failed (unique violations excepted) */
	MDB__MAX
};

/* The outcome of a stored report (model_feedback.outcome). */
enum metrics_outcome {
	MO_SUCCESS,
	MO_RATE_LIMITED,
	MO_UNAVAILABLE,
	MO_ERROR,
	MO__MAX
};

/* Why an API key was refused without a database lookup. */
enum metrics_key_refusal {
	MKR_MALFORMED, /* not shaped like a key */
	MKR_CACHED, /* the database lately had no such key */
	MKR_THROTTLED, /* 429 too_many_invalid_keys */
	MKR__MAX
};

/* Whether a large body came from the worker's copy (bodycache.h). */
enum metrics_body_copy {
	MBC_HIT, /* the copy under the same tag */
	MBC_BUILT, /* built from the database */
	MBC__MAX
};

/* Which server answered a read-only route (shared/replica.h). */
enum metrics_read {
	MR_REPLICA, /* the read replica */
	MR_PRIMARY, /* the primary: no replica, or none usable */
	MR_FALLBACK, /* the replica failed under it; the primary answered */
	MR__MAX
};

struct metrics_seg;

struct metrics {
	struct metrics_seg *seg; /* NULL: not open; counting is a no-op */
	const struct metrics_route *routes;
	size_t n_routes;
};

/* What one request did, once its response has left. */
struct metrics_request {
	int route; /* index into the routes; -1 when none matched */
	int status;
	const char *code; /* the problem document's code, or NULL */
	double seconds; /* arrival at the worker to the response written */
	int outcome; /* enum metrics_outcome of a report it stored; -1 */
};

/*
 * Map the segment at path, creating it (mode 0600) when it is missing,
 * and count this worker's start.  A file left by a build whose layout
 * differs (another route table) is replaced, never rewritten under a
 * process that maps it.  routes[0..n) (n at most METRICS_ROUTES_MAX)
 * must outlive m.  Returns 0, or -1 with the reason in err; m is then
 * closed, and counting into it does nothing.
 */
int metrics_open(struct metrics *m, const char *path,
    const struct metrics_route *routes, size_t n, char *err, size_t errsz) WUR;

/* Unmap the segment (the counts stay in the file). */
void metrics_close(struct metrics *m);

/*
 * Count one request: by route and status, its latency, and, by its
 * status and problem code, a 503 service_unavailable, a 429
 * rate_limited (quota) and a stored report.
 */
void metrics_request(struct metrics *m, const struct metrics_request *r);

/* Count a database error of kind e, or a connection made again. */
void metrics_db_error(struct metrics *m, enum metrics_db_error e);
void metrics_db_reconnect(struct metrics *m);

/* Count a read-only route's answer by the server that gave it. */
void metrics_read(struct metrics *m, enum metrics_read r);

/*
 * Count an API key lookup the database answered, or a key refused
 * without one (m NULL allowed, as for the two above).
 */
void metrics_key_lookup(struct metrics *m);
void metrics_key_refusal(struct metrics *m, enum metrics_key_refusal r);
/* Count a large body served from the worker's copy or built. */
void metrics_body_copy(struct metrics *m, enum metrics_body_copy b);

/*
 * The outcome a report body (JSON, len bytes) stores: what the feedback
 * route stored when it answered 200 without Idempotent-Replayed.  The
 * enum metrics_outcome, or -1 for a dry run or a body that does not
 * read (strings in arena a).
 */
int metrics_report_outcome(const char *body, size_t len, struct arena *a);

/* The gauges a scrape reads from the database. */
struct metrics_gauges {
	int db_up; /* 0: the read failed and the rest is unknown */
	long long active_models;
	int64_t sync_age_ms; /* -1: never synced */
	int64_t upstream_age_ms; /* -1: never imported */
};

/*
 * Read the gauges (STMT_METRICS_GAUGES).  Returns DB_OK, or
 * DB_UNAVAILABLE / DB_ERROR with g->db_up 0.
 */
enum db_status metrics_gauges_read(struct db *db, struct metrics_gauges *g) WUR;

/*
 * Append the whole exposition (text format 0.0.4) of m and g to out.
 * Returns 0, or -1 when out's cap was reached.
 */
int metrics_write(const struct metrics *m, const struct metrics_gauges *g,
    struct buf *out) WUR;

/* The Content-Type of metrics_write()'s text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
