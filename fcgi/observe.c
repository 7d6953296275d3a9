/*
 * The worker's side of the pool's metrics (shared/metrics.c): the
 * route table as labels, and what each request did, counted once its
 * response has left.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "log.h"

static struct metrics_route labels[METRICS_ROUTES_MAX];

int
observe_open(struct app *app)
{
	char err[512];
	size_t i,
	    n = routes_count < NELEM(labels) ? routes_count : NELEM(labels);

	for (i = 0; i < n; i++) {
		labels[i].method = routes[i].method;
		labels[i].path = routes[i].path;
	}
	if (metrics_open(&app->metrics, app->cfg.metrics_file, labels,
	        routes_count, err, sizeof(err)) != 0) {
		log_error("%s; serving without metrics", err);
		return -1;
	}
	app->db.metrics = &app->metrics;
	return 0;
}

void
observe_request(struct app *app, const struct request *req,
    const struct route *route, const struct response *res, double ms)
{
	struct metrics_request r = {
		.route = route != NULL ? (int)(route - routes) : -1,
		.status = res->status,
		.code = res->code,
		.seconds = ms / 1000.0,
		.outcome = -1,
	};

	/* A replayed report stored nothing new. */
	if (route != NULL && route->handler == route_feedback &&
	    res->status == 200 &&
	    !response_has_header(res, "Idempotent-Replayed"))
		r.outcome = metrics_report_outcome(
		    req->body, req->body_len, req->arena);
	metrics_request(&app->metrics, &r);
}
