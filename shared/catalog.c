#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "log.h"

void
catalog_init(struct catalog *c)
{
	memset(c, 0, sizeof(*c));
	c->version = -1;
}

static void
models_free(struct model *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].name);
		free(v[i].json);
	}
	free(v);
}

void
catalog_free(struct catalog *c)
{
	models_free(c->models, c->n);
	catalog_init(c);
}

/* 1 when the JSON array text holds the string s. */
static int
array_has(struct json_object *arr, const char *s)
{
	size_t i, n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), s) == 0)
			return 1;
	}
	return 0;
}

static struct json_object *
parse_array(const char *text)
{
	char err[64];

	if (text == NULL)
		return NULL;
	return json_parse(text, strlen(text), 4, err, sizeof(err));
}

unsigned
catalog_caps(const char *modality, const char *input_json,
    const char *output_json, const char *params_json, long long context_length,
    int *n_params)
{
	struct json_object *in = parse_array(input_json);
	struct json_object *out = parse_array(output_json);
	struct json_object *par = parse_array(params_json);
	unsigned caps = 0;

	if ((modality != NULL && strcmp(modality, "text->text") == 0) ||
	    array_has(out, "text"))
		caps |= FILTER_CHAT;
	if (array_has(in, "image"))
		caps |= FILTER_VISION;
	if (array_has(par, "tools"))
		caps |= FILTER_TOOLS;
	if (context_length >= 100000)
		caps |= FILTER_LONG_CONTEXT;
	if (array_has(par, "reasoning") || array_has(par, "include_reasoning"))
		caps |= FILTER_REASONING;
	*n_params = par != NULL && json_object_is_type(par, json_type_array)
	    ? (int)json_object_array_length(par)
	    : 0;
	json_object_put(in);
	json_object_put(out);
	json_object_put(par);
	return caps;
}

/* Write a JSON array column (NULL: []) as a value. */
static void
put_array(struct jw *w, const char *json)
{
	if (json == NULL)
		json = "[]";
	jw_raw(w, json, strlen(json));
}

static void
put_nullable_int(struct jw *w, long long v)
{
	if (v < 0)
		jw_null(w);
	else
		jw_int(w, v);
}

/* Columns of STMT_CATALOG_LOAD. */
enum {
	C_ID,
	C_NAME,
	C_CONTEXT,
	C_MAX_OUT,
	C_DESCRIPTION,
	C_MODALITY,
	C_INPUT,
	C_OUTPUT,
	C_PARAMS,
	C_MODERATED,
	C_ACTIVE,
	C_CREATED,
	C_FIRST_SEEN,
	C_LAST_SEEN,
	C_VERSION,
	C_LAST_SYNC
};

static void
model_from_row(struct model *m, const PGresult *r, int row)
{
	struct buf b;
	struct jw w;
	int moderated;

	m->id = xstrdup(PQgetvalue(r, row, C_ID));
	m->name = xstrdup(PQgetvalue(r, row, C_NAME));
	m->context_length = db_get_ll(r, row, C_CONTEXT, -1);
	m->max_completion_tokens = db_get_ll(r, row, C_MAX_OUT, -1);
	m->created_ms = db_get_ll(r, row, C_CREATED, -1);
	m->first_seen_ms = db_get_ll(r, row, C_FIRST_SEEN, 0);
	m->is_active = db_get_bool(r, row, C_ACTIVE, 0);
	m->caps = catalog_caps(db_get_str(r, row, C_MODALITY),
	    db_get_str(r, row, C_INPUT), db_get_str(r, row, C_OUTPUT),
	    db_get_str(r, row, C_PARAMS), m->context_length, &m->n_params);
	moderated = db_get_bool(r, row, C_MODERATED, -1);

	/* The unchanging part of the model's JSON, built once. */
	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "id"), jw_str(&w, m->id);
	jw_key(&w, "name"), jw_str(&w, m->name);
	jw_key(&w, "contextLength"), put_nullable_int(&w, m->context_length);
	jw_key(&w, "maxCompletionTokens"),
	    put_nullable_int(&w, m->max_completion_tokens);
	jw_key(&w, "description"),
	    jw_str(&w, db_get_str(r, row, C_DESCRIPTION));
	jw_key(&w, "modality"), jw_str(&w, db_get_str(r, row, C_MODALITY));
	jw_key(&w, "inputModalities"),
	    put_array(&w, db_get_str(r, row, C_INPUT));
	jw_key(&w, "outputModalities"),
	    put_array(&w, db_get_str(r, row, C_OUTPUT));
	jw_key(&w, "supportedParameters"),
	    put_array(&w, db_get_str(r, row, C_PARAMS));
	jw_key(&w, "isModerated");
	if (moderated < 0)
		jw_null(&w);
	else
		jw_bool(&w, moderated);
	jw_key(&w, "createdAt"), jw_time(&w, m->created_ms);
	jw_key(&w, "lastSeenAt"),
	    jw_time(&w, db_get_ll(r, row, C_LAST_SEEN, -1));
	m->json = xstrndup(b.data, b.len);
	m->json_len = b.len;
	buf_free(&b);
}

