/*
 * What GET /api/v1/usage makes of the rows it reads (shared/usage.c):
 * the quota window as a reader sees it (a window that has run out is
 * none, the count stops at the limit), and each history row as its
 * JSON object, requests and reports, with the NULLs a deleted key or
 * a bare report leaves.  Tables, one row per case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "usage.h"
#include "util.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00.000Z */
#define DAY 86400
#define KEY "0b9e6c2e-4a47-4f8e-9d3e-2c1f7a5b8e10"
#define ID "5f0c1a9e-7d2b-4c3a-8e1f-6b2d9a0c4e71"

static const struct {
	const char *what;
	struct usage u; /* limit, secs, start, count, now, total */
	const char *json;
} quota_cases[] = {
	{ "an open window",
	    { 200, DAY, T0, 5, T0 + 1000, 0 },
	    "{\"limit\":200,\"remaining\":195,"
	    "\"resetAt\":\"2026-01-02T00:00:00.000Z\","
	    "\"windowStart\":\"2026-01-01T00:00:00.000Z\","
	    "\"windowSeconds\":86400,\"requestCount\":5}" },
	{ "refused attempts are not requests served",
	    { 200, DAY, T0, 201, T0 + 1000, 0 },
	    "{\"limit\":200,\"remaining\":0,"
	    "\"resetAt\":\"2026-01-02T00:00:00.000Z\","
	    "\"windowStart\":\"2026-01-01T00:00:00.000Z\","
	    "\"windowSeconds\":86400,\"requestCount\":200}" },
	{ "the last millisecond of a window",
	    { 10, 60, T0, 3, T0 + 59999, 0 },
	    "{\"limit\":10,\"remaining\":7,"
	    "\"resetAt\":\"2026-01-01T00:01:00.000Z\","
	    "\"windowStart\":\"2026-01-01T00:00:00.000Z\","
	    "\"windowSeconds\":60,\"requestCount\":3}" },
	{ "a window that has run out is none",
	    { 10, 60, T0, 3, T0 + 60000, 0 },
	    "{\"limit\":10,\"remaining\":10,\"resetAt\":null,"
	    "\"windowStart\":null,\"windowSeconds\":60,\"requestCount\":0}" },
	{ "no window opened yet",
	    { 200, DAY, -1, 0, T0, 0 },
	    "{\"limit\":200,\"remaining\":200,\"resetAt\":null,"
	    "\"windowStart\":null,\"windowSeconds\":86400,"
	    "\"requestCount\":0}" },
	{ "a limit of 0",
	    { 0, DAY, T0, 1, T0, 0 },
	    "{\"limit\":0,\"remaining\":0,"
	    "\"resetAt\":\"2026-01-02T00:00:00.000Z\","
	    "\"windowStart\":\"2026-01-01T00:00:00.000Z\","
	    "\"windowSeconds\":86400,\"requestCount\":0}" },
};

static void
test_quota(void **state)
{
	struct buf b;
	struct jw w;
	size_t i;

	(void)state;
	buf_init(&b, 4096);
	for (i = 0; i < NELEM(quota_cases); i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		jw_obj_begin(&w);
		usage_write_quota(&w, &quota_cases[i].u);
		jw_obj_end(&w);
		if (strcmp(b.data, quota_cases[i].json) != 0)
			fail_msg("quota %zu (%s): %s", i, quota_cases[i].what,
			    b.data);
	}
	buf_free(&b);
}

