/*
 * The upstream import, a step of every sync run when FLR_UPSTREAM_URL
 * names another instance (README, "Federation"):
 *
 *   GET {upstream}/api/federation/export
 *     200 with the federation format: an instance of this project; its
 *         counts replace upstream_rollup (kind 'flr');
 *     404: the hosted original service, which has no export; then
 *         GET {upstream}/api/health?range=<w> for each of its seven
 *         windows, concurrently, and their error rates replace
 *         upstream_rates (kind 'hosted').
 *
 * A good import replaces every imported row of both tables and records
 * itself in upstream_meta (url, kind, models, rows, last_success_at,
 * version + 1), all in one transaction.  Any failure (unreachable,
 * slow, a 5xx, a redirect away from https, an oversized body, a payload
 * that breaks a rule or a cap, the database) changes no data row: only
 * upstream_meta.last_attempt_at and last_error; the last good import
 * stays.  Nothing here changes the run's status.
 */
#ifndef FLR_SYNC_UPSTREAM_H
#define FLR_SYNC_UPSTREAM_H

#include "config.h"
#include "db.h"
#include "sync.h"

/*
 * Run the import with the sync lock held, when cfg->upstream_url is
 * set; fills the upstream_* fields of *res.  A failure is logged as a
 * warning and recorded in upstream_meta.
 */
void sync_upstream_run(
    struct db *db, const struct config *cfg, struct sync_result *res);

#endif
