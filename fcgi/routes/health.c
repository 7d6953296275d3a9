/*
 * GET /api/health (SPEC.md §4): every model, active or not, with
 * reports in the window, its counts, and a timeline of UTC-aligned
 * buckets (every bucket present, oldest first).  Public; a key only
 * for myReports.  GET /api/availability: the UTC days each model was
 * seen in a sync.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "json.h"

/* Timeline shape per window: bucket grain (s) and bucket count. */
static const struct {
	int grain;
	int buckets;
} timelines[TR__MAX] = {
	[TR_15M] = { 60, 15 },
	[TR_30M] = { 60, 30 },
	[TR_1H] = { 60, 60 },
	[TR_6H] = { 3600, 6 },
	[TR_24H] = { 3600, 24 },
	[TR_7D] = { 86400, 7 },
	[TR_30D] = { 86400, 30 },
};

struct health_view {
	struct list_params p;
	long long uid;
	int64_t now_ms;
	struct ranked *v;
	size_t n;
};

/* The caller's user id for myReports; -1 with a 401/503 on res. */
static long long
my_user(struct app *app, const struct request *req, struct response *res)
{
	char hash[AUTH_HASH_LEN + 1];
	const char *params[1] = { hash };
	const char *token;
	enum db_status st;
	long long uid = -1;
	PGresult *r;

	if (guard_token(req, res, &token) != 0)
		return -1;
	if (!auth_key_wellformed(token)) {
		response_problem(
		    res, 401, "invalid_key", NULL, "unknown API key");
		return -1;
	}
	auth_hash_key(token, hash);
	r = db_exec(&app->db, STMT_AUTH_KEY, params, 1, &st);
	if (r == NULL) {
		response_unavailable(res);
		return -1;
	}
	if (PQntuples(r) != 1 || !db_get_bool(r, 0, 2, 0))
		response_problem(res, 401, "invalid_key", NULL,
		    "unknown or disabled API key");
	else if (db_get_bool(r, 0, 3, 0))
		response_problem(
		    res, 401, "expired_key", NULL, "this API key has expired");
	else
		uid = db_get_ll(r, 0, 1, -1);
	PQclear(r);
	return uid;
}

/* Models with reports in the window, filtered, measured, ordered. */
static enum db_status
build_view(struct app *app, struct request *req, struct health_view *hv)
{
	const struct catalog *c = &app->catalog;
	enum db_status st;
	PGresult *r;
	size_t i, kept = 0;

	r = db_exec(&app->db, STMT_META, NULL, 0, &st);
	if (r == NULL)
		return st;
	hv->now_ms = db_get_ll(r, 0, 2, 0);
	st = catalog_refresh(&app->catalog, &app->db, db_get_ll(r, 0, 0, 0),
	    db_get_ll(r, 0, 1, -1));
	PQclear(r);
	if (st != DB_OK)
		return st;
	hv->v = arena_alloc(req->arena, (c->n + 1) * sizeof(*hv->v));
	hv->n = 0;
	for (i = 0; i < c->n; i++)
		if (catalog_match(&c->models[i], hv->p.filters)) {
			memset(&hv->v[hv->n], 0, sizeof(hv->v[0]));
			hv->v[hv->n++].m = &c->models[i];
		}
	st = catalog_load_health(&app->db, hv->p.range, hv->uid, hv->v, hv->n);
	if (st != DB_OK)
		return st;
	for (i = 0; i < hv->n; i++) {
		struct ranked *rk = &hv->v[i];

		ranked_finish(rk);
		if (rk->reports == 0 ||
		    (hv->p.max_error_rate >= 0 &&
		        rk->reports >= hv->p.min_reports &&
		        (double)rk->error_rate_x100 / 100.0 >
		            hv->p.max_error_rate))
			continue;
		hv->v[kept++] = *rk;
	}
	hv->n = kept;
	catalog_sort(hv->v, hv->n, hv->p.sort);
	if (hv->p.top_n > 0 && hv->n > (size_t)hv->p.top_n)
		hv->n = (size_t)hv->p.top_n;
	return DB_OK;
}

static void
write_model(struct jw *w, const struct ranked *r)
{
	jw_obj_continue(w, r->m->json, r->m->json_len);
	jw_key(w, "modelId"), jw_str(w, r->m->id);
	jw_key(w, "modelName"), jw_str(w, r->m->name);
	jw_key(w, "isActive"), jw_bool(w, r->m->is_active);
	jw_key(w, "successCount"), jw_int(w, r->h.success);
	jw_key(w, "rateLimited"), jw_int(w, r->h.rate_limited);
	jw_key(w, "unavailable"), jw_int(w, r->h.unavailable);
	jw_key(w, "error"), jw_int(w, r->h.error);
	jw_key(w, "issueCount"), jw_int(w, health_issues(&r->h));
	jw_key(w, "reports"), jw_int(w, r->reports);
	jw_key(w, "errorRate"), jw_num(w, (double)r->error_rate_x100 / 100.0);
	jw_obj_end(w);
}

