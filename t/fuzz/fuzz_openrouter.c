/*
 * libFuzzer: OpenRouter payloads through the catalogue parser; every
 * model kept must have an id and be free by the rule.
 */
#include <stdint.h>
#include <stdlib.h>

#include "openrouter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct openrouter_catalog c;
	char err[256];
	size_t i;

	if (openrouter_parse((const char *)data, size, &c, err, sizeof(err)) !=
	    0)
		return 0;
	for (i = 0; i < c.n; i++)
		if (c.models[i].id == NULL || c.models[i].id[0] == '\0')
			abort();
	if (c.n > c.total)
		abort();
	openrouter_catalog_free(&c);
	return 0;
}
