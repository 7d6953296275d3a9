/*
 * The FastCGI worker loop both programs run: flr-api (the short
 * requests) and flr-router (chat calls, seconds to minutes).  Run by
 * spawn-fcgi (under multiwatch, which restarts a worker that dies);
 * serves one request at a time on the socket it inherits as fd 0.
 * Configuration from the environment (SPEC.md §8).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <fcgiapp.h>

#include "app.h"
#include "log.h"
#include "sync.h"
#include "orcall.h"

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	/* libfcgi retries an interrupted accept() unless told to stop. */
	FCGX_ShutdownPending();
}

/* SIGTERM ends the accept loop after the request in hand. */
static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked accept() must return on SIGTERM. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static const char *
param(FCGX_Request *fr, const char *name)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	return v != NULL ? v : "";
}

/* Fill req from the FastCGI parameters; ids from RAND_bytes. */
static int
request_setup(struct app *app, FCGX_Request *fr, struct request *req)
{
	const char *rid = param(fr, "HTTP_X_REQUEST_ID");
	const char *path = param(fr, "DOCUMENT_URI");

	memset(req, 0, sizeof(*req));
	req->fcgx = fr;
	req->arena = &app->arena;
	req->started_ms = mono_ms();
	req->method = param(fr, "REQUEST_METHOD");
	if (*path == '\0') {
		/* Without DOCUMENT_URI, the path of REQUEST_URI. */
		const char *uri = param(fr, "REQUEST_URI");

		path = arena_strndup(req->arena, uri, strcspn(uri, "?"));
	}
	req->path = path;
	req->query = param(fr, "QUERY_STRING");
	req->content_type = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	req->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fr->envp);
	req->client_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	if (uuid_v4(req->log_id) != 0)
		return -1;
	/* Echo a valid X-Request-Id; otherwise one id serves both. */
	if (uuid_valid(rid))
		snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
	else
		memcpy(req->request_id, req->log_id, sizeof(req->log_id));
	return 0;
}

/* 1 when the media type is application/json (parameters allowed). */
static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/*
 * The body gate of routes that take JSON: content type (415), declared
 * size (413), then the bytes themselves.  Returns 0 to go on.
 */
static int
read_body(struct request *req, struct response *res, long long max)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", req->fcgx->envp);
	long long len = 0;
	int got;

	if (cl != NULL && *cl != '\0' &&
	    parse_int(cl, 0, (long long)1 << 40, &len) != 0) {
		response_problem(res, 400, "invalid_request", NULL,
		    "Content-Length is not a number");
		return -1;
	}
	if (len > max) {
		response_problem(res, 413, "payload_too_large", NULL,
		    "request body exceeds %lld bytes", max);
		return -1;
	}
	if (len > 0 && !is_json_type(req->content_type)) {
		response_problem(res, 415, "unsupported_media_type", NULL,
		    "Content-Type must be application/json");
		return -1;
	}
	req->body = arena_alloc(req->arena, (size_t)len + 1);
	got = len > 0 ? FCGX_GetStr(req->body, (int)len, req->fcgx->in) : 0;
	if (got != len) {
		response_problem(res, 400, "invalid_request", NULL,
		    "the request body ended early");
		return -1;
	}
	req->body[len] = '\0';
	req->body_len = (size_t)len;
	return 0;
}

/*
 * Make accept() on the listening socket give up after the request
 * log's longest wait, so that an idle worker writes what it holds.
 * The socket is the pool's, shared by every worker, and each sets the
 * same time.  Returns the number of rows to batch: the configured one,
 * or 1 (each row after its response) when the socket takes no timeout.
 */
