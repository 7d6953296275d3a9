/*
 * POST /api/v1/models/feedback (SPEC.md §3, as amended): one success or
 * issue report about a model, stored (with its rollup) before the 200
 * (shared/report.c).  Lenient by default: a report is never refused
 * over details or requestId; Prefer: handling=strict refuses instead.
 * Idempotency-Key makes a retry return the first answer.  Not counted
 * against the quota; at most FEEDBACK_PER_HOUR per user.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "json.h"
#include "report.h"

#define FEEDBACK_PER_HOUR 600

static void
answer(struct response *res, const struct report_result *rr)
{
	switch (rr->outcome) {
	case REPORT_KEY_REFUSED:
		guard_refuse(res, rr->verdict, rr->retry_after);
		return;
	case REPORT_UNKNOWN_MODEL:
		response_problem(res, 422, "unknown_model", "modelId",
		    "modelId is not a model in the catalogue");
		return;
	case REPORT_KEY_REUSED:
		response_problem(res, 422, "idempotency_key_reused", NULL,
		    "this Idempotency-Key was used for a different report");
		return;
	case REPORT_RATE_LIMITED:
		response_problem(res, 429, "feedback_rate_limited", NULL,
		    "at most %d reports an hour; try again in %lld s",
		    FEEDBACK_PER_HOUR, rr->retry_after);
		response_header(res, "Retry-After", "%lld", rr->retry_after);
		return;
	case REPORT_DRY_RUN:
		buf_puts(&res->body,
		    "{\"received\":true,\"dryRun\":true,\"id\":null}");
		return;
	case REPORT_REPLAYED:
		response_header(res, "Idempotent-Replayed", "true");
		/* FALLTHROUGH */
	case REPORT_STORED:
	case REPORT__MAX:
		buf_printf(
		    &res->body, "{\"received\":true,\"id\":\"%s\"}", rr->id);
		return;
	}
}

/* The Idempotency-Key header: 0 (*key NULL when absent), or -1 with 400. */
static int
read_idempotency_key(const struct request *req, struct response *res,
    char buf[IDEMPOTENCY_KEY_MAX + 1], const char **key)
{
	const char *h = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", req->fcgx->envp);

	*key = NULL;
	if (h == NULL)
		return 0;
	if (report_idempotency_key(h, buf) != 0) {
		response_problem(res, 400, "invalid_idempotency_key",
		    "Idempotency-Key",
		    "Idempotency-Key must be 1 to 255 visible ASCII "
		    "characters (optionally quoted)");
		return -1;
	}
	*key = buf;
	return 0;
}

void
route_feedback(struct app *app, struct request *req, struct response *res)
{
	char idem_buf[IDEMPOTENCY_KEY_MAX + 1], fp[AUTH_HASH_LEN + 1];
	struct param_adjustments adj = { .n = 0 };
	struct json_object *body = NULL;
	struct report_result rr;
	struct report_error re;
	const char *token, *idem;
	struct report rep;
	int strict;

	response_header(res, "Cache-Control", "no-store");
	strict = request_strict(req, res);
	if (guard_token(req, res, &token) != 0 ||
	    read_idempotency_key(req, res, idem_buf, &idem) != 0)
		return;
	body = request_json(req, res);
	if (body == NULL)
		return;
	if (report_read(body, strict, req->arena, &rep, &adj, &re) != 0) {
		response_problem(
		    res, 400, "invalid_field", re.field, "%s", re.detail);
		goto out;
	}
	/* A retry is the same request: the same bytes. */
	auth_hash_key(req->body, fp);
	if (report_store(&app->db, &app->keys, req->client_addr, token, &rep,
	        FEEDBACK_PER_HOUR, idem, fp, &rr) != DB_OK) {
		response_unavailable(res);
		goto out;
	}
	response_adjusted(res, &adj);
	answer(res, &rr);
out:
	json_object_put(body);
}
