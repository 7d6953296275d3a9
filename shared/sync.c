#include "sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "log.h"
#include "openrouter.h"

/* SPEC 7: up to 3 tries, the delay doubling between them. */
#define SYNC_TRIES 3
#define SYNC_MAX_REDIRECTS 3L
#define SYNC_USER_AGENT "flr-sync/0.1"

enum fetch_outcome {
	FETCH_DONE,
	FETCH_RETRY, /* network trouble or a 5xx: worth another try */
	FETCH_FAIL
};

/* One transfer's handle and what it needs to live as long as it. */
struct fetch {
	CURL *h;
	struct curl_slist *headers;
	struct buf *body;
	long long max_bytes;
	char errbuf[CURL_ERROR_SIZE];
};

int
sync_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
sync_global_cleanup(void)
{
	curl_global_cleanup();
}

const char *
sync_status_name(enum sync_status st)
{
	static const char *names[SYNC__MAX] = {
		[SYNC_OK] = "ok",
		[SYNC_BUSY] = "busy",
		[SYNC_UPSTREAM] = "upstream",
		[SYNC_DB] = "database",
	};

	return st < SYNC__MAX ? names[st] : "unknown";
}

/*
 * Reasons end up on a terminal, in the journal and in a text column:
 * keep them one line of printable ASCII.  Upstream bytes (a redirect's
 * host name in a curl message) may be anything.
 */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static void
sleep_ms(long long ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* curl's write callback: append to the capped buffer, or stop. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (size != 0 && n > SIZE_MAX / size)
		return 0;
	/* A short count makes curl abort with CURLE_WRITE_ERROR. */
	if (buf_append(b, p, size * n) != 0)
		return 0;
	return size * n;
}

static void
add_header(struct fetch *f, const char *line)
{
	struct curl_slist *l = curl_slist_append(f->headers, line);

	if (l == NULL)
		abort(); /* out of memory, as xmalloc would */
	f->headers = l;
}

/* The Authorization header, refusing a key that would break the line. */
static int
add_auth(struct fetch *f, const char *key, char *err, size_t errsz)
{
	struct buf line;
	const char *p;
	int rc = -1;

	for (p = key; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p >= 0x7f) {
			snprintf(err, errsz,
			    "OPENROUTER_API_KEY: contains "
			    "a space or control character");
			return -1;
		}
	buf_init(&line, 4096);
	if (buf_printf(&line, "Authorization: Bearer %s", key) != 0) {
		snprintf(err, errsz, "OPENROUTER_API_KEY: too long");
		goto out;
	}
	add_header(f, line.data);
	rc = 0;
out:
	buf_free(&line);
	return rc;
}

/*
 * The options that never change.  Protocols: the configured URL may be
 * https, http or file (the bundled snapshot); redirects are limited in
 * set_run_options().
 */
static const struct {
	CURLoption opt;
	const char *val;
} string_opts[] = {
	{ CURLOPT_PROTOCOLS_STR, "https,http,file" },
	{ CURLOPT_USERAGENT, SYNC_USER_AGENT },
	/* Any encoding curl can undo; the write cap counts decoded bytes. */
	{ CURLOPT_ACCEPT_ENCODING, "" },
};

static const struct {
	CURLoption opt;
	long val;
} long_opts[] = {
	{ CURLOPT_FOLLOWLOCATION, 1L },
	{ CURLOPT_MAXREDIRS, SYNC_MAX_REDIRECTS },
	/* No SIGALRM for DNS timeouts: the API worker owns its signals. */
	{ CURLOPT_NOSIGNAL, 1L },
};

static int
set_fixed_options(CURL *h)
{
	size_t i;

	for (i = 0; i < NELEM(string_opts); i++)
		if (curl_easy_setopt(
		        h, string_opts[i].opt, string_opts[i].val) != CURLE_OK)
			return -1;
	for (i = 0; i < NELEM(long_opts); i++)
		if (curl_easy_setopt(h, long_opts[i].opt, long_opts[i].val) !=
		    CURLE_OK)
			return -1;
	return 0;
}

/*
 * The protocols a redirect may lead to: never file (a server must not
 * point us at a local file), and http only when the configured URL is
 * http itself, so that a catalogue asked for over https is never read
 * from a plain-text connection someone on the way could rewrite.
 */
static const char *
redirect_protocols(const char *url)
{
	return strncmp(url, "http://", strlen("http://")) == 0 ? "https,http"
	                                                       : "https";
}

