/*
 * GET /api/federation/export (public): this instance's own report
 * counts in buckets, for instances that federate with it
 * (shared/export.h says the format).  Cacheable for a minute: the
 * importer runs every few minutes at most.
 */
#include "app.h"
#include "export.h"

void
route_federation_export(
    struct app *app, struct request *req, struct response *res)
{
	struct catalog_meta meta;
	struct export_rows rows;
	struct jw w;

	if (catalog_meta(&app->db, &meta) != DB_OK ||
	    export_load(&app->db, req->arena, &rows) != DB_OK) {
		response_unavailable(res);
		return;
	}
	jw_init(&w, &res->body);
	export_write(&w, &rows, meta.now_ms);
	response_header(res, "Cache-Control", "public, max-age=60");
}
