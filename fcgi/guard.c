#include "guard.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

int
guard_token(const struct request *req, struct response *res, const char **token)
{
	switch (auth_parse_header(req->authorization, token)) {
	case AUTH_HEADER_OK:
		return 0;
	case AUTH_HEADER_MISSING:
		response_problem(res, 401, "missing_auth", NULL,
		    "an Authorization: Bearer <key> header is required");
		break;
	case AUTH_HEADER_BAD_FORMAT:
	case AUTH_HEADER__MAX:
		response_problem(res, 401, "invalid_auth_format", NULL,
		    "the Authorization header must be Bearer <key>");
		break;
	}
	response_header(res, "WWW-Authenticate", "Bearer");
	return -1;
}

void
guard_refuse(struct response *res, enum key_verdict v, long long retry_after)
{
	if (v == VERDICT_THROTTLED) {
		response_problem(res, 429, key_verdict_code(v), NULL,
		    "%s; try again in %lld s", key_verdict_detail(v),
		    retry_after);
		response_header(res, "Retry-After", "%lld", retry_after);
		return;
	}
	response_problem(
	    res, 401, key_verdict_code(v), NULL, "%s", key_verdict_detail(v));
	response_header(res, "WWW-Authenticate",
	    "Bearer error=\"invalid_token\", error_description=\"%s\"",
	    key_verdict_detail(v));
}

static void
quota_headers(struct response *res, const struct quota *q)
{
	long long left = quota_remaining(q);
	long long reset = quota_seconds_to_reset(q);

	response_header(res, "X-RateLimit-Limit", "%lld", q->limit);
	response_header(res, "X-RateLimit-Remaining", "%lld", left);
	response_header(res, "X-RateLimit-Reset", "%lld", quota_reset_at(q));
	response_header(res, "RateLimit-Policy", "\"daily\";q=%lld;w=%lld",
	    q->limit, q->window_seconds);
	response_header(
	    res, "RateLimit", "\"daily\";r=%lld;t=%lld", left, reset);
}

/* The verdict of a counted lookup for who, and its quota headers. */
static int
counted_verdict(enum db_status st, const struct counted_check *cc,
    struct response *res, struct caller *who)
{
	memset(who, 0, sizeof(*who));
	if (st != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	if (cc->key.verdict != VERDICT_VALID) {
		guard_refuse(res, cc->key.verdict, cc->key.retry_after);
		return -1;
	}
	memcpy(who->key_id, cc->key.key_id, sizeof(who->key_id));
	who->user_id = cc->key.user_id;
	who->preferences = cc->key.preferences;
	who->catalog_version = cc->catalog_version;
	who->last_sync_ms = cc->last_sync_ms;
	who->db_now_ms = cc->db_now_ms;
	who->quota = cc->quota;
	who->have_versions = cc->have_versions;
	who->versions_window = cc->versions_window;
	who->versions = cc->versions;
	quota_headers(res, &who->quota);
	if (!quota_allowed(&who->quota)) {
		response_problem(res, 429, "rate_limited", NULL,
		    "quota of %lld requests per %lld s used up; try again "
		    "in %lld s",
		    who->quota.limit, who->quota.window_seconds,
		    quota_seconds_to_reset(&who->quota));
		response_header(res, "Retry-After", "%lld",
		    quota_seconds_to_reset(&who->quota));
		return -1;
	}
	return 0;
}

int
guard_counted(struct app *app, const struct request *req, const char *token,
    struct response *res, struct caller *who)
{
	struct counted_check cc;
	enum db_status st;

	st = key_check_counted(
	    &app->db, &app->keys, req->client_addr, token, req->arena, &cc);
	return counted_verdict(st, &cc, res, who);
}

int
guard_counted_listing(struct app *app, const struct request *req,
    const char *token, long long window_s, struct response *res,
    struct caller *who)
{
	struct counted_check cc;
	enum db_status st;

	st = key_check_counted_versions(&app->db, &app->keys, req->client_addr,
	    token, req->arena, window_s, &cc);
	return counted_verdict(st, &cc, res, who);
}

int
guard_key(struct app *app, const struct request *req, const char *token,
    struct response *res, struct caller *who)
{
	struct key_check kc;

	memset(who, 0, sizeof(*who));
	if (key_check(&app->db, &app->keys, req->client_addr, token, req->arena,
	        &kc) != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	if (kc.verdict != VERDICT_VALID) {
		guard_refuse(res, kc.verdict, kc.retry_after);
		return -1;
	}
	memcpy(who->key_id, kc.key_id, sizeof(who->key_id));
	who->user_id = kc.user_id;
	who->preferences = kc.preferences;
	return 0;
}

int
guard_admin(
    const struct app *app, const struct request *req, struct response *res)
{
	const char *given =
	    FCGX_GetParam("HTTP_X_ADMIN_SECRET", req->fcgx->envp);

	if (app->cfg.admin_secret == NULL) {
		response_problem(res, 503, "admin_disabled", NULL,
		    "the admin routes are disabled: ADMIN_SECRET is not set");
		return -1;
	}
	if (given == NULL || *given == '\0') {
		response_problem(res, 401, "missing_admin_secret", NULL,
		    "an X-Admin-Secret header is required");
		return -1;
	}
	/* The client's length is the one that shows in the timing. */
	if (!secret_equal(given, app->cfg.admin_secret)) {
		/*
		 * A guessing client must not fill the log: at most one line
		 * a second per worker, with the refusals since the last.
		 */
		static int64_t logged_ms;
		static long long refused;
		int64_t now = now_ms();

		refused++;
		if (logged_ms == 0 || now - logged_ms >= 1000 ||
		    now < logged_ms) {
			log_warn("admin request refused: wrong X-Admin-Secret "
			         "(%lld refused since the last such line)",
			    refused);
			logged_ms = now;
			refused = 0;
		}
		response_problem(res, 401, "invalid_admin_secret", NULL,
		    "the X-Admin-Secret header is wrong");
		return -1;
	}
	return 0;
}

void
pending_log(struct app *app, const struct request *req,
    const struct caller *who, const char *endpoint, int status,
    const struct ranked *v, size_t n)
{
	reqlog_arm(&app->log, req->log_id, who->key_id, who->user_id, endpoint,
	    status, v, n);
}
