/*
 * OpenRouter's model list (GET /api/v1/models): the rule that says
 * whether a model is free, and a strict parser that turns a payload
 * into the free models we keep.
 *
 * The payload is checked as a whole before anything is kept: it must
 * be a JSON object whose "data" is an array of objects, each with a
 * non-empty string "id" (ids unique), and every field we keep must
 * have its documented type (or be null/absent) in every model, free
 * or not.  A payload that breaks any of this is refused with a
 * one-line reason; a model is then named by its index in "data",
 * counted from 0 ("model 17: context_length is not an integer").
 * A changed upstream format stops the sync instead of filling the
 * catalogue with half-read rows.
 *
 * The kept fields and their types (each may also be null or absent):
 *   name, description                       string
 *   created (unix seconds), context_length  integer >= 0 (not 4096.0)
 *   architecture                            object: modality string,
 *                                           input_modalities and
 *                                           output_modalities arrays
 *                                           of strings
 *   top_provider                            object:
 *                                           max_completion_tokens
 *                                           integer >= 0, is_moderated
 *                                           boolean
 *   supported_parameters                    array of strings
 * Strings must be UTF-8 without NUL characters.  "pricing" is not
 * checked: a shape other than the free rule's makes a model paid.
 */
#ifndef FLR_OPENROUTER_H
#define FLR_OPENROUTER_H

#include <stddef.h>

#include "util.h"

struct json_object;

/* Deepest nesting accepted in a payload (OpenRouter's is about 5). */
#define OPENROUTER_MAX_DEPTH 32

/* A list of strings; v is NULL when n is 0. */
struct openrouter_strings {
	char **v;
	size_t n;
};

/*
 * One free model as we keep it.  Integers are -1 and strings NULL
 * when OpenRouter sent null or nothing.  name falls back to id when
 * it is absent, null or empty, because the catalogue needs a name to
 * show.  Missing arrays are empty lists.
 */
struct openrouter_model {
	char *id;
	char *name;
	long long created; /* unix seconds: "created" */
	long long context_length;
	long long max_completion_tokens; /* top_provider.* */
	char *description;
	char *modality; /* architecture.* */
	struct openrouter_strings input_modalities;
	struct openrouter_strings output_modalities;
	struct openrouter_strings supported_parameters;
	int is_moderated; /* top_provider.*: -1 null, 0 or 1 */
};

/* The free models of one payload, in payload order. */
struct openrouter_catalog {
	struct openrouter_model *models;
	size_t n; /* free models kept */
	size_t total; /* models in the payload, free or not */
};

/*
 * Whether one price (a member of a model's "pricing") denotes zero:
 * a JSON number equal to 0, or a JSON string that is "0" or "0."
 * followed by one or more zeros ("0", "0.0", "0.00").  NULL (absent
 * or null), "", "-1", "00", " 0", "0x0", "1e-9", "0." and every other
 * value are not zero.  Returns 1 or 0.
 */
int openrouter_price_is_zero(struct json_object *price);

/*
 * The free rule: both pricing.prompt and pricing.completion are
 * present and zero (openrouter_price_is_zero).  Either may be NULL
 * (absent or null), which makes the model not free.  Returns 1 or 0.
 */
int openrouter_is_free(
    struct json_object *prompt, struct json_object *completion);

/*
 * Parse len bytes of body (no NUL terminator needed) as a models
 * payload and keep its free models in *out.  Returns 0 on success
 * (the caller frees *out with openrouter_catalog_free), or -1 with
 * a one-line reason in err (errsz bytes) and *out empty.
 */
int openrouter_parse(const char *body, size_t len,
    struct openrouter_catalog *out, char *err, size_t errsz) WUR;

/* Free what openrouter_parse() kept; NULL-safe, leaves *c empty. */
void openrouter_catalog_free(struct openrouter_catalog *c);

#endif
