/*
 * OpenRouter's endpoint statistics: the path of a model id, the fold
 * of good answers, and a table of hostile answers, each refused with
 * its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "endpoints.h"
#include "util.h"

struct path_case {
	const char *id;
	const char *path; /* NULL: refused */
};

static const struct path_case path_cases[] = {
	{ "openai/gpt-oss-20b:free",
	    "/models/openai/gpt-oss-20b:free/endpoints" },
	{ "openrouter/free", "/models/openrouter/free/endpoints" },
	{ "google/lyria-3-pro-preview",
	    "/models/google/lyria-3-pro-preview/endpoints" },
	{ "~x/a_b.c", "/models/~x/a_b.c/endpoints" },
	{ "a b/c?d", "/models/a%20b/c%3Fd/endpoints" },
	{ "a/%2e%2e", "/models/a/%252e%252e/endpoints" },
	{ "a/b#c", "/models/a/b%23c/endpoints" },
	{ "caf\xc3\xa9/x", "/models/caf%C3%A9/x/endpoints" },
	{ "a/b&c=d", "/models/a/b%26c%3Dd/endpoints" },
	{ "noslash", NULL },
	{ "a/b/c", NULL },
	{ "/b", NULL },
	{ "a/", NULL },
	{ "/", NULL },
	{ "", NULL },
	{ "../x", NULL },
	{ "a/..", NULL },
	{ "./x", NULL },
	{ "a/.", NULL },
};

static void
test_paths(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < NELEM(path_cases); i++) {
		int rc;

		buf_reset(&b);
		rc = endpoints_path(&b, path_cases[i].id);
		if (path_cases[i].path == NULL) {
			if (rc != -1)
				fail_msg(
				    "id \"%s\" accepted", path_cases[i].id);
			continue;
		}
		if (rc != 0)
			fail_msg("id \"%s\" refused", path_cases[i].id);
		assert_string_equal(b.data, path_cases[i].path);
	}
	buf_free(&b);
	buf_init(&b, 16);
	assert_int_equal(endpoints_path(&b, "openai/gpt-oss-20b:free"), -2);
	buf_free(&b);
}

static int
parse_str(const char *s, struct endpoint_stats *st, char *err, size_t errsz)
{
	return endpoints_parse(s, strlen(s), st, err, errsz);
}

#define ENDPOINT(provider, up5, up30, up1d, lat, thr)                          \
	"{\"provider_name\":" provider ",\"status\":0,\"uptime_last_5m\":" up5 \
	",\"uptime_last_30m\":" up30 ",\"uptime_last_1d\":" up1d               \
	",\"latency_last_30m\":" lat ",\"throughput_last_30m\":" thr           \
	",\"pricing\":{\"prompt\":\"0\"},\"tag\":\"x\"}"

static void
test_fold(void **state)
{
	static const char body[] =
	    "{\"data\":{\"id\":\"a/"
	    "b:free\",\"endpoints\":[" ENDPOINT("\"Chutes\"", "99.5", "97",
	        "90.25",
	        "{\"p50\":420.5,\"p75\":600,\"p90\":900,"
	        "\"p99\":2000}",
	        "{\"p50\":45.2,\"p75\":40,\"p90\":30,"
	        "\"p99\":10}") "," ENDPOINT("\"OpenInfer"
	                                    "ence\"",
	        "100", "null", "95", "{\"p50\":300,\"p75\":null}",
	        "{\"p50\":20}") "," ENDPOINT("\"Chutes"
	                                     "\"",
	        "0", "98.5", "null", "null", "null") "]}}";
	struct endpoint_stats st;
	char err[256] = "";

	(void)state;
	if (parse_str(body, &st, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(st.endpoints, 3);
	assert_true(st.uptime_5m == 100.0);
	assert_true(st.uptime_30m == 98.5);
	assert_true(st.uptime_1d == 95.0);
	assert_true(st.latency_p50_ms == 300.0);
	assert_true(st.throughput_p50 == 45.2);
	assert_int_equal(st.nproviders, 2);
	assert_string_equal(st.providers[0], "Chutes");
	assert_string_equal(st.providers[1], "OpenInference");
	endpoints_free(&st);
	assert_int_equal(st.nproviders, 0);
	endpoints_free(&st);
	endpoints_free(NULL);
}

static void
test_no_figures(void **state)
{
	/* Without a key latency is null; an endpoint may give nothing. */
	static const char *const bodies[] = {
		"{\"data\":{\"endpoints\":[]}}",
		"{\"data\":{\"endpoints\":[{}]}}",
		"{\"data\":{\"endpoints\":[{\"latency_last_30m\":null,"
		"\"throughput_last_30m\":null,\"uptime_last_30m\":null,"
		"\"provider_name\":null,\"status\":null}]}}",
		"{\"data\":{\"endpoints\":[{\"latency_last_30m\":{},"
		"\"throughput_last_30m\":{\"p99\":5}}]}}",
	};
	struct endpoint_stats st;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bodies); i++) {
		if (parse_str(bodies[i], &st, err, sizeof(err)) != 0)
			fail_msg("body %zu refused: %s", i, err);
		assert_int_equal(st.endpoints, i == 0 ? 0 : 1);
		assert_true(st.uptime_5m == -1 && st.uptime_30m == -1 &&
		    st.uptime_1d == -1);
		assert_true(st.latency_p50_ms == -1 && st.throughput_p50 == -1);
		assert_int_equal(st.nproviders, 0);
		endpoints_free(&st);
	}
}

