/* GET /api/readyz: 200 when the database answers, else 503. */
#include "app.h"

void
route_readyz(struct app *app, struct request *req, struct response *res)
{
	enum db_status st;
	PGresult *r;

	(void)req;
	r = db_exec(&app->db, STMT_PING, NULL, 0, &st);
	if (r == NULL) {
		response_unavailable(res);
		return;
	}
	PQclear(r);
	buf_puts(&res->body, "{\"status\":\"ready\",\"database\":\"ok\"}");
	response_header(res, "Cache-Control", "no-store");
}
