/*
 * The OpenRouter sync (SPEC 7): fetch the model list, keep the free
 * models, and bring free_models, model_availability_snapshots and
 * sync_meta up to date in one transaction, recording the run in
 * sync_runs (shared/sync_catalog.c; transfers go through
 * shared/fetch.c).  Used by flr-sync and by the admin route, so it
 * keeps no state between calls and never exits.
 *
 * Only one sync runs at a time, across all hosts: the run holds the
 * PostgreSQL advisory lock 7246002 (pg_try_advisory_lock) from before
 * the fetch until its record is closed.
 */
#ifndef FLR_SYNC_H
#define FLR_SYNC_H

#include <stddef.h>

#include "config.h"
#include "db.h"
#include "upstream.h"
#include "util.h"

/* Room for the reason of a failed upstream import. */
#define SYNC_UPSTREAM_ERR_LEN 512

enum sync_status {
	SYNC_OK,
	SYNC_BUSY, /* another sync holds the lock; nothing was touched */
	SYNC_UPSTREAM, /* fetch or payload failed; the run is recorded */
	SYNC_DB, /* the database failed or is unreachable */
	SYNC__MAX
};

/* What a run did; counts are valid as far as the run got. */
struct sync_result {
	long long run_id; /* sync_runs.id, 0 if none was written */
	int tries; /* fetch attempts made */
	long long total; /* models in the payload */
	long long free_models; /* free models in it */
	long long inserted; /* new in the catalogue */
	long long updated; /* fields or active flag changed */
	long long deactivated;
	long long active_before; /* active models before the run */
	long long missing; /* active models absent from the payload */
	int deactivation_skipped; /* missing > 0 but the payload had fewer
				     than half of active_before: kept */
	long long catalog_version; /* after the run */
	double duration_ms;
	/*
	 * The other health sources, after the catalogue; neither changes
	 * the run's status.  OpenRouter's endpoint statistics are asked
	 * for after a good catalogue, when configured (endpoints_ran).
	 */
	int endpoints_ran;
	long long endpoints_fetched; /* models whose figures were stored */
	long long endpoints_failed; /* models that kept their last figures */
	/*
	 * The upstream's import, when FLR_UPSTREAM_URL is set (upstream_ran),
	 * after the catalogue whether it succeeded or failed upstream.
	 */
	int upstream_ran;
	int upstream_ok;
	enum upstream_kind upstream_kind; /* what answered; UNKNOWN if none */
	long long upstream_models; /* imported by a good run */
	long long upstream_rows;
	char upstream_error[SYNC_UPSTREAM_ERR_LEN]; /* why it failed */
};

/*
 * Set up and tear down libcurl for the process: call sync_global_init()
 * once at start-up, before any thread exists, and sync_global_cleanup()
 * at exit.  Returns 0, or -1 when libcurl cannot start.
 */
int sync_global_init(void) WUR;
void sync_global_cleanup(void);

/*
 * Run one sync with db and cfg (OpenRouter URL and key, the fetch
 * limits FLR_SYNC_*).  Fills *res (always zeroed first) and returns
 * SYNC_OK, or another status with a one-line reason in err (errsz
 * bytes).  A failed run changes nothing but its sync_runs record.
 * Nothing needs freeing afterwards.
 */
enum sync_status sync_run(struct db *db, const struct config *cfg,
    struct sync_result *res, char *err, size_t errsz) WUR;

/* A word for a status ("ok", "busy", "upstream", "database"). */
const char *sync_status_name(enum sync_status st);

#endif
