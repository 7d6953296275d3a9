/*
 * GET /api/health (SPEC.md §4): every model, active or not, with
 * reports in the window, its counts, and a timeline of UTC-aligned
 * buckets — in our shape and, beside it, the hosted service's
 * (issues, range, lastUpdated, and per bucket a date and each model's
 * error rate).  Public; a key only for myReports.  GET
 * /api/availability: the UTC days each model was seen in a sync.
 */
#include <stdio.h>
#include <string.h>

#include "availability.h"
#include "bodycache.h"
#include "conditional.h"
#include "guard.h"
#include "json.h"
#include "listing.h"
#include "timeline.h"

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
	listing_write_health_members(w, r);
	jw_obj_end(w);
}

/* The hosted service's list item: its field names, its order. */
static void
write_issue(struct jw *w, const struct ranked *r)
{
	/* The catalogue fields it carries come with the prebuilt object. */
	jw_obj_continue(w, r->m->json, r->m->json_len);
	jw_key(w, "modelId"), jw_str(w, r->m->id);
	jw_key(w, "modelName"), jw_str(w, r->m->name);
	jw_key(w, "rateLimited"), jw_int(w, r->h.rate_limited);
	jw_key(w, "unavailable"), jw_int(w, r->h.unavailable);
	jw_key(w, "error"), jw_int(w, r->h.error);
	/* The hosted service's "total" counts the issues, not the reports. */
	jw_key(w, "total"), jw_int(w, health_issues(&r->h));
	jw_key(w, "successCount"), jw_int(w, r->h.success);
	jw_key(w, "errorRate"), jw_num(w, (double)r->error_rate_x100 / 100.0);
	jw_obj_end(w);
}

/* The caller's user id for myReports; -1 with a 401/503 on res. */
static long long
my_user(struct app *app, const struct request *req, struct response *res)
{
	struct caller who;
	const char *token;

	if (guard_token(req, res, &token) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		return -1;
	return who.user_id;
}

/*
 * The body of everything that does not differ per request, up to the
 * place of the members that do: the models, both lists, the timeline.
 */
static int
write_health_head(struct app *app, struct request *req, struct listing *l,
    const struct catalog_meta *meta, struct jw *w)
{
	struct timeline t;
	size_t i;

	if (listing_run(l, &app->catalog, app->read, req->arena) != DB_OK ||
	    timeline_shape(l->p.range, meta->now_ms, &t) != 0 ||
	    timeline_load(&t, l->uid, app->read, req->arena) != DB_OK)
		return -1;
	jw_obj_begin(w);
	jw_key(w, "models");
	jw_arr_begin(w);
	for (i = 0; i < l->n; i++)
		write_model(w, &l->v[i]);
	jw_arr_end(w);
	jw_key(w, "issues");
	jw_arr_begin(w);
	for (i = 0; i < l->n; i++)
		write_issue(w, &l->v[i]);
	jw_arr_end(w);
	jw_key(w, "timeline");
	timeline_write(w, &t, l->v, l->n);
	jw_key(w, "timeRange"), jw_str(w, time_range_name(l->p.range));
	jw_key(w, "range"), jw_str(w, time_range_name(l->p.range));
	return 0;
}

/* The rest after the per-request members, to the closing brace. */
static int
write_health_tail(struct app *app, const struct listing *l, struct jw *w)
{
	struct upstream_info up;

	if (listing_upstream(app->read, &up) != DB_OK)
		return -1;
	jw_key(w, "source"), jw_str(w, source_name(l->p.source));
	jw_key(w, "upstream"), listing_write_upstream(w, &up);
	jw_key(w, "count"), jw_int(w, (long long)l->n);
	jw_obj_end(w);
	return 0;
}

/* What differs between two answers under one tag: when each was made. */
static void
write_health_now(struct jw *w, const struct catalog_meta *meta)
{
	jw_key(w, "generatedAt"), jw_time(w, meta->now_ms);
	jw_key(w, "lastUpdated"), jw_time(w, meta->now_ms);
}

/*
 * The body under the tag already on res: this worker's copy of it when
 * it has one, else built and copied.
 */
static int
write_health(struct app *app, struct request *req, struct response *res,
    struct listing *l, const struct catalog_meta *meta)
{
	const struct body_copy *copy = body_cache_get(&app->bodies, res->etag);
	size_t cut, resume;
	struct jw w;

	jw_init(&w, &res->body);
	metrics_body_copy(&app->metrics, copy != NULL ? MBC_HIT : MBC_BUILT);
	if (copy != NULL) {
		jw_obj_continue(&w, copy->data, copy->head);
		write_health_now(&w, meta);
		buf_append(&res->body, copy->data + copy->head,
		    copy->len - copy->head);
		return 0;
	}
	if (write_health_head(app, req, l, meta, &w) != 0)
		return -1;
	cut = res->body.len;
	write_health_now(&w, meta);
	resume = res->body.len;
	if (write_health_tail(app, l, &w) != 0)
		return -1;
	if (!res->body.over)
		body_cache_put(&app->bodies, res->etag, res->body.data,
		    res->body.len, cut, resume);
	return 0;
}

void
route_health(struct app *app, struct request *req, struct response *res)
{
	struct param_adjustments adj;
	struct catalog_meta meta;
	struct listing l;

	memset(&l, 0, sizeof(l));
	if (request_params(req, res, PR_HEALTH, &l.p, &adj) != 0)
		return;
	if (l.p.my_reports && (l.uid = my_user(app, req, res)) < 0)
		return;
	l.flags = LISTING_REPORTED;
	if (catalog_current(&app->catalog, app->read, &meta) != DB_OK) {
		response_unavailable(res);
		return;
	}
	/* One's own reports are nobody else's business, nor a cache's. */
	if (conditional_catalog(app, req, res, ETAG_HEALTH, &l, &meta, NULL,
	        l.p.my_reports ? "private, max-age=60" : "public, max-age=60"))
		return;
	if (write_health(app, req, res, &l, &meta) != 0) {
		response_unavailable(res);
		return;
	}
	response_header(res, "Cache-Control", "%s, max-age=60",
	    l.p.my_reports ? "private" : "public");
}

void
route_availability(struct app *app, struct request *req, struct response *res)
{
	struct param_adjustments adj;
	struct catalog_meta meta;
	struct availability av;
	struct listing l;
	struct jw w;

	memset(&l, 0, sizeof(l));
	if (request_params(req, res, PR_AVAILABILITY, &l.p, &adj) != 0)
		return;
	if (catalog_current(&app->catalog, app->read, &meta) != DB_OK) {
		response_unavailable(res);
		return;
	}
	if (conditional_catalog(app, req, res, ETAG_AVAILABILITY, &l, &meta,
	        NULL, "public, max-age=300"))
		return;
	if (availability_load(&av, l.p.days, app->read, req->arena) != DB_OK) {
		response_unavailable(res);
		return;
	}
	/* Filter and order the models as a listing does, with no health. */
	listing_select(&l, &app->catalog, req->arena);
	listing_finish(&l);
	jw_init(&w, &res->body);
	availability_write(&w, &av, &l, meta.now_ms);
	response_header(res, "Cache-Control", "public, max-age=300");
}
