/*
 * The catalogue part of a sync run (SPEC 7): open the run's record in
 * sync_runs, fetch OpenRouter's model list (shared/fetch.c), check it
 * whole (shared/openrouter.c), and apply it in one transaction that
 * also closes the record as a success; or close the record as a
 * failure, which is then the only thing the run changed.
 */
#ifndef FLR_SYNC_CATALOG_H
#define FLR_SYNC_CATALOG_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "sync.h"
#include "util.h"

/*
 * The catalogue part of a run, with the sync lock held.  Fills the
 * catalogue fields of *res (run_id, tries and the counts) and returns
 * SYNC_OK, or SYNC_UPSTREAM / SYNC_DB with a one-line reason in err
 * (errsz bytes).  Nothing needs freeing afterwards.
 */
enum sync_status sync_catalog_run(struct db *db, const struct config *cfg,
    struct sync_result *res, char *err, size_t errsz) WUR;

/*
 * The Authorization header line for cfg's OpenRouter key into line
 * (left empty when no key is set).  Returns 0, or -1 with the reason
 * (naming OPENROUTER_API_KEY) in err.
 */
int sync_catalog_auth(
    const struct config *cfg, struct buf *line, char *err, size_t errsz) WUR;

#endif
