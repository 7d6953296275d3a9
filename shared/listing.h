/*
 * The listing pipeline, written once for every route that lists models
 * (/api/v1/models/ids and /full, /api/demo/models, /api/health, and the
 * order of /api/availability):
 *
 *   filter → health → maxErrorRate → sort → saved exclusions → topN
 *
 * listing_select() and listing_finish() are pure (tests drive them with
 * a catalogue and counts of their own); listing_run() puts them either
 * side of the one query that reads the window's counts.
 */
#ifndef FLR_LISTING_H
#define FLR_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "db.h"
#include "etag.h"
#include "json.h"
#include "params.h"
#include "prefs.h"
#include "util.h"

enum listing_flag {
	LISTING_ACTIVE = 1 << 0, /* only models offered now */
	LISTING_REPORTED = 1 << 1, /* only models with reports (health) */
};

/*
 * A worker's copy of the health sources it read last, per window and
 * user, each with the data versions an ETag is made of
 * (STMT_DATA_VERSIONS), read before it.  Equal versions mean equal
 * sources, the promise every 304 already rests on, so a listing whose
 * versions match a copy reads the copy instead of the database; any
 * report, import, fetch, or report leaving the window moves a version
 * and the next listing reads again.  The database decides; the copy
 * only saves the round trip.
 */
#define LISTING_CACHE_SLOTS 4

struct listing_cache_slot {
	PGresult *rows; /* STMT_HEALTH_SOURCES; NULL: empty */
	enum time_range range;
	long long uid;
	struct data_versions v;
	unsigned long long used; /* for replacing the least recently used */
};

struct listing_cache {
	struct listing_cache_slot slot[LISTING_CACHE_SLOTS];
	unsigned long long clock;
};

void listing_cache_init(struct listing_cache *c);
void listing_cache_free(struct listing_cache *c);

struct listing {
	/* in */
	struct list_params p;
	unsigned flags; /* enum listing_flag */
	long long uid; /* myReports: this user's reports; 0: everybody's */
	const struct prefs *prefs; /* the key's exclusions, or NULL */
	/* Both set: reuse the sources of a copy with these versions. */
	struct listing_cache *cache;
	const struct data_versions *versions; /* of p.range's window */
	/* out: the models of the answer, in order */
	struct ranked *v;
	size_t n;
};

/*
 * Step 1: the catalogue's models that pass the filter (and the flags),
 * in id order, with zero counts; v lives in arena a.
 */
void listing_select(
    struct listing *l, const struct catalog *c, struct arena *a);

/*
 * Steps 3 to 6 on models whose counts are filled in: drop those over
 * maxErrorRate (with at least minReports), sort, drop the excluded
 * ones, cap at topN.
 */
void listing_finish(struct listing *l);

/*
 * The whole pipeline on catalogue c (the counts from l->cache when its
 * copy for l->versions is there).  Returns DB_OK, or DB_UNAVAILABLE /
 * DB_ERROR when the counts could not be read.
 */
enum db_status listing_run(struct listing *l, const struct catalog *c,
    struct db *db, struct arena *a) WUR;

/*
 * Data age for the staleness markers: 1 when the last successful sync
 * (-1: never) is older than stale_after seconds, with *age its age in
 * seconds (-1 when never synced).
 */
int listing_stale(int64_t last_sync_ms, int64_t now_ms, long long stale_after,
    long long *age);

/*
 * The members every listed model carries beside its merged counts:
 * "score" (healthiest; null without evidence), "sources" (local and
 * upstream counts, the upstream's error rate or null) and "openrouter"
 * (endpoint statistics, null when never fetched).
 */
void listing_write_health_members(struct jw *w, const struct ranked *r);

/* The models of /full as a JSON array, each with its health fields. */
void listing_write_models(struct jw *w, const struct listing *l);

/* "feedbackCounts": each returned model with reports, to its counts. */
void listing_write_feedback_counts(struct jw *w, const struct listing *l);

/* The upstream's last good import, as the answers state its age. */
struct upstream_info {
	int configured; /* an import was ever tried */
	char kind[16]; /* "flr" or "hosted"; "" before a good import */
	int64_t last_success_ms; /* -1: none yet */
	int64_t now_ms;
	int failing; /* the last attempt failed */
	long long models;
};

/* Read it (STMT_UPSTREAM_META).  DB_OK, DB_UNAVAILABLE or DB_ERROR. */
enum db_status listing_upstream(struct db *db, struct upstream_info *out) WUR;

/*
 * "upstream": null when no upstream was ever tried, else {"kind",
 * "lastSuccessAt", "ageSeconds", "failing", "models"}.
 */
void listing_write_upstream(struct jw *w, const struct upstream_info *u);

/* "useCases": the names of the filter's words. */
void listing_write_use_cases(struct jw *w, unsigned filters);

#endif