static void
test_edges(void **state)
{
	static const char body[] =
	    "{\"data\":{\"endpoints\":["
	    "{\"uptime_last_5m\":0,\"uptime_last_30m\":100,"
	    "\"uptime_last_1d\":1e2,\"status\":\"default\","
	    "\"latency_last_30m\":{\"p50\":0},"
	    "\"throughput_last_30m\":{\"p50\":1000000}},"
	    "{\"status\":-10,\"latency_last_30m\":{\"p50\":3600000}}]}}";
	struct endpoint_stats st;
	char err[256];

	(void)state;
	if (parse_str(body, &st, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_true(
	    st.uptime_5m == 0 && st.uptime_30m == 100 && st.uptime_1d == 100);
	assert_true(st.latency_p50_ms == 0);
	assert_true(st.throughput_p50 == 1000000);
	endpoints_free(&st);
}

struct bad_case {
	const char *body;
	const char *reason; /* a prefix of the reason */
};

#define ONE(e) "{\"data\":{\"endpoints\":[{\"provider_name\":\"P\"}," e "]}}"

static const struct bad_case bad_cases[] = {
	{ "", "empty body" },
	{ "not json", "not JSON: " },
	{ "<html>502</html>", "not JSON: " },
	{ "{\"data\":{\"endpoints\":[]}} x", "not JSON: " },
	{ "{\"data\":{\"endpoints\":[{\"uptime_last_30m\":NaN}]}}",
	    "not JSON: " },
	{ "{\"data\":{\"endpoints\":[{\"uptime_last_30m\":Infinity}]}}",
	    "not JSON: " },
	{ "{\"data\":{\"endpoints\":[{\"provider_name\":\"\xff\"}]}}",
	    "not JSON: " },
	{ "null", "not JSON: " },
	{ "[]", "not a JSON object" },
	{ "\"data\"", "not a JSON object" },
	{ "{}", "data is missing or not an object" },
	{ "{\"data\":null}", "data is missing or not an object" },
	{ "{\"data\":[]}", "data is missing or not an object" },
	{ "{\"data\":{}}", "data.endpoints is missing or not an array" },
	{ "{\"data\":{\"endpoints\":{}}}",
	    "data.endpoints is missing or not an array" },
	{ "{\"data\":{\"endpoints\":\"[]\"}}",
	    "data.endpoints is missing or not an array" },
	{ ONE("1"), "endpoint 1: is not an object" },
	{ ONE("[]"), "endpoint 1: is not an object" },
	{ ONE("null"), "endpoint 1: is not an object" },
	{ ONE("{\"uptime_last_30m\":150}"),
	    "endpoint 1: uptime_last_30m is out of range" },
	{ ONE("{\"uptime_last_5m\":100.0001}"),
	    "endpoint 1: uptime_last_5m is out of range" },
	{ ONE("{\"uptime_last_1d\":-0.5}"),
	    "endpoint 1: uptime_last_1d is out of range" },
	/* The JSON check refuses a number no double holds. */
	{ ONE("{\"uptime_last_1d\":1e999}"), "not JSON: number out of range" },
	{ ONE("{\"uptime_last_30m\":\"99.5\"}"),
	    "endpoint 1: uptime_last_30m is not a number" },
	{ ONE("{\"uptime_last_30m\":true}"),
	    "endpoint 1: uptime_last_30m is not a number" },
	{ ONE("{\"uptime_last_30m\":[99]}"),
	    "endpoint 1: uptime_last_30m is not a number" },
	{ ONE("{\"latency_last_30m\":0.25}"),
	    "endpoint 1: latency_last_30m is not an object" },
	{ ONE("{\"latency_last_30m\":[1,2]}"),
	    "endpoint 1: latency_last_30m is not an object" },
	{ ONE("{\"latency_last_30m\":{\"p50\":\"fast\"}}"),
	    "endpoint 1: latency_last_30m.p50 is not a number" },
	{ ONE("{\"latency_last_30m\":{\"p50\":-5}}"),
	    "endpoint 1: latency_last_30m.p50 is out of range" },
	{ ONE("{\"latency_last_30m\":{\"p50\":1,\"p99\":3600001}}"),
	    "endpoint 1: latency_last_30m.p99 is out of range" },
	{ ONE("{\"latency_last_30m\":{\"p90\":-1e-9}}"),
	    "endpoint 1: latency_last_30m.p90 is out of range" },
	{ ONE("{\"throughput_last_30m\":{\"p50\":2e6}}"),
	    "endpoint 1: throughput_last_30m.p50 is out of range" },
	{ ONE("{\"throughput_last_30m\":{\"p75\":{}}}"),
	    "endpoint 1: throughput_last_30m.p75 is not a number" },
	{ ONE("{\"throughput_last_30m\":45}"),
	    "endpoint 1: throughput_last_30m is not an object" },
	{ ONE("{\"provider_name\":42}"),
	    "endpoint 1: provider_name is not a string" },
	{ ONE("{\"provider_name\":\"\"}"),
	    "endpoint 1: provider_name is empty or too long" },
	{ ONE("{\"provider_name\":\"a\\u0001b\"}"),
	    "endpoint 1: provider_name contains a control character" },
	{ ONE("{\"provider_name\":\"a\\u0000b\"}"),
	    "endpoint 1: provider_name contains a control character" },
	{ ONE("{\"provider_name\":\"a\\nb\"}"),
	    "endpoint 1: provider_name contains a control character" },
	{ ONE("{\"status\":[]}"),
	    "endpoint 1: status is not an integer or a string" },
	{ ONE("{\"status\":true}"),
	    "endpoint 1: status is not an integer or a string" },
	{ ONE("{\"status\":0.5}"),
	    "endpoint 1: status is not an integer or a string" },
};

static void
test_bad_table(void **state)
{
	struct endpoint_stats st;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad_cases); i++) {
		err[0] = '\0';
		if (parse_str(bad_cases[i].body, &st, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted: %s", i, bad_cases[i].body);
		if (strncmp(err, bad_cases[i].reason,
		        strlen(bad_cases[i].reason)) != 0)
			fail_msg("case %zu: reason \"%s\", want \"%s\"", i, err,
			    bad_cases[i].reason);
		assert_int_equal(st.nproviders, 0);
		assert_null(st.providers);
	}
}

/* Big answers: a long provider name, too many endpoints, deep nesting. */
static void
test_big(void **state)
{
	struct endpoint_stats st;
	struct buf b;
	char err[256], name[300];
	int i;

	(void)state;
	buf_init(&b, 1 << 20);
	memset(name, 'n', 257);
	name[257] = '\0';
	assert_int_equal(
	    buf_printf(&b,
	        "{\"data\":{\"endpoints\":[{\"provider_name\":\"%s\"}]}}",
	        name),
	    0);
	assert_int_equal(
	    endpoints_parse(b.data, b.len, &st, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "endpoint 0: provider_name is empty or too long");
	name[256] = '\0';
	buf_reset(&b);
	assert_int_equal(
	    buf_printf(&b,
	        "{\"data\":{\"endpoints\":[{\"provider_name\":\"%s\"}]}}",
	        name),
	    0);
	assert_int_equal(
	    endpoints_parse(b.data, b.len, &st, err, sizeof(err)), 0);
	endpoints_free(&st);

	for (i = ENDPOINTS_MAX; i <= ENDPOINTS_MAX + 1; i++) {
		int k;

		buf_reset(&b);
		assert_int_equal(buf_puts(&b, "{\"data\":{\"endpoints\":["), 0);
		for (k = 0; k < i; k++)
			assert_int_equal(buf_puts(&b, k ? ",{}" : "{}"), 0);
		assert_int_equal(buf_puts(&b, "]}}"), 0);
		assert_int_equal(
		    endpoints_parse(b.data, b.len, &st, err, sizeof(err)),
		    i == ENDPOINTS_MAX ? 0 : -1);
		if (i == ENDPOINTS_MAX)
			assert_int_equal(st.endpoints, ENDPOINTS_MAX);
		else
			assert_string_equal(err, "more than 1000 endpoints");
		endpoints_free(&st);
	}

	buf_reset(&b);
	assert_int_equal(buf_puts(&b, "{\"data\":{\"endpoints\":["), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(buf_putc(&b, '['), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(buf_putc(&b, ']'), 0);
	assert_int_equal(buf_puts(&b, "]}}"), 0);
	assert_int_equal(
	    endpoints_parse(b.data, b.len, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not JSON: "));
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_no_figures),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_bad_table),
		cmocka_unit_test(test_big),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
