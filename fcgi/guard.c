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

static int
invalid_key(struct response *res, const char *detail)
{
	response_problem(res, 401, "invalid_key", NULL, "%s", detail);
	response_header(
	    res, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
	return -1;
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

/* Columns of STMT_AUTH_COUNTED. */
enum {
	A_KEY,
	A_USER,
	A_ENABLED,
	A_EXPIRED,
	A_COUNT,
	A_LIMIT,
	A_WINDOW,
	A_WINDOW_START,
	A_PREFS,
	A_VERSION,
	A_LAST_SYNC,
	A_NOW
};

/*
 * Look the key up with statement stmt, whose first columns are key id,
 * user id, enabled and expired (prefs_col holds the preferences), and
 * fill who.  Returns the result (the caller PQclear()s it), or NULL
 * with the 401 or 503 written to res.
 */
static PGresult *
lookup_key(struct app *app, const struct request *req, const char *token,
    enum stmt stmt, int prefs_col, struct response *res, struct caller *who)
{
	char hash[AUTH_HASH_LEN + 1];
	const char *params[1] = { hash };
	enum db_status st;
	PGresult *r;

	memset(who, 0, sizeof(*who));
	if (!auth_key_wellformed(token)) {
		invalid_key(res, "unknown API key");
		return NULL;
	}
	auth_hash_key(token, hash);
	r = db_exec(&app->db, stmt, params, 1, &st);
	if (r == NULL) {
		response_unavailable(res);
		return NULL;
	}
	if (PQntuples(r) != 1) {
		invalid_key(res, "unknown API key");
	} else if (!db_get_bool(r, 0, A_ENABLED, 0)) {
		invalid_key(res, "this API key is disabled");
	} else if (db_get_bool(r, 0, A_EXPIRED, 0)) {
		response_problem(
		    res, 401, "expired_key", NULL, "this API key has expired");
	} else {
		snprintf(who->key_id, sizeof(who->key_id), "%s",
		    PQgetvalue(r, 0, A_KEY));
		who->user_id = db_get_ll(r, 0, A_USER, 0);
		who->preferences = arena_strdup(req->arena,
		    PQgetisnull(r, 0, prefs_col) ? "{}"
		                                 : PQgetvalue(r, 0, prefs_col));
		return r;
	}
	PQclear(r);
	return NULL;
}

int
guard_counted(struct app *app, const struct request *req, const char *token,
    struct response *res, struct caller *who)
{
	PGresult *r;
	int rc = -1;

	r = lookup_key(app, req, token, STMT_AUTH_COUNTED, A_PREFS, res, who);
	if (r == NULL)
		return -1;
	who->catalog_version = db_get_ll(r, 0, A_VERSION, 0);
	who->last_sync_ms = db_get_ll(r, 0, A_LAST_SYNC, -1);
	who->db_now_ms = db_get_ll(r, 0, A_NOW, 0);
	who->quota.count = db_get_ll(r, 0, A_COUNT, 0);
	who->quota.limit = db_get_ll(r, 0, A_LIMIT, 0);
	who->quota.window_seconds = db_get_ll(r, 0, A_WINDOW, 86400);
	who->quota.window_start_ms = db_get_ll(r, 0, A_WINDOW_START, 0);
	who->quota.now_ms = who->db_now_ms;
	quota_headers(res, &who->quota);
	if (!quota_allowed(&who->quota)) {
		response_problem(res, 429, "rate_limited", NULL,
		    "quota of %lld requests per %lld s used up; try again "
		    "in %lld s",
		    who->quota.limit, who->quota.window_seconds,
		    quota_seconds_to_reset(&who->quota));
		response_header(res, "Retry-After", "%lld",
		    quota_seconds_to_reset(&who->quota));
		goto out;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

/* Column of STMT_AUTH_KEY after the four it shares with the above. */
enum { K_PREFS = 4 };

int
guard_key(struct app *app, const struct request *req, const char *token,
    struct response *res, struct caller *who)
{
	PGresult *r =
	    lookup_key(app, req, token, STMT_AUTH_KEY, K_PREFS, res, who);

	if (r == NULL)
		return -1;
	PQclear(r);
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

/* Append s as an element of a PostgreSQL array literal. */
static void
array_elem(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

void
pending_log(struct app *app, const struct caller *who, const char *endpoint,
    int status, const struct ranked *v, size_t n)
{
	struct pending_log *pl = &app->log;
	size_t i;

	pl->active = 1;
	snprintf(pl->key_id, sizeof(pl->key_id), "%s", who->key_id);
	pl->user_id = who->user_id;
	snprintf(pl->endpoint, sizeof(pl->endpoint), "%s", endpoint);
	pl->status = status;
	buf_reset(&pl->model_ids);
	buf_putc(&pl->model_ids, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&pl->model_ids, ',');
		array_elem(&pl->model_ids, v[i].m->id);
	}
	buf_putc(&pl->model_ids, '}');
}
