/*
 * GET /api/v1/usage (SPEC.md §5): the caller's quota as it stands (read,
 * never advanced) and a page of the user's history, newest first: the
 * counted requests (api_request_logs) and the reports (model_feedback)
 * of all the user's keys.  Not counted against the quota.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "json.h"

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

/* Columns of STMT_USAGE. */
enum { U_MAX, U_WINDOW, U_START, U_COUNT, U_NOW, U_TOTAL };

/*
 * The fixed window as a reader sees it: a window that has run out is
 * no window (the next counted request opens a new one), and the count
 * stops at the limit (a refused attempt is not a request served).
 */
static void
write_quota(struct jw *w, const PGresult *r)
{
	long long limit = db_get_ll(r, 0, U_MAX, 0);
	long long secs = db_get_ll(r, 0, U_WINDOW, 86400);
	long long start = db_get_ll(r, 0, U_START, -1);
	long long count = db_get_ll(r, 0, U_COUNT, 0);
	long long now = db_get_ll(r, 0, U_NOW, 0);
	int open = start >= 0 && now < start + secs * 1000;

	if (!open)
		count = 0;
	if (count > limit)
		count = limit;
	jw_key(w, "limit"), jw_int(w, limit);
	jw_key(w, "remaining"), jw_int(w, limit - count);
	jw_key(w, "resetAt"), jw_time(w, open ? start + secs * 1000 : -1);
	jw_key(w, "windowStart"), jw_time(w, open ? start : -1);
	jw_key(w, "windowSeconds"), jw_int(w, secs);
	jw_key(w, "requestCount"), jw_int(w, count);
}

/* Columns of STMT_USAGE_HISTORY. */
enum {
	H_KIND,
	H_ID,
	H_CREATED,
	H_KEY,
	H_ENDPOINT,
	H_STATUS,
	H_DURATION,
	H_MODEL_IDS,
	H_MODEL,
	H_OUTCOME,
	H_DETAILS,
	H_REQUEST
};

static void
write_entry(struct jw *w, const PGresult *r, int i)
{
	const char *outcome = db_get_str(r, i, H_OUTCOME);
	const char *ids;

	jw_obj_begin(w);
	jw_key(w, "type"), jw_str(w, PQgetvalue(r, i, H_KIND));
	jw_key(w, "id"), jw_str(w, PQgetvalue(r, i, H_ID));
	jw_key(w, "createdAt"), jw_time(w, db_get_ll(r, i, H_CREATED, -1));
	jw_key(w, "keyId"), jw_str(w, db_get_str(r, i, H_KEY));
	if (strcmp(PQgetvalue(r, i, H_KIND), "request") == 0) {
		ids = PQgetvalue(r, i, H_MODEL_IDS);
		jw_key(w, "endpoint"), jw_str(w, db_get_str(r, i, H_ENDPOINT));
		jw_key(w, "status"), jw_int(w, db_get_ll(r, i, H_STATUS, 0));
		jw_key(w, "durationMs");
		jw_num(w, strtod(PQgetvalue(r, i, H_DURATION), NULL));
		/* array_to_json's text: already JSON. */
		jw_key(w, "modelIds"), jw_raw(w, ids, strlen(ids));
	} else {
		jw_key(w, "modelId"), jw_str(w, db_get_str(r, i, H_MODEL));
		jw_key(w, "success");
		jw_bool(w, outcome != NULL && strcmp(outcome, "success") == 0);
		jw_key(w, "issue");
		jw_str(w,
		    outcome != NULL && strcmp(outcome, "success") != 0 ? outcome
		                                                       : NULL);
		jw_key(w, "details"), jw_str(w, db_get_str(r, i, H_DETAILS));
		jw_key(w, "requestId");
		jw_str(w, db_get_str(r, i, H_REQUEST));
	}
	jw_obj_end(w);
}

/* The page: one more row than asked tells whether another follows. */
static enum db_status
write_history(
    struct app *app, long long uid, const struct paging *pg, struct jw *w)
{
	char u[24], lim[24], off[24];
	const char *params[3] = { u, lim, off };
	enum db_status st;
	PGresult *r;
	int i, n;

	snprintf(u, sizeof(u), "%lld", uid);
	snprintf(lim, sizeof(lim), "%lld", pg->size + 1);
	snprintf(off, sizeof(off), "%lld", (pg->page - 1) * pg->size);
	r = db_exec(&app->db, STMT_USAGE_HISTORY, params, 3, &st);
	if (r == NULL)
		return st;
	n = PQntuples(r);
	jw_key(w, "history");
	jw_arr_begin(w);
	for (i = 0; i < n && i < pg->size; i++)
		write_entry(w, r, i);
	jw_arr_end(w);
	jw_key(w, "hasMore"), jw_bool(w, n > pg->size);
	PQclear(r);
	return DB_OK;
}

void
route_usage(struct app *app, struct request *req, struct response *res)
{
	char uid[24];
	const char *params[1] = { uid };
	struct paging pg;
	struct caller who;
	const char *token;
	enum db_status st;
	PGresult *r;
	struct jw w;

	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0 ||
	    read_paging(req, res, &pg) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		return;
	snprintf(uid, sizeof(uid), "%lld", who.user_id);
	r = db_exec(&app->db, STMT_USAGE, params, 1, &st);
	if (r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	write_quota(&w, r);
	jw_key(&w, "page"), jw_int(&w, pg.page);
	jw_key(&w, "pageSize"), jw_int(&w, pg.size);
	jw_key(&w, "total"), jw_int(&w, db_get_ll(r, 0, U_TOTAL, 0));
	PQclear(r);
	if (write_history(app, who.user_id, &pg, &w) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_obj_end(&w);
}
