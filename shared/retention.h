/*
 * Retention (SPEC.md §7): reports, request logs and availability days
 * older than their configured number of days are deleted (OpenRouter's
 * endpoint history with the availability days), in batches
 * of RETENTION_BATCH rows, each batch its own short transaction, so a
 * cleanup of millions of rows never holds a lock long enough to stall
 * the inserts of new reports.  Used by flr-sync after each sync and by
 * POST /api/admin/cleanup; it keeps no state between calls.
 *
 * The feedback rollup goes with the reports it counts: buckets that end
 * at or before the cutoff are deleted whole, and the one that straddles
 * it (per grain) loses exactly the reports deleted from it.  So the
 * health counts of every window, timeRange=all included, stay equal to
 * the reports still stored, at the cutoff's edge as anywhere else;
 * keeping the straddling day whole instead would overcount "all" by up
 * to a day of already-deleted reports.
 */
#ifndef FLR_RETENTION_H
#define FLR_RETENTION_H

#include <stdint.h>

#include "config.h"
#include "db.h"
#include "util.h"

#define RETENTION_BATCH 5000

struct retention_result {
	long long feedback; /* model_feedback rows deleted */
	long long rollup; /* feedback_rollup rows deleted */
	long long request_logs; /* api_request_logs rows deleted */
	long long availability; /* model_availability_snapshots rows */
	long long endpoint_history; /* model_endpoint_history rows */
	int64_t feedback_cutoff_ms; /* reports before this went */
	int64_t request_log_cutoff_ms; /* request logs before this */
	int64_t availability_cutoff_ms; /* days wholly before this */
	int complete; /* 0: the time budget ran out first */
	double duration_ms;
};

/*
 * Delete what is older than cfg's retention periods, oldest first.
 * budget_ms > 0 stops between batches once that much time has passed
 * (res->complete is then 0 and a later run goes on); 0 runs to the
 * end.  Fills *res (zeroed first) with what was done, also on failure.
 * Returns DB_OK, or DB_UNAVAILABLE / DB_ERROR with a reason in err;
 * the batches committed before a failure stay deleted.
 */
enum db_status retention_run(struct db *db, const struct config *cfg,
    long long budget_ms, struct retention_result *res, char *err,
    size_t errsz) WUR;

#endif
