/* GET /api/readyz: 200 when the database answers, else 503. */
#include "app.h"

void
route_readyz(struct app *app, struct request *req, struct response *res)
{
	(void)req;
	if (db_ping(&app->db) != DB_OK) {
		response_unavailable(res);
		return;
	}
	buf_puts(&res->body, "{\"status\":\"ready\",\"database\":\"ok\"}");
	response_header(res, "Cache-Control", "no-store");
}
