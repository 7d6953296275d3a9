#include "availability.h"

#include <stdio.h>
#include <string.h>

/* Columns of STMT_AVAILABILITY. */
enum { A_MODEL, A_DAY };

enum db_status
availability_load(
    struct availability *av, long long days, struct db *db, struct arena *a)
{
	char d[24];
	const char *params[1] = { d };
	enum db_status st;
	PGresult *r;
	size_t i;

	snprintf(d, sizeof(d), "%lld", days);
	memset(av, 0, sizeof(*av));
	av->days = days;
	r = db_exec(db, STMT_AVAILABILITY, params, 1, &st);
	if (r == NULL)
		return st;
	av->n = (size_t)PQntuples(r);
	av->rows = arena_alloc(a, (av->n + 1) * sizeof(*av->rows));
	for (i = 0; i < av->n; i++) {
		av->rows[i].model_id =
		    arena_strdup(a, PQgetvalue(r, (int)i, A_MODEL));
		snprintf(av->rows[i].day, sizeof(av->rows[i].day), "%s",
		    PQgetvalue(r, (int)i, A_DAY));
	}
	PQclear(r);
	return DB_OK;
}

/* The first row of model id, or av->n when it has none. */
static size_t
first_row(const struct availability *av, const char *id)
{
	size_t lo = 0, hi = av->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(av->rows[mid].model_id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < av->n && strcmp(av->rows[lo].model_id, id) == 0 ? lo
	                                                            : av->n;
}

/* The UTC date of day index d (days since the epoch). */
static void
date_of(long long d, char out[11])
{
	char iso[25];

	format_iso8601((int64_t)d * 86400000, iso);
	memcpy(out, iso, 10);
	out[10] = '\0';
}

static void
write_model(struct jw *w, const struct availability *av, size_t row,
    const struct model *m, long long today)
{
	size_t end = row;
	long long d;
	char date[11];

	while (end < av->n && strcmp(av->rows[end].model_id, m->id) == 0)
		end++;
	jw_obj_continue(w, m->json, m->json_len);
	jw_key(w, "modelId"), jw_str(w, m->id);
	jw_key(w, "modelName"), jw_str(w, m->name);
	jw_key(w, "isActive"), jw_bool(w, m->is_active);
	jw_key(w, "daysSeen");
	jw_arr_begin(w);
	for (size_t k = row; k < end; k++)
		jw_str(w, av->rows[k].day);
	jw_arr_end(w);
	jw_key(w, "availability");
	jw_obj_begin(w);
	for (d = today - av->days + 1; d <= today; d++) {
		date_of(d, date);
		/* Both lists are in date order: walk them together. */
		while (row < end && strcmp(av->rows[row].day, date) < 0)
			row++;
		jw_key(w, date);
		jw_bool(w, row < end && strcmp(av->rows[row].day, date) == 0);
	}
	jw_obj_end(w);
	jw_obj_end(w);
}

void
availability_write(struct jw *w, const struct availability *av,
    const struct listing *l, int64_t now_ms)
{
	long long today = now_ms / 86400000, d, count = 0;
	char date[11];
	size_t i, row;

	jw_obj_begin(w);
	jw_key(w, "days"), jw_int(w, av->days);
	jw_key(w, "dates");
	jw_arr_begin(w);
	for (d = today - av->days + 1; d <= today; d++) {
		date_of(d, date);
		jw_str(w, date);
	}
	jw_arr_end(w);
	jw_key(w, "models");
	jw_arr_begin(w);
	for (i = 0; i < l->n; i++) {
		row = first_row(av, l->v[i].m->id);
		if (row == av->n)
			continue;
		write_model(w, av, row, l->v[i].m, today);
		count++;
	}
	jw_arr_end(w);
	jw_key(w, "lastUpdated"), jw_time(w, now_ms);
	jw_key(w, "count"), jw_int(w, count);
	jw_obj_end(w);
}
