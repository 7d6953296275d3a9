/*
 * The free rule and the OpenRouter payload parser: a table of prices,
 * the recorded fixture, and a table of hostile payloads.  Run from the
 * top of the source tree (prove does), where the fixture lives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "openrouter.h"
#include "util.h"

#define FIXTURE "t/fixtures/openrouter-models.json"

struct price_case {
	const char *json; /* one JSON value; NULL: absent */
	int zero;
};

static const struct price_case price_cases[] = {
	{ "\"0\"", 1 },
	{ "\"0.0\"", 1 },
	{ "\"0.00\"", 1 },
	{ "\"0.000000\"", 1 },
	{ "0", 1 },
	{ "0.0", 1 },
	{ "-0", 1 },
	{ NULL, 0 },
	{ "null", 0 },
	{ "\"\"", 0 },
	{ "\"-1\"", 0 },
	{ "-1", 0 },
	{ "\"abc\"", 0 },
	{ "\"0x0\"", 0 },
	{ "\" 0\"", 0 },
	{ "\"0 \"", 0 },
	{ "\"1e-9\"", 0 },
	{ "1e-9", 0 },
	{ "\"0e0\"", 0 },
	{ "\"0.\"", 0 },
	{ "\".0\"", 0 },
	{ "\"00\"", 0 },
	{ "\"-0\"", 0 },
	{ "\"+0\"", 0 },
	{ "\"0.01\"", 0 },
	{ "\"0.0000001\"", 0 },
	{ "\"0.00000045\"", 0 },
	{ "0.0000001", 0 },
	{ "1", 0 },
	{ "18446744073709551615", 0 },
	{ "\"0\\u0000\"", 0 },
	{ "true", 0 },
	{ "false", 0 },
	{ "[]", 0 },
	{ "[\"0\"]", 0 },
	{ "{}", 0 },
};

static struct json_object *
parse_value(const char *json)
{
	struct json_object *v;

	if (json == NULL || strcmp(json, "null") == 0)
		return NULL;
	v = json_tokener_parse(json);
	assert_non_null(v);
	return v;
}

static void
test_price_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(price_cases); i++) {
		struct json_object *v = parse_value(price_cases[i].json);
		int got = openrouter_price_is_zero(v);

		if (got != price_cases[i].zero)
			fail_msg("price %s: got %d, want %d",
			    price_cases[i].json ? price_cases[i].json : "absent",
			    got, price_cases[i].zero);
		json_object_put(v);
	}
}

static void
test_is_free_needs_both(void **state)
{
	struct json_object *zero = json_object_new_string("0");
	struct json_object *paid = json_object_new_string("-1");

	(void)state;
	assert_int_equal(openrouter_is_free(zero, zero), 1);
	assert_int_equal(openrouter_is_free(zero, NULL), 0);
	assert_int_equal(openrouter_is_free(NULL, zero), 0);
	assert_int_equal(openrouter_is_free(NULL, NULL), 0);
	assert_int_equal(openrouter_is_free(zero, paid), 0);
	assert_int_equal(openrouter_is_free(paid, zero), 0);
	json_object_put(zero);
	json_object_put(paid);
}

static char *
read_fixture(size_t *len)
{
	FILE *f = fopen(FIXTURE, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (f == NULL)
		fail_msg("cannot open %s (run from the source tree)", FIXTURE);
	buf_init(&b, 64 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	*len = b.len;
	return b.data;
}

static const struct openrouter_model *
find(const struct openrouter_catalog *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->models[i].id, id) == 0)
			return &c->models[i];
	return NULL;
}

