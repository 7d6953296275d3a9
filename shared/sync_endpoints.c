#include "sync_endpoints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "fetch.h"
#include "json.h"
#include "log.h"
#include "sync_catalog.h"
#include "sync_lock.h"

/* Longest URL asked (a base of at most 2000 bytes and a model's path). */
#define URL_MAX 8192
/* The JSON parameter of STMT_ENDPOINT_APPLY, far above what it needs. */
#define APPLY_MAX (64 * 1024 * 1024)

/* One model asked about: what came back, or why nothing did. */
struct probe {
	char *model_id;
	struct buf url;
	int fetchable; /* its id maps to a path: a job was made for it */
	int ok;
	struct endpoint_stats stats;
	char err[FETCH_ERR_LEN + 64];
};

/* The models of one run. */
struct probes {
	struct probe *v;
	size_t n;
};

static void
probes_free(struct probes *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].model_id);
		buf_free(&p->v[i].url);
		endpoints_free(&p->v[i].stats);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* Columns of STMT_ENDPOINT_DUE. */
enum { DUE_MODEL_ID };

/*
 * The models to ask about (at most max), by STMT_ENDPOINT_DUE, into
 * *out (empty first; the caller frees it with probes_free).  Returns
 * DB_OK, DB_ERROR or DB_UNAVAILABLE.
 */
static enum db_status
read_due(struct db *db, long long max, struct probes *out)
{
	char limit[24];
	const char *params[1] = { limit };
	enum db_status st;
	PGresult *r;
	int i, n;

	memset(out, 0, sizeof(*out));
	snprintf(limit, sizeof(limit), "%lld", max);
	r = db_exec(db, STMT_ENDPOINT_DUE, params, 1, &st);
	if (r == NULL)
		return st;
	n = PQntuples(r);
	out->v = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*out->v));
	for (i = 0; i < n; i++) {
		const char *id = db_get_str(r, i, DUE_MODEL_ID);

		if (id == NULL)
			continue;
		out->v[out->n].model_id = xstrdup(id);
		buf_init(&out->v[out->n].url, URL_MAX);
		out->n++;
	}
	PQclear(r);
	return DB_OK;
}

/* Each probe's URL; those whose id has no path fail at once. */
static void
make_urls(const struct config *cfg, struct probes *p)
{
	size_t i;
	int rc;

	for (i = 0; i < p->n; i++) {
		struct probe *pr = &p->v[i];

		rc = fetch_join(&pr->url, cfg->endpoint_base_url, "") == 0
		    ? endpoints_path(&pr->url, pr->model_id)
		    : -2;
		if (rc == -1)
			snprintf(pr->err, sizeof(pr->err),
			    "the id is not author/slug");
		else if (rc != 0)
			snprintf(
			    pr->err, sizeof(pr->err), "the URL is too long");
		pr->fetchable = rc == 0;
	}
}

/* The options of the endpoint transfers: one try each, a small cap. */
static void
endpoint_opts(
    const struct config *cfg, const struct buf *auth, struct fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_s = cfg->sync_connect_timeout_s;
	o->ca_file = cfg->sync_ca_file;
	o->timeout_s = cfg->sync_timeout_s;
	o->max_bytes = cfg->sync_max_bytes < SYNC_ENDPOINTS_MAX_BYTES
	    ? cfg->sync_max_bytes
	    : SYNC_ENDPOINTS_MAX_BYTES;
	o->tries = 1;
	o->auth = auth->len > 0 ? auth->data : NULL;
}

/* What one finished transfer says about its probe. */
static void
read_answer(struct probe *pr, struct fetch_result *r)
{
	char why[256];

	if (r->status != FETCH_OK)
		snprintf(pr->err, sizeof(pr->err), "%s", r->err);
	else if (endpoints_parse(r->body.data, r->body.len, &pr->stats, why,
	             sizeof(why)) != 0)
		snprintf(pr->err, sizeof(pr->err), "payload refused: %s", why);
	else
		pr->ok = 1;
	text_one_line(pr->err);
}

/*
 * Fetch every fetchable probe concurrently and read the answers.
 * Returns 0, or -1 (with every probe failed) when the transfers could
 * not start at all.
 */
static int
fetch_all(const struct config *cfg, const struct buf *auth, struct probes *p)
{
	struct fetch_job *jobs = xcalloc(p->n, sizeof(*jobs));
	size_t *of = xcalloc(p->n, sizeof(*of));
	struct fetch_opts o;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < p->n; i++)
		if (p->v[i].fetchable) {
			jobs[n].url = p->v[i].url.data;
			of[n++] = i;
		}
	endpoint_opts(cfg, auth, &o);
	rc = fetch_batch(jobs, n, (size_t)cfg->endpoint_concurrency, &o);
	for (i = 0; i < n; i++) {
		read_answer(&p->v[of[i]], &jobs[i].res);
		fetch_result_free(&jobs[i].res);
	}
	free(jobs);
	free(of);
	return rc;
}

/* A figure of the fold as a JSON value: -1 (none) is null. */
static void
jw_figure(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	if (v < 0)
		jw_null(w);
	else
		jw_num(w, v);
}

