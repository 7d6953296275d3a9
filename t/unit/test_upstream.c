/*
 * The upstream parsers: ISO 8601 times, an instance's export (a good
 * one, then a table of hostile ones, then the caps) and the hosted
 * service's health answer (the same).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "upstream.h"
#include "util.h"

/* 2026-12-01T12:00:00Z, the tests' present. */
#define NOW_S 1796126400LL

struct time_case {
	const char *s;
	int64_t ms; /* -1: refused */
};

static const struct time_case time_cases[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "1970-01-01T00:00:00.000Z", 0 },
	{ "1970-01-01T00:00:01.250Z", 1250 },
	{ "2000-01-01T00:00:00.000Z", 946684800000LL },
	{ "2000-02-29T00:00:00Z", 951782400000LL },
	{ "2024-02-29T23:59:59Z", 1709251199000LL },
	{ "2026-12-01T12:00:00.000Z", NOW_S * 1000 },
	{ "2100-03-01T00:00:00Z", 4107542400000LL },
	{ "9999-12-31T23:59:59.999Z", 253402300799999LL },
	{ "1969-12-31T23:59:59Z", -1 },
	{ "2026-13-01T00:00:00Z", -1 },
	{ "2026-00-01T00:00:00Z", -1 },
	{ "2026-04-31T00:00:00Z", -1 },
	{ "2025-02-29T00:00:00Z", -1 },
	{ "2100-02-29T00:00:00Z", -1 },
	{ "2026-12-01T24:00:00Z", -1 },
	{ "2026-12-01T10:60:00Z", -1 },
	{ "2026-12-01T10:00:60Z", -1 },
	{ "2026-12-01 10:00:00Z", -1 },
	{ "2026-12-01T10:00:00", -1 },
	{ "2026-12-01T10:00:00+00:00", -1 },
	{ "2026-12-01T10:00:00.0Z", -1 },
	{ "2026-12-01T10:00:00.00Z", -1 },
	{ "2026-12-01T10:00:00.0000Z", -1 },
	{ "2026-12-01T10:00:00,000Z", -1 },
	{ "2026-12-01t10:00:00Z", -1 },
	{ "2026-12-01T10:00:00z", -1 },
	{ "+026-12-01T10:00:00Z", -1 },
	{ "2026-1-01T10:00:00.000Z", -1 },
	{ " 2026-12-01T10:00:00Z", -1 },
	{ "", -1 },
};

static void
test_times(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(time_cases); i++) {
		int64_t ms = -7;
		int rc = upstream_parse_time(
		    time_cases[i].s, strlen(time_cases[i].s), &ms);

		if (time_cases[i].ms < 0) {
			if (rc != -1)
				fail_msg("\"%s\" accepted", time_cases[i].s);
			continue;
		}
		if (rc != 0 || ms != time_cases[i].ms)
			fail_msg("\"%s\": rc %d, %lld ms", time_cases[i].s, rc,
			    (long long)ms);
	}
}

#define HEAD                                                                   \
	"{\"format\":\"flr-federation/1\",\"generatedAt\":"                    \
	"\"2026-12-01T11:59:30.123Z\",\"columns\":[\"grain\",\"bucket\","      \
	"\"modelId\",\"success\",\"rateLimited\",\"unavailable\",\"error\"]"

static int
export_str(const char *s, struct upstream_export *e, char *err, size_t errsz)
{
	return upstream_parse_export(s, strlen(s), NOW_S, e, err, errsz);
}

