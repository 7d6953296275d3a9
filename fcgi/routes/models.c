/*
 * GET /api/v1/models/ids and /api/v1/models/full (SPEC.md §2): the
 * catalogue filtered, measured, sorted and capped, for a counted key.
 * Order of operations: filter → health → maxErrorRate → sort → saved
 * exclusions → topN.  The key's saved preferences stand in for the
 * parameters the query leaves out.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "json.h"
#include "log.h"
#include "prefs.h"

struct listing {
	struct list_params p;
	struct prefs prefs; /* the key's saved preferences */
	struct caller who;
	struct ranked *v;
	size_t n;
};

/* Filtered active models, in id order (as catalog_load_health needs). */
static void
select_models(struct app *app, struct request *req, struct listing *l)
{
	const struct catalog *c = &app->catalog;
	size_t i;

	l->v = arena_alloc(req->arena, (c->n + 1) * sizeof(*l->v));
	l->n = 0;
	for (i = 0; i < c->n; i++) {
		const struct model *m = &c->models[i];

		if (!m->is_active || !catalog_match(m, l->p.filters))
			continue;
		memset(&l->v[l->n], 0, sizeof(l->v[0]));
		l->v[l->n++].m = m;
	}
}

/* Drop models over maxErrorRate that have at least minReports. */
static void
apply_max_error_rate(struct listing *l)
{
	size_t i, kept = 0;

	for (i = 0; i < l->n; i++) {
		struct ranked *r = &l->v[i];

		ranked_finish(r);
		if (l->p.max_error_rate >= 0 &&
		    r->reports >= l->p.min_reports &&
		    (double)r->error_rate_x100 / 100.0 > l->p.max_error_rate)
			continue;
		l->v[kept++] = *r;
	}
	l->n = kept;
}

/* The key's excluded ids go after the sort, so topN counts the rest. */
static void
drop_excluded(struct listing *l)
{
	size_t i, kept = 0;

	if (l->prefs.n_exclude == 0)
		return;
	for (i = 0; i < l->n; i++)
		if (!prefs_excluded(&l->prefs, l->v[i].m->id))
			l->v[kept++] = l->v[i];
	l->n = kept;
}

/*
 * Everything both endpoints share, up to the sorted and capped list.
 * Returns 0, or -1 with the refusal written to res.
 */
static int
build_listing(struct app *app, struct request *req, struct response *res,
    struct listing *l)
{
	struct param_error pe;
	struct query q;
	const char *token;
	enum db_status st;

	if (guard_token(req, res, &token) != 0)
		return -1;
	list_params_defaults(&l->p, 0);
	if (query_parse(req->query, req->arena, &q, &pe) != 0 ||
	    list_params_parse(&q, &l->p, 0, &pe) != 0) {
		response_problem(res, 400, pe.code, pe.param, "%s", pe.detail);
		return -1;
	}
	if (guard_counted(app, req, token, res, &l->who) != 0) {
		if (res->status == 429)
			pending_log(app, &l->who, req->path, 429, NULL, 0);
		return -1;
	}
	/* A saved value that no longer validates is logged and skipped. */
	prefs_load(l->who.preferences, req->arena, &l->prefs);
	prefs_apply(&l->prefs, &l->p);
	st = catalog_refresh(&app->catalog, &app->db, l->who.catalog_version,
	    l->who.last_sync_ms);
	if (st == DB_OK) {
		select_models(app, req, l);
		st = catalog_load_health(&app->db, l->p.range,
		    l->p.my_reports ? l->who.user_id : 0, l->v, l->n);
	}
	if (st != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	apply_max_error_rate(l);
	catalog_sort(l->v, l->n, l->p.sort);
	drop_excluded(l);
	if (l->p.top_n > 0 && l->n > (size_t)l->p.top_n)
		l->n = (size_t)l->p.top_n;
	return 0;
}

/* Staleness: headers, and whether the body needs "_meta". */
static int
stale_headers(struct app *app, const struct listing *l, struct response *res,
    long long *age)
{
	const struct caller *w = &l->who;

	*age = -1;
	if (w->last_sync_ms >= 0) {
		*age = (w->db_now_ms - w->last_sync_ms) / 1000;
		if (*age < 0)
			*age = 0;
		if (*age <= app->cfg.stale_after)
			return 0;
	}
	response_header(res, "X-Data-Stale", "true");
	if (*age >= 0)
		response_header(res, "X-Data-Age-Seconds", "%lld", *age);
	return 1;
}

static void
write_tail(struct app *app, const struct listing *l, struct request *req,
    struct response *res, struct jw *w)
{
	long long age;

