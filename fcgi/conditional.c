#include "conditional.h"

int
conditional_get(struct app *app, const struct request *req,
    struct response *res, const struct etag_input *in, struct data_versions *v,
    const char *cache_control)
{
	char tag[ETAG_SIZE];

	if (etag_compute(app->read, in, v, tag) != DB_OK) {
		response_unavailable(res);
		return 1;
	}
	return response_not_modified(req, res, tag, cache_control);
}

int
conditional_catalog(struct app *app, const struct request *req,
    struct response *res, enum etag_kind kind, const struct listing *l,
    const struct catalog_meta *meta, struct data_versions *v,
    const char *cache_control)
{
	struct etag_input in = {
		.kind = kind,
		.p = &l->p,
		.uid = l->uid,
		.catalog_version = meta->version,
		.last_sync_ms = meta->last_sync_ms,
		.now_ms = meta->now_ms,
		.stale_after = app->cfg.stale_after,
	};

	return conditional_get(app, req, res, &in, v, cache_control);
}
