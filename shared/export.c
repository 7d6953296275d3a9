#include "export.h"

#include <string.h>

/* Columns of STMT_FEDERATION_EXPORT. */
enum {
	E_GRAIN,
	E_BUCKET,
	E_MODEL,
	E_SUCCESS,
	E_RATE_LIMITED,
	E_UNAVAILABLE,
	E_ERROR
};

enum db_status
export_load(struct db *db, struct arena *a, struct export_rows *out)
{
	enum db_status st;
	PGresult *r = db_exec(db, STMT_FEDERATION_EXPORT, NULL, 0, &st);
	size_t i;

	memset(out, 0, sizeof(*out));
	if (r == NULL)
		return st;
	out->n = (size_t)PQntuples(r);
	out->v = arena_alloc(a, (out->n + 1) * sizeof(*out->v));
	for (i = 0; i < out->n; i++) {
		struct export_row *e = &out->v[i];
		int row = (int)i;

		e->grain = (int)db_get_ll(r, row, E_GRAIN, 0);
		e->bucket_ms = db_get_ll(r, row, E_BUCKET, 0);
		e->model_id = arena_strdup(a, PQgetvalue(r, row, E_MODEL));
		e->success = db_get_ll(r, row, E_SUCCESS, 0);
		e->rate_limited = db_get_ll(r, row, E_RATE_LIMITED, 0);
		e->unavailable = db_get_ll(r, row, E_UNAVAILABLE, 0);
		e->error = db_get_ll(r, row, E_ERROR, 0);
	}
	PQclear(r);
	return DB_OK;
}

void
export_write(struct jw *w, const struct export_rows *rows, int64_t now_ms)
{
	static const char *columns[] = { "grain", "bucket", "modelId",
		"success", "rateLimited", "unavailable", "error" };
	size_t i;

	jw_obj_begin(w);
	jw_key(w, "format"), jw_str(w, EXPORT_FORMAT);
	jw_key(w, "generatedAt"), jw_time(w, now_ms);
	jw_key(w, "columns");
	jw_arr_begin(w);
	for (i = 0; i < NELEM(columns); i++)
		jw_str(w, columns[i]);
	jw_arr_end(w);
	jw_key(w, "rows");
	jw_arr_begin(w);
	for (i = 0; i < rows->n; i++) {
		const struct export_row *e = &rows->v[i];

		jw_arr_begin(w);
		jw_int(w, e->grain);
		jw_time(w, e->bucket_ms);
		jw_str(w, e->model_id);
		jw_int(w, e->success);
		jw_int(w, e->rate_limited);
		jw_int(w, e->unavailable);
		jw_int(w, e->error);
		jw_arr_end(w);
	}
	jw_arr_end(w);
	jw_key(w, "count"), jw_int(w, (long long)rows->n);
	jw_obj_end(w);
}