	jw_key(w, "count"), jw_int(w, (long long)l->n);
	jw_key(w, "requestId"), jw_str(w, req->log_id);
	if (stale_headers(app, l, res, &age)) {
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
	jw_obj_end(w);
	response_header(res, "Cache-Control", "private, max-age=60");
	pending_log(app, &l->who, req->path, 200, l->v, l->n);
}

void
route_models_ids(struct app *app, struct request *req, struct response *res)
{
	struct listing l;
	struct jw w;
	size_t i;

	if (build_listing(app, req, res, &l) != 0)
		return;
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "ids");
	jw_arr_begin(&w);
	for (i = 0; i < l.n; i++)
		jw_str(&w, l.v[i].m->id);
	jw_arr_end(&w);
	write_tail(app, &l, req, res, &w);
}

static void
write_model(struct jw *w, const struct ranked *r)
{
	/* The prebuilt object lacks its health fields and closing brace. */
	jw_obj_continue(w, r->m->json, r->m->json_len);
	jw_key(w, "issueCount"), jw_int(w, health_issues(&r->h));
	jw_key(w, "errorRate"), jw_num(w, (double)r->error_rate_x100 / 100.0);
	jw_key(w, "reports"), jw_int(w, r->reports);
	jw_obj_end(w);
}

static void
write_feedback_counts(struct jw *w, const struct listing *l)
{
	size_t i;

	jw_obj_begin(w);
	for (i = 0; i < l->n; i++) {
		const struct ranked *r = &l->v[i];

		if (r->reports == 0)
			continue;
		jw_key(w, r->m->id);
		jw_obj_begin(w);
		jw_key(w, "rateLimited"), jw_int(w, r->h.rate_limited);
		jw_key(w, "unavailable"), jw_int(w, r->h.unavailable);
		jw_key(w, "error"), jw_int(w, r->h.error);
		jw_key(w, "successCount"), jw_int(w, r->h.success);
		jw_key(w, "errorRate"),
		    jw_num(w, (double)r->error_rate_x100 / 100.0);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

void
route_models_full(struct app *app, struct request *req, struct response *res)
{
	struct listing l;
	struct jw w;
	size_t i;
	int b;

	if (build_listing(app, req, res, &l) != 0)
		return;
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "models");
	jw_arr_begin(&w);
	for (i = 0; i < l.n; i++)
		write_model(&w, &l.v[i]);
	jw_arr_end(&w);
	jw_key(&w, "feedbackCounts");
	write_feedback_counts(&w, &l);
	jw_key(&w, "lastUpdated"), jw_time(&w, l.who.last_sync_ms);
	jw_key(&w, "sort"), jw_str(&w, sort_name(l.p.sort));
	jw_key(&w, "timeRange"), jw_str(&w, time_range_name(l.p.range));
	jw_key(&w, "useCases");
	jw_arr_begin(&w);
	for (b = 0; b < FILTER__COUNT; b++)
		if (l.p.filters & (1u << b))
			jw_str(&w, filter_name(b));
	jw_arr_end(&w);
	jw_key(&w, "excludeModelIds");
	jw_arr_begin(&w);
	for (i = 0; i < l.prefs.n_exclude; i++)
		jw_str(&w, l.prefs.exclude[i]);
	jw_arr_end(&w);
	write_tail(app, &l, req, res, &w);
}
