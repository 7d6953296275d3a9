#include "sync_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "fetch.h"
#include "log.h"
#include "openrouter.h"
#include "sync_lock.h"

/* Longest Authorization line accepted (the key and its prefix). */
#define AUTH_LINE_MAX 4096

int
sync_catalog_auth(
    const struct config *cfg, struct buf *line, char *err, size_t errsz)
{
	int rc;

	buf_reset(line);
	if (cfg->openrouter_api_key == NULL)
		return 0;
	rc = fetch_bearer(line, cfg->openrouter_api_key);
	if (rc == -1)
		snprintf(err, errsz,
		    "OPENROUTER_API_KEY: contains "
		    "a space or control character");
	else if (rc != 0)
		snprintf(err, errsz, "OPENROUTER_API_KEY: too long");
	return rc == 0 ? 0 : -1;
}

/* A nullable integer as a JSON value: -1 stands for null. */
static struct json_object *
json_int_or_null(long long v)
{
	return v < 0 ? NULL : json_object_new_int64(v);
}

static struct json_object *
json_strings(const struct openrouter_strings *s)
{
	struct json_object *a = json_object_new_array_ext((int)s->n);
	size_t i;

	for (i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

static struct json_object *
model_json(const struct openrouter_model *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(m->id));
	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "created", json_int_or_null(m->created));
	json_object_object_add(
	    o, "context_length", json_int_or_null(m->context_length));
	json_object_object_add(o, "max_completion_tokens",
	    json_int_or_null(m->max_completion_tokens));
	json_object_object_add(o, "description",
	    m->description == NULL ? NULL
	                           : json_object_new_string(m->description));
	json_object_object_add(o, "modality",
	    m->modality == NULL ? NULL : json_object_new_string(m->modality));
	json_object_object_add(
	    o, "input_modalities", json_strings(&m->input_modalities));
	json_object_object_add(
	    o, "output_modalities", json_strings(&m->output_modalities));
	json_object_object_add(
	    o, "supported_parameters", json_strings(&m->supported_parameters));
	json_object_object_add(o, "is_moderated",
	    m->is_moderated < 0 ? NULL
	                        : json_object_new_boolean(m->is_moderated));
	return o;
}

/*
 * The free models as the one JSON array parameter of STMT_SYNC_APPLY,
 * so the whole catalogue goes to the server in one round trip.  The
 * caller frees the string.
 */
static char *
catalog_json(const struct openrouter_catalog *c)
{
	struct json_object *a = json_object_new_array_ext((int)c->n);
	const char *s;
	char *out;
	size_t i;

	for (i = 0; i < c->n; i++)
		json_object_array_add(a, model_json(&c->models[i]));
	s = json_object_to_json_string_ext(
	    a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL)
		abort(); /* out of memory, as xmalloc would */
	out = xstrdup(s);
	json_object_put(a);
	return out;
}

static void
db_reason(enum db_status st, const char *what, char *err, size_t errsz)
{
	snprintf(err, errsz, "database %s: %s",
	    st == DB_UNAVAILABLE ? "unavailable" : "error", what);
}

/* Columns of STMT_SYNC_RUN_START. */
enum { R_ID };

static enum sync_status
record_start(struct db *db, struct sync_result *res, char *err, size_t errsz)
{
	enum db_status st;
	PGresult *r = db_exec(db, STMT_SYNC_RUN_START, NULL, 0, &st);

	if (r == NULL || PQntuples(r) != 1) {
		db_reason(r == NULL ? st : DB_ERROR, "cannot record the run",
		    err, errsz);
		PQclear(r);
		return SYNC_DB;
	}
	res->run_id = db_get_ll(r, 0, R_ID, 0);
	PQclear(r);
	return SYNC_OK;
}

/*
 * Close the run's record.  known says how many of the five counts
 * (total, free, inserted, updated, deactivated) hold values; the rest
 * are written as NULL.  error is NULL on success.
 */