static int
model_cmp_id(const void *a, const void *b)
{
	return strcmp(
	    ((const struct model *)a)->id, ((const struct model *)b)->id);
}

enum db_status
catalog_refresh(
    struct catalog *c, struct db *db, long long version, int64_t last_sync_ms)
{
	enum db_status st;
	struct model *v;
	PGresult *r;
	size_t n = 0;
	int i, rows;

	if (version >= 0 && version == c->version &&
	    last_sync_ms == c->last_sync_ms)
		return DB_OK;
	r = db_exec(db, STMT_CATALOG_LOAD, NULL, 0, &st);
	if (r == NULL)
		return st;
	rows = PQntuples(r);
	v = xcalloc((size_t)rows, sizeof(*v));
	for (i = 0; i < rows; i++)
		if (!PQgetisnull(r, i, C_ID))
			model_from_row(&v[n++], r, i);
	/* Sort here: the server's collation need not be strcmp's. */
	qsort(v, n, sizeof(*v), model_cmp_id);
	models_free(c->models, c->n);
	c->models = v;
	c->n = n;
	c->version = rows > 0 ? db_get_ll(r, 0, C_VERSION, 0) : 0;
	c->last_sync_ms = rows > 0 ? db_get_ll(r, 0, C_LAST_SYNC, -1) : -1;
	PQclear(r);
	log_info("catalogue loaded: %zu models, version %lld", n, c->version);
	return DB_OK;
}

const struct model *
catalog_find(const struct catalog *c, const char *id)
{
	struct model key = { .id = (char *)(uintptr_t)id };

	if (c->n == 0)
		return NULL;
	return bsearch(&key, c->models, c->n, sizeof(key), model_cmp_id);
}

int
catalog_match(const struct model *m, unsigned filters)
{
	return (m->caps & filters) == filters;
}

void
ranked_clear(struct ranked *r, const struct model *m)
{
	memset(r, 0, sizeof(*r));
	r->m = m;
	r->upstream_rate = -1;
	r->ep.uptime_5m = r->ep.uptime_30m = r->ep.uptime_1d = -1;
	r->ep.latency_p50_ms = r->ep.throughput_p50 = -1;
	r->score = -1;
}

void
ranked_finish(struct ranked *r, int use_rate)
{
	struct health_evidence e;

	r->reports = health_reports(&r->h);
	r->error_rate_x100 = health_error_rate_x100(&r->h);
	e.success = r->h.success;
	e.failure = health_issues(&r->h);
	e.upstream_error_rate = use_rate ? r->upstream_rate : -1;
	e.uptime = r->ep.uptime_30m >= 0 ? r->ep.uptime_30m / 100 : -1;
	r->score = health_score(&e);
}

static long long
nz(long long v)
{
	return v < 0 ? 0 : v;
}

static int
cmp_ll_desc(long long a, long long b)
{
	return a > b ? -1 : a < b;
}

static int
cmp_double_desc(double a, double b)
{
	return a > b ? -1 : a < b;
}

/* Latency, lowest first; unknown after every known one. */
static double
latency_key(const struct ranked *r)
{
	return r->ep.latency_p50_ms >= 0 ? -r->ep.latency_p50_ms : -1e300;
}

/* The tie-breakers: context length descending, then id ascending. */
static int
cmp_ties(const struct ranked *a, const struct ranked *b)
{
	int c = cmp_ll_desc(nz(a->m->context_length), nz(b->m->context_length));

	return c != 0 ? c : strcmp(a->m->id, b->m->id);
}

static int64_t
newest_ms(const struct model *m)
{
	return m->created_ms >= 0 ? m->created_ms : m->first_seen_ms;
}

static enum sort_key sort_by;

static int
cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	int c = 0;

	switch (sort_by) {
	case SORT_CONTEXT_LENGTH:
		break; /* the tie-breakers are this order */
	case SORT_MAX_OUTPUT:
		c = cmp_ll_desc(nz(a->m->max_completion_tokens),
		    nz(b->m->max_completion_tokens));
		break;
	case SORT_CAPABLE:
		c = cmp_ll_desc(a->m->n_params, b->m->n_params);
		break;
	case SORT_LEAST_ISSUES:
		c = -cmp_ll_desc(a->error_rate_x100, b->error_rate_x100);
		if (c == 0)
			c = cmp_ll_desc(a->reports, b->reports);
		break;
	case SORT_NEWEST:
		c = cmp_ll_desc(newest_ms(a->m), newest_ms(b->m));
		break;
	case SORT_HEALTHIEST:
		c = cmp_double_desc(a->score, b->score);
		break;
	case SORT_UPTIME:
		c = cmp_double_desc(a->ep.uptime_30m, b->ep.uptime_30m);
		break;
	case SORT_LATENCY:
		c = cmp_double_desc(latency_key(a), latency_key(b));
		break;
	case SORT_ISSUE_COUNT:
		c = cmp_ll_desc(health_issues(&a->h), health_issues(&b->h));
		break;
	case SORT_ID:
		return strcmp(a->m->id, b->m->id);
	case SORT__MAX:
		break;
	}
	return c != 0 ? c : cmp_ties(a, b);
}

