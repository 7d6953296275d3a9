/*
 * flr-router: the FastCGI worker of POST /api/v1/chat/completions.
 * Proxied calls last seconds to minutes, so they have a pool of their
 * own (flr-router.service, its own socket and FLR_ROUTER_WORKERS) and
 * the listings never wait behind a slow model.  The loop is
 * fcgi/worker.c's.
 */
#include "app.h"

int
main(int argc, char **argv)
{
	return worker_main(argc, argv, "flr-router", ROUTE_POOL_ROUTER);
}
