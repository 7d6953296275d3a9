/*
 * OpenRouter's endpoint statistics, a step of the sync run after a good
 * catalogue: ask about up to FLR_ENDPOINT_FETCH_MAX active models (the
 * least recently asked first), FLR_ENDPOINT_CONCURRENCY at a time, at
 * {base}/models/{author}/{slug}/endpoints (shared/endpoints.c), and
 * store what came back in one transaction: the folded figures in
 * model_endpoint_stats, a row of model_endpoint_history, and every
 * attempt in model_endpoint_attempts.  A model whose fetch or answer
 * failed keeps its last figures and is counted; nothing here fails the
 * run.
 */
#ifndef FLR_SYNC_ENDPOINTS_H
#define FLR_SYNC_ENDPOINTS_H

#include "config.h"
#include "db.h"
#include "sync.h"

/* The body cap of one endpoints answer (a real one is a few KiB). */
#define SYNC_ENDPOINTS_MAX_BYTES (1024 * 1024)

/*
 * Run the step with the sync lock held, when cfg asks for it (an
 * endpoint base URL and FLR_ENDPOINT_FETCH_MAX above 0); fills the
 * endpoints_* fields of *res.  Failures are logged and counted.
 */
void sync_endpoints_run(
    struct db *db, const struct config *cfg, struct sync_result *res);

#endif
