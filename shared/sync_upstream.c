#include "sync_upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "json.h"
#include "log.h"
#include "sync_lock.h"
#include "upstream.h"

#define EXPORT_PATH "/api/federation/export"
#define HEALTH_PATH "/api/health?range="
/* Longest URL asked: a base of at most 2000 bytes and a route. */
#define URL_MAX 4096
/* The JSON parameter of the store: 500 000 rows of about 100 bytes. */
#define STORE_MAX (96 * 1024 * 1024)
/*
 * What each statement of the store may take: replacing half a million
 * rows takes seconds, more than a request's statement_timeout.
 */
#define STORE_STATEMENT_TIMEOUT_MS 120000LL

/* How the step went, before it is copied into the run's result. */
struct outcome {
	enum upstream_kind kind;
	long long models, rows;
	char err[SYNC_UPSTREAM_ERR_LEN];
};

/* The fetch options of the upstream: cfg's limits, no key ever. */
static void
upstream_opts(const struct config *cfg, int tries, struct fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_s = cfg->sync_connect_timeout_s;
	o->ca_file = cfg->sync_ca_file;
	o->timeout_s = cfg->sync_timeout_s;
	o->max_bytes = cfg->sync_max_bytes;
	o->retry_delay_ms = cfg->sync_retry_delay_ms;
	o->tries = tries;
	o->what = tries > 1 ? "upstream fetch" : NULL;
}

/* What a failed fetch says, as "<what>: fetch failed…". */
static void
fetch_reason(struct outcome *oc, const char *what, const struct fetch_result *r)
{
	if (r->tries > 1)
		snprintf(oc->err, sizeof(oc->err),
		    "%s: fetch failed after %d tries: %s", what, r->tries,
		    r->err);
	else
		snprintf(oc->err, sizeof(oc->err), "%s: fetch failed: %s", what,
		    r->err);
}

/* Columns of STMT_UPSTREAM_CLEAR. */
enum { UC_ROLLUP, UC_RATES };

/* STMT_UPSTREAM_CLEAR: DB_OK, DB_ERROR or DB_UNAVAILABLE. */
static enum db_status
clear_imported(struct db *db, long long *rollup, long long *rates)
{
	enum db_status st;
	PGresult *r = db_exec(db, STMT_UPSTREAM_CLEAR, NULL, 0, &st);

	if (r == NULL)
		return st;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return DB_ERROR;
	}
	*rollup = db_get_ll(r, 0, UC_ROLLUP, 0);
	*rates = db_get_ll(r, 0, UC_RATES, 0);
	PQclear(r);
	return DB_OK;
}

/* Columns of STMT_UPSTREAM_PUT_COUNTS and STMT_UPSTREAM_PUT_RATES. */
enum { UP_VERSION, UP_MODELS, UP_ROWS };

/*
 * Run put (STMT_UPSTREAM_PUT_COUNTS or _RATES) with the upstream's url
 * and the rows' JSON; the models and rows it recorded into *oc.
 * Returns DB_OK, DB_ERROR or DB_UNAVAILABLE.
 */
static enum db_status
put_imported(struct db *db, enum stmt put, const char *url, const char *json,
    struct outcome *oc)
{
	const char *params[2] = { url, json };
	enum db_status st;
	PGresult *r = db_exec(db, put, params, 2, &st);

	if (r == NULL)
		return st;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return DB_ERROR;
	}
	oc->models = db_get_ll(r, 0, UP_MODELS, 0);
	oc->rows = db_get_ll(r, 0, UP_ROWS, 0);
	PQclear(r);
	return DB_OK;
}

/* The statements of the replacing transaction, after BEGIN. */
static enum db_status
replace_in_tx(struct db *db, long long timeout_ms, enum stmt put,
    const char *url, const char *json, struct outcome *oc)
{
	long long rollup, rates;
	enum db_status st;
	int held = sync_lock_xact(db, &st);

	if (held <= 0)
		return held == 0 ? DB_ERROR : st;
	st = db_xact_statement_timeout(db, timeout_ms);
	if (st == DB_OK)
		st = clear_imported(db, &rollup, &rates);
	if (st != DB_OK)
		return st;
	return put_imported(db, put, url, json, oc);
}

