#include "usage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of STMT_USAGE. */
enum { U_MAX, U_WINDOW, U_START_MS, U_COUNT, U_NOW_MS, U_TOTAL };

enum db_status
usage_read(struct db *db, long long uid, struct usage *out)
{
	char u[24];
	const char *params[1] = { u };
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	snprintf(u, sizeof(u), "%lld", uid);
	r = db_exec(db, STMT_USAGE, params, 1, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 1) {
		out->limit = db_get_ll(r, 0, U_MAX, 0);
		out->window_seconds = db_get_ll(r, 0, U_WINDOW, 86400);
		out->window_start_ms = db_get_ll(r, 0, U_START_MS, -1);
		out->window_count = db_get_ll(r, 0, U_COUNT, 0);
		out->now_ms = db_get_ll(r, 0, U_NOW_MS, 0);
		out->history_total = db_get_ll(r, 0, U_TOTAL, 0);
	} else {
		st = DB_NOTFOUND;
	}
	PQclear(r);
	return st;
}

/* Columns of STMT_USAGE_HISTORY. */
enum {
	H_KIND,
	H_ID,
	H_CREATED_MS,
	H_API_KEY_ID,
	H_ENDPOINT,
	H_STATUS,
	H_DURATION_MS,
	H_MODEL_IDS,
	H_MODEL_ID,
	H_OUTCOME,
	H_DETAILS,
	H_REQUEST_ID
};

/*
 * Row i into *e, strings copied into a.  Each side of the history's
 * UNION leaves the other side's columns NULL, so every column can be
 * read whatever the kind.
 */
static void
read_entry(const PGresult *r, int i, struct arena *a, struct usage_entry *e)
{
	const char *duration = db_get_str(r, i, H_DURATION_MS);

	e->kind = strcmp(PQgetvalue(r, i, H_KIND), "request") == 0
	    ? USAGE_REQUEST
	    : USAGE_REPORT;
	snprintf(e->id, sizeof(e->id), "%s", PQgetvalue(r, i, H_ID));
	e->created_ms = db_get_ll(r, i, H_CREATED_MS, -1);
	e->key_id = db_get_arena_str(r, i, H_API_KEY_ID, a);
	e->endpoint = db_get_arena_str(r, i, H_ENDPOINT, a);
	e->status = db_get_ll(r, i, H_STATUS, 0);
	e->duration_ms = duration != NULL ? strtod(duration, NULL) : 0;
	e->model_ids = db_get_arena_str(r, i, H_MODEL_IDS, a);
	e->model_id = db_get_arena_str(r, i, H_MODEL_ID, a);
	e->outcome = db_get_arena_str(r, i, H_OUTCOME, a);
	e->details = db_get_arena_str(r, i, H_DETAILS, a);
	e->request_id = db_get_arena_str(r, i, H_REQUEST_ID, a);
}

enum db_status
usage_history(struct db *db, long long uid, long long offset, long long limit,
    struct arena *a, struct usage_page *out)
{
	char u[24], lim[24], off[24];
	const char *params[3] = { u, lim, off };
	enum db_status st;
	PGresult *r;
	int i, n;

	memset(out, 0, sizeof(*out));
	snprintf(u, sizeof(u), "%lld", uid);
	/* One more row than asked tells whether another page follows. */
	snprintf(lim, sizeof(lim), "%lld", limit + 1);
	snprintf(off, sizeof(off), "%lld", offset);
	r = db_exec(db, STMT_USAGE_HISTORY, params, 3, &st);
	if (r == NULL)
		return st;
	n = PQntuples(r);
	out->has_more = n > limit;
	if (n > limit)
		n = (int)limit;
	if (n > 0)
		out->entries =
		    arena_alloc(a, (size_t)n * sizeof(*out->entries));
	for (i = 0; i < n; i++)
		read_entry(r, i, a, &out->entries[i]);
	out->n = (size_t)n;
	PQclear(r);
	return DB_OK;
}

void
usage_write_quota(struct jw *w, const struct usage *u)
{
	long long start = u->window_start_ms, secs = u->window_seconds;
	long long count = u->window_count, limit = u->limit;
	int open = start >= 0 && u->now_ms < start + secs * 1000;

	/*
	 * A window that has run out is no window: the next counted request
	 * opens a new one.  A refused attempt is not a request served.
	 */
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

static const char *const kind_names[USAGE__MAX] = {
	[USAGE_REQUEST] = "request",
	[USAGE_REPORT] = "report",
};

/* The members of a request entry after the common ones. */
static void
write_request(struct jw *w, const struct usage_entry *e)
{
	jw_key(w, "endpoint"), jw_str(w, e->endpoint);
	jw_key(w, "status"), jw_int(w, e->status);
	jw_key(w, "durationMs"), jw_num(w, e->duration_ms);
	/* array_to_json's text: already JSON (never NULL in the schema). */
	jw_key(w, "modelIds");
	if (e->model_ids != NULL) {
		jw_raw(w, e->model_ids, strlen(e->model_ids));
	} else {
		jw_arr_begin(w);
		jw_arr_end(w);
	}
}

/* The members of a report entry after the common ones. */
static void
write_report(struct jw *w, const struct usage_entry *e)
{
	int success = e->outcome != NULL && strcmp(e->outcome, "success") == 0;

	jw_key(w, "modelId"), jw_str(w, e->model_id);
	jw_key(w, "success"), jw_bool(w, success);
	jw_key(w, "issue"), jw_str(w, success ? NULL : e->outcome);
	jw_key(w, "details"), jw_str(w, e->details);
	jw_key(w, "requestId"), jw_str(w, e->request_id);
}

void
usage_write_entry(struct jw *w, const struct usage_entry *e)
{
	jw_obj_begin(w);
	jw_key(w, "type"), jw_str(w, kind_names[e->kind]);
	jw_key(w, "id"), jw_str(w, e->id);
	jw_key(w, "createdAt"), jw_time(w, e->created_ms);
	jw_key(w, "keyId"), jw_str(w, e->key_id);
	if (e->kind == USAGE_REQUEST)
		write_request(w, e);
	else
		write_report(w, e);
	jw_obj_end(w);
}