static size_t
accept_timeout(const struct config *cfg)
{
	struct timeval tv;

	if (cfg->request_log_batch <= 1)
		return 1;
	tv.tv_sec = (time_t)(cfg->request_log_flush_ms / 1000);
	tv.tv_usec = (suseconds_t)(cfg->request_log_flush_ms % 1000 * 1000);
	if (setsockopt(0, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		log_warn("the FastCGI socket takes no accept timeout: request "
		         "logs are written one by one");
		return 1;
	}
	return (size_t)cfg->request_log_batch;
}

/* 1 when FCGX_Accept_r() returned because the accept timeout passed. */
static int
accept_timed_out(int rc)
{
	return rc == -EAGAIN || rc == -EWOULDBLOCK;
}

/*
 * Run route's handler.  A read-only route runs on the connection
 * replica_pick() chooses; when that was the replica and the answer is
 * a 503, the replica failed under it (or a query of it was cancelled),
 * and the whole route runs once more on the primary, so that the
 * versions and the content of that answer both come from there.
 */
static void
run_route(struct app *app, const struct route *route, struct request *req,
    struct response *res)
{
	int head_only = res->head_only;

	app->read = &app->db;
	if (route->flags & ROUTE_READ)
		app->read = replica_pick(&app->replica, &app->db, mono_ms());
	route->handler(app, req, res);
	if (!(route->flags & ROUTE_READ))
		return;
	if (app->read != &app->db && res->status == 503 && !req->streamed) {
		replica_failed(&app->replica, mono_ms());
		metrics_read(&app->metrics, MR_FALLBACK);
		response_reset(res);
		res->head_only = head_only;
		app->read = &app->db;
		route->handler(app, req, res);
	}
	metrics_read(
	    &app->metrics, app->read == &app->db ? MR_PRIMARY : MR_REPLICA);
}

static void
handle(struct app *app, FCGX_Request *fr, unsigned pool)
{
	struct response *res = &app->res;
	const struct route *route = NULL;
	struct request req;
	char allow[128];
	double took;
	int match;

	response_reset(res);
	if (request_setup(app, fr, &req) != 0) {
		snprintf(req.request_id, sizeof(req.request_id), "%s",
		    "00000000-0000-4000-8000-000000000000");
		response_problem(res, 500, "internal_error", NULL,
		    "the random generator failed");
		response_send(&req, res);
		return;
	}
	res->head_only = strcmp(req.method, "HEAD") == 0;
	match = router_match(
	    &req, pool, &route, allow, sizeof(allow), &req.path_arg);
	/* The log names the route, never the client's bytes of the path. */
	log_request(req.request_id, req.method,
	    match == 200 ? route->path : router_pattern(req.path), req.path);
	if (match == 404) {
		response_problem(
		    res, 404, "not_found", NULL, "no such endpoint");
	} else if (match == 204) {
		res->status = 204;
		response_header(res, "Allow", "%s", allow);
		response_header(res, "Access-Control-Max-Age", "86400");
	} else if (match == 405) {
		response_problem(res, 405, "method_not_allowed", NULL,
		    "%s is not allowed here; allowed: %s", req.method, allow);
		response_header(res, "Allow", "%s", allow);
	} else if (!(route->flags & ROUTE_BODY) ||
	    read_body(&req, res,
	        route->flags & ROUTE_LARGE_BODY ? LARGE_BODY_MAX : BODY_MAX) ==
	        0) {
		run_route(app, route, &req, res);
	}
	/* A streamed answer has gone out already. */
	if (!req.streamed)
		response_send(&req, res);
	took = mono_ms() - req.started_ms;
	reqlog_took(&app->log, took);
	observe_request(app, &req, route, res, took);
}

/* Everything a worker holds, opened once; 0, or the exit status. */
static int
worker_start(struct app *app, const char *program, unsigned pool)
{
	char err[256];

	if (config_load(&app->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", program, err);
		return 2;
	}
	log_setup(program, app->cfg.log_level);
	setup_signals();
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		return 1;
	}
	/* POST /api/admin/sync-models forks the sync: libcurl is ready. */
	if (sync_global_init() != 0) {
		log_error("libcurl failed to start");
		return 1;
	}
	/*
	 * Request logs may lose their last ms; the counting statement and
	 * reports turn synchronous_commit on for themselves.
	 */
	db_init(&app->db, app->cfg.database_url, program,
	    app->cfg.statement_timeout_ms, 1);
	/* Only flr-api has read-only routes for a replica to serve. */
	replica_init(&app->replica,
	    pool == ROUTE_POOL_API ? app->cfg.database_read_url : NULL, program,
	    app->cfg.statement_timeout_ms, app->cfg.read_max_lag_ms);
	app->read = &app->db;
	/* Each pool counts into a segment of its own. */
	if (pool == ROUTE_POOL_ROUTER)
		app->cfg.metrics_file = app->cfg.router_metrics_file;
	/* Without its segment a worker serves on, uncounted (logged). */
	(void)observe_open(app);
	key_memory_init(&app->keys, app->cfg.key_negative_ttl * 1000,
	    app->cfg.key_unknown_limit, app->cfg.key_unknown_window * 1000,
	    &app->metrics);
	/* Only the router calls OpenRouter. */
	app->up = pool == ROUTE_POOL_ROUTER ? orcall_new() : NULL;
	catalog_init(&app->catalog);
	listing_cache_init(&app->health);
	body_cache_init(&app->bodies);
	response_init(&app->res);
	reqlog_init(&app->log, accept_timeout(&app->cfg),
	    app->cfg.request_log_flush_ms);
	return 0;
}

/* Accept and answer requests until SIGTERM. */
static void
worker_serve(struct app *app, FCGX_Request *fr, unsigned pool)
{
	while (!stopping) {
		int got = FCGX_Accept_r(fr);

		/* Idle for the longest wait: write what is queued. */
		if (accept_timed_out(got)) {
			reqlog_flush(&app->log, &app->db, mono_ms());
			continue;
		}
		if (got < 0)
			break;
		handle(app, fr, pool);
		FCGX_Finish_r(fr);
		reqlog_queue(&app->log, mono_ms());
		if (reqlog_due(&app->log, mono_ms()))
			reqlog_flush(&app->log, &app->db, mono_ms());
		log_context(NULL, NULL);
		arena_reset(&app->arena);
	}
}

static void
worker_stop(struct app *app)
{
	reqlog_flush(&app->log, &app->db, mono_ms());
	reqlog_free(&app->log);
	metrics_close(&app->metrics);
	response_free(&app->res);
	listing_cache_free(&app->health);
	body_cache_free(&app->bodies);
	catalog_free(&app->catalog);
	orcall_free(app->up);
	arena_free(&app->arena);
	replica_close(&app->replica);
	db_close(&app->db);
	sync_global_cleanup();
}

int
worker_main(int argc, char **argv, const char *program, unsigned pool)
{
	static struct app app;
	FCGX_Request fr;
	int rc;

	if (argc > 1) {
		fprintf(stderr,
		    "usage: %s (run by spawn-fcgi; configured by "
		    "the environment, see %s(8))\n",
		    argv[0], program);
		return 2;
	}
	if ((rc = worker_start(&app, program, pool)) != 0)
		return rc;
	FCGX_InitRequest(&fr, 0, 0);
	log_info("worker ready");
	worker_serve(&app, &fr, pool);
	log_info("worker stopping");
	FCGX_Free(&fr, 1);
	worker_stop(&app);
	return 0;
}
