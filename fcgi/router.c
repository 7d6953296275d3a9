#include <stdio.h>
#include <string.h>

#include "app.h"

/* The API index.  Order does not matter; paths are exact. */
const struct route routes[] = {
	{ "GET", "/api/livez", route_livez, 0 },
	{ "GET", "/api/readyz", route_readyz, 0 },
	{ "GET", "/api/v1/models/ids", route_models_ids, 0 },
	{ "GET", "/api/v1/models/full", route_models_full, 0 },
	{ "GET", "/api/demo/models", route_demo_models, ROUTE_READ },
	{ "POST", "/api/v1/models/feedback", route_feedback, ROUTE_BODY },
	{ "GET", "/api/health", route_health, ROUTE_READ },
	{ "GET", "/api/availability", route_availability, ROUTE_READ },
	{ "GET", "/api/federation/export", route_federation_export, 0 },
	{ "GET", "/api/v1/keys", route_keys_list, 0 },
	{ "POST", "/api/v1/keys", route_keys_create, ROUTE_BODY },
	{ "DELETE", "/api/v1/keys/{id}", route_keys_delete, 0 },
	{ "GET", "/api/v1/usage", route_usage, 0 },
	{ "GET", "/api/v1/preferences", route_prefs_get, 0 },
	{ "PUT", "/api/v1/preferences", route_prefs_put, ROUTE_BODY },
	{ "POST", "/api/v1/session/key", route_session_key, ROUTE_BODY },
	{ "POST", "/api/admin/keys", route_admin_keys_create, ROUTE_BODY },
	{ "GET", "/api/admin/keys", route_admin_keys_list, 0 },
	{ "DELETE", "/api/admin/keys/{id}", route_admin_keys_delete, 0 },
	{ "POST", "/api/admin/sync-models", route_admin_sync, 0 },
	{ "POST", "/api/admin/cleanup", route_admin_cleanup, 0 },
	{ "GET", "/api/openapi.json", route_openapi, 0 },
	/* Not under /api/: nginx lets only the scrapers it lists reach it. */
	{ "GET", "/metrics", route_metrics, 0 },
	{ "GET", "/api/v1/models", route_openai_models, 0 },
	{ "POST", "/api/v1/chat/completions", route_chat_completions,
	    ROUTE_BODY | ROUTE_LARGE_BODY | ROUTE_ROUTER },
	/* The router pool's own counters (its own segment). */
	{ "GET", "/metrics/router", route_metrics, ROUTE_ROUTER },
};
const size_t routes_count = NELEM(routes);

/* Match path against a pattern; a final "{id}" takes one segment. */
static int
path_match(const char *pattern, const char *path, const char **arg)
{
	const char *brace = strstr(pattern, "{id}");
	size_t fixed;

	if (brace == NULL)
		return strcmp(pattern, path) == 0;
	fixed = (size_t)(brace - pattern);
	if (strncmp(pattern, path, fixed) != 0 || path[fixed] == '\0' ||
	    strchr(path + fixed, '/') != NULL)
		return 0;
	*arg = path + fixed;
	return 1;
}

int
router_match(const struct request *req, unsigned pool, const struct route **out,
    char *allow, size_t allowsz, const char **path_arg)
{
	const char *method = req->method;
	size_t i, used = 0;
	int known = 0;

	/* HEAD is GET without the body. */
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	allow[0] = '\0';
	for (i = 0; i < routes_count; i++) {
		const char *arg = NULL;

		if (!!(routes[i].flags & ROUTE_ROUTER) !=
		        (pool == ROUTE_POOL_ROUTER) ||
		    !path_match(routes[i].path, req->path, &arg))
			continue;
		known = 1;
		if (strcmp(routes[i].method, method) == 0) {
			*out = &routes[i];
			*path_arg = arg;
			return 200;
		}
		if (used < allowsz)
			used += (size_t)snprintf(allow + used, allowsz - used,
			    "%s, %s", routes[i].method,
			    strcmp(routes[i].method, "GET") == 0 ? "HEAD, "
			                                         : "");
	}
	if (!known)
		return 404;
	if (used < allowsz)
		snprintf(allow + used, allowsz - used, "OPTIONS");
	return strcmp(method, "OPTIONS") == 0 ? 204 : 405;
}

const char *
router_pattern(const char *path)
{
	size_t i;

	for (i = 0; i < routes_count; i++) {
		const char *arg = NULL;

		if (path_match(routes[i].path, path, &arg))
			return routes[i].path;
	}
	return NULL;
}
