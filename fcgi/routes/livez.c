/* GET /api/livez: the worker runs.  Touches nothing else. */
#include "app.h"

void
route_livez(struct app *app, struct request *req, struct response *res)
{
	(void)app;
	(void)req;
	buf_puts(&res->body, "{\"status\":\"ok\"}");
	response_header(res, "Cache-Control", "no-store");
}