static void
test_fixture(void **state)
{
	struct openrouter_catalog c;
	const struct openrouter_model *m;
	char err[256] = "";
	size_t len;
	char *body = read_fixture(&len);

	(void)state;
	if (openrouter_parse(body, len, &c, err, sizeof(err)) != 0)
		fail_msg("fixture refused: %s", err);
	assert_int_equal(c.total, 414);
	assert_int_equal(c.n, 20);

	m = find(&c, "openai/gpt-oss-20b:free");
	assert_non_null(m);
	assert_string_equal(m->name, "OpenAI: gpt-oss-20b (free)");
	assert_int_equal(m->created, 1754414229);
	assert_int_equal(m->context_length, 131072);
	assert_int_equal(m->max_completion_tokens, 32768);
	assert_string_equal(m->modality, "text->text");
	assert_int_equal(m->input_modalities.n, 1);
	assert_string_equal(m->input_modalities.v[0], "text");
	assert_int_equal(m->supported_parameters.n, 18);
	assert_string_equal(m->supported_parameters.v[17], "top_p");
	assert_int_equal(m->is_moderated, 0);
	assert_non_null(m->description);

	/* top_provider.max_completion_tokens is null here. */
	m = find(&c, "openrouter/free");
	assert_non_null(m);
	assert_int_equal(m->max_completion_tokens, -1);
	assert_int_equal(m->context_length, 200000);

	/* Free without ":free" in the id: the rule reads prices only. */
	assert_non_null(find(&c, "google/lyria-3-pro-preview"));
	/* Paid ("-1" means variable pricing) is not free. */
	assert_null(find(&c, "openrouter/auto"));

	openrouter_catalog_free(&c);
	free(body);
}

static int
parse_str(const char *s, struct openrouter_catalog *c, char *err,
    size_t errsz)
{
	return openrouter_parse(s, strlen(s), c, err, errsz);
}

