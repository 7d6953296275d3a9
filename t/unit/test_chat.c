/*
 * The router's pure parts: reading a chat body (shared/chat.c) — what
 * the caller names, what the request needs, the flr knobs through the
 * parameter table, and what every bad body gets — and what an
 * upstream answer means (shared/upstream.c): the outcome of each
 * status and failure, OpenRouter's account quota and its reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chat.h"
#include "json.h"
#include "orcall.h"

static struct arena arena;

/* Parse text and read it; returns chat_read's result. */
static int
read_text(const char *text, struct chat_request *cr, struct chat_error *err,
    struct json_object **body)
{
	char why[64];

	*body =
	    json_parse(text, strlen(text), CHAT_JSON_DEPTH, why, sizeof(why));
	if (*body == NULL)
		fail_msg("not JSON: %s (%s)", text, why);
	memset(err, 0, sizeof(*err));
	return chat_read(*body, &arena, cr, err);
}

static void
test_read_good(void **state)
{
	struct chat_request cr;
	struct chat_error err;
	struct json_object *b;

	(void)state;
	assert_int_equal(read_text("{\"messages\":[{\"role\":\"user\","
	                           "\"content\":\"12345678\"}]}",
	                     &cr, &err, &b),
	    0);
	assert_null(cr.model);
	assert_int_equal(cr.n_models, 0);
	assert_int_equal(cr.stream, 0);
	assert_int_equal(cr.needs, 0);
	assert_int_equal(cr.prompt_tokens, 2);
	assert_int_equal(cr.p.sort, SORT_HEALTHIEST);
	assert_int_equal(cr.p.max_attempts, 3);
	json_object_put(b);

	assert_int_equal(
	    read_text("{\"model\":\"auto\",\"models\":[\"a\",\"b\",\"a\"],"
	              "\"stream\":true,\"max_tokens\":100,"
	              "\"tools\":[{\"type\":\"function\"}],"
	              "\"messages\":[{\"role\":\"user\",\"content\":["
	              "{\"type\":\"text\",\"text\":\"abcd\"},"
	              "{\"type\":\"image_url\",\"image_url\":{}}]}],"
	              "\"flr\":{\"filter\":[\"reasoning\"],\"sort\":\"newest\","
	              "\"maxAttempts\":5,\"maxErrorRate\":12.5}}",
	        &cr, &err, &b),
	    0);
	assert_null(cr.model);
	assert_int_equal(cr.n_models, 2);
	assert_string_equal(cr.models[1], "b");
	assert_int_equal(cr.stream, 1);
	assert_int_equal(cr.needs, FILTER_TOOLS | FILTER_VISION);
	assert_int_equal(cr.max_tokens, 100);
	assert_int_equal(cr.p.filters, FILTER_REASONING);
	assert_int_equal(cr.p.sort, SORT_NEWEST);
	assert_int_equal(cr.p.max_attempts, 5);
	assert_true(cr.p.max_error_rate == 12.5);
	json_object_put(b);
}

/* A bad body and what it gets: code and field. */
static const struct {
	const char *body;
	const char *code;
	const char *field;
} bad[] = {
	{ "{}", "invalid_field", "messages" },
	{ "{\"messages\":{}}", "invalid_field", "messages" },
	{ "{\"messages\":[]}", "invalid_field", "messages" },
	{ "{\"messages\":[1]}", "invalid_field", "messages" },
	{ "{\"messages\":[{\"role\":1}]}", "invalid_field", "messages" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"model\":7}", "invalid_field",
	    "model" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"model\":\"\"}",
	    "invalid_field", "model" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"model\":\"a\\u0000b\"}",
	    "invalid_field", "model" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"models\":\"a\"}",
	    "invalid_field", "models" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"models\":[]}", "invalid_field",
	    "models" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"models\":[\"a\",null]}",
	    "invalid_field", "models" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"stream\":1}", "invalid_field",
	    "stream" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"tools\":\"x\"}",
	    "invalid_field", "tools" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"max_tokens\":0}",
	    "invalid_field", "max_tokens" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"max_completion_tokens\":1.5}",
	    "invalid_field", "max_completion_tokens" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":1}", "invalid_field",
	    "flr" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"topN\":1}}",
	    "unknown_field", "flr" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"sort\":\"x\"}}",
	    "invalid_field", "flr.sort" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"sort\":true}}",
	    "invalid_field", "flr.sort" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"maxAttempts\":0}}",
	    "invalid_field", "flr.maxAttempts" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"maxAttempts\":\"2\"}"
	  "}",
	    "invalid_field", "flr.maxAttempts" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"filter\":[]}}",
	    "invalid_field", "flr.filter" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"filter\":\"x\"}}",
	    "invalid_field", "flr.filter" },
	/* Regression: a word with a NUL in it was read as what precedes it. */
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"filter\":"
	  "[\"tools\\u0000x\"]}}",
	    "invalid_field", "flr.filter" },
	{ "{\"messages\":[{\"role\":\"user\"}],\"flr\":{\"minReports\":-1}}",
	    "invalid_field", "flr.minReports" },
};