/* 1 when id is one of the listed models (v is in listing order). */
static int
listed(const struct health_view *hv, const char *id)
{
	size_t i;

	for (i = 0; i < hv->n; i++)
		if (strcmp(hv->v[i].m->id, id) == 0)
			return 1;
	return 0;
}

static enum db_status
write_timeline(struct app *app, const struct health_view *hv, struct jw *w)
{
	int grain = timelines[hv->p.range].grain;
	int count = timelines[hv->p.range].buckets;
	int64_t step = (int64_t)grain * 1000;
	int64_t first = hv->now_ms / step * step - (count - 1) * step;
	char g[16], from[24], uid[24];
	const char *params[3] = { g, from, uid };
	enum db_status st;
	PGresult *r;
	int b, row = 0, rows;

	snprintf(g, sizeof(g), "%d", grain);
	snprintf(from, sizeof(from), "%lld", (long long)first);
	snprintf(uid, sizeof(uid), "%lld", hv->uid);
	r = db_exec(&app->db, STMT_HEALTH_TIMELINE, params, 3, &st);
	if (r == NULL)
		return st;
	rows = PQntuples(r);
	jw_arr_begin(w);
	for (b = 0; b < count; b++) {
		int64_t start = first + b * step;

		jw_obj_begin(w);
		jw_key(w, "start"), jw_time(w, start);
		jw_key(w, "counts");
		jw_obj_begin(w);
		/* Rows come ordered by bucket: take this bucket's run. */
		for (; row < rows && db_get_ll(r, row, 0, 0) <= start; row++) {
			struct health_counts hc = { 0, 0, 0, 0 };
			const char *id = PQgetvalue(r, row, 1);

			if (db_get_ll(r, row, 0, 0) < start || !listed(hv, id))
				continue;
			hc.success = db_get_ll(r, row, 2, 0);
			hc.error = db_get_ll(r, row, 3, 0);
			jw_key(w, id);
			jw_obj_begin(w);
			jw_key(w, "errorCount"), jw_int(w, hc.error);
			jw_key(w, "totalCount"), jw_int(w, health_reports(&hc));
			jw_key(w, "errorRate"),
			    jw_num(w, health_error_rate(&hc));
			jw_obj_end(w);
		}
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	PQclear(r);
	return DB_OK;
}

void
route_health(struct app *app, struct request *req, struct response *res)
{
	struct health_view hv;
	struct param_error pe;
	struct query q;
	struct jw w;
	size_t i;

	memset(&hv, 0, sizeof(hv));
	list_params_defaults(&hv.p, 1);
	if (query_parse(req->query, req->arena, &q, &pe) != 0 ||
	    list_params_parse(&q, &hv.p, 1, &pe) != 0) {
		response_problem(res, 400, pe.code, pe.param, "%s", pe.detail);
		return;
	}
	if (hv.p.my_reports && (hv.uid = my_user(app, req, res)) < 0)
		return;
	if (build_view(app, req, &hv) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "models");
	jw_arr_begin(&w);
	for (i = 0; i < hv.n; i++)
		write_model(&w, &hv.v[i]);
	jw_arr_end(&w);
	jw_key(&w, "timeline");
	if (write_timeline(app, &hv, &w) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_key(&w, "timeRange"), jw_str(&w, time_range_name(hv.p.range));
	jw_key(&w, "generatedAt"), jw_time(&w, hv.now_ms);
	jw_key(&w, "count"), jw_int(&w, (long long)hv.n);
	jw_obj_end(&w);
	/* One's own reports are nobody else's business, nor a cache's. */
	response_header(res, "Cache-Control", "%s, max-age=60",
	    hv.p.my_reports ? "private" : "public");
}

void
route_availability(struct app *app, struct request *req, struct response *res)
{
	const char *days_s = NULL, *params[1];
	long long days = 30;
	enum db_status st;
	PGresult *r;
	struct jw w;
	int i;

	if (request_param(req, res, "days", &days_s) != 0)
		return;
	if (days_s != NULL && parse_int(days_s, 1, 90, &days) != 0) {
		response_problem(res, 400, "invalid_parameter", "days",
		    "days must be an integer from 1 to 90");
		return;
	}
	params[0] = days_s != NULL ? days_s : "30";
	r = db_exec(&app->db, STMT_AVAILABILITY, params, 1, &st);
	if (r == NULL) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "days"), jw_int(&w, days);
	jw_key(&w, "models");
	jw_arr_begin(&w);
	for (i = 0; i < PQntuples(r); i++) {
		const char *seen = PQgetvalue(r, i, 3);

		jw_obj_begin(&w);
		jw_key(&w, "modelId"), jw_str(&w, PQgetvalue(r, i, 0));
		jw_key(&w, "modelName"), jw_str(&w, PQgetvalue(r, i, 1));
		jw_key(&w, "isActive"), jw_bool(&w, db_get_bool(r, i, 2, 0));
		jw_key(&w, "daysSeen"), jw_raw(&w, seen, strlen(seen));
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "count"), jw_int(&w, PQntuples(r));
	jw_obj_end(&w);
	PQclear(r);
	response_header(res, "Cache-Control", "public, max-age=300");
}
