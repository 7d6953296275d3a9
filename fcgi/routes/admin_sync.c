/*
 * POST /api/admin/sync-models[?force=true] (SPEC.md §6): the OpenRouter
 * sync of flr-sync (shared/sync.c), run now by this worker.  Skipped
 * while the catalogue is fresh (its last successful sync is younger
 * than FLR_STALE_AFTER, one hour by default) unless forced; one sync at
 * a time across every host (the sync's advisory lock), so a second
 * caller gets 409.  The worker is busy for as long as the fetch takes.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "json.h"
#include "sync.h"

/* ?force=true|false: 0 with *force, or -1 with the 400 on res. */
static int
read_force(struct request *req, struct response *res, int *force)
{
	const char *v;

	*force = 0;
	if (request_param(req, res, "force", &v) != 0)
		return -1;
	if (v == NULL)
		return 0;
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		response_problem(res, 400, "invalid_parameter", "force",
		    "force must be true or false");
		return -1;
	}
	*force = v[0] == 't';
	return 0;
}

/*
 * 1 when the catalogue is fresh: the answer (200 skipped) is written.
 * 0 when a sync is due; -1 with a 503 when the database is away.
 */
static int
skip_if_fresh(struct app *app, struct response *res)
{
	struct catalog_meta meta;
	long long age;

	if (catalog_meta(&app->db, &meta) != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	age = (meta.now_ms - meta.last_sync_ms) / 1000;
	if (meta.last_sync_ms < 0 || age >= app->cfg.stale_after)
		return 0;
	buf_printf(&res->body,
	    "{\"success\":true,\"skipped\":true,"
	    "\"reason\":\"data_fresh\",\"ageSeconds\":%lld,"
	    "\"staleAfterSeconds\":%lld}",
	    age < 0 ? 0 : age, app->cfg.stale_after);
	return 1;
}

static void
write_result(struct response *res, const struct sync_result *sr)
{
	struct jw w;

	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "success"), jw_bool(&w, 1);
	jw_key(&w, "skipped"), jw_bool(&w, 0);
	jw_key(&w, "runId"), jw_int(&w, sr->run_id);
	jw_key(&w, "modelsTotal"), jw_int(&w, sr->total);
	jw_key(&w, "modelsFree"), jw_int(&w, sr->free_models);
	jw_key(&w, "inserted"), jw_int(&w, sr->inserted);
	jw_key(&w, "updated"), jw_int(&w, sr->updated);
	jw_key(&w, "deactivated"), jw_int(&w, sr->deactivated);
	jw_key(&w, "deactivationSkipped"),
	    jw_bool(&w, sr->deactivation_skipped);
	jw_key(&w, "catalogVersion"), jw_int(&w, sr->catalog_version);
	jw_key(&w, "tries"), jw_int(&w, sr->tries);
	jw_key(&w, "durationMs"), jw_int(&w, (long long)sr->duration_ms);
	jw_obj_end(&w);
}

void
route_admin_sync(struct app *app, struct request *req, struct response *res)
{
	struct sync_result sr;
	char err[512];
	int force;

	response_header(res, "Cache-Control", "no-store");
	if (guard_admin(app, req, res) != 0 ||
	    read_force(req, res, &force) != 0)
		return;
	if (!force && skip_if_fresh(app, res) != 0)
		return;
	switch (sync_run(&app->db, &app->cfg, &sr, err, sizeof(err))) {
	case SYNC_OK:
		write_result(res, &sr);
		return;
	case SYNC_BUSY:
		response_problem(res, 409, "sync_running", NULL,
		    "another sync is running; try again when it is done");
		return;
	case SYNC_UPSTREAM:
		/* An operator's route: the reason is what they need. */
		response_problem(res, 502, "sync_failed", NULL,
		    "the sync failed (run %lld): %s", sr.run_id, err);
		return;
	case SYNC_DB:
	case SYNC__MAX:
		break;
	}
	response_unavailable(res);
}
