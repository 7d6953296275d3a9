/*
 * POST /api/v1/session/key: single sign-on.  Where nginx authenticates
 * people itself (auth_request to oauth2-proxy or the like, which names
 * the signed-in person in a header) and FLR_TRUSTED_EMAIL_HEADER names
 * that header, a person gets a key for their email without holding one:
 * the user is created if new, as by POST /api/admin/keys.  Off by
 * default, and then the route is a 404 like any path that is not ours.
 *
 * The header is only as trustworthy as the nginx in front: its SSO
 * location (nginx/flr-sso.conf) sets it from the auth subrequest's
 * answer, and every other location clears it (fastcgi-params.conf), so a
 * client can never supply it.  Not counted against the quota.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "json.h"

#define SSO_KEY_NAME "single sign-on"
/* "HTTP_" and a header name of at most CONFIG_HEADER_MAX bytes. */
#define CGI_NAME_MAX (5 + CONFIG_HEADER_MAX)

/* "X-Auth-Request-Email" -> "HTTP_X_AUTH_REQUEST_EMAIL", as nginx
 * passes a request header over FastCGI. */
static void
cgi_name(const char *header, char out[CGI_NAME_MAX + 1])
{
	size_t i, n = 5;

	memcpy(out, "HTTP_", 5);
	for (i = 0; header[i] != '\0' && n < CGI_NAME_MAX; i++)
		out[n++] = header[i] == '-'
		    ? '_'
		    : (char)toupper((unsigned char)header[i]);
	out[n] = '\0';
}

/*
 * The signed-in person's email from the trusted header, normalised:
 * 0, or -1 with the 403 written to res.
 */
static int
trusted_email(const struct app *app, const struct request *req,
    struct response *res, char email[EMAIL_MAX + 1])
{
	const char *header = app->cfg.trusted_email_header;
	char name[CGI_NAME_MAX + 1];
	const char *v;

	cgi_name(header, name);
	v = FCGX_GetParam(name, req->fcgx->envp);
	if (v == NULL || *v == '\0') {
		response_problem(res, 403, "sso_required", NULL,
		    "this request did not come through single sign-on "
		    "(no %s from the authenticating proxy); sign in there "
		    "first",
		    header);
		return -1;
	}
	if (keys_email_normalize(v, email) != 0) {
		response_problem(res, 403, "sso_email_invalid", NULL,
		    "the single sign-on proxy named no usable email address "
		    "in %s",
		    header);
		return -1;
	}
	return 0;
}

/*
 * The optional body: name (default "single sign-on"), expiresInDays,
 * dryRun.  0, or -1 with the 400 written to res.
 */
static int
read_body(struct request *req, struct response *res, struct json_object **body,
    const char **name, long long *days, int *dry_run)
{
	const char *given;
	int err, v;

	*name = SSO_KEY_NAME;
	*days = 0;
	*dry_run = 0;
	if (req->body_len == 0)
		return 0;
	*body = request_json(req, res);
	if (*body == NULL)
		return -1;
	given = json_get_string(*body, "name", &err);
	if (err || given != NULL) {
		if (accounts_key_fields(*body, name, days, res) != 0)
			return -1;
	} else if (json_get_int(*body, "expiresInDays", 1, KEY_EXPIRY_MAX_DAYS,
	               days) < 0) {
		accounts_field_error(res, "expiresInDays",
		    "expiresInDays must be an integer from 1 to 3650 (or "
		    "null: never)");
		return -1;
	}
	v = json_get_bool(*body, "dryRun", &err);
	if (err) {
		accounts_field_error(res, "dryRun", "dryRun must be a boolean");
		return -1;
	}
	*dry_run = v == 1;
	return 0;
}

void
route_session_key(struct app *app, struct request *req, struct response *res)
{
	struct json_object *body = NULL;
	char email[EMAIL_MAX + 1];
	const char *name;
	long long days;
	struct new_key k;
	int dry_run;
	struct jw w;

	/* The answer holds the plaintext key: no cache may keep it. */
	response_header(res, "Cache-Control", "no-store");
	if (app->cfg.trusted_email_header == NULL) {
		response_problem(
		    res, 404, "not_found", NULL, "no such endpoint");
		return;
	}
	if (trusted_email(app, req, res, email) != 0 ||
	    read_body(req, res, &body, &name, &days, &dry_run) != 0)
		goto out;
	/* Who would get a key, without making one (the dashboard asks). */
	if (dry_run) {
		jw_init(&w, &res->body);
		jw_obj_begin(&w);
		jw_key(&w, "email"), jw_str(&w, email);
		jw_key(&w, "dryRun"), jw_bool(&w, 1);
		jw_obj_end(&w);
		goto out;
	}
	accounts_created(res,
	    keys_create_for_email(&app->db, email, -1, name, days, &k), &k,
	    name, email);
out:
	json_object_put(body);
}