static void
test_export(void **state)
{
	static const char body[] = HEAD
	    ",\"rows\":["
	    "[60,\"2026-12-01T10:07:00.000Z\",\"openai/"
	    "gpt-oss-20b:free\",3,0,1,0],"
	    "[3600,\"2026-12-01T10:00:00.000Z\",\"openai/gpt-oss-20b:free\","
	    "30,2,1,0],"
	    "[86400,\"2026-11-30T00:00:00Z\",\"b/x\",1000000000,0,0,7],"
	    "[60,\"2026-12-01T10:06:00.000Z\",\"openai/"
	    "gpt-oss-20b:free\",1,1,1,1]"
	    "],\"extra\":{\"ignored\":true}}";
	struct upstream_export e;
	char err[256] = "";

	(void)state;
	if (export_str(body, &e, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(e.n, 4);
	assert_int_equal(e.nids, 2);
	assert_string_equal(e.ids[0], "b/x");
	assert_string_equal(e.ids[1], "openai/gpt-oss-20b:free");
	assert_int_equal(e.generated_ms, NOW_S * 1000 - 29877);
	/* Sorted by model, grain, bucket. */
	assert_string_equal(e.rows[0].model_id, "b/x");
	assert_int_equal(e.rows[0].grain, 86400);
	assert_int_equal(e.rows[0].success, 1000000000);
	assert_int_equal(e.rows[0].error, 7);
	assert_int_equal(e.rows[1].grain, 60);
	assert_int_equal(e.rows[1].bucket_s, NOW_S - 2 * 3600 + 6 * 60);
	assert_int_equal(e.rows[1].rate_limited, 1);
	assert_int_equal(e.rows[2].bucket_s, NOW_S - 2 * 3600 + 7 * 60);
	assert_int_equal(e.rows[2].success, 3);
	assert_int_equal(e.rows[2].unavailable, 1);
	assert_int_equal(e.rows[3].grain, 3600);
	assert_ptr_equal(e.rows[3].model_id, e.ids[1]);
	upstream_export_free(&e);
	upstream_export_free(&e);
	upstream_export_free(NULL);

	/* No rows at all is a good export: nobody reported. */
	assert_int_equal(
	    export_str(HEAD ",\"rows\":[]}", &e, err, sizeof(err)), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(e.nids, 0);
	upstream_export_free(&e);
}

struct bad_case {
	const char *body;
	const char *reason; /* a prefix of it */
};

#define ROWS(r)                                                                \
	HEAD ",\"rows\":[[60,\"2026-12-01T10:00:00Z\",\"a/b\",1,0,0,0]," r "]" \
	                                                                   "}"

static const struct bad_case export_bad[] = {
	{ "", "empty body" },
	{ "<html></html>", "not JSON: " },
	{ "{\"format\":\"flr-federation/1\"", "not JSON: " },
	{ HEAD ",\"rows\":[]} trailing", "not JSON: " },
	{ "[]", "not a JSON object" },
	{ "{}", "format is not \"flr-federation/1\"" },
	{ "{\"format\":\"flr-federation/2\"}", "format is not" },
	{ "{\"format\":\"flr-federation/1 \"}", "format is not" },
	{ "{\"format\":\"flr-federation/1\\u0000\"}", "format is not" },
	{ "{\"format\":1}", "format is not" },
	{ "{\"format\":\"flr-federation/1\",\"generatedAt\":\"yesterday\"}",
	    "generatedAt is not an ISO 8601 time" },
	{ "{\"format\":\"flr-federation/1\",\"generatedAt\":1796126400}",
	    "generatedAt is not" },
	{ "{\"format\":\"flr-federation/1\",\"generatedAt\":"
	  "\"2026-12-01T11:59:30Z\",\"columns\":[\"grain\"]}",
	    "columns are not the 7 expected" },
	{ "{\"format\":\"flr-federation/1\",\"generatedAt\":"
	  "\"2026-12-01T11:59:30Z\",\"columns\":\"grain,bucket\"}",
	    "columns are not the 7 expected" },
	{ "{\"format\":\"flr-federation/1\",\"generatedAt\":"
	  "\"2026-12-01T11:59:30Z\",\"columns\":[\"grain\",\"bucket\","
	  "\"modelId\",\"success\",\"unavailable\",\"rateLimited\",\"error\"]}",
	    "column 4 is not \"rateLimited\"" },
	{ "{\"format\":\"flr-federation/1\",\"generatedAt\":"
	  "\"2026-12-01T11:59:30Z\",\"columns\":[\"grain\",\"bucket\","
	  "\"modelId\",\"success\",\"rateLimited\",\"unavailable\",7]}",
	    "column 6 is not \"error\"" },
	{ HEAD "}", "rows is missing or not an array" },
	{ HEAD ",\"rows\":{}}", "rows is missing or not an array" },
	{ HEAD ",\"rows\":null}", "rows is missing or not an array" },
	{ ROWS("{}"), "row 1: is not an array of 7 values" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0]"),
	    "row 1: is not an array of 7 values" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,0,0]"),
	    "row 1: is not an array of 7 values" },
	{ ROWS("[61,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,0]"),
	    "row 1: grain is not 60, 3600 or 86400" },
	{ ROWS("[60.0,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,0]"),
	    "row 1: grain is not" },
	{ ROWS("[\"60\",\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,0]"),
	    "row 1: grain is not" },
	{ ROWS("[60,\"2026-12-01T10:00:30Z\",\"a/c\",1,0,0,0]"),
	    "row 1: bucket is not aligned to its grain" },
	{ ROWS("[60,\"2026-12-01T10:00:00.500Z\",\"a/c\",1,0,0,0]"),
	    "row 1: bucket is not aligned to its grain" },
	{ ROWS("[3600,\"2026-12-01T10:30:00Z\",\"a/c\",1,0,0,0]"),
	    "row 1: bucket is not aligned" },
	{ ROWS("[86400,\"2026-12-01T01:00:00Z\",\"a/c\",1,0,0,0]"),
	    "row 1: bucket is not aligned" },
	{ ROWS("[60,\"2026-12-01 10:00:00\",\"a/c\",1,0,0,0]"),
	    "row 1: bucket is not an ISO 8601 time" },
	{ ROWS("[60,1796119200,\"a/c\",1,0,0,0]"),
	    "row 1: bucket is not an ISO 8601 time" },
	{ ROWS("[60,\"2026-12-03T12:01:00Z\",\"a/c\",1,0,0,0]"),
	    "row 1: bucket is out of range" },
	{ ROWS("[86400,\"1999-12-31T00:00:00Z\",\"a/c\",1,0,0,0]"),
	    "row 1: bucket is out of range" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"\",1,0,0,0]"),
	    "row 1: modelId is not 1 to 256 bytes of printable text" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",42,1,0,0,0]"),
	    "row 1: modelId is not" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",null,1,0,0,0]"),
	    "row 1: modelId is not" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a\\u0000b\",1,0,0,0]"),
	    "row 1: modelId is not" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a\\nb\",1,0,0,0]"),
	    "row 1: modelId is not" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a\\u007fb\",1,0,0,0]"),
	    "row 1: modelId is not" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",-1,0,0,0]"),
	    "row 1: success is not an integer from 0 to 10^9" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,1000000001,0,0]"),
	    "row 1: rateLimited is not an integer from 0 to 10^9" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,2.0,0]"),
	    "row 1: unavailable is not an integer" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,\"3\"]"),
	    "row 1: error is not an integer" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,true]"),
	    "row 1: error is not an integer" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,"
	       "99999999999999999999999]"),
	    "row 1: error is not an integer" },
	{ ROWS("[60,\"2026-12-01T10:00:00Z\",\"a/c\",1,0,0,1e3]"),
	    "row 1: error is not an integer" },
	{ ROWS("[60,\"2026-12-01T10:00:00.000Z\",\"a/b\",5,0,0,0]"),
	    "row 1: the same model, grain and bucket as row 0" },
};

