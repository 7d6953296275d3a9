/*
 * POST /api/v1/chat/completions (flr-router): an OpenAI-compatible chat
 * call that lands on a healthy free model.  This file is the gate —
 * body, key, catalogue, candidates, the per-user cap, the quota — and
 * the answer; the attempts, their fallback and their reports are
 * shared/relay.c's.  One call counts once against the daily quota,
 * however many models it tries.
 */
#include <stdio.h>
#include <string.h>

#include "chat.h"
#include "guard.h"
#include "json.h"
#include "listing.h"
#include "log.h"
#include "prefs.h"
#include "relay.h"

#define UPSTREAM_KEY_MAX 256

/* Everything one call holds, released at the end of the route. */
struct chat_call {
	struct request *req;
	struct response *res;
	struct json_object *body;
	struct chat_request cr;
	struct caller who;
	const char *key; /* the OpenRouter key */
	const struct model **cand;
	int n_cand;
	int slot; /* -1: none taken */
	long long slot_uid; /* whose slot it is */
	struct relay relay;
};

static void
refuse(struct response *res, const struct chat_error *err)
{
	response_problem(res, 400, err->code, err->field, "%s", err->detail);
}

/*
 * The OpenRouter key: the caller's own (X-OpenRouter-Key, passed on,
 * never stored or logged), else the operator's.  0, or -1 with a 400.
 */
static int
upstream_key(struct app *app, const struct request *req, struct response *res,
    struct chat_call *cc)
{
	const char *h = FCGX_GetParam("HTTP_X_OPENROUTER_KEY", req->fcgx->envp);
	size_t i, n;

	if (h == NULL || *h == '\0') {
		cc->key = app->cfg.openrouter_api_key;
		if (cc->key != NULL)
			return 0;
		response_problem(res, 400, "openrouter_key_required",
		    "X-OpenRouter-Key",
		    "this instance has no OpenRouter key of its own: send "
		    "yours in X-OpenRouter-Key");
		return -1;
	}
	n = strlen(h);
	for (i = 0; i < n; i++)
		if ((unsigned char)h[i] < 0x21 || (unsigned char)h[i] > 0x7e)
			break;
	if (i < n || n > UPSTREAM_KEY_MAX) {
		response_problem(res, 400, "invalid_header", "X-OpenRouter-Key",
		    "X-OpenRouter-Key must be 1 to %d visible ASCII characters",
		    UPSTREAM_KEY_MAX);
		return -1;
	}
	cc->key = h;
	return 0;
}

/* Parse and read the body: 0, or -1 with the 400 written. */
static int
read_request(struct request *req, struct response *res, struct chat_call *cc)
{
	struct chat_error err;
	char why[128];

	if (req->body_len == 0) {
		response_problem(res, 400, "invalid_json", NULL,
		    "the request body must be a JSON object");
		return -1;
	}
	cc->body = json_parse(
	    req->body, req->body_len, CHAT_JSON_DEPTH, why, sizeof(why));
	if (cc->body == NULL ||
	    !json_object_is_type(cc->body, json_type_object)) {
		response_problem(res, 400, "invalid_json", NULL,
		    "the request body must be a JSON object%s%s",
		    cc->body == NULL ? ": " : "", cc->body == NULL ? why : "");
		return -1;
	}
	if (chat_read(cc->body, req->arena, &cc->cr, &err) != 0) {
		refuse(res, &err);
		return -1;
	}
	return 0;
}

/*
 * "auto": the listing pipeline ranked by health (or the flr sort),
 * filtered by what the request needs, minus the key's saved
 * exclusions and the models whose context cannot hold the prompt.
 */
static enum db_status
auto_candidates(struct app *app, struct request *req, struct chat_call *cc)
{
	struct prefs prefs;
	struct listing l;
	enum db_status st;
	size_t i;

	memset(&l, 0, sizeof(l));
	l.p = cc->cr.p;
	l.p.filters |= cc->cr.needs;
	l.flags = LISTING_ACTIVE;
	prefs_load(cc->who.preferences, req->arena, &prefs);
	l.prefs = &prefs;
	st = listing_run(&l, &app->catalog, &app->db, req->arena);
	if (st != DB_OK)
		return st;
	cc->cand = arena_alloc(req->arena, (l.n + 1) * sizeof(*cc->cand));
	for (i = 0; i < l.n; i++)
		if (chat_fits(&cc->cr, l.v[i].m))
			cc->cand[cc->n_cand++] = l.v[i].m;
	return DB_OK;
}

