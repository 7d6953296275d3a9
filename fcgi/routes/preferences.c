/*
 * GET and PUT /api/v1/preferences (SPEC.md §5): the defaults saved on
 * the calling key for the model listings.  A PUT merges: a field given
 * a value is set, a field given null is cleared, a field left out
 * keeps its saved value; a name that is not a field is refused, so a
 * typo is never silently "saved".  Not counted against the quota.
 */
#include <stdio.h>

#include "guard.h"
#include "json.h"
#include "prefs.h"

#define PREFS_JSON_CAP 65536 /* 50 ids of 256 bytes, escaped, and more */

/* The answer of both methods: every field, null when unset. */
static void
write_prefs(struct response *res, const char *stored, struct arena *a)
{
	struct prefs pr;
	struct jw w;

	prefs_load(stored, a, &pr);
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	prefs_write_members(&w, &pr, 1);
	jw_obj_end(&w);
}

void
route_prefs_get(struct app *app, struct request *req, struct response *res)
{
	struct caller who;
	const char *token;

	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		return;
	write_prefs(res, who.preferences, req->arena);
}

/* The update's parameters: the values as an object, the cleared names. */
static void
update_params(const struct prefs *set, const int clear[PREF__MAX],
    struct buf *json, struct buf *names)
{
	struct jw w;
	int f, n = 0;

	jw_init(&w, json);
	jw_obj_begin(&w);
	prefs_write_members(&w, set, 0);
	jw_obj_end(&w);
	/* A text[] literal; field names need no quoting. */
	buf_putc(names, '{');
	for (f = 0; f < PREF__MAX; f++)
		if (clear[f]) {
			if (n++ > 0)
				buf_putc(names, ',');
			buf_puts(names, prefs_field_name((enum pref_field)f));
		}
	buf_putc(names, '}');
}

static void
store(struct app *app, struct request *req, struct response *res,
    const struct caller *who, const struct prefs *set,
    const int clear[PREF__MAX])
{
	struct buf json, names;
	const char *params[3];
	enum db_status st;
	PGresult *r;

	buf_init(&json, PREFS_JSON_CAP);
	buf_init(&names, 256);
	update_params(set, clear, &json, &names);
	params[0] = who->key_id;
	params[1] = json.data;
	params[2] = names.data;
	r = db_exec(&app->db, STMT_PREFS_UPDATE, params, 3, &st);
	if (r == NULL)
		response_unavailable(res);
	else if (PQntuples(r) != 1)
		/* Deleted between the check and the update. */
		response_problem(
		    res, 401, "invalid_key", NULL, "unknown API key");
	else
		write_prefs(res, PQgetvalue(r, 0, 0), req->arena);
	PQclear(r);
	buf_free(&json);
	buf_free(&names);
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
