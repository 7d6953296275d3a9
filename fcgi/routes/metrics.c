/*
 * GET /metrics: the whole worker pool's counters (the shared segment of
 * shared/metrics.c, whichever worker answers) and a few gauges read
 * from the database now, in the Prometheus text format.  Not part of
 * the JSON API: nginx lets only the scrapers it lists reach it.  The
 * counters are still served when the database is away (flr_db_up 0).
 */
#include "app.h"

void
route_metrics(struct app *app, struct request *req, struct response *res)
{
	struct metrics_gauges g;

	(void)req;
	if (app->metrics.seg == NULL) {
		response_problem(res, 503, "metrics_unavailable", NULL,
		    "this worker has no metrics segment (see its log)");
		return;
	}
	/* Without the database the gauges are left out, not the rest. */
	if (metrics_gauges_read(&app->db, &g) != DB_OK)
		g.db_up = 0;
	if (metrics_write(&app->metrics, &g, &res->body) != 0) {
		response_problem(res, 500, "internal_error", NULL,
		    "the metrics do not fit the response buffer");
		return;
	}
	res->content_type = METRICS_CONTENT_TYPE;
	response_header(res, "Cache-Control", "no-store");
}