static enum db_status
record_finish(
    struct db *db, const struct sync_result *res, int known, const char *error)
{
	long long counts[5] = { res->total, res->free_models, res->inserted,
		res->updated, res->deactivated };
	char text[6][24];
	const char *params[8];
	enum db_status st;
	PGresult *r;
	int i;

	snprintf(text[0], sizeof(text[0]), "%lld", res->run_id);
	params[0] = text[0];
	params[1] = error == NULL ? "success" : "failed";
	for (i = 0; i < 5; i++) {
		snprintf(text[i + 1], sizeof(text[i + 1]), "%lld", counts[i]);
		params[i + 2] = i < known ? text[i + 1] : NULL;
	}
	params[7] = error;
	r = db_exec(db, STMT_SYNC_RUN_FINISH, params, 8, &st);
	if (r == NULL)
		return st;
	PQclear(r);
	return DB_OK;
}

/* Columns of STMT_SYNC_APPLY. */
enum {
	A_FREE,
	A_INSERTED,
	A_UPDATED,
	A_DEACTIVATED,
	A_ACTIVE,
	A_MISSING,
	A_SKIPPED,
	A_VERSION,
	A_SNAPSHOTS
};

/*
 * Run STMT_SYNC_APPLY with the catalogue json and read its one row
 * into res.  Returns DB_OK, DB_ERROR or DB_UNAVAILABLE.
 */
static enum db_status
catalog_apply(struct db *db, const char *json, struct sync_result *res)
{
	const char *params[1] = { json };
	enum db_status st;
	PGresult *r = db_exec(db, STMT_SYNC_APPLY, params, 1, &st);

	if (r == NULL)
		return st;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return DB_ERROR;
	}
	res->inserted = db_get_ll(r, 0, A_INSERTED, 0);
	res->updated = db_get_ll(r, 0, A_UPDATED, 0);
	res->deactivated = db_get_ll(r, 0, A_DEACTIVATED, 0);
	res->active_before = db_get_ll(r, 0, A_ACTIVE, 0);
	res->missing = db_get_ll(r, 0, A_MISSING, 0);
	res->deactivation_skipped = db_get_bool(r, 0, A_SKIPPED, 0);
	res->catalog_version = db_get_ll(r, 0, A_VERSION, 0);
	PQclear(r);
	return DB_OK;
}

/* The statements of the catalogue transaction, after BEGIN. */
static enum sync_status
apply_in_tx(struct db *db, const char *json, struct sync_result *res, char *err,
    size_t errsz)
{
	enum db_status st;
	int held = sync_lock_xact(db, &st);

	if (held <= 0) {
		if (held == 0)
			snprintf(err, errsz, "lost the sync lock");
		else
			db_reason(st, "cannot take the sync lock", err, errsz);
		return SYNC_DB;
	}
	st = catalog_apply(db, json, res);
	if (st != DB_OK) {
		db_reason(st, "cannot update the catalogue", err, errsz);
		return SYNC_DB;
	}
	/* The success record commits with what it reports. */
	st = record_finish(db, res, 5, NULL);
	if (st != DB_OK) {
		db_reason(st, "cannot record the run", err, errsz);
		return SYNC_DB;
	}
	return SYNC_OK;
}

/* One transaction: the catalogue, the snapshots, meta and the record. */
static enum sync_status
apply(struct db *db, const char *json, struct sync_result *res, char *err,
    size_t errsz)
{
	enum db_status st = db_begin(db);
	enum sync_status ss;

	if (st != DB_OK) {
		db_reason(st, "cannot begin", err, errsz);
		return SYNC_DB;
	}
	ss = apply_in_tx(db, json, res, err, errsz);
	if (ss == SYNC_OK) {
		st = db_end(db, DB_COMMIT);
		if (st == DB_OK)
			return SYNC_OK;
		db_reason(st, "cannot commit", err, errsz);
		return SYNC_DB;
	}
	if (db_end(db, DB_ROLLBACK) != DB_OK)
		log_warn("sync: rollback failed");
	return ss;
}

