/*
 * The long-lived state of one worker (config, database connection,
 * catalogue cache, reusable buffers) and the route table that binds
 * every path to its handler.
 */
#ifndef FLR_APP_H
#define FLR_APP_H

#include "bodycache.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "keycheck.h"
#include "listing.h"
#include "metrics.h"
#include "orcall.h"
#include "replica.h"
#include "reqlog.h"

struct app {
	struct config cfg;
	struct db db; /* the primary */
	struct replica replica; /* DATABASE_READ_URL's, when set */
	/*
	 * Where this request's reads go: the primary, or for a route with
	 * ROUTE_READ the replica when it is usable.  A handler reads the
	 * versions of its tag and caches and the content they stand for
	 * through this one pointer, so both come from the same server.
	 */
	struct db *read;
	struct catalog catalog;
	/* The counts of the last listings, by the versions read with them. */
	struct listing_cache health;
	/* Its last large bodies, by tag (health). */
	struct body_cache bodies;
	struct arena arena;
	struct response res;
	struct reqlog log; /* written after the response has left */
	struct metrics metrics; /* the pool's counters (shared memory) */
	struct key_memory keys; /* this worker's recent key lookups */
	struct orcall *up; /* flr-router's libcurl handle */
};

enum route_flag {
	ROUTE_BODY = 1 << 0, /* takes a JSON body (POST/PUT) */
	ROUTE_LARGE_BODY = 1 << 1, /* up to LARGE_BODY_MAX, not BODY_MAX */
	ROUTE_ROUTER = 1 << 2, /* served by flr-router, not flr-api */
	ROUTE_READ = 1 << 3, /* public and read-only: the replica may serve */
};

/* Which program serves a route: the pool it runs in. */
enum route_pool {
	ROUTE_POOL_API, /* flr-api: every route without ROUTE_ROUTER */
	ROUTE_POOL_ROUTER, /* flr-router: the routes with it */
};

typedef void route_handler(
    struct app *app, struct request *req, struct response *res);

struct route {
	const char *method;
	const char *path; /* a trailing "{id}" segment matches one segment */
	route_handler *handler;
	unsigned flags;
};

/* The API index: every route of the service. */
extern const struct route routes[];
extern const size_t routes_count;

/*
 * Find what to do with req among the routes of pool: sets *out to the
 * route for its method and path and returns 200; or returns 404 (no
 * such path here), 405 (path known, method not: allow lists the
 * methods) or 204 (OPTIONS on a known path).
 */
int router_match(const struct request *req, unsigned pool,
    const struct route **out, char *allow, size_t allowsz,
    const char **path_arg);

/*
 * The worker: read the configuration, connect, and serve the routes of
 * pool until SIGTERM.  program names it in logs and messages.  Returns
 * the process's exit status.
 */
int worker_main(int argc, char **argv, const char *program, unsigned pool);

/*
 * The route table's pattern for path ("/api/v1/keys/{id}"), whatever
 * the method, or NULL when no route has it: what a request's log lines
 * show instead of the path the client sent.
 */
const char *router_pattern(const char *path);

/*
 * The pool's metrics segment (cfg.metrics_file) with the route table's
 * labels; counted requests from now on.  Returns 0, or -1 after logging
 * why (the worker serves on without metrics).
 */
int observe_open(struct app *app);

/*
 * Count one request once its response has left: its route (NULL when
 * none matched), status and problem code, its time, and the report a
 * feedback call stored.
 */
void observe_request(struct app *app, const struct request *req,
    const struct route *route, const struct response *res, double ms);

/* Handlers, one per file under fcgi/routes/. */
route_handler route_livez;
route_handler route_readyz;
route_handler route_models_ids;
route_handler route_models_full;
route_handler route_demo_models;
route_handler route_feedback;
route_handler route_health;
route_handler route_availability;
route_handler route_federation_export;
route_handler route_keys_list;
route_handler route_keys_create;
route_handler route_keys_delete;
route_handler route_usage;
route_handler route_prefs_get;
route_handler route_prefs_put;
route_handler route_session_key;
route_handler route_admin_keys_create;
route_handler route_admin_keys_list;
route_handler route_admin_keys_delete;
route_handler route_admin_sync;
route_handler route_admin_cleanup;
route_handler route_openapi;
route_handler route_metrics;
route_handler route_openai_models;
route_handler route_chat_completions;

#endif