/* The models to try, in order: 0, or -1 with the refusal written. */
static int
candidates(struct app *app, struct request *req, struct response *res,
    struct chat_call *cc)
{
	struct chat_error err;
	struct catalog_meta meta;
	int n;

	if (catalog_current(&app->catalog, &app->db, &meta) != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	cc->cand =
	    arena_alloc(req->arena, (CHAT_MODELS_MAX + 1) * sizeof(*cc->cand));
	n = chat_explicit_models(&cc->cr, &app->catalog, cc->cand, &err);
	if (n < 0) {
		refuse(res, &err);
		return -1;
	}
	cc->n_cand = n;
	if (n == 0 && auto_candidates(app, req, cc) != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	if (cc->n_cand == 0) {
		response_problem(res, 422, "no_model_fits", NULL,
		    "no active free model offers what this request needs "
		    "(its filters, tools, images, or a context for about %lld "
		    "prompt tokens and %lld completion tokens)",
		    cc->cr.prompt_tokens, cc->cr.max_tokens);
		return -1;
	}
	if (relay_order(&app->db, cc->cand, cc->n_cand) != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	return 0;
}

/* Hold one of the user's concurrent-call slots: 0, or -1 written. */
static int
take_slot(struct app *app, struct response *res, struct chat_call *cc)
{
	if (relay_slot_take(&app->db, cc->who.user_id, app->cfg.router_per_user,
	        &cc->slot) != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	cc->slot_uid = cc->who.user_id;
	if (cc->slot < 0) {
		response_problem(res, 429, "too_many_concurrent", NULL,
		    "at most %lld chat calls of one user may run at once",
		    app->cfg.router_per_user);
		response_header(res, "Retry-After", "1");
		return -1;
	}
	return 0;
}

/* 200: the answer, with "model" set to the model that gave it. */
static void
answer_success(struct response *res, struct chat_call *cc)
{
	const struct orcall_call *c = &cc->relay.call;
	const struct model *m = cc->relay.tried[cc->relay.attempts - 1].m;
	struct json_object *o;
	char err[64];
	const char *text;
	size_t len;

	o = json_parse(c->body.data, c->body.len, 64, err, sizeof(err));
	json_object_object_add(o, "model", json_object_new_string(m->id));
	text = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	buf_append(&res->body, text, len);
	json_object_put(o);
	response_header(res, "Cache-Control", "no-store");
}

/* Every other ending, as a problem. */
static void
answer_failure(struct app *app, struct response *res, struct chat_call *cc)
{
	struct relay *r = &cc->relay;
	char summary[400], msg[200];
	long st = r->call.status;

	relay_summary(r, summary, sizeof(summary));
	switch (r->outcome) {
	case ATTEMPT_ACCOUNT_QUOTA: {
		long long wait = orcall_quota_wait(&r->call, now_ms());

		response_problem(res, 429, "upstream_quota", NULL,
		    "OpenRouter's free-model quota of this OpenRouter key is "
		    "used up; try again in %lld s, or send your own key in "
		    "X-OpenRouter-Key",
		    wait);
		response_header(res, "Retry-After", "%lld", wait);
		return;
	}
	case ATTEMPT_REFUSED:
		orcall_error_message(&r->call, msg, sizeof(msg));
		if (st == 401 || st == 402)
			response_problem(res, 502, "upstream_refused", NULL,
			    "OpenRouter refused the OpenRouter key (HTTP "
			    "%ld)%s%s",
			    st, msg[0] ? ": " : "", msg);
		else
			response_problem(res, 400, "upstream_refused", NULL,
			    "OpenRouter refused the request (HTTP %ld)%s%s", st,
			    msg[0] ? ": " : "", msg);
		return;
	default:
		break;
	}
	response_problem(res, 502, "upstream_failed", NULL,
	    "no model answered in %d attempt%s: %s", r->attempts,
	    r->attempts == 1 ? "" : "s", summary);
	if (r->retry_after >= 0)
		response_header(res, "Retry-After", "%lld",
		    r->retry_after < 1 ? 1 : r->retry_after);
	(void)app;
}

/*
 * A stream's head, at its first event: 200, text/event-stream, the
 * model and the attempt, and the quota headers already in res.
 */
static int
stream_begin(void *arg, const struct model *m, int attempt)
{
	struct chat_call *cc = arg;
	struct response *res = cc->res;

	res->status = 200;
	res->content_type = "text/event-stream";
	response_header(res, "Cache-Control", "no-cache");
	response_header(res, "X-Accel-Buffering", "no");
	response_header(res, "X-FLR-Model", "%s", m->id);
	response_header(res, "X-FLR-Attempts", "%d", attempt);
	return response_stream_begin(cc->req, res);
}

static int
stream_write(void *arg, const char *p, size_t n)
{
	struct chat_call *cc = arg;

	return response_stream_write(cc->req, p, n);
}

/* A stream that began: end it with an error event if it broke off. */
static void
stream_end(struct chat_call *cc)
{
	struct relay *r = &cc->relay;
	struct buf ev;

	if (r->outcome == ATTEMPT_SUCCESS || r->outcome == ATTEMPT_CLIENT_GONE)
		return;
	buf_init(&ev, 1024);
	relay_stream_error(r, &ev);
	/* A client that has gone needs no word of it. */
	if (response_stream_write(cc->req, ev.data, ev.len) != 0)
		log_info("router: the client left before the stream's end");
	buf_free(&ev);
}

/* The attempts, then the answer and the request-log row. */
static void
run(struct app *app, struct request *req, struct response *res,
    struct chat_call *cc)
{
	struct relay *r = &cc->relay;
	struct ranked *tried;
	int i;

	r->cfg = &app->cfg;
	r->db = &app->db;
	r->up = app->up;
	r->key = cc->key;
	r->cr = &cc->cr;
	r->cand = cc->cand;
	r->n_cand = cc->n_cand;
	r->user_id = cc->who.user_id;
	r->key_id = cc->who.key_id;
	r->request_id = req->log_id;
	r->begin = stream_begin;
	r->write = stream_write;
	r->arg = cc;
	relay_run(r);
	if (r->started)
		stream_end(cc);
	else if (r->outcome == ATTEMPT_SUCCESS)
		answer_success(res, cc);
	else
		answer_failure(app, res, cc);
	if (r->attempts > 0 && !r->started) {
		response_header(
		    res, "X-FLR-Model", "%s", r->tried[r->attempts - 1].m->id);
		response_header(res, "X-FLR-Attempts", "%d", r->attempts);
	}
	tried = arena_alloc(req->arena, RELAY_ATTEMPTS_MAX * sizeof(*tried));
	for (i = 0; i < r->attempts; i++)
		ranked_clear(&tried[i], r->tried[i].m);
	pending_log(app, req, &cc->who, req->path, res->status, tried,
	    (size_t)r->attempts);
}

void
route_chat_completions(
    struct app *app, struct request *req, struct response *res)
{
	struct chat_call cc;
	const char *token;

	memset(&cc, 0, sizeof(cc));
	cc.req = req;
	cc.res = res;
	cc.slot = -1;
	if (guard_token(req, res, &token) != 0 ||
	    read_request(req, res, &cc) != 0 ||
	    upstream_key(app, req, res, &cc) != 0 ||
	    guard_key(app, req, token, res, &cc.who) != 0 ||
	    candidates(app, req, res, &cc) != 0 ||
	    take_slot(app, res, &cc) != 0)
		goto out;
	/* The call counts from here: once, whatever it tries. */
	if (guard_counted(app, req, token, res, &cc.who) != 0) {
		if (res->status == 429)
			pending_log(app, req, &cc.who, req->path, 429, NULL, 0);
		goto out;
	}
	run(app, req, res, &cc);
out:
	relay_slot_release(&app->db, cc.slot_uid, cc.slot);
	buf_free(&cc.relay.call.body);
	json_object_put(cc.body);
}
