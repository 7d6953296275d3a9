/*
 * libFuzzer: OpenRouter payloads through the catalogue parser.  Every
 * model kept has an id of its own and a name, integers that are -1 (not
 * sent) or not negative, a moderation flag of -1, 0 or 1, and lists
 * without holes; there are never more kept than read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openrouter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_strings(const struct openrouter_strings *s)
{
	size_t i;

	if ((s->n == 0) != (s->v == NULL))
		abort();
	for (i = 0; i < s->n; i++)
		if (s->v[i] == NULL)
			abort();
}

static void
check_model(const struct openrouter_model *m)
{
	if (m->id == NULL || m->id[0] == '\0' || m->name == NULL ||
	    m->name[0] == '\0')
		abort();
	if (m->created < -1 || m->context_length < -1 ||
	    m->max_completion_tokens < -1)
		abort();
	if (m->is_moderated < -1 || m->is_moderated > 1)
		abort();
	check_strings(&m->input_modalities);
	check_strings(&m->output_modalities);
	check_strings(&m->supported_parameters);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct openrouter_catalog c;
	char err[256];
	size_t i, j;

	if (openrouter_parse((const char *)data, size, &c, err, sizeof(err)) !=
	    0) {
		if (err[0] == '\0')
			abort(); /* a refusal always says why */
		return 0;
	}
	if (c.n > c.total)
		abort();
	for (i = 0; i < c.n; i++) {
		check_model(&c.models[i]);
		/* Ids are unique in the payload, so among those kept. */
		for (j = 0; j < i && c.n <= 512; j++)
			if (strcmp(c.models[i].id, c.models[j].id) == 0)
				abort();
	}
	openrouter_catalog_free(&c);
	return 0;
}