void
catalog_sort(struct ranked *v, size_t n, enum sort_key key)
{
	if (n < 2)
		return;
	/* Workers are single-threaded; qsort has no context argument. */
	sort_by = key;
	qsort(v, n, sizeof(*v), cmp_ranked);
}

/* Index of the ranked entry for model m (v sorted by id), or -1. */
static long
ranked_index(const struct ranked *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].m->id, id);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Columns of STMT_HEALTH_SOURCES. */
enum {
	H_KIND,
	H_MODEL,
	H_A,
	H_B,
	H_C,
	H_D,
	H_X1,
	H_X2,
	H_X3,
	H_X4,
	H_X5,
	H_AT
};

static void
read_counts(const PGresult *r, int i, struct health_counts *h)
{
	h->success = db_get_ll(r, i, H_A, 0);
	h->rate_limited = db_get_ll(r, i, H_B, 0);
	h->unavailable = db_get_ll(r, i, H_C, 0);
	h->error = db_get_ll(r, i, H_D, 0);
}

static double
get_double(const PGresult *r, int i, int col)
{
	return PQgetisnull(r, i, col) ? -1
	                              : strtod(PQgetvalue(r, i, col), NULL);
}

/* One row of STMT_HEALTH_SOURCES into the entry it is about. */
static void
read_source(const PGresult *r, int i, struct ranked *x)
{
	const char *kind = PQgetvalue(r, i, H_KIND);

	if (strcmp(kind, "local") == 0) {
		read_counts(r, i, &x->local);
	} else if (strcmp(kind, "upstream") == 0) {
		read_counts(r, i, &x->upstream);
	} else if (strcmp(kind, "rate") == 0) {
		x->upstream_rate = get_double(r, i, H_X1);
	} else if (strcmp(kind, "openrouter") == 0) {
		x->ep.known = 1;
		x->ep.endpoints = db_get_ll(r, i, H_A, 0);
		x->ep.uptime_5m = get_double(r, i, H_X1);
		x->ep.uptime_30m = get_double(r, i, H_X2);
		x->ep.uptime_1d = get_double(r, i, H_X3);
		x->ep.latency_p50_ms = get_double(r, i, H_X4);
		x->ep.throughput_p50 = get_double(r, i, H_X5);
		x->ep.fetched_ms = db_get_ll(r, i, H_AT, -1);
	}
}

static void
add_counts(struct health_counts *to, const struct health_counts *c)
{
	to->success += c->success;
	to->rate_limited += c->rate_limited;
	to->unavailable += c->unavailable;
	to->error += c->error;
}

PGresult *
catalog_health_read(
    struct db *db, enum time_range range, long long uid, enum db_status *st)
{
	char secs[24], user[24];
	const char *params[3];

	snprintf(secs, sizeof(secs), "%lld", time_range_seconds(range));
	snprintf(user, sizeof(user), "%lld", uid);
	params[0] = range == TR_ALL ? NULL : secs;
	params[1] = user;
	/* The hosted service has no all-time figure: its longest is 30d. */
	params[2] = range == TR_ALL ? "30d" : time_range_name(range);
	return db_exec(db, STMT_HEALTH_SOURCES, params, 3, st);
}

void
catalog_health_apply(
    const PGresult *r, enum source source, struct ranked *v, size_t n)
{
	size_t k;
	int i;

	for (i = 0; i < PQntuples(r); i++) {
		long at = ranked_index(v, n, PQgetvalue(r, i, H_MODEL));

		if (at >= 0)
			read_source(r, i, &v[at]);
	}
	for (k = 0; k < n; k++) {
		memset(&v[k].h, 0, sizeof(v[k].h));
		if (source != SOURCE_UPSTREAM)
			add_counts(&v[k].h, &v[k].local);
		if (source != SOURCE_LOCAL)
			add_counts(&v[k].h, &v[k].upstream);
	}
}

enum db_status
catalog_load_health(struct db *db, enum time_range range, long long uid,
    enum source source, struct ranked *v, size_t n)
{
	enum db_status st;
	PGresult *r = catalog_health_read(db, range, uid, &st);

	if (r == NULL)
		return st;
	catalog_health_apply(r, source, v, n);
	PQclear(r);
	return DB_OK;
}

/* Columns of STMT_META. */
enum { M_VERSION, M_LAST_SYNC, M_NOW };

enum db_status
catalog_meta(struct db *db, struct catalog_meta *out)
{
	enum db_status st;
	PGresult *r = db_exec(db, STMT_META, NULL, 0, &st);

	if (r == NULL)
		return st;
	out->version = db_get_ll(r, 0, M_VERSION, 0);
	out->last_sync_ms = db_get_ll(r, 0, M_LAST_SYNC, -1);
	out->now_ms = db_get_ll(r, 0, M_NOW, 0);
	PQclear(r);
	return DB_OK;
}

enum db_status
catalog_current(struct catalog *c, struct db *db, struct catalog_meta *meta)
{
	enum db_status st = catalog_meta(db, meta);

	if (st != DB_OK)
		return st;
	return catalog_refresh(c, db, meta->version, meta->last_sync_ms);
}
