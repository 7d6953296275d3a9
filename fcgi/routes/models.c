/*
 * GET /api/v1/models/ids and /api/v1/models/full (SPEC.md §2): the
 * listing pipeline (shared/listing.c) over the active catalogue, for a
 * counted key.  The key's saved preferences stand in for the
 * parameters the query leaves out.
 */
#include <stdio.h>
#include <string.h>

#include "conditional.h"
#include "guard.h"
#include "json.h"
#include "listing.h"
#include "log.h"
#include "prefs.h"

struct counted_listing {
	struct listing l;
	struct prefs prefs; /* the key's saved preferences */
	struct caller who;
	struct data_versions versions; /* the tag's, for the counts */
};

/*
 * The conditional GET of a counted listing.  A 304 has passed the key
 * and the quota like any other answer, so it is counted and logged.
 * Returns 1 when res is complete (the 304, or a 503).
 */
static int
counted_not_modified(struct app *app, struct request *req, struct response *res,
    struct counted_listing *cl, enum etag_kind kind)
{
	struct etag_input in = {
		.kind = kind,
		.p = &cl->l.p,
		.prefs = &cl->prefs,
		.uid = cl->l.uid,
		.catalog_version = cl->who.catalog_version,
		.last_sync_ms = cl->who.last_sync_ms,
		.now_ms = cl->who.db_now_ms,
		.stale_after = app->cfg.stale_after,
	};

	/* Read with the key, unless the saved timeRange moved the window. */
	if (cl->who.have_versions &&
	    cl->who.versions_window == etag_window(&in))
		in.versions = &cl->who.versions;
	if (!conditional_get(
	        app, req, res, &in, &cl->versions, "private, max-age=60")) {
		cl->l.cache = &app->health;
		cl->l.versions = &cl->versions;
		return 0;
	}
	if (res->status == 304)
		pending_log(app, req, &cl->who, req->path, 304, NULL, 0);
	return 1;
}

/*
 * Everything both endpoints share, up to the sorted and capped list.
 * Returns 0, or -1 with the refusal (or the 304) written to res.
 */
static int
build_listing(struct app *app, struct request *req, struct response *res,
    struct counted_listing *cl, enum etag_kind kind)
{
	struct param_adjustments adj;
	struct listing *l = &cl->l;
	const char *token;
	enum db_status st;

	memset(cl, 0, sizeof(*cl));
	if (guard_token(req, res, &token) != 0 ||
	    request_params(req, res, PR_LISTING, &l->p, &adj) != 0)
		return -1;
	/* The query's window: what the saved preferences mostly leave. */
	if (guard_counted_listing(app, req, token,
	        time_range_seconds(l->p.range), res, &cl->who) != 0) {
		if (res->status == 429)
			pending_log(
			    app, req, &cl->who, req->path, 429, NULL, 0);
		return -1;
	}
	/* A saved value that no longer validates is logged and skipped. */
	prefs_load(cl->who.preferences, req->arena, &cl->prefs);
	prefs_apply(&cl->prefs, &l->p);
	l->flags = LISTING_ACTIVE;
	l->uid = l->p.my_reports ? cl->who.user_id : 0;
	l->prefs = &cl->prefs;
	if (counted_not_modified(app, req, res, cl, kind))
		return -1;
	st = catalog_refresh(&app->catalog, &app->db, cl->who.catalog_version,
	    cl->who.last_sync_ms);
	if (st == DB_OK)
		st = listing_run(l, &app->catalog, &app->db, req->arena);
	if (st != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	return 0;
}

/* X-Data-Stale and friends, and "_meta" in the body, when it is old. */
static void
write_staleness(struct app *app, int64_t last_sync_ms, int64_t now_ms,
    struct response *res, struct jw *w)
{
	long long age;