/* The options that come from the configuration and from *f. */
static int
set_run_options(struct fetch *f, const struct config *cfg)
{
	CURL *h = f->h;

	if (curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
	        redirect_protocols(cfg->openrouter_models_url)) ||
	    (cfg->sync_ca_file != NULL &&
	        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->sync_ca_file)))
		return -1;

	/* A declared length over the cap fails before the body comes. */
	if (curl_easy_setopt(h, CURLOPT_URL, cfg->openrouter_models_url) ||
	    curl_easy_setopt(
	        h, CURLOPT_CONNECTTIMEOUT, (long)cfg->sync_connect_timeout_s) ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)cfg->sync_timeout_s) ||
	    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	        (curl_off_t)cfg->sync_max_bytes) ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, f->body) ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, f->headers) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->errbuf))
		return -1;
	return 0;
}

/* Every option of the transfer; -1 with a reason in err. */
static int
fetch_setup(struct fetch *f, const struct config *cfg, char *err, size_t errsz)
{
	if (cfg->openrouter_api_key != NULL &&
	    add_auth(f, cfg->openrouter_api_key, err, errsz) != 0)
		return -1;
	add_header(f, "Accept: application/json");
	if (set_fixed_options(f->h) != 0 || set_run_options(f, cfg) != 0) {
		snprintf(err, errsz,
		    "fetch: libcurl refused an option "
		    "(libcurl 7.85 or newer is needed)");
		return -1;
	}
	return 0;
}

/* Errors where the same request may well work a moment later. */
static int
retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static enum fetch_outcome
fetch_once(struct fetch *f, char *err, size_t errsz)
{
	CURLcode rc;
	long status = 0;

	buf_reset(f->body);
	f->errbuf[0] = '\0';
	rc = curl_easy_perform(f->h);
	if (f->body->over || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errsz, "response body larger than %lld bytes",
		    f->max_bytes);
		return FETCH_FAIL;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errsz, "%s",
		    f->errbuf[0] != '\0' ? f->errbuf : curl_easy_strerror(rc));
		return retryable(rc) ? FETCH_RETRY : FETCH_FAIL;
	}
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
	/* 0: no HTTP status at all, as for a file:// URL. */
	if (status == 0 || (status >= 200 && status <= 299))
		return FETCH_DONE;
	snprintf(err, errsz, "HTTP %ld", status);
	return status >= 500 && status <= 599 ? FETCH_RETRY : FETCH_FAIL;
}

/*
 * GET the models URL into body (capped at cfg->sync_max_bytes), trying
 * again after network errors and 5xx.  Returns 0, or -1 with a reason.
 */
