/*
 * POST /api/v1/models/feedback (SPEC.md §3): one success or issue
 * report about a model, stored (with its rollup) before the 200.
 * Not counted against the quota; at most FEEDBACK_PER_HOUR per user.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "json.h"

#define FEEDBACK_PER_HOUR 600
#define MODEL_ID_MAX 256
#define DETAILS_MAX 1000

struct report {
	const char *model_id;
	const char *outcome; /* success, rate_limited, unavailable, error */
	const char *details; /* NULL: none */
	const char *request_id;
	int dry_run;
};

static int
field_error(struct response *res, const char *param, const char *detail)
{
	response_problem(res, 400, "invalid_field", param, "%s", detail);
	return -1;
}

static int
read_outcome(struct json_object *body, struct report *rep, struct response *res)
{
	static const char *issues[] = { "rate_limited", "unavailable",
		"error" };
	const char *issue;
	int err, success;
	size_t i;

	success = json_get_bool(body, "success", &err);
	if (err)
		return field_error(res, "success", "success must be a boolean");
	issue = json_get_string(body, "issue", &err);
	if (err)
		return field_error(res, "issue",
		    "issue must be one of: "
		    "rate_limited, unavailable, error");
	if (success == 1 && issue != NULL)
		return field_error(res, "issue",
		    "give either success: true "
		    "or an issue, not both");
	if (success == 1) {
		rep->outcome = "success";
		return 0;
	}
	if (issue == NULL)
		return field_error(res, "success",
		    "give success: true or an "
		    "issue (rate_limited, unavailable, error)");
	for (i = 0; i < NELEM(issues); i++)
		if (strcmp(issue, issues[i]) == 0) {
			rep->outcome = issues[i];
			return 0;
		}
	return field_error(res, "issue",
	    "issue must be one of: "
	    "rate_limited, unavailable, error");
}

/* Every field's type and bounds, before any database work. */
static int
read_report(struct json_object *body, struct report *rep, struct response *res)
{
	int err, dry;

	memset(rep, 0, sizeof(*rep));
	rep->model_id = json_get_string(body, "modelId", &err);
	if (err || rep->model_id == NULL || rep->model_id[0] == '\0')
		return field_error(
		    res, "modelId", "modelId must be a non-empty string");
	if (strlen(rep->model_id) > MODEL_ID_MAX)
		return field_error(
		    res, "modelId", "modelId must be at most 256 bytes");
	if (read_outcome(body, rep, res) != 0)
		return -1;
	rep->details = json_get_string(body, "details", &err);
	if (err || (rep->details && utf8_length(rep->details) > DETAILS_MAX))
		return field_error(res, "details",
		    "details must be a string "
		    "of at most 1000 characters");
	rep->request_id = json_get_string(body, "requestId", &err);
	if (err || (rep->request_id && !uuid_valid(rep->request_id)))
		return field_error(
		    res, "requestId", "requestId must be a UUID");
	dry = json_get_bool(body, "dryRun", &err);
	if (err)
		return field_error(res, "dryRun", "dryRun must be a boolean");
	rep->dry_run = dry == 1;
	return 0;
}

/* Columns of STMT_FEEDBACK_INSERT. */
enum { F_ENABLED, F_EXPIRED, F_MODEL, F_COUNT, F_RESET_MS, F_STORED };

static void
store(struct app *app, const char *token, const struct report *rep,
    struct response *res)
{
	char hash[AUTH_HASH_LEN + 1], id[UUID_LEN + 1], limit[16];
	const char *params[8];
	enum db_status st;
	PGresult *r;
	long long wait;

	if (!auth_key_wellformed(token)) {
		response_problem(
		    res, 401, "invalid_key", NULL, "unknown API key");
		return;
	}
	if (uuid_v4(id) != 0) {
		response_problem(res, 500, "internal_error", NULL,
		    "the random generator failed");
		return;
	}
	auth_hash_key(token, hash);
	snprintf(limit, sizeof(limit), "%d", FEEDBACK_PER_HOUR);
	params[0] = hash;
	params[1] = rep->model_id;
	params[2] = id;
	params[3] = rep->request_id;
	params[4] = rep->outcome;
	params[5] = rep->details;
	params[6] = rep->dry_run ? "true" : "false";
	params[7] = limit;
	r = db_exec(&app->db, STMT_FEEDBACK_INSERT, params, 8, &st);
	if (r == NULL) {
		response_unavailable(res);
		return;
	}
	if (PQntuples(r) != 1 || !db_get_bool(r, 0, F_ENABLED, 0)) {
		response_problem(res, 401, "invalid_key", NULL, "%s",
		    PQntuples(r) != 1 ? "unknown API key"
		                      : "this API key is disabled");
	} else if (db_get_bool(r, 0, F_EXPIRED, 0)) {
		response_problem(
		    res, 401, "expired_key", NULL, "this API key has expired");
	} else if (!db_get_bool(r, 0, F_MODEL, 0)) {
		response_problem(res, 422, "unknown_model", "modelId",
		    "modelId is not a model in the catalogue");
	} else if (!rep->dry_run && !db_get_bool(r, 0, F_STORED, 0)) {
		wait = (db_get_ll(r, 0, F_RESET_MS, 0) + 999) / 1000;
		if (wait < 1)
			wait = 1;
		response_problem(res, 429, "feedback_rate_limited", NULL,
		    "at most %d reports an hour; try again in %lld s",
		    FEEDBACK_PER_HOUR, wait);
		response_header(res, "Retry-After", "%lld", wait);
	} else if (rep->dry_run) {
		buf_puts(&res->body,
		    "{\"received\":true,\"dryRun\":true,\"id\":null}");
	} else {
		buf_printf(&res->body, "{\"received\":true,\"id\":\"%s\"}", id);
	}
	PQclear(r);
}

void
route_feedback(struct app *app, struct request *req, struct response *res)
{
	struct json_object *body = NULL;
	struct report rep;
	const char *token;

	if (guard_token(req, res, &token) != 0)
		return;
	body = request_json(req, res);
	if (body == NULL)
		return;
	if (read_report(body, &rep, res) == 0)
		store(app, token, &rep, res);
	json_object_put(body);
	response_header(res, "Cache-Control", "no-store");
}
