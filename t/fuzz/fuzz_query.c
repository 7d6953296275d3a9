/*
 * libFuzzer: query strings through the parser and the listing
 * parameters' validators, as the API and the health route read them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = { NULL };
	struct list_params p;
	struct param_error err;
	struct query q;
	char *qs = xstrndup((const char *)data, size);
	int health;

	for (health = 0; health <= 1; health++) {
		list_params_defaults(&p, health);
		if (query_parse(qs, &a, &q, &err) == 0 &&
		    list_params_parse(&q, &p, health, &err) == 0) {
			/* What passed must be in range. */
			if (p.top_n < 0 || p.top_n > 100 || p.range >= TR__MAX ||
			    p.sort >= SORT__MAX || p.min_reports > 1000000 ||
			    p.max_error_rate > 100 || (health && p.range == TR_ALL))
				abort();
		}
		arena_reset(&a);
	}
	arena_free(&a);
	free(qs);
	return 0;
}
