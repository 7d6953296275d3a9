/*
 * GET /api/v1/models: the active free catalogue in the shape of
 * OpenAI's model list, so SDKs that list models before calling one
 * (models.list()) work against the router.  Counted like a listing.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "json.h"

/* The id's part before the first slash ("openai" of "openai/x:free"). */
static void
write_owner(struct jw *w, const char *id)
{
	const char *slash = strchr(id, '/');

	if (slash == NULL || slash == id)
		jw_str(w, "openrouter");
	else
		jw_strn(w, id, (size_t)(slash - id));
}

void
route_openai_models(struct app *app, struct request *req, struct response *res)
{
	const struct catalog *c = &app->catalog;
	struct caller who;
	const char *token;
	struct jw w;
	size_t i;

	if (guard_token(req, res, &token) != 0)
		return;
	if (guard_counted(app, req, token, res, &who) != 0) {
		if (res->status == 429)
			pending_log(app, req, &who, req->path, 429, NULL, 0);
		return;
	}
	if (catalog_refresh(&app->catalog, &app->db, who.catalog_version,
	        who.last_sync_ms) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "object"), jw_str(&w, "list");
	jw_key(&w, "data");
	jw_arr_begin(&w);
	for (i = 0; i < c->n; i++) {
		const struct model *m = &c->models[i];

		if (!m->is_active)
			continue;
		jw_obj_begin(&w);
		jw_key(&w, "id"), jw_str(&w, m->id);
		jw_key(&w, "object"), jw_str(&w, "model");
		jw_key(&w, "created");
		jw_int(&w,
		    (m->created_ms >= 0 ? m->created_ms : m->first_seen_ms) /
		        1000);
		jw_key(&w, "owned_by"), write_owner(&w, m->id);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	response_header(res, "Cache-Control", "private, max-age=60");
	pending_log(app, req, &who, req->path, 200, NULL, 0);
}