/* The fetch's options for the catalogue: cfg's limits, three tries. */
static void
catalog_opts(
    const struct config *cfg, const struct buf *auth, struct fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_s = cfg->sync_connect_timeout_s;
	o->ca_file = cfg->sync_ca_file;
	o->timeout_s = cfg->sync_timeout_s;
	o->max_bytes = cfg->sync_max_bytes;
	o->retry_delay_ms = cfg->sync_retry_delay_ms;
	o->tries = FETCH_MAX_TRIES;
	o->auth = auth->len > 0 ? auth->data : NULL;
	o->what = "fetch";
}

/*
 * GET the models URL into r (capped at cfg->sync_max_bytes), trying
 * again after network errors and 5xx.  Returns 0, or -1 with a reason.
 */
static int
fetch_models(const struct config *cfg, struct fetch_result *r, int *tries,
    char *err, size_t errsz)
{
	struct fetch_opts o;
	struct buf auth;
	int rc = -1;

	buf_init(&auth, AUTH_LINE_MAX);
	memset(r, 0, sizeof(*r));
	if (sync_catalog_auth(cfg, &auth, err, errsz) != 0)
		goto out;
	catalog_opts(cfg, &auth, &o);
	switch (fetch_one(cfg->openrouter_models_url, &o, r)) {
	case FETCH_OK:
		rc = 0;
		break;
	case FETCH_SETUP:
		snprintf(err, errsz, "fetch: %s", r->err);
		break;
	case FETCH_HTTP:
	case FETCH_TOO_BIG:
	case FETCH_NETWORK:
	case FETCH__MAX:
		if (r->tries > 1)
			snprintf(err, errsz, "fetch failed after %d tries: %s",
			    r->tries, r->err);
		else
			snprintf(err, errsz, "fetch failed: %s", r->err);
		break;
	}
	*tries = r->tries;
out:
	buf_free(&auth);
	return rc;
}

/* Fetch and check the payload: 0, or -1 with a reason (SYNC_UPSTREAM). */
static int
fetch_catalog(const struct config *cfg, struct openrouter_catalog *cat,
    struct sync_result *res, char *err, size_t errsz)
{
	struct fetch_result r;
	char why[256];
	int rc = -1;

	if (fetch_models(cfg, &r, &res->tries, err, errsz) != 0)
		goto out;
	if (openrouter_parse(r.body.data, r.body.len, cat, why, sizeof(why)) !=
	    0) {
		snprintf(err, errsz, "payload refused: %s", why);
		goto out;
	}
	res->total = (long long)cat->total;
	res->free_models = (long long)cat->n;
	rc = 0;
out:
	fetch_result_free(&r);
	return rc;
}

enum sync_status
sync_catalog_run(struct db *db, const struct config *cfg,
    struct sync_result *res, char *err, size_t errsz)
{
	struct openrouter_catalog cat = { 0 };
	enum sync_status ss;
	char *json = NULL;
	int known = 0;

	ss = record_start(db, res, err, errsz);
	if (ss != SYNC_OK)
		return ss;
	if (fetch_catalog(cfg, &cat, res, err, errsz) != 0) {
		ss = SYNC_UPSTREAM;
	} else {
		known = 2;
		json = catalog_json(&cat);
		openrouter_catalog_free(&cat);
		ss = apply(db, json, res, err, errsz);
		free(json);
	}
	if (ss != SYNC_OK) {
		text_one_line(err);
		/* What the transaction reported was rolled back with it. */
		res->inserted = res->updated = res->deactivated = 0;
		res->active_before = res->missing = res->catalog_version = 0;
		res->deactivation_skipped = 0;
		if (record_finish(db, res, known, err) != DB_OK)
			log_error("sync: run %lld: cannot record its failure",
			    res->run_id);
	}
	return ss;
}
