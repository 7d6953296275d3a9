/*
 * GET /api/v1/usage (SPEC.md §5): the caller's quota as it stands (read,
 * never advanced) and a page of the user's history, newest first: the
 * counted requests (api_request_logs) and the reports (model_feedback)
 * of all the user's keys.  Not counted against the quota.
 */
#include "guard.h"
#include "json.h"
#include "usage.h"

struct paging {
	long long page;
	long long size;
};

/*
 * page and pageSize, read like every query parameter (shared/params.c:
 * 1 to 10000 and 1 to 100, clamped unless the request is strict): 0,
 * or -1 with the 400 naming the parameter.
 */
static int
read_paging(struct request *req, struct response *res, struct paging *pg)
{
	struct param_adjustments adj;
	struct list_params p;

	if (request_params(req, res, PR_USAGE, &p, &adj) != 0)
		return -1;
	pg->page = p.page;
	pg->size = p.page_size;
	return 0;
}

void
route_usage(struct app *app, struct request *req, struct response *res)
{
	struct usage_page hist;
	struct paging pg;
	struct caller who;
	const char *token;
	struct usage u;
	struct jw w;
	size_t i;

	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0 ||
	    read_paging(req, res, &pg) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		return;
	if (usage_read(&app->db, who.user_id, &u) != DB_OK ||
	    usage_history(&app->db, who.user_id, (pg.page - 1) * pg.size,
	        pg.size, req->arena, &hist) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	usage_write_quota(&w, &u);
	jw_key(&w, "page"), jw_int(&w, pg.page);
	jw_key(&w, "pageSize"), jw_int(&w, pg.size);
	jw_key(&w, "total"), jw_int(&w, u.history_total);
	jw_key(&w, "history");
	jw_arr_begin(&w);
	for (i = 0; i < hist.n; i++)
		usage_write_entry(&w, &hist.entries[i]);
	jw_arr_end(&w);
	jw_key(&w, "hasMore"), jw_bool(&w, hist.has_more);
	jw_obj_end(&w);
}
