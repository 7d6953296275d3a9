/*
 * GET and PUT /api/v1/preferences (SPEC.md §5): the defaults saved on
 * the calling key for the model listings.  A PUT merges: a field given
 * a value is set, a field given null is cleared, a field left out
 * keeps its saved value; a name that is not a field is refused, so a
 * typo is never silently "saved".  Not counted against the quota.
 */
#include "guard.h"
#include "json.h"
#include "prefs.h"

/* The answer of both methods: every field, null when unset. */
static void
write_prefs(struct response *res, const struct prefs *pr)
{
	struct jw w;

	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	prefs_write_members(&w, pr, 1);
	jw_obj_end(&w);
}

void
route_prefs_get(struct app *app, struct request *req, struct response *res)
{
	struct caller who;
	const char *token;
	struct prefs pr;

	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		return;
	prefs_load(who.preferences, req->arena, &pr);
	write_prefs(res, &pr);
}

static void
store(struct app *app, struct request *req, struct response *res,
    const struct caller *who, const struct prefs *set,
    const int clear[PREF__MAX])
{
	struct prefs saved;

	switch (prefs_update(
	    &app->db, who->key_id, set, clear, req->arena, &saved)) {
	case DB_OK:
		write_prefs(res, &saved);
		break;
	case DB_NOTFOUND:
		/* Deleted between the check and the update. */
		response_problem(
		    res, 401, "invalid_key", NULL, "unknown API key");
		break;
	case DB_CONFLICT:
	case DB_ERROR:
	case DB_UNAVAILABLE:
	case DB__MAX:
		response_unavailable(res);
		break;
	}
}

void
route_prefs_put(struct app *app, struct request *req, struct response *res)
{
	struct json_object *body = NULL;
	struct prefs_error pe;
	int clear[PREF__MAX];
	struct caller who;
	struct prefs set;
	const char *token;

	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0)
		return;
	body = request_json(req, res);
	if (body == NULL)
		return;
	if (prefs_parse_update(body, req->arena, &set, clear, &pe) != 0)
		response_problem(res, 400, pe.code, pe.field, "%s", pe.detail);
	else if (guard_key(app, req, token, res, &who) == 0)
		store(app, req, res, &who, &set, clear);
	json_object_put(body);
}
