/*
 * The response path's pure part (fcgi/http.c), linked without FastCGI
 * traffic: problem documents stay valid JSON in valid UTF-8 whatever
 * length their detail has, and a body or headers over their cap turn
 * into a 500 before anything is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "util.h"

/* The problem's body must pass the strict check, and keep its fields. */
static void
assert_problem(const struct response *res, size_t detail_max)
{
	struct json_object *o, *d;
	char err[128];

	o = json_parse(res->body.data, res->body.len, 4, err, sizeof(err));
	if (o == NULL)
		fail_msg("not valid JSON: %s", err);
	assert_true(json_object_object_get_ex(o, "detail", &d));
	assert_true(strlen(json_object_get_string(d)) <= detail_max);
	json_object_put(o);
}

/* A detail over 511 bytes is cut between characters, never inside. */
static void
test_problem_detail_cut(void **state)
{
	struct response res;
	struct buf text;
	int lead, chars;

	(void)state;
	response_init(&res);
	buf_init(&text, 1 << 16);
	/* Every offset of the cut against 2-, 3- and 4-byte characters. */
	for (lead = 0; lead < 4; lead++)
		for (chars = 2; chars <= 4; chars++) {
			static const char *const ch[] = { NULL, NULL,
				"\xc3\xa9", "\xe2\x82\xac",
				"\xf0\x9f\x98\x80" };
			int i;

			buf_reset(&text);
			for (i = 0; i < lead; i++)
				buf_putc(&text, 'a');
			for (i = 0; i < 400; i++)
				buf_puts(&text, ch[chars]);
			response_problem(&res, 400, "invalid_field", "modelId",
			    "%s", text.data);
			assert_int_equal(res.status, 400);
			assert_problem(&res, 511);
		}
	buf_free(&text);
	response_free(&res);
}

/* A short detail is kept whole. */
static void
test_problem_detail_whole(void **state)
{
	struct response res;

	(void)state;
	response_init(&res);
	response_problem(&res, 422, "unknown_model", "modelId", "%s",
	    "caf\xc3\xa9 \xe2\x82\xac");
	assert_non_null(strstr(res.body.data, "caf\xc3\xa9 \xe2\x82\xac"));
	assert_problem(&res, 511);
	response_free(&res);
}

/* Headers past their 8 KiB cap: a 500 without them, not a cut list. */
static void
test_headers_over_cap(void **state)
{
	struct response res;
	int i;

	(void)state;
	response_init(&res);
	assert_int_equal(response_enforce_caps(&res), 0);
	for (i = 0; i < 200; i++)
		response_header(&res, "X-Filler", "%0100d", i);
	assert_true(res.headers.over);
	assert_int_equal(response_enforce_caps(&res), 1);
	assert_int_equal(res.status, 500);
	assert_int_equal(res.headers.len, 0);
	assert_false(res.headers.over);
	assert_non_null(strstr(res.body.data, "\"code\":\"internal_error\""));
	assert_problem(&res, 511);
	response_free(&res);
}

/* A body past its cap likewise; one that fits is left alone. */
static void
test_body_over_cap(void **state)
{
	struct response res;
	static char chunk[65536];

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	response_init(&res);
	response_header(&res, "Cache-Control", "no-store");
	buf_append(&res.body, chunk, sizeof(chunk));
	assert_int_equal(response_enforce_caps(&res), 0);
	assert_int_equal(res.status, 200);
	while (buf_append(&res.body, chunk, sizeof(chunk)) == 0)
		;
	assert_true(res.body.over);
	assert_int_equal(response_enforce_caps(&res), 1);
	assert_int_equal(res.status, 500);
	assert_null(strstr(res.headers.data, "Cache-Control"));
	assert_true(res.body.len < 1024);
	assert_problem(&res, 511);
	response_free(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_detail_cut),
		cmocka_unit_test(test_problem_detail_whole),
		cmocka_unit_test(test_headers_over_cap),
		cmocka_unit_test(test_body_over_cap),
	};

	/* The overflows are logged as errors: not into the test's output. */
	log_setup("test_http", LOG__MAX);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