	if (!listing_stale(last_sync_ms, now_ms, app->cfg.stale_after, &age))
		return;
	response_header(res, "X-Data-Stale", "true");
	if (age >= 0)
		response_header(res, "X-Data-Age-Seconds", "%lld", age);
	jw_key(w, "_meta");
	jw_obj_begin(w);
	jw_key(w, "stale"), jw_bool(w, 1);
	jw_key(w, "ageSeconds");
	if (age >= 0)
		jw_int(w, age);
	else
		jw_null(w);
	jw_obj_end(w);
}

static void
write_tail(struct app *app, const struct counted_listing *cl,
    struct request *req, struct response *res, struct jw *w)
{
	jw_key(w, "count"), jw_int(w, (long long)cl->l.n);
	jw_key(w, "requestId"), jw_str(w, req->log_id);
	write_staleness(app, cl->who.last_sync_ms, cl->who.db_now_ms, res, w);
	jw_obj_end(w);
	response_header(res, "Cache-Control", "private, max-age=60");
	pending_log(app, req, &cl->who, req->path, 200, cl->l.v, cl->l.n);
}

void
route_models_ids(struct app *app, struct request *req, struct response *res)
{
	struct counted_listing cl;
	struct jw w;
	size_t i;

	if (build_listing(app, req, res, &cl, ETAG_IDS) != 0)
		return;
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "ids");
	jw_arr_begin(&w);
	for (i = 0; i < cl.l.n; i++)
		jw_str(&w, cl.l.v[i].m->id);
	jw_arr_end(&w);
	write_tail(app, &cl, req, res, &w);
}

/*
 * The body of /full (and of the demo listing) up to its tail.  Returns
 * DB_OK, or the failure of reading the upstream's state.
 */
static enum db_status
write_full(struct app *app, struct jw *w, const struct listing *l,
    int64_t last_sync_ms)
{
	struct upstream_info up;
	enum db_status st;
	size_t i;

	st = listing_upstream(app->read, &up);
	if (st != DB_OK)
		return st;
	jw_obj_begin(w);
	jw_key(w, "models");
	listing_write_models(w, l);
	jw_key(w, "feedbackCounts");
	listing_write_feedback_counts(w, l);
	jw_key(w, "lastUpdated"), jw_time(w, last_sync_ms);
	jw_key(w, "sort"), jw_str(w, sort_name(l->p.sort));
	jw_key(w, "timeRange"), jw_str(w, time_range_name(l->p.range));
	jw_key(w, "useCases");
	listing_write_use_cases(w, l->p.filters);
	jw_key(w, "excludeModelIds");
	jw_arr_begin(w);
	for (i = 0; l->prefs != NULL && i < l->prefs->n_exclude; i++)
		jw_str(w, l->prefs->exclude[i]);
	jw_arr_end(w);
	jw_key(w, "source"), jw_str(w, source_name(l->p.source));
	jw_key(w, "upstream"), listing_write_upstream(w, &up);
	return DB_OK;
}

void
route_models_full(struct app *app, struct request *req, struct response *res)
{
	struct counted_listing cl;
	struct jw w;

	if (build_listing(app, req, res, &cl, ETAG_FULL) != 0)
		return;
	jw_init(&w, &res->body);
	if (write_full(app, &w, &cl.l, cl.who.last_sync_ms) != DB_OK) {
		response_unavailable(res);
		return;
	}
	write_tail(app, &cl, req, res, &w);
}

/*
 * GET /api/demo/models: the listing of /full for web pages, with no
 * key: not counted, no saved preferences, everybody's reports, no
 * requestId (there is no request-log row to point at).  nginx limits
 * it per client address.
 */
void
route_demo_models(struct app *app, struct request *req, struct response *res)
{
	struct param_adjustments adj;
	struct data_versions versions;
	struct catalog_meta meta;
	struct listing l;
	struct jw w;

	memset(&l, 0, sizeof(l));
	if (request_params(req, res, PR_DEMO, &l.p, &adj) != 0)
		return;
	l.flags = LISTING_ACTIVE;
	if (catalog_current(&app->catalog, app->read, &meta) != DB_OK) {
		response_unavailable(res);
		return;
	}
	if (conditional_catalog(app, req, res, ETAG_DEMO, &l, &meta, &versions,
	        "public, max-age=60"))
		return;
	l.cache = &app->health;
	l.versions = &versions;
	if (listing_run(&l, &app->catalog, app->read, req->arena) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	if (write_full(app, &w, &l, meta.last_sync_ms) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_key(&w, "count"), jw_int(&w, (long long)l.n);
	write_staleness(app, meta.last_sync_ms, meta.now_ms, res, &w);
	jw_obj_end(&w);
	response_header(res, "Cache-Control", "public, max-age=60");
}