static void
test_nulls_and_name_fallback(void **state)
{
	static const char payload[] = "{\"data\":["
	    "{\"id\":\"a/null\",\"name\":null,\"created\":null,"
	    "\"context_length\":null,\"description\":null,"
	    "\"architecture\":null,\"top_provider\":null,"
	    "\"supported_parameters\":null,"
	    "\"pricing\":{\"prompt\":\"0\",\"completion\":0}},"
	    "{\"id\":\"b/absent\",\"pricing\":{\"prompt\":\"0.0\","
	    "\"completion\":\"0.00\"}},"
	    "{\"id\":\"c/empty-name\",\"name\":\"\","
	    "\"architecture\":{\"modality\":null,\"input_modalities\":[]},"
	    "\"top_provider\":{\"is_moderated\":true,"
	    "\"max_completion_tokens\":null,\"context_length\":null},"
	    "\"pricing\":{\"prompt\":\"0\",\"completion\":\"0\"}},"
	    "{\"id\":\"d/paid\",\"pricing\":{\"prompt\":\"0\","
	    "\"completion\":\"0.000001\"}},"
	    "{\"id\":\"e/odd-pricing\",\"pricing\":\"free\"},"
	    "{\"id\":\"f/no-pricing\"}"
	    "],\"total_count\":6}";
	struct openrouter_catalog c;
	char err[256] = "";
	size_t i;

	(void)state;
	if (parse_str(payload, &c, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(c.total, 6);
	assert_int_equal(c.n, 3);
	for (i = 0; i < c.n; i++) {
		const struct openrouter_model *m = &c.models[i];

		/* No name, a null one or an empty one: the id stands in. */
		assert_string_equal(m->name, m->id);
		assert_int_equal(m->created, -1);
		assert_int_equal(m->context_length, -1);
		assert_int_equal(m->max_completion_tokens, -1);
		assert_null(m->description);
		assert_null(m->modality);
		assert_int_equal(m->input_modalities.n, 0);
		assert_int_equal(m->output_modalities.n, 0);
		assert_int_equal(m->supported_parameters.n, 0);
	}
	assert_int_equal(c.models[0].is_moderated, -1);
	assert_int_equal(c.models[2].is_moderated, 1);
	openrouter_catalog_free(&c);
}

static void
test_empty_data(void **state)
{
	struct openrouter_catalog c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse_str(" {\"data\":[]}\n", &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.total, 0);
	assert_int_equal(c.n, 0);
	openrouter_catalog_free(&c);
}

struct hostile_case {
	const char *body;
	const char *reason; /* expected start of the reason */
};

#define FREE_PRICE "\"pricing\":{\"prompt\":\"0\",\"completion\":\"0\"}"

static const struct hostile_case hostile_cases[] = {
	{ "not json", "not JSON: " },
	{ "<html>502 Bad Gateway</html>", "not JSON: " },
	{ "   ", "not JSON: " },
	{ "[]", "not a JSON object" },
	{ "0", "not a JSON object" },
	{ "\"data\"", "not a JSON object" },
	{ "{}", "data is missing or not an array" },
	{ "{\"data\":{}}", "data is missing or not an array" },
	{ "{\"data\":null}", "data is missing or not an array" },
	{ "{\"data\":\"[]\"}", "data is missing or not an array" },
	{ "{\"data\":[]} x", "not JSON: " },
	{ "{\"data\":[]}{}", "not JSON: " },
	{ "{\"data\":[", "not JSON: " },
	{ "{\"data\":[1]}", "model 0: is not an object" },
	{ "{\"data\":[null]}", "model 0: is not an object" },
	{ "{\"data\":[{}]}", "model 0: id is missing or not a string" },
	{ "{\"data\":[{\"id\":\"a\"},{\"name\":\"b\"}]}",
	    "model 1: id is missing or not a string" },
	{ "{\"data\":[{\"id\":1}]}", "model 0: id is missing or not a string" },
	{ "{\"data\":[{\"id\":null}]}",
	    "model 0: id is missing or not a string" },
	{ "{\"data\":[{\"id\":[\"a\"]}]}",
	    "model 0: id is missing or not a string" },
	{ "{\"data\":[{\"id\":\"\"}]}", "model 0: id is empty" },
	{ "{\"data\":[{\"id\":\"a\\u0000b\"}]}",
	    "model 0: id contains a NUL character" },
	{ "{\"data\":[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":\"a\"}]}",
	    "model 2: id is a duplicate of model 0's" },
	{ "{\"data\":[{\"id\":\"a\",\"context_length\":\"big\"}]}",
	    "model 0: context_length is not an integer" },
	{ "{\"data\":[{\"id\":\"a\",\"context_length\":4096.0}]}",
	    "model 0: context_length is not an integer" },
	{ "{\"data\":[{\"id\":\"a\",\"context_length\":true}]}",
	    "model 0: context_length is not an integer" },
	{ "{\"data\":[{\"id\":\"a\",\"context_length\":-1}]}",
	    "model 0: context_length is out of range" },
	{ "{\"data\":[{\"id\":\"a\",\"context_length\":"
	    "99999999999999999999}]}",
	    "model 0: context_length is out of range" },
	{ "{\"data\":[{\"id\":\"a\",\"created\":\"1754414229\"}]}",
	    "model 0: created is not an integer" },
	{ "{\"data\":[{\"id\":\"a\",\"created\":1e10}]}",
	    "model 0: created is not an integer" },
	{ "{\"data\":[{\"id\":\"a\",\"created\":999999999999999}]}",
	    "model 0: created is out of range" },
	{ "{\"data\":[{\"id\":\"a\",\"name\":5}]}",
	    "model 0: name is not a string" },
	{ "{\"data\":[{\"id\":\"a\",\"description\":{}}]}",
	    "model 0: description is not a string" },
	{ "{\"data\":[{\"id\":\"a\",\"supported_parameters\":[1]}]}",
	    "model 0: supported_parameters is not an array of strings" },
	{ "{\"data\":[{\"id\":\"a\",\"supported_parameters\":\"tools\"}]}",
	    "model 0: supported_parameters is not an array of strings" },
	{ "{\"data\":[{\"id\":\"a\",\"supported_parameters\":[\"x\",null]}]}",
	    "model 0: supported_parameters is not an array of strings" },
	{ "{\"data\":[{\"id\":\"a\",\"architecture\":\"text\"}]}",
	    "model 0: architecture is not an object" },
	{ "{\"data\":[{\"id\":\"a\",\"architecture\":{\"modality\":1}}]}",
	    "model 0: architecture.modality is not a string" },
	{ "{\"data\":[{\"id\":\"a\",\"architecture\":"
	    "{\"input_modalities\":[[\"text\"]]}}]}",
	    "model 0: architecture.input_modalities is not an array of "
	    "strings" },
	{ "{\"data\":[{\"id\":\"a\",\"architecture\":"
	    "{\"output_modalities\":{}}}]}",
	    "model 0: architecture.output_modalities is not an array of "
	    "strings" },
	{ "{\"data\":[{\"id\":\"a\",\"top_provider\":[]}]}",
	    "model 0: top_provider is not an object" },
	{ "{\"data\":[{\"id\":\"a\",\"top_provider\":"
	    "{\"max_completion_tokens\":\"8192\"}}]}",
	    "model 0: top_provider.max_completion_tokens is not an integer" },
	{ "{\"data\":[{\"id\":\"a\",\"top_provider\":"
	    "{\"is_moderated\":\"false\"}}]}",
	    "model 0: top_provider.is_moderated is not a boolean" },
	{ "{\"data\":[{\"id\":\"a\",\"top_provider\":"
	    "{\"is_moderated\":0}}]}",
	    "model 0: top_provider.is_moderated is not a boolean" },
	/* Free or not, a model with a wrong type refuses the payload. */
	{ "{\"data\":[{\"id\":\"a\"," FREE_PRICE ",\"name\":[]}]}",
	    "model 0: name is not a string" },
	/* Raw bytes must be UTF-8 (json-c turns a lone \ud800 into U+FFFD). */
	{ "{\"data\":[{\"id\":\"\xff\"}]}", "not JSON: " },
};

static void
test_hostile_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(hostile_cases); i++) {
		const struct hostile_case *h = &hostile_cases[i];
		struct openrouter_catalog c;
		char err[256] = "";

		if (parse_str(h->body, &c, err, sizeof(err)) == 0)
			fail_msg("case %zu accepted: %s", i, h->body);
		if (strncmp(err, h->reason, strlen(h->reason)) != 0)
			fail_msg("case %zu: reason \"%s\", want \"%s...\"", i,
			    err, h->reason);
		assert_null(strchr(err, '\n'));
		assert_null(c.models);
		assert_int_equal(c.n, 0);
	}
}