static void
test_read_bad(void **state)
{
	struct chat_request cr;
	struct chat_error err;
	struct json_object *b;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		if (read_text(bad[i].body, &cr, &err, &b) != -1)
			fail_msg("accepted: %s", bad[i].body);
		if (strcmp(err.code, bad[i].code) != 0 ||
		    strcmp(err.field, bad[i].field) != 0 ||
		    err.detail[0] == '\0')
			fail_msg("%s: %s %s (%s)", bad[i].body, err.code,
			    err.field, err.detail);
		json_object_put(b);
	}
}

static void
test_fits_and_body(void **state)
{
	struct chat_request cr;
	struct chat_error err;
	struct json_object *b, *again;
	struct model m = { 0 };
	struct buf out;
	char why[64];

	(void)state;
	assert_int_equal(read_text("{\"messages\":[{\"role\":\"user\","
	                           "\"content\":\"0123456789abcdef\"}],"
	                           "\"max_tokens\":6,\"models\":[\"x\"],"
	                           "\"flr\":{},\"temperature\":0.1}",
	                     &cr, &err, &b),
	    0);
	m.context_length = 10;
	assert_true(chat_fits(&cr, &m));
	m.context_length = 9;
	assert_false(chat_fits(&cr, &m));
	m.context_length = -1;
	assert_true(chat_fits(&cr, &m));
	buf_init(&out, 4096);
	assert_int_equal(chat_upstream_body(&cr, "v/w:free", &out), 0);
	again = json_parse(out.data, out.len, 16, why, sizeof(why));
	assert_non_null(again);
	assert_string_equal(
	    json_object_get_string(json_object_object_get(again, "model")),
	    "v/w:free");
	assert_null(json_object_object_get(again, "models"));
	assert_null(json_object_object_get(again, "flr"));
	/* Numbers go on as the caller wrote them. */
	assert_non_null(strstr(out.data, "\"temperature\":0.1"));
	assert_string_equal(cr.models[0], "x");
	json_object_put(again);
	json_object_put(b);
	buf_free(&out);
}

/* 1 when s is valid UTF-8: it passes the strict check as a string. */
static int
utf8_valid(const char *s)
{
	char why[64];
	struct buf b;
	int ok;

	buf_init(&b, 4096);
	json_escape(&b, s, strlen(s));
	ok = json_validate(b.data, b.len, 1, why, sizeof(why)) == 0;
	buf_free(&b);
	return ok;
}

/*
 * Regression (found by t/fuzz/fuzz_chat.c): a refusal that quotes the
 * caller's bytes was cut inside a character — at 64 bytes of an unknown
 * flr member's name, or at the end of the 200-byte detail for a long
 * model id — and the 400's problem+json was no longer UTF-8.
 */
static void
test_refusal_utf8(void **state)
{
	struct chat_request cr;
	struct chat_error err;
	struct json_object *b;
	struct catalog c;
	const struct model *out[CHAT_MODELS_MAX + 1];
	struct buf body;
	int i;

	(void)state;
	buf_init(&body, 4096);
	/* "unknownKnob" and 32 times U+00E9: 64 bytes end mid-character. */
	buf_puts(&body,
	    "{\"messages\":[{\"role\":\"user\"}],\"flr\":{"
	    "\"unknownKnob");
	for (i = 0; i < 32; i++)
		buf_puts(&body, "\xc3\xa9");
	buf_puts(&body, "\":1}}");
	assert_int_equal(read_text(body.data, &cr, &err, &b), -1);
	assert_string_equal(err.code, "unknown_field");
	assert_non_null(strstr(err.detail, "unknownKnob"));
	assert_true(utf8_valid(err.detail));
	json_object_put(b);

	/* A model id of 128 times U+00E9 fills the detail past its end. */
	buf_reset(&body);
	buf_puts(&body, "{\"messages\":[{\"role\":\"user\"}],\"model\":\"");
	for (i = 0; i < 128; i++)
		buf_puts(&body, "\xc3\xa9");
	buf_puts(&body, "\"}");
	assert_int_equal(read_text(body.data, &cr, &err, &b), 0);
	catalog_init(&c);
	assert_int_equal(chat_explicit_models(&cr, &c, out, &err), -1);
	assert_string_equal(err.code, "model_not_free");
	assert_true(strlen(err.detail) >= sizeof(err.detail) - 4);
	assert_true(utf8_valid(err.detail));
	json_object_put(b);
	buf_free(&body);
}

/* A finished call with status and body. */
static void
call_of(
    struct orcall_call *c, enum orcall_fail fail, long status, const char *body)
{
	memset(c, 0, sizeof(*c));
	c->fail = fail;
	c->status = status;
	c->retry_after_s = -1;
	c->reset_ms = -1;
	buf_init(&c->body, 65536);
	buf_puts(&c->body, body);
}

