/*
 * flr-api: the FastCGI worker of the short requests (listings,
 * reports, keys, health).  The loop is fcgi/worker.c's.
 */
#include "app.h"

int
main(int argc, char **argv)
{
	return worker_main(argc, argv, "flr-api", ROUTE_POOL_API);
}
