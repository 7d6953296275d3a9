#include "sync.h"

#include <stdio.h>
#include <string.h>

#include "fetch.h"
#include "sync_catalog.h"
#include "sync_endpoints.h"
#include "sync_lock.h"
#include "sync_upstream.h"

int
sync_global_init(void)
{
	return fetch_global_init();
}

void
sync_global_cleanup(void)
{
	fetch_global_cleanup();
}

const char *
sync_status_name(enum sync_status st)
{
	static const char *names[SYNC__MAX] = {
		[SYNC_OK] = "ok",
		[SYNC_BUSY] = "busy",
		[SYNC_UPSTREAM] = "upstream",
		[SYNC_DB] = "database",
	};

	return st < SYNC__MAX ? names[st] : "unknown";
}

static enum sync_status
take_lock(struct db *db, char *err, size_t errsz)
{
	enum db_status st;
	int got = sync_lock_try(db, &st);

	if (got < 0) {
		snprintf(err, errsz, "database %s: cannot take the sync lock",
		    st == DB_UNAVAILABLE ? "unavailable" : "error");
		return SYNC_DB;
	}
	if (got == 0) {
		snprintf(err, errsz, "another sync is running");
		return SYNC_BUSY;
	}
	return SYNC_OK;
}

/* The locked part of a run: the catalogue, then the other sources. */
static enum sync_status
run_locked(struct db *db, const struct config *cfg, struct sync_result *res,
    char *err, size_t errsz)
{
	enum sync_status ss = sync_catalog_run(db, cfg, res, err, errsz);

	/* Endpoint statistics need a good catalogue: its active models. */
	if (ss == SYNC_OK)
		sync_endpoints_run(db, cfg, res);
	/* The upstream owes OpenRouter nothing; the database, everything. */
	if (ss == SYNC_OK || ss == SYNC_UPSTREAM)
		sync_upstream_run(db, cfg, res);
	return ss;
}

enum sync_status
sync_run(struct db *db, const struct config *cfg, struct sync_result *res,
    char *err, size_t errsz)
{
	double t0 = mono_ms();
	enum sync_status ss;

	memset(res, 0, sizeof(*res));
	if (errsz > 0)
		err[0] = '\0';
	ss = take_lock(db, err, errsz);
	if (ss == SYNC_OK) {
		ss = run_locked(db, cfg, res, err, errsz);
		sync_lock_release(db);
	}
	if (errsz > 0)
		text_one_line(err);
	res->duration_ms = mono_ms() - t0;
	return ss;
}
