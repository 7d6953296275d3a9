/*
 * Conditional GETs of the routes whose bodies are built from the
 * database: the ETag of what the body would be made of (shared/etag.c),
 * computed before the body, and the 304 when the request holds it.
 */
#ifndef FLR_CONDITIONAL_H
#define FLR_CONDITIONAL_H

#include "app.h"
#include "catalog.h"
#include "etag.h"
#include "listing.h"

/*
 * Tag the answer to req with in's ETag and, when If-None-Match holds
 * it, make res the 304 (with cache_control).  Returns 1 when res is
 * complete (the 304, or a 503 when the versions could not be read),
 * 0 when the route goes on to build the full answer; then *v (when v
 * is not NULL) holds the versions the tag was made of.
 */
int conditional_get(struct app *app, const struct request *req,
    struct response *res, const struct etag_input *in, struct data_versions *v,
    const char *cache_control) WUR;

/*
 * conditional_get() for a route without a counted key: the listing's
 * parameters and user (l->p, l->uid) over the catalogue meta read it
 * is built from.
 */
int conditional_catalog(struct app *app, const struct request *req,
    struct response *res, enum etag_kind kind, const struct listing *l,
    const struct catalog_meta *meta, struct data_versions *v,
    const char *cache_control) WUR;

#endif
