#include "listing.h"

#include <string.h>

void
listing_select(struct listing *l, const struct catalog *c, struct arena *a)
{
	size_t i;

	l->v = arena_alloc(a, (c->n + 1) * sizeof(*l->v));
	l->n = 0;
	for (i = 0; i < c->n; i++) {
		const struct model *m = &c->models[i];

		if ((l->flags & LISTING_ACTIVE) && !m->is_active)
			continue;
		if (!catalog_match(m, l->p.filters))
			continue;
		memset(&l->v[l->n], 0, sizeof(l->v[0]));
		l->v[l->n++].m = m;
	}
}

/* 1 when r is over maxErrorRate with enough reports to say so. */
static int
too_many_errors(const struct list_params *p, const struct ranked *r)
{
	return p->max_error_rate >= 0 && r->reports >= p->min_reports &&
	    (double)r->error_rate_x100 / 100.0 > p->max_error_rate;
}

void
listing_finish(struct listing *l)
{
	size_t i, kept = 0;

	for (i = 0; i < l->n; i++) {
		struct ranked *r = &l->v[i];

		ranked_finish(r);
		if ((l->flags & LISTING_REPORTED) && r->reports == 0)
			continue;
		if (too_many_errors(&l->p, r))
			continue;
		l->v[kept++] = *r;
	}
	l->n = kept;
	catalog_sort(l->v, l->n, l->p.sort);
	/* Exclusions after the sort, so topN counts the rest. */
	if (l->prefs != NULL && l->prefs->n_exclude > 0) {
		for (i = 0, kept = 0; i < l->n; i++)
			if (!prefs_excluded(l->prefs, l->v[i].m->id))
				l->v[kept++] = l->v[i];
		l->n = kept;
	}
	if (l->p.top_n > 0 && l->n > (size_t)l->p.top_n)
		l->n = (size_t)l->p.top_n;
}

enum db_status
listing_run(
    struct listing *l, const struct catalog *c, struct db *db, struct arena *a)
{
	enum db_status st;

	listing_select(l, c, a);
	st = catalog_load_health(db, l->p.range, l->uid, l->v, l->n);
	if (st != DB_OK)
		return st;
	listing_finish(l);
	return DB_OK;
}

int
listing_stale(
    int64_t last_sync_ms, int64_t now_ms, long long stale_after, long long *age)
{
	*age = -1;
	if (last_sync_ms < 0)
		return 1;
	*age = (now_ms - last_sync_ms) / 1000;
	if (*age < 0)
		*age = 0;
	return *age > stale_after;
}

void
listing_write_models(struct jw *w, const struct listing *l)
{
	size_t i;

	jw_arr_begin(w);
	for (i = 0; i < l->n; i++) {
		const struct ranked *r = &l->v[i];

		/* The prebuilt object lacks health and its closing brace. */
		jw_obj_continue(w, r->m->json, r->m->json_len);
		jw_key(w, "issueCount"), jw_int(w, health_issues(&r->h));
		jw_key(w, "errorRate"),
		    jw_num(w, (double)r->error_rate_x100 / 100.0);
		jw_key(w, "reports"), jw_int(w, r->reports);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void
listing_write_feedback_counts(struct jw *w, const struct listing *l)
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
listing_write_use_cases(struct jw *w, unsigned filters)
{
	int b;

	jw_arr_begin(w);
	for (b = 0; b < FILTER__COUNT; b++)
		if (filters & (1u << b))
			jw_str(w, filter_name(b));
	jw_arr_end(w);
}
