/*
 * POST and GET /api/admin/keys, DELETE /api/admin/keys/{id} (SPEC.md
 * §6): keys for anybody, by email, behind X-Admin-Secret.  Creating a
 * key for a new email creates its user; rateLimitMax sets the user's
 * quota.  The plaintext key is in the 201 and nowhere else.
 */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "guard.h"
#include "json.h"

#define RATE_LIMIT_MAX 1000000

static const char email_rule[] =
    "email must be an email address (local@domain) of at most 320 bytes";

void
route_admin_keys_create(
    struct app *app, struct request *req, struct response *res)
{
	struct json_object *body = NULL;
	char email[EMAIL_MAX + 1];
	long long days, max = -1;
	const char *given, *name;
	struct new_key k;
	int err;

	/* The answer holds the plaintext key: no cache may keep it. */
	response_header(res, "Cache-Control", "no-store");
	if (guard_admin(app, req, res) != 0)
		return;
	body = request_json(req, res);
	if (body == NULL)
		return;
	given = json_get_string(body, "email", &err);
	if (err || given == NULL || keys_email_normalize(given, email) != 0) {
		accounts_field_error(res, "email", email_rule);
		goto out;
	}
	if (accounts_key_fields(body, &name, &days, res) != 0)
		goto out;
	if (json_get_int(body, "rateLimitMax", 0, RATE_LIMIT_MAX, &max) < 0) {
		accounts_field_error(res, "rateLimitMax",
		    "rateLimitMax must "
		    "be an integer from 0 to 1000000");
		goto out;
	}
	accounts_created(res,
	    keys_create_for_email(&app->db, email, max, name, days, &k), &k,
	    name, email);
out:
	json_object_put(body);
}

/* ?email=: exactly once, a valid address; 0 or -1 with the 400. */
static int
read_email(struct request *req, struct response *res, char email[EMAIL_MAX + 1])
{
	const char *v;

	if (request_param(req, res, "email", &v) != 0)
		return -1;
	if (v == NULL || keys_email_normalize(v, email) != 0) {
		response_problem(
		    res, 400, "invalid_parameter", "email", "%s", email_rule);
		return -1;
	}
	return 0;
}

void
route_admin_keys_list(
    struct app *app, struct request *req, struct response *res)
{
	char email[EMAIL_MAX + 1];
	struct user_keys uk;
	enum db_status st;
	struct jw w;

	response_header(res, "Cache-Control", "no-store");
	if (guard_admin(app, req, res) != 0 || read_email(req, res, email) != 0)
		return;
	st = keys_list_for_email(&app->db, email, req->arena, &uk);
	if (st == DB_NOTFOUND) {
		response_problem(res, 404, "unknown_user", "email",
		    "no user has this email address");
		return;
	}
	if (st != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "email"), jw_str(&w, email);
	jw_key(&w, "userId"), jw_int(&w, uk.user_id);
	jw_key(&w, "rateLimitMax"), jw_int(&w, uk.rate_limit_max);
	accounts_write_keys(&w, uk.list.keys, uk.list.n, NULL);
	jw_obj_end(&w);
}

void
route_admin_keys_delete(
    struct app *app, struct request *req, struct response *res)
{
	response_header(res, "Cache-Control", "no-store");
	if (guard_admin(app, req, res) != 0)
		return;
	if (!uuid_valid(req->path_arg)) {
		response_problem(res, 404, "not_found", NULL, "no such key");
		return;
	}
	accounts_deleted(
	    res, keys_delete(&app->db, req->path_arg, KEYS_ANY_OWNER));
}
