/*
 * ETags of the listings, the demo listing, health and availability,
 * made before the body from cheap versions of what the body is built
 * from, and If-None-Match (RFC 9110 §13.1.2) against them.
 *
 * A tag stands for: the catalogue's version and last sync (sync_meta),
 * the report version (schema/008_data_version.sql), the upstream
 * import's version (upstream_meta), the last fetch of OpenRouter's
 * endpoint statistics, the request's normalised
 * parameters (with the key's saved preferences applied, and its saved
 * exclusions, on the counted listings; the user for myReports), and
 * the time, as far as the body depends on it: the oldest report still
 * in the window (its counts change when that report leaves it, at no
 * other moment), likewise the oldest upstream bucket still in it, the
 * timeline's first bucket, the UTC day, and the
 * staleness markers.  Each of these only ever moves forward and is read
 * before the body is, so a body is never older than its tag, and two
 * equal tags bracket a time in which the body could not change.
 *
 * The tags are weak (W/"…"): bodies carry per-request members
 * (requestId, generatedAt, lastUpdated of health and availability) that
 * differ byte for byte between two answers that mean the same.
 *
 * A body that starts to show another source must bring its version
 * here, as the upstream's buckets and OpenRouter's endpoint statistics
 * do.
 */
#ifndef FLR_ETAG_H
#define FLR_ETAG_H

#include <stdint.h>

#include "db.h"
#include "params.h"
#include "prefs.h"

#define ETAG_SIZE 40 /* W/"<32 hex digits>" and the NUL */

/* Which body a tag is of: the same inputs make another body per route. */
enum etag_kind {
	ETAG_IDS, /* /api/v1/models/ids */
	ETAG_FULL, /* /api/v1/models/full */
	ETAG_DEMO, /* /api/demo/models */
	ETAG_HEALTH, /* /api/health */
	ETAG_AVAILABILITY, /* /api/availability */
	ETAG__MAX
};

/* What the database contributes (STMT_DATA_VERSIONS). */
struct data_versions {
	long long reports;
	long long upstream; /* -1: no upstream row */
	int64_t oldest_us; /* oldest report in the window; -1: none */
	char first_day[11]; /* oldest availability day; "" when none */
	int64_t endpoints_us; /* last endpoint statistics fetch; -1: none */
	int64_t oldest_upstream_us; /* oldest upstream bucket in the window */
};

/* What the request and the catalogue contribute. */
struct etag_input {
	enum etag_kind kind;
	const struct list_params *p; /* normalised, preferences applied */
	const struct prefs *prefs; /* the key's exclusions, or NULL */
	long long uid; /* whose reports (myReports), or 0 */
	long long catalog_version; /* as the body's catalogue has it */
	int64_t last_sync_ms; /* -1: never synced */
	int64_t now_ms; /* the database's clock the body uses */
	long long stale_after; /* FLR_STALE_AFTER, for the listings */
	/* The versions of this window when read already (NULL: read them). */
	const struct data_versions *versions;
};

/*
 * Read the versions for a window of the last window_s seconds (-1: all
 * time).  Returns DB_OK, DB_UNAVAILABLE or DB_ERROR.
 */
enum db_status data_versions_read(
    struct db *db, long long window_s, struct data_versions *out) WUR;

/*
 * The halves of data_versions_read(), for a caller whose statement
 * reads the versions along with other things: the parameter of a
 * window of window_s seconds (secs holds its text), and reading the
 * versions' columns of result r from column at on (DB_OK, or DB_ERROR
 * when r is not one row with those columns).
 */
void data_versions_params(
    long long window_s, char secs[24], const char *params[1]);
enum db_status data_versions_parse(
    const PGresult *r, int at, struct data_versions *out) WUR;

/* The weak tag of in and v into out (pure). */
void etag_compose(const struct etag_input *in, const struct data_versions *v,
    char out[ETAG_SIZE]);

/* The window in's versions are read for, in seconds (-1: all time). */
long long etag_window(const struct etag_input *in);

/*
 * data_versions_read() for in's window (unless in->versions holds
 * them), then etag_compose().  Returns DB_OK with out and the versions
 * in *v (when v is not NULL), or DB_UNAVAILABLE / DB_ERROR.
 */
enum db_status etag_compute(struct db *db, const struct etag_input *in,
    struct data_versions *v, char out[ETAG_SIZE]) WUR;

/*
 * 1 when an If-None-Match value (NULL: absent) matches tag by the weak
 * comparison: "*", or a comma-separated list of entity tags one of
 * which has tag's opaque part, W/ or not.  A malformed value matches
 * nothing (the full answer is always a correct one).
 */
int etag_match(const char *if_none_match, const char *tag);

#endif