static void
test_export_bad(void **state)
{
	struct upstream_export e;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(export_bad); i++) {
		err[0] = '\0';
		if (export_str(export_bad[i].body, &e, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted", i);
		if (strncmp(err, export_bad[i].reason,
		        strlen(export_bad[i].reason)) != 0)
			fail_msg("case %zu: reason \"%s\", want \"%s\"", i, err,
			    export_bad[i].reason);
		assert_null(e.rows);
		assert_null(e.ids);
		assert_int_equal(e.n, 0);
	}
}

/* An export of n rows over m models (each model's minutes). */
static void
make_export(struct buf *b, size_t n, size_t m)
{
	size_t i;

	buf_reset(b);
	assert_int_equal(buf_puts(b, HEAD ",\"rows\":["), 0);
	for (i = 0; i < n; i++) {
		char when[25];

		format_iso8601(
		    (NOW_S - 60 * (int64_t)(i / m + 1)) * 1000, when);
		assert_int_equal(
		    buf_printf(b, "%s[60,\"%s\",\"m/%zu\",1,0,0,0]",
		        i ? "," : "", when, i % m),
		    0);
	}
	assert_int_equal(buf_puts(b, "]}"), 0);
}

static void
test_export_caps(void **state)
{
	struct upstream_export e;
	struct buf b;
	char err[256];

	(void)state;
	buf_init(&b, 64 << 20);
	make_export(&b, UPSTREAM_MAX_MODELS, UPSTREAM_MAX_MODELS);
	assert_int_equal(
	    upstream_parse_export(b.data, b.len, NOW_S, &e, err, sizeof(err)),
	    0);
	assert_int_equal(e.nids, UPSTREAM_MAX_MODELS);
	upstream_export_free(&e);
	make_export(&b, UPSTREAM_MAX_MODELS + 1, UPSTREAM_MAX_MODELS + 1);
	assert_int_equal(
	    upstream_parse_export(b.data, b.len, NOW_S, &e, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "more than 10000 models");
	make_export(&b, UPSTREAM_MAX_ROWS + 1, 50);
	assert_int_equal(
	    upstream_parse_export(b.data, b.len, NOW_S, &e, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "more than 500000 rows");
	assert_null(e.rows);
	buf_free(&b);
}

static int
health_str(const char *s, const char *range, struct upstream_rates *r,
    char *err, size_t errsz)
{
	return upstream_parse_health(s, strlen(s), range, r, err, errsz);
}

static void
test_health(void **state)
{
	static const char body[] =
	    "{\"issues\":["
	    "{\"modelId\":\"z/"
	    "last:free\",\"modelName\":\"Z\",\"errorRate\":12.5,"
	    "\"total\":3,\"successCount\":21},"
	    "{\"modelId\":\"a/first:free\",\"errorRate\":0},"
	    "{\"modelId\":\"m/mid\",\"errorRate\":100}],"
	    "\"timeline\":[{\"date\":\"2026-12-01 "
	    "10:00:00\",\"z/last:free\":12.5}],"
	    "\"range\":\"24h\",\"lastUpdated\":\"2026-12-01T12:00:00.000Z\","
	    "\"count\":3}";
	struct upstream_rates r;
	char err[256] = "";

	(void)state;
	if (health_str(body, "24h", &r, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(r.n, 3);
	assert_string_equal(r.v[0].model_id, "a/first:free");
	assert_true(r.v[0].error_rate == 0);
	assert_string_equal(r.v[1].model_id, "m/mid");
	assert_true(r.v[1].error_rate == 100);
	assert_true(r.v[2].error_rate == 12.5);
	upstream_rates_free(&r);
	upstream_rates_free(&r);
	upstream_rates_free(NULL);
	assert_int_equal(health_str("{\"issues\":[],\"range\":\"15m\"}", "15m",
	                     &r, err, sizeof(err)),
	    0);
	assert_int_equal(r.n, 0);
	upstream_rates_free(&r);
}

#define ISSUE(x) "{\"range\":\"24h\",\"issues\":[" x "]}"

static const struct bad_case health_bad[] = {
	{ "", "empty body" },
	{ "Not Found", "not JSON: " },
	{ "[]", "not a JSON object" },
	{ "{\"issues\":[]}", "range is not \"24h\"" },
	{ "{\"issues\":[],\"range\":\"7d\"}", "range is not \"24h\"" },
	{ "{\"issues\":[],\"range\":24}", "range is not \"24h\"" },
	{ "{\"range\":\"24h\"}", "issues is missing or not an array" },
	{ "{\"range\":\"24h\",\"issues\":{}}",
	    "issues is missing or not an array" },
	{ ISSUE("1"), "issue 0: is not an object" },
	{ ISSUE("{\"errorRate\":1}"),
	    "issue 0: modelId is not 1 to 256 bytes" },
	{ ISSUE("{\"modelId\":\"\",\"errorRate\":1}"),
	    "issue 0: modelId is not" },
	{ ISSUE("{\"modelId\":[\"a\"],\"errorRate\":1}"),
	    "issue 0: modelId is not" },
	{ ISSUE("{\"modelId\":\"a\\tb\",\"errorRate\":1}"),
	    "issue 0: modelId is not" },
	{ ISSUE("{\"modelId\":\"a\"}"),
	    "issue 0: errorRate is not a number from 0 to 100" },
	{ ISSUE("{\"modelId\":\"a\",\"errorRate\":null}"),
	    "issue 0: errorRate is not a number" },
	{ ISSUE("{\"modelId\":\"a\",\"errorRate\":\"12\"}"),
	    "issue 0: errorRate is not a number" },
	{ ISSUE("{\"modelId\":\"a\",\"errorRate\":-0.01}"),
	    "issue 0: errorRate is not a number from 0 to 100" },
	{ ISSUE("{\"modelId\":\"a\",\"errorRate\":100.5}"),
	    "issue 0: errorRate is not a number from 0 to 100" },
	{ ISSUE("{\"modelId\":\"a\",\"errorRate\":1e308}"),
	    "issue 0: errorRate is not a number from 0 to 100" },
	{ ISSUE("{\"modelId\":\"a\",\"errorRate\":NaN}"), "not JSON: " },
	{ ISSUE("{\"modelId\":\"a\",\"errorRate\":1},"
	        "{\"modelId\":\"b\",\"errorRate\":2},"
	        "{\"modelId\":\"a\",\"errorRate\":3}"),
	    "a model is listed twice" },
};

static void
test_health_bad(void **state)
{
	struct upstream_rates r;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(health_bad); i++) {
		err[0] = '\0';
		if (health_str(
		        health_bad[i].body, "24h", &r, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted", i);
		if (strncmp(err, health_bad[i].reason,
		        strlen(health_bad[i].reason)) != 0)
			fail_msg("case %zu: reason \"%s\", want \"%s\"", i, err,
			    health_bad[i].reason);
		assert_null(r.v);
		assert_int_equal(r.n, 0);
	}
}

static void
test_health_cap(void **state)
{
	struct upstream_rates r;
	struct buf b;
	char err[256];
	size_t n, i;

	(void)state;
	buf_init(&b, 8 << 20);
	for (n = UPSTREAM_MAX_MODELS; n <= UPSTREAM_MAX_MODELS + 1; n++) {
		buf_reset(&b);
		assert_int_equal(
		    buf_puts(&b, "{\"range\":\"30d\",\"issues\":["), 0);
		for (i = 0; i < n; i++)
			assert_int_equal(
			    buf_printf(&b,
			        "%s{\"modelId\":\"m/%zu\",\"errorRate\":1}",
			        i ? "," : "", i),
			    0);
		assert_int_equal(buf_puts(&b, "]}"), 0);
		assert_int_equal(upstream_parse_health(b.data, b.len, "30d", &r,
		                     err, sizeof(err)),
		    n == UPSTREAM_MAX_MODELS ? 0 : -1);
		if (n > UPSTREAM_MAX_MODELS)
			assert_string_equal(err, "more than 10000 issues");
		upstream_rates_free(&r);
	}
	buf_free(&b);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(upstream_kind_name(UPSTREAM_FLR), "flr");
	assert_string_equal(upstream_kind_name(UPSTREAM_HOSTED), "hosted");
	assert_string_equal(upstream_kind_name(UPSTREAM_UNKNOWN), "unknown");
	assert_string_equal(upstream_kind_name(UPSTREAM__MAX), "unknown");
	assert_string_equal(upstream_windows[0], "15m");
	assert_string_equal(upstream_windows[UPSTREAM_WINDOWS - 1], "30d");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_export_bad),
		cmocka_unit_test(test_export_caps),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_health_bad),
		cmocka_unit_test(test_health_cap),
		cmocka_unit_test(test_names),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
