/*
 * POST /api/admin/cleanup (SPEC.md §6): the retention cleanup of
 * flr-sync (shared/retention.c), run now.  It deletes in small
 * batches and stops after CLEANUP_BUDGET_MS, well inside nginx's
 * fastcgi_read_timeout; "complete": false says there is more, and the
 * next call (or flr-sync) goes on where this one stopped.
 */
#include "guard.h"
#include "json.h"
#include "log.h"
#include "retention.h"

#define CLEANUP_BUDGET_MS 60000

static void
write_result(struct response *res, const struct retention_result *rr)
{
	struct jw w;

	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "success"), jw_bool(&w, 1);
	jw_key(&w, "complete"), jw_bool(&w, rr->complete);
	jw_key(&w, "deleted");
	jw_obj_begin(&w);
	jw_key(&w, "modelFeedback"), jw_int(&w, rr->feedback);
	jw_key(&w, "apiRequestLogs"), jw_int(&w, rr->request_logs);
	jw_key(&w, "availabilitySnapshots"), jw_int(&w, rr->availability);
	jw_key(&w, "feedbackRollup"), jw_int(&w, rr->rollup);
	jw_key(&w, "endpointHistory"), jw_int(&w, rr->endpoint_history);
	jw_obj_end(&w);
	jw_key(&w, "cutoffs");
	jw_obj_begin(&w);
	jw_key(&w, "modelFeedback"), jw_time(&w, rr->feedback_cutoff_ms);
	jw_key(&w, "apiRequestLogs"), jw_time(&w, rr->request_log_cutoff_ms);
	jw_key(&w, "availabilitySnapshots");
	jw_time(&w, rr->availability_cutoff_ms);
	jw_obj_end(&w);
	jw_key(&w, "durationMs"), jw_int(&w, (long long)rr->duration_ms);
	jw_obj_end(&w);
}

void
route_admin_cleanup(struct app *app, struct request *req, struct response *res)
{
	struct retention_result rr;
	char err[256];

	response_header(res, "Cache-Control", "no-store");
	if (guard_admin(app, req, res) != 0)
		return;
	if (retention_run(&app->db, &app->cfg, CLEANUP_BUDGET_MS, &rr, err,
	        sizeof(err)) != DB_OK) {
		log_error("cleanup: %s", err);
		response_unavailable(res);
		return;
	}
	log_info("cleanup: deleted %lld reports, %lld rollup rows, %lld "
	         "request logs, %lld availability days in %.0f ms%s",
	    rr.feedback, rr.rollup, rr.request_logs, rr.availability,
	    rr.duration_ms, rr.complete ? "" : " (more to do)");
	write_result(res, &rr);
}
