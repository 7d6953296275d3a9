/*
 * GET and POST /api/v1/keys, DELETE /api/v1/keys/{id} (SPEC.md §5):
 * a user's own keys, managed with any one of them.  Not counted
 * against the quota.  Another user's key is a 404, as an unknown one
 * is: a key id is nobody else's business, not even its existence.
 */
#include "accounts.h"
#include "guard.h"
#include "json.h"

void
route_keys_list(struct app *app, struct request *req, struct response *res)
{
	struct key_list kl;
	struct caller who;
	const char *token;
	struct jw w;

	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		return;
	if (keys_list(&app->db, who.user_id, req->arena, &kl) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	accounts_write_keys(&w, kl.keys, kl.n, who.key_id);
	jw_obj_end(&w);
}

void
route_keys_create(struct app *app, struct request *req, struct response *res)
{
	struct json_object *body = NULL;
	struct new_key k;
	struct caller who;
	const char *token, *name;
	long long days;

	/* The answer holds the plaintext key: no cache may keep it. */
	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0)
		goto out;
	body = request_json(req, res);
	if (body == NULL || accounts_key_fields(body, &name, &days, res) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		goto out;
	accounts_created(res,
	    keys_create_for_user(&app->db, who.user_id, name, days, &k), &k,
	    name, NULL);
out:
	json_object_put(body);
}

void
route_keys_delete(struct app *app, struct request *req, struct response *res)
{
	struct caller who;
	const char *token;

	response_header(res, "Cache-Control", "no-store");
	if (guard_token(req, res, &token) != 0 ||
	    guard_key(app, req, token, res, &who) != 0)
		return;
	if (!uuid_valid(req->path_arg)) {
		response_problem(res, 404, "not_found", NULL, "no such key");
		return;
	}
	/* The key in hand may go too: it stops working after this. */
	accounts_deleted(
	    res, keys_delete(&app->db, req->path_arg, who.user_id));
}
