#include "listing.h"

#include <stdio.h>
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
		ranked_clear(&l->v[l->n++], m);
	}
}

/* 1 when r is over maxErrorRate with enough reports to say so. */
static int
too_many_errors(const struct list_params *p, const struct ranked *r)
{
	return p->max_error_rate >= 0 && r->reports >= p->min_reports &&
	    (double)r->error_rate_x100 / 100.0 > p->max_error_rate;
}

/* 1 when OpenRouter knows r's uptime and it is under minUptime. */
static int
too_little_uptime(const struct list_params *p, const struct ranked *r)
{
	return p->min_uptime >= 0 && r->ep.uptime_30m >= 0 &&
	    r->ep.uptime_30m < p->min_uptime;
}

void
listing_finish(struct listing *l)
{
	size_t i, kept = 0;

	for (i = 0; i < l->n; i++) {
		struct ranked *r = &l->v[i];

		ranked_finish(r, l->p.source != SOURCE_LOCAL);
		if ((l->flags & LISTING_REPORTED) && r->reports == 0)
			continue;
		if (too_many_errors(&l->p, r) || too_little_uptime(&l->p, r))
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

void
listing_cache_init(struct listing_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void
listing_cache_free(struct listing_cache *c)
{
	size_t i;

	for (i = 0; i < LISTING_CACHE_SLOTS; i++)
		PQclear(c->slot[i].rows);
	memset(c, 0, sizeof(*c));
}

static int
versions_equal(const struct data_versions *a, const struct data_versions *b)
{
	return a->reports == b->reports && a->upstream == b->upstream &&
	    a->oldest_us == b->oldest_us &&
	    a->endpoints_us == b->endpoints_us &&
	    a->oldest_upstream_us == b->oldest_upstream_us;
}

/* The copy for l's window, user and versions: found, or read into the
 * least recently used slot.  NULL with *st when the read failed. */
static struct listing_cache_slot *
cache_slot(const struct listing *l, struct db *db, enum db_status *st)
{
	struct listing_cache *c = l->cache;
	struct listing_cache_slot *s, *old = &c->slot[0];
	PGresult *r;
	size_t i;

	for (i = 0; i < LISTING_CACHE_SLOTS; i++) {
		s = &c->slot[i];
		if (s->rows != NULL && s->range == l->p.range &&
		    s->uid == l->uid && versions_equal(&s->v, l->versions))
			return s;
		if (s->rows == NULL ||
		    (old->rows != NULL && s->used < old->used))
			old = s;
	}
	r = catalog_health_read(db, l->p.range, l->uid, st);
	if (r == NULL)
		return NULL;
	PQclear(old->rows);
	old->rows = r;
	old->range = l->p.range;
	old->uid = l->uid;
	old->v = *l->versions;
	return old;
}

enum db_status
listing_run(
    struct listing *l, const struct catalog *c, struct db *db, struct arena *a)
{
	struct listing_cache_slot *s;
	enum db_status st;

	listing_select(l, c, a);
	if (l->cache == NULL || l->versions == NULL) {
		st = catalog_load_health(
		    db, l->p.range, l->uid, l->p.source, l->v, l->n);
		if (st != DB_OK)
			return st;
	} else {
		s = cache_slot(l, db, &st);
		if (s == NULL)
			return st;
		s->used = ++l->cache->clock;
		catalog_health_apply(s->rows, l->p.source, l->v, l->n);
	}
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

/* A number that is negative when unknown: the number, or null. */
static void
num_or_null(struct jw *w, double v)
{
	if (v < 0)
		jw_null(w);
	else
		jw_num(w, v);
}

static void
write_counts(struct jw *w, const struct health_counts *h)
{
	jw_obj_begin(w);
	jw_key(w, "successCount"), jw_int(w, h->success);
	jw_key(w, "rateLimited"), jw_int(w, h->rate_limited);
	jw_key(w, "unavailable"), jw_int(w, h->unavailable);
	jw_key(w, "error"), jw_int(w, h->error);
	jw_key(w, "reports"), jw_int(w, health_reports(h));
	jw_key(w, "errorRate"), jw_num(w, health_error_rate(h));
	jw_obj_end(w);
}

void
listing_write_health_members(struct jw *w, const struct ranked *r)
{
	const struct endpoint_stats *e = &r->ep;

	jw_key(w, "score"), num_or_null(w, r->score);
	jw_key(w, "sources");
	jw_obj_begin(w);
	jw_key(w, "local"), write_counts(w, &r->local);
	jw_key(w, "upstream"), write_counts(w, &r->upstream);
	jw_key(w, "upstreamErrorRate"), num_or_null(w, r->upstream_rate);
	jw_obj_end(w);
	jw_key(w, "openrouter");
	if (!e->known) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "uptime5m"), num_or_null(w, e->uptime_5m);
	jw_key(w, "uptime30m"), num_or_null(w, e->uptime_30m);
	jw_key(w, "uptime1d"), num_or_null(w, e->uptime_1d);
	jw_key(w, "latencyP50Ms"), num_or_null(w, e->latency_p50_ms);
	jw_key(w, "throughputP50"), num_or_null(w, e->throughput_p50);
	jw_key(w, "endpoints"), jw_int(w, e->endpoints);
	jw_key(w, "fetchedAt"), jw_time(w, e->fetched_ms);
	jw_obj_end(w);
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
		listing_write_health_members(w, r);
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

/* Columns of STMT_UPSTREAM_META. */
enum { U_URL, U_KIND, U_LAST_SUCCESS, U_LAST_ERROR, U_MODELS, U_NOW };

enum db_status
listing_upstream(struct db *db, struct upstream_info *out)
{
	enum db_status st;
	PGresult *r = db_exec(db, STMT_UPSTREAM_META, NULL, 0, &st);

	memset(out, 0, sizeof(*out));
	out->last_success_ms = -1;
	if (r == NULL)
		return st;
	if (PQntuples(r) == 1) {
		out->configured = !PQgetisnull(r, 0, U_URL);
		snprintf(out->kind, sizeof(out->kind), "%s",
		    PQgetisnull(r, 0, U_KIND) ? "" : PQgetvalue(r, 0, U_KIND));
		out->last_success_ms = db_get_ll(r, 0, U_LAST_SUCCESS, -1);
		out->failing = !PQgetisnull(r, 0, U_LAST_ERROR);
		out->models = db_get_ll(r, 0, U_MODELS, 0);
		out->now_ms = db_get_ll(r, 0, U_NOW, 0);
	}
	PQclear(r);
	return DB_OK;
}

void
listing_write_upstream(struct jw *w, const struct upstream_info *u)
{
	long long age;

	if (!u->configured) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "kind");
	if (u->kind[0] != '\0')
		jw_str(w, u->kind);
	else
		jw_null(w);
	jw_key(w, "lastSuccessAt"), jw_time(w, u->last_success_ms);
	jw_key(w, "ageSeconds");
	if (u->last_success_ms >= 0) {
		age = (u->now_ms - u->last_success_ms) / 1000;
		jw_int(w, age < 0 ? 0 : age);
	} else {
		jw_null(w);
	}
	jw_key(w, "failing"), jw_bool(w, u->failing);
	jw_key(w, "models"), jw_int(w, u->models);
	jw_obj_end(w);
}