static void
probe_json(struct jw *w, const struct probe *pr)
{
	size_t i;

	jw_obj_begin(w);
	jw_key(w, "model_id"), jw_str(w, pr->model_id);
	if (!pr->ok) {
		jw_key(w, "error"), jw_str(w, pr->err);
		jw_obj_end(w);
		return;
	}
	jw_key(w, "endpoints"), jw_int(w, pr->stats.endpoints);
	jw_figure(w, "uptime_5m", pr->stats.uptime_5m);
	jw_figure(w, "uptime_30m", pr->stats.uptime_30m);
	jw_figure(w, "uptime_1d", pr->stats.uptime_1d);
	jw_figure(w, "latency_p50_ms", pr->stats.latency_p50_ms);
	jw_figure(w, "throughput_p50", pr->stats.throughput_p50);
	jw_key(w, "providers");
	jw_arr_begin(w);
	for (i = 0; i < pr->stats.nproviders; i++)
		jw_str(w, pr->stats.providers[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

/* Every probe as the JSON parameter of STMT_ENDPOINT_APPLY into b. */
static int
probes_json(const struct probes *p, struct buf *b)
{
	struct jw w;
	size_t i;

	jw_init(&w, b);
	jw_arr_begin(&w);
	for (i = 0; i < p->n; i++)
		probe_json(&w, &p->v[i]);
	jw_arr_end(&w);
	return b->over ? -1 : 0;
}

/* What STMT_ENDPOINT_APPLY did. */
struct applied {
	long long attempted, stored, history;
};

/* Columns of STMT_ENDPOINT_APPLY. */
enum { EA_ATTEMPTED, EA_STORED, EA_HISTORY };

static enum db_status
endpoint_apply(struct db *db, const char *json, struct applied *out)
{
	const char *params[1] = { json };
	enum db_status st;
	PGresult *r = db_exec(db, STMT_ENDPOINT_APPLY, params, 1, &st);

	memset(out, 0, sizeof(*out));
	if (r == NULL)
		return st;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return DB_ERROR;
	}
	out->attempted = db_get_ll(r, 0, EA_ATTEMPTED, 0);
	out->stored = db_get_ll(r, 0, EA_STORED, 0);
	out->history = db_get_ll(r, 0, EA_HISTORY, 0);
	PQclear(r);
	return DB_OK;
}

/* The apply in its own transaction, under the sync lock. */
static enum db_status
store(struct db *db, const char *json, struct applied *out)
{
	enum db_status st = db_begin(db);
	int held;

	memset(out, 0, sizeof(*out));
	if (st != DB_OK)
		return st;
	held = sync_lock_xact(db, &st);
	if (held == 1)
		st = endpoint_apply(db, json, out);
	else if (held == 0)
		st = DB_ERROR; /* another run took over: leave it to it */
	if (st == DB_OK)
		return db_end(db, DB_COMMIT);
	if (db_end(db, DB_ROLLBACK) != DB_OK)
		log_warn("endpoint stats: rollback failed");
	return st;
}

/* Log each failed model and count the outcomes into res. */
static void
count(const struct probes *p, struct sync_result *res)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct probe *pr = &p->v[i];

		if (pr->ok) {
			res->endpoints_fetched++;
			continue;
		}
		res->endpoints_failed++;
		/* log_msg() escapes what the model id and answer hold. */
		log_warn("endpoint stats of %s: %s", pr->model_id, pr->err);
	}
}

/* Fetch, read and store the probes' figures; the counts into res. */
static void
run_probes(struct db *db, const struct config *cfg, const struct buf *auth,
    struct probes *p, struct sync_result *res)
{
	struct applied a;
	struct buf json;
	enum db_status st;

	if (p->n == 0)
		return;
	make_urls(cfg, p);
	if (fetch_all(cfg, auth, p) != 0)
		log_error("endpoint stats: the transfers did not start");
	count(p, res);
	buf_init(&json, APPLY_MAX);
	if (probes_json(p, &json) != 0) {
		st = DB_ERROR;
		log_error("endpoint stats: too much to store");
	} else {
		st = store(db, json.data, &a);
	}
	buf_free(&json);
	if (st != DB_OK) {
		log_error("endpoint stats: database %s: nothing stored",
		    st == DB_UNAVAILABLE ? "unavailable" : "error");
		res->endpoints_failed += res->endpoints_fetched;
		res->endpoints_fetched = 0;
	}
}

void
sync_endpoints_run(
    struct db *db, const struct config *cfg, struct sync_result *res)
{
	struct probes p = { 0 };
	struct buf auth;
	enum db_status st;
	char err[128];

	if (cfg->endpoint_base_url == NULL || cfg->endpoint_fetch_max <= 0)
		return;
	res->endpoints_ran = 1;
	buf_init(&auth, 4096);
	if (sync_catalog_auth(cfg, &auth, err, sizeof(err)) != 0) {
		log_error("endpoint stats: %s", err);
		goto out;
	}
	st = read_due(db, cfg->endpoint_fetch_max, &p);
	if (st != DB_OK) {
		log_error("endpoint stats: database %s: cannot list the models",
		    st == DB_UNAVAILABLE ? "unavailable" : "error");
		goto out;
	}
	run_probes(db, cfg, &auth, &p, res);
out:
	probes_free(&p);
	buf_free(&auth);
}