static const struct {
	const char *what;
	struct usage_entry e;
	const char *json;
} entry_cases[] = {
	{ "a counted request",
	    { .kind = USAGE_REQUEST, .id = ID, .created_ms = T0 + 1234,
	        .key_id = KEY, .endpoint = "/api/v1/models/ids",
	        .status = 200, .duration_ms = 12.5,
	        .model_ids = "[\"a/b:free\",\"c/d:free\"]" },
	    "{\"type\":\"request\",\"id\":\"" ID "\","
	    "\"createdAt\":\"2026-01-01T00:00:01.234Z\","
	    "\"keyId\":\"" KEY "\",\"endpoint\":\"/api/v1/models/ids\","
	    "\"status\":200,\"durationMs\":12.5,"
	    "\"modelIds\":[\"a/b:free\",\"c/d:free\"]}" },
	{ "a refused request whose key was deleted since",
	    { .kind = USAGE_REQUEST, .id = ID, .created_ms = T0,
	        .endpoint = "/api/v1/models/full", .status = 429,
	        .duration_ms = 0.1, .model_ids = "[]" },
	    "{\"type\":\"request\",\"id\":\"" ID "\","
	    "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"keyId\":null,"
	    "\"endpoint\":\"/api/v1/models/full\",\"status\":429,"
	    "\"durationMs\":0.1,\"modelIds\":[]}" },
	{ "a request row without its ids still writes an array",
	    { .kind = USAGE_REQUEST, .id = ID, .created_ms = T0,
	        .key_id = KEY, .endpoint = "/x", .status = 200 },
	    "{\"type\":\"request\",\"id\":\"" ID "\","
	    "\"createdAt\":\"2026-01-01T00:00:00.000Z\","
	    "\"keyId\":\"" KEY "\",\"endpoint\":\"/x\",\"status\":200,"
	    "\"durationMs\":0,\"modelIds\":[]}" },
	{ "a success report, nothing else said",
	    { .kind = USAGE_REPORT, .id = ID, .created_ms = T0,
	        .key_id = KEY, .model_id = "a/b:free",
	        .outcome = "success" },
	    "{\"type\":\"report\",\"id\":\"" ID "\","
	    "\"createdAt\":\"2026-01-01T00:00:00.000Z\","
	    "\"keyId\":\"" KEY "\",\"modelId\":\"a/b:free\","
	    "\"success\":true,\"issue\":null,\"details\":null,"
	    "\"requestId\":null}" },
	{ "an issue with details and the request it is about",
	    { .kind = USAGE_REPORT, .id = ID, .created_ms = T0,
	        .key_id = KEY, .model_id = "a/b:free",
	        .outcome = "rate_limited", .details = "said \"429\"\n",
	        .request_id = KEY },
	    "{\"type\":\"report\",\"id\":\"" ID "\","
	    "\"createdAt\":\"2026-01-01T00:00:00.000Z\","
	    "\"keyId\":\"" KEY "\",\"modelId\":\"a/b:free\","
	    "\"success\":false,\"issue\":\"rate_limited\","
	    "\"details\":\"said \\\"429\\\"\\n\","
	    "\"requestId\":\"" KEY "\"}" },
	{ "a report without an outcome is no success and no issue",
	    { .kind = USAGE_REPORT, .id = ID, .created_ms = T0,
	        .model_id = "m" },
	    "{\"type\":\"report\",\"id\":\"" ID "\","
	    "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"keyId\":null,"
	    "\"modelId\":\"m\",\"success\":false,\"issue\":null,"
	    "\"details\":null,\"requestId\":null}" },
};

static void
test_entries(void **state)
{
	struct buf b;
	struct jw w;
	size_t i;

	(void)state;
	buf_init(&b, 4096);
	for (i = 0; i < NELEM(entry_cases); i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		usage_write_entry(&w, &entry_cases[i].e);
		if (strcmp(b.data, entry_cases[i].json) != 0)
			fail_msg("entry %zu (%s): %s", i, entry_cases[i].what,
			    b.data);
	}
	buf_free(&b);
}

/* Entries follow one another in the history array with commas. */
static void
test_entries_in_an_array(void **state)
{
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	usage_write_entry(&w, &entry_cases[1].e);
	usage_write_entry(&w, &entry_cases[3].e);
	jw_arr_end(&w);
	assert_int_equal(b.data[0], '[');
	assert_non_null(strstr(b.data, "\"modelIds\":[]},{\"type\":\"report\""));
	assert_int_equal(b.data[b.len - 1], ']');
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_entries_in_an_array),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
