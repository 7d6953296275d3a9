/*
 * GET /api/openapi.json: the OpenAPI 3.1 document of the whole API,
 * the contract of every route.  fcgi/openapi.json is compiled into the
 * program (the GNUmakefile turns it into $(BUILD)/gen/openapi.c), so a
 * worker always serves the document of its own build, and nothing
 * beside the binary needs installing.  Public and cacheable: it changes
 * only with the program, so its ETag is strong (the same bytes), made
 * at build time.
 */
#include "app.h"

/* $(BUILD)/gen/openapi.c: the file's bytes, their number and tag. */
extern const char openapi_json[];
extern const size_t openapi_json_len;
extern const char openapi_json_etag[];

void
route_openapi(struct app *app, struct request *req, struct response *res)
{
	(void)app;
	if (response_not_modified(
	        req, res, openapi_json_etag, "public, max-age=300"))
		return;
	/* The response buffer's cap is far above the document's size. */
	if (buf_append(&res->body, openapi_json, openapi_json_len) != 0) {
		response_problem(res, 500, "internal_error", NULL,
		    "the API document does not fit the response buffer");
		return;
	}
	response_header(res, "Cache-Control", "public, max-age=300");
}
