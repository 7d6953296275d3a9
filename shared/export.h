/*
 * GET /api/federation/export: this instance's own report counts, for
 * another instance to import (FLR_UPSTREAM_URL there).  Only local
 * reports go out — never what this instance imported itself — so two
 * instances that federate both ways do not count each other twice.
 *
 * Format "flr-federation/1":
 *   {"format":"flr-federation/1","generatedAt":"<ISO>",
 *    "columns":["grain","bucket","modelId","success","rateLimited",
 *               "unavailable","error"],
 *    "rows":[[60,"2026-12-01T10:07:00.000Z","x/y:free",3,0,1,0],…]}
 * Minute buckets for the last 25 hours, hour buckets for the last 31
 * days, day buckets for the last 91 days; only buckets with reports.
 */
#ifndef FLR_EXPORT_H
#define FLR_EXPORT_H

#include <stdint.h>

#include "db.h"
#include "json.h"
#include "util.h"

#define EXPORT_FORMAT "flr-federation/1"

struct export_row {
	int grain;
	int64_t bucket_ms;
	const char *model_id; /* in the arena */
	long long success, rate_limited, unavailable, error;
};

struct export_rows {
	struct export_row *v;
	size_t n;
};

/* Read the buckets (rows in arena a).  DB_OK, DB_UNAVAILABLE, DB_ERROR. */
enum db_status export_load(
    struct db *db, struct arena *a, struct export_rows *out) WUR;

/* Write the export document, generated at now_ms. */
void export_write(struct jw *w, const struct export_rows *rows, int64_t now_ms);

#endif