/* One transaction: every imported row replaced, the success recorded. */
static int
replace(struct db *db, const struct config *cfg, enum stmt put,
    const char *json, struct outcome *oc)
{
	long long timeout = cfg->statement_timeout_ms;
	enum db_status st;

	if (timeout < STORE_STATEMENT_TIMEOUT_MS)
		timeout = STORE_STATEMENT_TIMEOUT_MS;
	st = db_begin(db);
	if (st == DB_OK) {
		st = replace_in_tx(
		    db, timeout, put, cfg->upstream_url, json, oc);
		if (st == DB_OK)
			st = db_end(db, DB_COMMIT);
		else if (db_end(db, DB_ROLLBACK) != DB_OK)
			log_warn("upstream: rollback failed");
	}
	if (st == DB_OK)
		return 0;
	snprintf(oc->err, sizeof(oc->err),
	    "database %s: cannot store the import",
	    st == DB_UNAVAILABLE ? "unavailable" : "error");
	return -1;
}

/* The export's rows as the JSON parameter of STMT_UPSTREAM_PUT_COUNTS. */
static int
counts_json(const struct upstream_export *e, struct buf *b)
{
	struct jw w;
	size_t i;

	jw_init(&w, b);
	jw_arr_begin(&w);
	for (i = 0; i < e->n; i++) {
		const struct upstream_row *r = &e->rows[i];

		jw_obj_begin(&w);
		jw_key(&w, "g"), jw_int(&w, r->grain);
		jw_key(&w, "b"), jw_int(&w, (long long)r->bucket_s);
		jw_key(&w, "m"), jw_str(&w, r->model_id);
		jw_key(&w, "s"), jw_int(&w, r->success);
		jw_key(&w, "r"), jw_int(&w, r->rate_limited);
		jw_key(&w, "u"), jw_int(&w, r->unavailable);
		jw_key(&w, "e"), jw_int(&w, r->error);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	return b->over ? -1 : 0;
}

/* Check an instance's export and store it; 0, or -1 with oc->err. */
static int
import_counts(struct db *db, const struct config *cfg, struct fetch_result *r,
    struct outcome *oc)
{
	struct upstream_export e;
	struct buf json;
	char why[200];
	int rc;

	rc = upstream_parse_export(
	    r->body.data, r->body.len, now_ms() / 1000, &e, why, sizeof(why));
	/* The body is not needed any more: its memory goes back first. */
	fetch_result_free(r);
	if (rc != 0) {
		snprintf(oc->err, sizeof(oc->err), "export refused: %s", why);
		return -1;
	}
	rc = -1;
	buf_init(&json, STORE_MAX);
	if (counts_json(&e, &json) != 0)
		snprintf(oc->err, sizeof(oc->err), "export too large to store");
	else
		rc = replace(db, cfg, STMT_UPSTREAM_PUT_COUNTS, json.data, oc);
	if (rc == 0)
		oc->kind = UPSTREAM_FLR;
	buf_free(&json);
	upstream_export_free(&e);
	return rc;
}

/* The seven windows' rates as the JSON of STMT_UPSTREAM_PUT_RATES. */
static int
rates_json(const struct upstream_rates *rates, struct buf *b)
{
	struct jw w;
	size_t i, k;

	jw_init(&w, b);
	jw_arr_begin(&w);
	for (k = 0; k < UPSTREAM_WINDOWS; k++)
		for (i = 0; i < rates[k].n; i++) {
			jw_obj_begin(&w);
			jw_key(&w, "m"), jw_str(&w, rates[k].v[i].model_id);
			jw_key(&w, "w"), jw_str(&w, upstream_windows[k]);
			jw_key(&w, "r"), jw_num(&w, rates[k].v[i].error_rate);
			jw_obj_end(&w);
		}
	jw_arr_end(&w);
	return b->over ? -1 : 0;
}

/*
 * Read each window's answer into rates[]; 0, or -1 with oc->err about
 * the first window that failed.
 */
static int
read_windows(
    struct fetch_job *jobs, struct upstream_rates *rates, struct outcome *oc)
{
	char what[32], why[200];
	size_t k;

	for (k = 0; k < UPSTREAM_WINDOWS; k++) {
		struct fetch_result *r = &jobs[k].res;

		snprintf(what, sizeof(what), "health %s", upstream_windows[k]);
		if (r->status != FETCH_OK) {
			fetch_reason(oc, what, r);
			return -1;
		}
		if (upstream_parse_health(r->body.data, r->body.len,
		        upstream_windows[k], &rates[k], why,
		        sizeof(why)) != 0) {
			snprintf(oc->err, sizeof(oc->err), "%s refused: %s",
			    what, why);
			return -1;
		}
	}
	return 0;
}

/* The windows' rates into the database; 0, or -1 with oc->err. */
static int
store_rates(struct db *db, const struct config *cfg,
    const struct upstream_rates *rates, struct outcome *oc)
{
	struct buf json;
	int rc = -1;

	buf_init(&json, STORE_MAX);
	if (rates_json(rates, &json) != 0)
		snprintf(oc->err, sizeof(oc->err), "rates too large to store");
	else
		rc = replace(db, cfg, STMT_UPSTREAM_PUT_RATES, json.data, oc);
	buf_free(&json);
	return rc;
}

/* The hosted service: its seven windows, then the store. */
static int
import_rates(struct db *db, const struct config *cfg, struct outcome *oc)
{
	struct fetch_job jobs[UPSTREAM_WINDOWS];
	struct upstream_rates rates[UPSTREAM_WINDOWS];
	struct buf urls[UPSTREAM_WINDOWS];
	struct fetch_opts o;
	size_t k;
	int rc = -1;

	memset(jobs, 0, sizeof(jobs));
	memset(rates, 0, sizeof(rates));
	for (k = 0; k < UPSTREAM_WINDOWS; k++) {
		buf_init(&urls[k], URL_MAX);
		if (fetch_join(&urls[k], cfg->upstream_url, HEALTH_PATH) != 0 ||
		    buf_puts(&urls[k], upstream_windows[k]) != 0)
			abort(); /* URL_MAX leaves room for the longest base */
		jobs[k].url = urls[k].data;
	}
	upstream_opts(cfg, 1, &o);
	if (fetch_batch(jobs, UPSTREAM_WINDOWS, UPSTREAM_WINDOWS, &o) != 0)
		snprintf(oc->err, sizeof(oc->err), "health: libcurl failed");
	else if (read_windows(jobs, rates, oc) == 0)
		rc = store_rates(db, cfg, rates, oc);
	if (rc == 0)
		oc->kind = UPSTREAM_HOSTED;
	for (k = 0; k < UPSTREAM_WINDOWS; k++) {
		fetch_result_free(&jobs[k].res);
		upstream_rates_free(&rates[k]);
		buf_free(&urls[k]);
	}
	return rc;
}

/* The export first: it says which kind of upstream this is. */
static int
import(struct db *db, const struct config *cfg, struct outcome *oc)
{
	struct fetch_result r;
	struct fetch_opts o;
	struct buf url;
	int rc = -1;

	buf_init(&url, URL_MAX);
	if (fetch_join(&url, cfg->upstream_url, EXPORT_PATH) != 0)
		abort(); /* URL_MAX leaves room for the longest base */
	upstream_opts(cfg, FETCH_MAX_TRIES, &o);
	switch (fetch_one(url.data, &o, &r)) {
	case FETCH_OK:
		rc = import_counts(db, cfg, &r, oc);
		break;
	case FETCH_HTTP:
		if (r.http_status == 404) {
			rc = import_rates(db, cfg, oc);
			break;
		}
		fetch_reason(oc, "export", &r);
		break;
	case FETCH_TOO_BIG:
	case FETCH_NETWORK:
	case FETCH_SETUP:
	case FETCH__MAX:
		fetch_reason(oc, "export", &r);
		break;
	}
	fetch_result_free(&r);
	buf_free(&url);
	return rc;
}

/* A failed import: only when it was tried and why, in upstream_meta. */
static void
record_failure(struct db *db, const char *why)
{
	const char *params[1] = { why };
	enum db_status st;
	PGresult *r = db_exec(db, STMT_UPSTREAM_FAILED, params, 1, &st);

	if (r == NULL) {
		log_error("upstream: database %s: cannot record the failure",
		    st == DB_UNAVAILABLE ? "unavailable" : "error");
		return;
	}
	PQclear(r);
}

void
sync_upstream_run(
    struct db *db, const struct config *cfg, struct sync_result *res)
{
	struct outcome oc;

	if (cfg->upstream_url == NULL)
		return;
	memset(&oc, 0, sizeof(oc));
	res->upstream_ran = 1;
	if (import(db, cfg, &oc) == 0) {
		res->upstream_ok = 1;
		res->upstream_kind = oc.kind;
		res->upstream_models = oc.models;
		res->upstream_rows = oc.rows;
		return;
	}
	text_one_line(oc.err);
	snprintf(
	    res->upstream_error, sizeof(res->upstream_error), "%s", oc.err);
	log_warn("upstream %s: %s", cfg->upstream_url, oc.err);
	record_failure(db, oc.err);
}
