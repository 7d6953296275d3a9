/*
 * /api/availability: the UTC days each model was seen in a sync
 * (model_availability_snapshots), over a window of days ending today.
 */
#ifndef FLR_AVAILABILITY_H
#define FLR_AVAILABILITY_H

#include <stdint.h>

#include "db.h"
#include "json.h"
#include "listing.h"
#include "util.h"

struct availability_row {
	const char *model_id; /* in the arena */
	char day[11]; /* YYYY-MM-DD */
};

struct availability {
	long long days;
	struct availability_row *rows; /* by model id (strcmp), then day */
	size_t n;
};

/*
 * Read the days seen over the last `days` UTC days; rows live in arena
 * a.  Returns DB_OK, DB_UNAVAILABLE or DB_ERROR.
 */
enum db_status availability_load(struct availability *av, long long days,
    struct db *db, struct arena *a) WUR;

/*
 * Write the body: "days", "dates" (every day of the window, oldest
 * first), and per model of l that was seen at least once, in l's
 * order: its catalogue fields, modelId, modelName, isActive, daysSeen
 * and availability (date → seen), then "lastUpdated" and "count".
 */
void availability_write(struct jw *w, const struct availability *av,
    const struct listing *l, int64_t now_ms);

#endif
