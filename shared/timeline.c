#include "timeline.h"

#include <stdio.h>
#include <string.h>

#include "health.h"

static const struct {
	int grain;
	int buckets;
} shapes[TR__MAX] = {
	[TR_15M] = { 60, 15 },
	[TR_30M] = { 60, 30 },
	[TR_1H] = { 60, 60 },
	[TR_6H] = { 3600, 6 },
	[TR_24H] = { 3600, 24 },
	[TR_7D] = { 86400, 7 },
	[TR_30D] = { 86400, 30 },
};

int
timeline_shape(enum time_range r, int64_t now_ms, struct timeline *t)
{
	int64_t step;

	memset(t, 0, sizeof(*t));
	if (shapes[r].grain == 0)
		return -1;
	t->grain_s = shapes[r].grain;
	t->buckets = shapes[r].buckets;
	step = (int64_t)t->grain_s * 1000;
	t->first_ms = now_ms / step * step - (t->buckets - 1) * step;
	return 0;
}

/* Columns of STMT_HEALTH_TIMELINE. */
enum { T_BUCKET, T_MODEL, T_SUCCESS, T_ERRORS };

enum db_status
timeline_load(struct timeline *t, long long uid, struct db *db, struct arena *a)
{
	char g[16], from[24], user[24];
	const char *params[3] = { g, from, user };
	enum db_status st;
	PGresult *r;
	int i;

	snprintf(g, sizeof(g), "%d", t->grain_s);
	snprintf(from, sizeof(from), "%lld", (long long)t->first_ms);
	snprintf(user, sizeof(user), "%lld", uid);
	r = db_exec(db, STMT_HEALTH_TIMELINE, params, 3, &st);
	if (r == NULL)
		return st;
	t->n = (size_t)PQntuples(r);
	t->rows = arena_alloc(a, (t->n + 1) * sizeof(*t->rows));
	for (i = 0; i < (int)t->n; i++) {
		struct timeline_row *row = &t->rows[i];

		row->bucket_ms = db_get_ll(r, i, T_BUCKET, 0);
		row->model_id = arena_strdup(a, PQgetvalue(r, i, T_MODEL));
		row->success = db_get_ll(r, i, T_SUCCESS, 0);
		row->errors = db_get_ll(r, i, T_ERRORS, 0);
	}
	PQclear(r);
	return DB_OK;
}

/* 1 when id is one of the listed models. */
static int
listed(const struct ranked *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].m->id, id) == 0)
			return 1;
	return 0;
}

/* "2026-01-08 10:00:00" from ms since the epoch. */
static void
write_date(struct jw *w, int64_t ms)
{
	char iso[25];

	format_iso8601(ms, iso);
	iso[10] = ' ';
	iso[19] = '\0';
	jw_str(w, iso);
}

/*
 * The listed models' entries of rows [first, end) of one bucket: their
 * counts objects, or (flat, the hosted service's form) their rates.
 */
static void
write_bucket_models(struct jw *w, const struct timeline *t, size_t first,
    size_t end, const struct ranked *v, size_t n, int flat)
{
	size_t k;

	for (k = first; k < end; k++) {
		const struct timeline_row *tr = &t->rows[k];
		struct health_counts hc = { tr->success, 0, 0, tr->errors };

		if (!listed(v, n, tr->model_id))
			continue;
		jw_key(w, tr->model_id);
		if (flat) {
			jw_num(w, health_error_rate(&hc));
			continue;
		}
		jw_obj_begin(w);
		jw_key(w, "errorCount"), jw_int(w, tr->errors);
		jw_key(w, "totalCount"), jw_int(w, health_reports(&hc));
		jw_key(w, "errorRate"), jw_num(w, health_error_rate(&hc));
		jw_obj_end(w);
	}
}

void
timeline_write(
    struct jw *w, const struct timeline *t, const struct ranked *v, size_t n)
{
	int64_t step = (int64_t)t->grain_s * 1000;
	size_t row = 0, first;
	int b;

	jw_arr_begin(w);
	for (b = 0; b < t->buckets; b++) {
		int64_t start = t->first_ms + b * step;

		/* Rows come ordered by bucket: skip to this bucket's run. */
		while (row < t->n && t->rows[row].bucket_ms < start)
			row++;
		first = row;
		while (row < t->n && t->rows[row].bucket_ms == start)
			row++;
		jw_obj_begin(w);
		jw_key(w, "start"), jw_time(w, start);
		jw_key(w, "date"), write_date(w, start);
		jw_key(w, "counts");
		jw_obj_begin(w);
		write_bucket_models(w, t, first, row, v, n, 0);
		jw_obj_end(w);
		write_bucket_models(w, t, first, row, v, n, 1);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}
