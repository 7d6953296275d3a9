/*
 * The timeline of /api/health (SPEC.md §4): report counts per model in
 * UTC-aligned buckets over the window, every bucket present, oldest
 * first, from the rollup (STMT_HEALTH_TIMELINE).
 */
#ifndef FLR_TIMELINE_H
#define FLR_TIMELINE_H

#include <stdint.h>

#include "catalog.h"
#include "db.h"
#include "json.h"
#include "params.h"
#include "util.h"

/* One model's counts in one bucket. */
struct timeline_row {
	int64_t bucket_ms;
	const char *model_id; /* in the arena */
	long long success;
	long long errors;
};

struct timeline {
	int grain_s; /* bucket width */
	int buckets;
	int64_t first_ms; /* start of the oldest bucket */
	struct timeline_row *rows; /* by bucket, then model id */
	size_t n;
};

/*
 * The bucket geometry of window r ending at now_ms: 15m/30m/1h in
 * minutes, 6h/24h in hours, 7d/30d in days.  Returns 0, or -1 for a
 * window without a timeline (all time).
 */
int timeline_shape(enum time_range r, int64_t now_ms, struct timeline *t);

/*
 * Read the rows of timeline t (shaped by timeline_shape) for user uid's
 * reports (0: everybody's); rows live in arena a.  Returns DB_OK,
 * DB_UNAVAILABLE or DB_ERROR.
 */
enum db_status timeline_load(
    struct timeline *t, long long uid, struct db *db, struct arena *a) WUR;

/*
 * Write the timeline as a JSON array: per bucket "start" (ISO time),
 * "date" ("YYYY-MM-DD HH:MM:SS", the hosted service's form), "counts"
 * (model id → errorCount, totalCount, errorRate) and, as that service
 * has it, one member per model id whose value is the bucket's error
 * rate.  Only models among v[0..n) are written.
 */
void timeline_write(
    struct jw *w, const struct timeline *t, const struct ranked *v, size_t n);

#endif