static void
test_classify(void **state)
{
	static const char ok[] = "{\"choices\":[{\"message\":{}}]}";
	static const char quota[] =
	    "{\"error\":{\"message\":\"Rate limit exceeded: "
	    "free-models-per-day. Add 10 credits\",\"code\":429,"
	    "\"metadata\":{\"headers\":{\"X-RateLimit-Reset\":"
	    "\"1767229200000\"}}}}";
	static const struct {
		enum orcall_fail fail;
		long status;
		const char *body;
		enum attempt_outcome want;
	} cases[] = {
		{ ORC_OK, 200, ok, ATTEMPT_SUCCESS },
		{ ORC_OK, 200, "{\"error\":{},\"choices\":[]}", ATTEMPT_ERROR },
		{ ORC_OK, 200, "<html>", ATTEMPT_ERROR },
		{ ORC_OK, 200, "", ATTEMPT_ERROR },
		{ ORC_OK, 429, "{\"error\":{\"message\":\"busy\"}}",
		    ATTEMPT_RATE_LIMITED },
		{ ORC_OK, 429, quota, ATTEMPT_ACCOUNT_QUOTA },
		{ ORC_OK, 429, "free-models-per-min", ATTEMPT_ACCOUNT_QUOTA },
		{ ORC_OK, 404, "", ATTEMPT_UNAVAILABLE },
		{ ORC_OK, 502, "", ATTEMPT_UNAVAILABLE },
		{ ORC_OK, 503, "", ATTEMPT_UNAVAILABLE },
		{ ORC_OK, 500, "", ATTEMPT_ERROR },
		{ ORC_OK, 504, "", ATTEMPT_ERROR },
		{ ORC_OK, 408, "", ATTEMPT_ERROR },
		{ ORC_OK, 400, "", ATTEMPT_REFUSED },
		{ ORC_OK, 401, "", ATTEMPT_REFUSED },
		{ ORC_OK, 402, "", ATTEMPT_REFUSED },
		{ ORC_OK, 403, "", ATTEMPT_REFUSED },
		{ ORC_OK, 413, "", ATTEMPT_REFUSED },
		{ ORC_OK, 422, "", ATTEMPT_REFUSED },
		{ ORC_CONNECT, 0, "", ATTEMPT_UNREACHABLE },
		{ ORC_FIRST_BYTE, 0, "", ATTEMPT_ERROR },
		{ ORC_TIMEOUT, 200, "", ATTEMPT_ERROR },
		{ ORC_TOO_BIG, 200, "", ATTEMPT_ERROR },
		{ ORC_DROPPED, 200, "{\"choi", ATTEMPT_ERROR },
		{ ORC_CLIENT_GONE, 200, "", ATTEMPT_CLIENT_GONE },
		{ ORC_OTHER, 0, "", ATTEMPT_ERROR },
	};
	struct orcall_call c;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		call_of(&c, cases[i].fail, cases[i].status, cases[i].body);
		if (orcall_classify(&c) != cases[i].want)
			fail_msg("case %zu (HTTP %ld): %s, want %s", i,
			    cases[i].status, attempt_name(orcall_classify(&c)),
			    attempt_name(cases[i].want));
		buf_free(&c.body);
	}
	assert_string_equal(
	    attempt_report_outcome(ATTEMPT_UNAVAILABLE), "unavailable");
	assert_null(attempt_report_outcome(ATTEMPT_ACCOUNT_QUOTA));
	assert_null(attempt_report_outcome(ATTEMPT_UNREACHABLE));
	assert_null(attempt_report_outcome(ATTEMPT_REFUSED));
}

static void
test_quota_wait(void **state)
{
	static const char quota[] =
	    "{\"error\":{\"message\":\"Rate limit exceeded: "
	    "free-models-per-day\",\"metadata\":{\"headers\":{"
	    "\"X-RateLimit-Reset\":\"1767229200000\"}}}}";
	const int64_t now = 1767225600000; /* an hour before that reset */
	struct orcall_call c;
	char msg[64];

	(void)state;
	call_of(&c, ORC_OK, 429, quota);
	assert_int_equal(orcall_quota_wait(&c, now), 3600);
	orcall_error_message(&c, msg, sizeof(msg));
	assert_string_equal(msg, "Rate limit exceeded: free-models-per-day");
	c.reset_ms = now + 59500; /* the header wins over the body */
	assert_int_equal(orcall_quota_wait(&c, now), 60);
	c.reset_ms = now - 5000; /* already past: at least 1 */
	assert_int_equal(orcall_quota_wait(&c, now), 1);
	buf_free(&c.body);
	call_of(&c, ORC_OK, 429, "{}");
	assert_int_equal(orcall_quota_wait(&c, now), 60);
	c.retry_after_s = 17;
	assert_int_equal(orcall_quota_wait(&c, now), 17);
	orcall_error_message(&c, msg, sizeof(msg));
	assert_string_equal(msg, "");
	buf_free(&c.body);
	call_of(&c, ORC_OK, 400, "{\"error\":{\"message\":\"bad\\nline\"}}");
	orcall_error_message(&c, msg, sizeof(msg));
	assert_string_equal(msg, "bad?line");
	buf_free(&c.body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_good),
		cmocka_unit_test(test_read_bad),
		cmocka_unit_test(test_fits_and_body),
		cmocka_unit_test(test_refusal_utf8),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_quota_wait),
	};
	int rc;

	cmocka_set_message_output(CM_OUTPUT_TAP);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	arena_free(&arena);
	return rc;
}