static int
fetch(const struct config *cfg, struct buf *body, int *tries, char *err,
    size_t errsz)
{
	struct fetch f = { 0 };
	long long delay = cfg->sync_retry_delay_ms;
	enum fetch_outcome o = FETCH_FAIL;
	char why[CURL_ERROR_SIZE + 64] = "";
	int rc = -1;

	f.body = body;
	f.max_bytes = cfg->sync_max_bytes;
	f.h = curl_easy_init();
	if (f.h == NULL) {
		snprintf(err, errsz, "fetch: libcurl did not start");
		return -1;
	}
	if (fetch_setup(&f, cfg, err, errsz) != 0)
		goto out;
	for (*tries = 1;; (*tries)++) {
		o = fetch_once(&f, why, sizeof(why));
		if (o != FETCH_RETRY || *tries == SYNC_TRIES)
			break;
		one_line(why);
		log_warn("fetch try %d of %d failed: %s; next in %lld ms",
		    *tries, SYNC_TRIES, why, delay);
		sleep_ms(delay);
		delay *= 2;
	}
	if (o == FETCH_DONE)
		rc = 0;
	else if (*tries > 1)
		snprintf(
		    err, errsz, "fetch failed after %d tries: %s", *tries, why);
	else
		snprintf(err, errsz, "fetch failed: %s", why);
out:
	curl_easy_cleanup(f.h);
	curl_slist_free_all(f.headers);
	return rc;
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

/*
 * Run statement s expecting one row whose first column is a boolean.
 * Returns 1 or 0, or -1 with a reason in err.
 */
static int
exec_bool(struct db *db, enum stmt s, const char *what, char *err, size_t errsz)
{
	enum db_status st;
	PGresult *r = db_exec(db, s, NULL, 0, &st);
	int v;

	if (r == NULL) {
		db_reason(st, what, err, errsz);
		return -1;
	}
	v = PQntuples(r) == 1 && db_get_bool(r, 0, 0, 0);
	PQclear(r);
	return v;
}

static enum sync_status
take_lock(struct db *db, char *err, size_t errsz)
{
	int got = exec_bool(
	    db, STMT_SYNC_LOCK, "cannot take the sync lock", err, errsz);

	if (got < 0)
		return SYNC_DB;
	if (got == 0) {
		snprintf(err, errsz, "another sync is running");
		return SYNC_BUSY;
	}
	return SYNC_OK;
}

static void
release_lock(struct db *db)
{
	char err[128];

	/* A lost session took its lock with it: nothing to do then. */
	if (exec_bool(db, STMT_SYNC_UNLOCK, "unlock", err, sizeof(err)) < 0)
		log_warn("sync: %s", err);
}

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
	res->run_id = db_get_ll(r, 0, 0, 0);
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

static void
read_apply(const PGresult *r, struct sync_result *res)
{
	res->inserted = db_get_ll(r, 0, 1, 0);
	res->updated = db_get_ll(r, 0, 2, 0);
	res->deactivated = db_get_ll(r, 0, 3, 0);
	res->active_before = db_get_ll(r, 0, 4, 0);
	res->missing = db_get_ll(r, 0, 5, 0);
	res->deactivation_skipped = db_get_bool(r, 0, 6, 0);
	res->catalog_version = db_get_ll(r, 0, 7, 0);
}

/* The statements of the catalogue transaction, after BEGIN. */
static enum sync_status
apply_in_tx(struct db *db, const char *json, struct sync_result *res, char *err,
    size_t errsz)
{
	const char *params[1] = { json };
	enum db_status st;
	PGresult *r;
	int held;

	held = exec_bool(
	    db, STMT_SYNC_XACT_LOCK, "cannot take the sync lock", err, errsz);
	if (held <= 0) {
		if (held == 0)
			snprintf(err, errsz, "lost the sync lock");
		return SYNC_DB;
	}
	r = db_exec(db, STMT_SYNC_APPLY, params, 1, &st);
	if (r == NULL || PQntuples(r) != 1) {
		db_reason(r == NULL ? st : DB_ERROR,
		    "cannot update the catalogue", err, errsz);
		PQclear(r);
		return SYNC_DB;
	}
	read_apply(r, res);
	PQclear(r);
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
	enum db_status st = db_command(db, "BEGIN");
	enum sync_status ss;

	if (st != DB_OK) {
		db_reason(st, "cannot begin", err, errsz);
		return SYNC_DB;
	}
	ss = apply_in_tx(db, json, res, err, errsz);
	if (ss == SYNC_OK) {
		st = db_command(db, "COMMIT");
		if (st == DB_OK)
			return SYNC_OK;
		db_reason(st, "cannot commit", err, errsz);
		ss = SYNC_DB;
	}
	/* After a lost connection this runs on a new one: harmless. */
	if (db_command(db, "ROLLBACK") != DB_OK)
		log_warn("sync: rollback failed");
	return ss;
}

/* Fetch and check the payload: 0, or -1 with a reason (SYNC_UPSTREAM). */
static int
fetch_catalog(const struct config *cfg, struct openrouter_catalog *cat,
    struct sync_result *res, char *err, size_t errsz)
{
	struct buf body;
	char why[256];
	int rc = -1;

	buf_init(&body, (size_t)cfg->sync_max_bytes);
	if (fetch(cfg, &body, &res->tries, err, errsz) != 0)
		goto out;
	if (openrouter_parse(body.data, body.len, cat, why, sizeof(why)) != 0) {
		snprintf(err, errsz, "payload refused: %s", why);
		goto out;
	}
	res->total = (long long)cat->total;
	res->free_models = (long long)cat->n;
	rc = 0;
out:
	buf_free(&body);
	return rc;
}

/* The locked part of a run: record, fetch, parse, apply. */
static enum sync_status
run_locked(struct db *db, const struct config *cfg, struct sync_result *res,
    char *err, size_t errsz)
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
		one_line(err);
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

enum sync_status
sync_run(struct db *db, const struct config *cfg, struct sync_result *res,
    char *err, size_t errsz)
{
	double t0 = mono_ms();
	enum sync_status ss;

	memset(res, 0, sizeof(*res));
	if (errsz > 0)
		err[0] = '\0';
	ss = take_lock(db, err, errsz);
	if (ss == SYNC_OK) {
		ss = run_locked(db, cfg, res, err, errsz);
		release_lock(db);
	}
	if (errsz > 0)
		one_line(err);
	res->duration_ms = mono_ms() - t0;
	return ss;
}