static void
test_zero_length(void **state)
{
	struct openrouter_catalog c;
	char err[256] = "";

	(void)state;
	assert_int_equal(openrouter_parse("", 0, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "empty body");
	/* Bytes past len are never read. */
	assert_int_equal(openrouter_parse("{\"data\":[]}", 0, &c, err,
	    sizeof(err)), -1);
}

static void
test_deep_nesting(void **state)
{
	size_t depth = 10000, i, n = 0;
	char *s = xmalloc(2 * depth + 32);
	struct openrouter_catalog c;
	char err[256] = "";

	(void)state;
	memcpy(s, "{\"data\":", 8);
	n = 8;
	for (i = 0; i < depth; i++)
		s[n++] = '[';
	for (i = 0; i < depth; i++)
		s[n++] = ']';
	s[n++] = '}';
	assert_int_equal(openrouter_parse(s, n, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not JSON: nesting too deep"));
	free(s);
}

static void
test_truncated_fixture(void **state)
{
	size_t len, cuts[] = { 1, 100, 0, 0 }, i;
	char *body = read_fixture(&len);
	struct openrouter_catalog c;
	char err[256];

	(void)state;
	cuts[2] = len / 2;
	cuts[3] = len - 2; /* just before the closing brace */
	for (i = 0; i < NELEM(cuts); i++) {
		err[0] = '\0';
		assert_int_equal(openrouter_parse(body, cuts[i], &c, err,
		    sizeof(err)), -1);
		if (strncmp(err, "not JSON: ", 10) != 0)
			fail_msg("cut at %zu: %s", cuts[i], err);
	}
	free(body);
}

/* A short err buffer truncates the reason but stays terminated. */
static void
test_small_err_buffer(void **state)
{
	struct openrouter_catalog c;
	char err[8];

	(void)state;
	assert_int_equal(parse_str("{}", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "data is");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_price_table),
		cmocka_unit_test(test_is_free_needs_both),
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_nulls_and_name_fallback),
		cmocka_unit_test(test_empty_data),
		cmocka_unit_test(test_hostile_table),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_truncated_fixture),
		cmocka_unit_test(test_small_err_buffer),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
