/*
 * JSON out (the writer and string escaping) and in (json_parse with
 * its depth limit), and the util.h helpers underneath: bounded number
 * parsing, the capped buffer, the arena and secret comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "json.h"
#include "util.h"

#define BIG (1 << 20)

/* The writer */

static void
test_writer_nested(void **state)
{
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b, BIG);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "a"), jw_int(&w, 1);
	jw_key(&w, "b");
	jw_arr_begin(&w);
	jw_int(&w, 1), jw_int(&w, 2);
	jw_obj_begin(&w), jw_key(&w, "c"), jw_null(&w), jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "d"), jw_obj_begin(&w), jw_obj_end(&w);
	jw_key(&w, "e"), jw_arr_begin(&w), jw_arr_end(&w);
	jw_key(&w, "f"), jw_bool(&w, 1);
	jw_key(&w, "g"), jw_str(&w, "x");
	jw_key(&w, "h"), jw_num(&w, 1.96);
	jw_key(&w, "i"), jw_num(&w, 0.1);
	jw_key(&w, "j"), jw_time(&w, 0);
	jw_key(&w, "k"), jw_time(&w, -1);
	jw_key(&w, "l"), jw_str(&w, NULL);
	jw_key(&w, "m"), jw_strn(&w, "ab\0c", 4);
	jw_key(&w, "n"), jw_raw(&w, "[1,2]", 5);
	jw_key(&w, "o"), jw_bool(&w, 0);
	jw_key(&w, "p"), jw_int(&w, -9223372036854775807LL - 1);
	jw_key(&w, "q\"k"), jw_num(&w, 100);
	jw_obj_end(&w);
	assert_string_equal(b.data,
	    "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":{},\"e\":[],\"f\":true,"
	    "\"g\":\"x\",\"h\":1.96,\"i\":0.1,"
	    "\"j\":\"1970-01-01T00:00:00.000Z\",\"k\":null,\"l\":null,"
	    "\"m\":\"ab\\u0000c\",\"n\":[1,2],\"o\":false,"
	    "\"p\":-9223372036854775808,\"q\\\"k\":100}");
	assert_int_equal(b.len, strlen(b.data));
	assert_int_equal(w.depth, 0);
	assert_int_equal(b.over, 0);
	buf_free(&b);
}

static void
test_writer_arrays(void **state)
{
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b, BIG);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	jw_obj_begin(&w), jw_key(&w, "a"), jw_int(&w, 1), jw_obj_end(&w);
	jw_obj_begin(&w), jw_key(&w, "b"), jw_int(&w, 2), jw_obj_end(&w);
	jw_arr_begin(&w), jw_arr_end(&w);
	jw_arr_begin(&w);
	jw_arr_begin(&w), jw_int(&w, 1), jw_arr_end(&w);
	jw_arr_begin(&w), jw_int(&w, 2), jw_int(&w, 3), jw_arr_end(&w);
	jw_arr_end(&w);
	jw_int(&w, -5);
	jw_bool(&w, 0);
	jw_str(&w, "");
	jw_arr_end(&w);
	assert_string_equal(
	    b.data, "[{\"a\":1},{\"b\":2},[],[[1],[2,3]],-5,false,\"\"]");
	assert_int_equal(w.depth, 0);

	/* Scalars at the top level, one writer each. */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_num(&w, 33.33);
	assert_string_equal(b.data, "33.33");
	buf_free(&b);
}

/* The prebuilt model JSON of the catalogue, continued and closed. */
static void
test_writer_obj_continue(void **state)
{
	static const char m1[] = "{\"id\":\"m\",\"name\":\"M\"";
	static const char m2[] = "{\"id\":\"n\"";
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b, BIG);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "models");
	jw_arr_begin(&w);
	jw_obj_continue(&w, m1, strlen(m1));
	jw_key(&w, "errorRate"), jw_num(&w, 1.96);
	jw_key(&w, "h");
	jw_obj_begin(&w), jw_key(&w, "s"), jw_int(&w, 3), jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj_continue(&w, m2, strlen(m2));
	jw_obj_end(&w);
	jw_obj_continue(&w, m2, strlen(m2));
	jw_key(&w, "x"), jw_arr_begin(&w), jw_arr_end(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "count"), jw_int(&w, 3);
	jw_obj_end(&w);
	assert_string_equal(b.data,
	    "{\"models\":[{\"id\":\"m\",\"name\":\"M\",\"errorRate\":1.96,"
	    "\"h\":{\"s\":3}},{\"id\":\"n\"},{\"id\":\"n\",\"x\":[]}],"
	    "\"count\":3}");
	assert_int_equal(w.depth, 0);
	buf_free(&b);
}

/* What the writer makes, json-c reads back. */
static void
test_writer_parses(void **state)
{
	struct json_object *o, *v;
	char err[128];
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b, BIG);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "s"), jw_str(&w, "a\"b\\c\n\x01\xc3\xa9");
	jw_key(&w, "n"), jw_num(&w, 0.1);
	jw_key(&w, "l"), jw_arr_begin(&w), jw_int(&w, 1), jw_null(&w),
	    jw_arr_end(&w);
	jw_obj_end(&w);
	o = json_parse(b.data, b.len, 8, err, sizeof(err));
	if (o == NULL)
		fail_msg("%s: %s", b.data, err);
	assert_true(json_object_object_get_ex(o, "s", &v));
	assert_string_equal(json_object_get_string(v), "a\"b\\c\n\x01\xc3\xa9");
	assert_true(json_object_object_get_ex(o, "n", &v));
	assert_true(json_object_get_double(v) == 0.1);
	assert_true(json_object_object_get_ex(o, "l", &v));
	assert_int_equal(json_object_array_length(v), 2);
	json_object_put(o);
	buf_free(&b);
}

/* A full buffer refuses more and says so; what it has stays whole. */
static void
test_writer_over_cap(void **state)
{
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b, 16);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "key"), jw_str(&w, "a value longer than the cap");
	jw_obj_end(&w);
	assert_int_equal(b.over, 1);
	assert_true(b.len <= 16);
	assert_int_equal(strlen(b.data), b.len);
	buf_free(&b);
}

/* Deeper than JW_MAX_DEPTH: no memory errors, brackets still balance. */
static void
test_writer_too_deep(void **state)
{
	struct buf b;
	struct jw w;
	int i;

	(void)state;
	buf_init(&b, BIG);
	jw_init(&w, &b);
	for (i = 0; i < JW_MAX_DEPTH + 10; i++)
		jw_arr_begin(&w);
	for (i = 0; i < JW_MAX_DEPTH + 10; i++)
		jw_arr_end(&w);
	assert_int_equal(b.len, 2 * (JW_MAX_DEPTH + 10));
	assert_int_equal(w.depth, 0);
	for (i = 0; i < JW_MAX_DEPTH + 10; i++) {
		assert_int_equal(b.data[i], '[');
		assert_int_equal(b.data[JW_MAX_DEPTH + 10 + i], ']');
	}
	buf_free(&b);
}

/* json_escape */

struct escape_case {
	const char *in;
	size_t n; /* 0: strlen(in) */
	const char *out;
};

static const struct escape_case escape_cases[] = {
	{ "", 0, "\"\"" },
	{ "plain", 0, "\"plain\"" },
	{ "a\"b", 0, "\"a\\\"b\"" },
	{ "\"\"", 0, "\"\\\"\\\"\"" },
	{ "a\\b", 0, "\"a\\\\b\"" },
	{ "\\", 0, "\"\\\\\"" },
	{ "\x01", 0, "\"\\u0001\"" },
	{ "\x1f", 0, "\"\\u001f\"" },
	{ "a\x10z", 0, "\"a\\u0010z\"" },
	{ "\n", 0, "\"\\n\"" },
	{ "line\nnext\n", 0, "\"line\\nnext\\n\"" },
	{ "\r\t", 0, "\"\\r\\t\"" },
	{ "\b\f", 0, "\"\\u0008\\u000c\"" },
	{ "a\0b", 3, "\"a\\u0000b\"" },
	{ "\x7f", 0, "\"\x7f\"" },
	{ " ", 0, "\" \"" },
	{ "</script>", 0, "\"</script>\"" },
	{ "'single'", 0, "\"'single'\"" },
	/* UTF-8 passes through untouched. */
	{ "caf\xc3\xa9", 0, "\"caf\xc3\xa9\"" },
	{ "\xe2\x82\xac 5", 0, "\"\xe2\x82\xac 5\"" },
	{ "\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\"" },
	{ "\xe2\x80\xa8", 0, "\"\xe2\x80\xa8\"" },
	/* Only n bytes are read. */
	{ "abc\"def", 3, "\"abc\"" },
};

static void
test_escape_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(escape_cases); i++) {
		const struct escape_case *c = &escape_cases[i];
		struct buf b;

		buf_init(&b, BIG);
		json_escape(&b, c->in, c->n ? c->n : strlen(c->in));
		if (b.data == NULL || strcmp(b.data, c->out) != 0)
			fail_msg("case %zu: %s, want %s", i,
			    b.data ? b.data : "(null)", c->out);
		buf_free(&b);
	}
}

/* Every byte 1..255 escapes to a string json-c reads back the same. */
static void
test_escape_round_trip(void **state)
{
	char in[256], doc[2048];
	struct json_object *o;
	char err[128];
	struct buf b;
	int i;

	(void)state;
	for (i = 1; i < 128; i++)
		in[i - 1] = (char)i;
	memcpy(in + 127, "\xc3\xa9\xe2\x82\xac", 5);
	in[132] = '\0';
	buf_init(&b, BIG);
	json_escape(&b, in, 132);
	snprintf(doc, sizeof(doc), "[%s]", b.data);
	o = json_parse(doc, strlen(doc), 4, err, sizeof(err));
	if (o == NULL)
		fail_msg("%s: %s", doc, err);
	assert_int_equal(
	    json_object_get_string_len(json_object_array_get_idx(o, 0)), 132);
	assert_memory_equal(
	    json_object_get_string(json_object_array_get_idx(o, 0)), in, 132);
	/* No raw control character is left in the output. */
	for (i = 0; i < (int)b.len; i++)
		assert_true((unsigned char)b.data[i] >= 0x20);
	json_object_put(o);
	buf_free(&b);
}

/* json_parse */

struct parse_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	int max_depth;
	int ok;
};

static const struct parse_case parse_cases[] = {
	{ "{}", 0, 32, 1 },
	{ "{\"a\":1}", 0, 32, 1 },
	{ "{\"a\":{\"b\":[1,2,{\"c\":null}]},\"d\":\"e\"}", 0, 32, 1 },
	{ "[1,2,3]", 0, 32, 1 },
	{ "\"s\"", 0, 32, 1 },
	{ "{\"a\":1}  \n\t\r", 0, 32, 1 },
	{ "\n\t {\"a\":1}", 0, 32, 1 },
	{ "{\"a\":\"\\u0000\"}", 0, 32, 1 },
	{ "{\"a\":1.5e3,\"b\":-0.25,\"c\":true,\"d\":false}", 0, 32, 1 },
	/* Only len bytes count. */
	{ "{}garbage", 2, 32, 1 },
	{ "{\"a\":1}", 5, 32, 0 },
	/* Not one JSON value. */
	{ "", 0, 32, 0 },
	{ "   ", 0, 32, 0 },
	{ "{} x", 0, 32, 0 },
	{ "{}x", 0, 32, 0 },
	{ "{}{}", 0, 32, 0 },
	{ "{\"a\":1}{}", 0, 32, 0 },
	{ "{}\0", 3, 32, 0 },
	{ "{\"a\":", 0, 32, 0 },
	{ "{\"a\"", 0, 32, 0 },
	{ "{", 0, 32, 0 },
	{ "[1,2", 0, 32, 0 },
	{ "\"abc", 0, 32, 0 },
	{ "}", 0, 32, 0 },
	{ "{\"a\":1,}", 0, 32, 0 },
	{ "[1,]", 0, 32, 0 },
	{ "{a:1}", 0, 32, 0 },
	{ "['x']", 0, 32, 0 },
	{ "[.5]", 0, 32, 0 },
	{ "[+1]", 0, 32, 0 },
	{ "[0x10]", 0, 32, 0 },
	{ "[01]", 0, 32, 0 },
	{ "[1.5e]", 0, 32, 0 },
	{ "[True]", 0, 32, 0 },
	{ "[nul]", 0, 32, 0 },
	{ "[nan]", 0, 32, 0 },
	{ "[\"\\x41\"]", 0, 32, 0 },
	{ "[\"\\u00\"]", 0, 32, 0 },
	{ "/*c*/{}", 0, 32, 0 },
	{ "\xef\xbb\xbf{}", 0, 32, 0 },
	{ "{\"a\":\"x\0y\"}", 11, 32, 0 },
	/* The depth limit. */
	{ "[[[]]]", 0, 3, 1 },
	{ "[[[[]]]]", 0, 3, 0 },
	{ "{\"a\":{\"b\":{}}}", 0, 3, 1 },
	{ "{\"a\":{\"b\":{\"c\":{}}}}", 0, 3, 0 },
};

static void
test_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		char err[128] = "";
		struct json_object *o;

		o = json_parse(c->text, len, c->max_depth, err, sizeof(err));
		if (c->ok && o == NULL)
			fail_msg("case %zu \"%.*s\": refused: %s", i, (int)len,
			    c->text, err);
		if (!c->ok && o != NULL)
			fail_msg("case %zu \"%.*s\": accepted", i, (int)len,
			    c->text);
		if (!c->ok && err[0] == '\0')
			fail_msg("case %zu: no reason given", i);
		json_object_put(o);
	}
}

/* n arrays inside one another. */
static char *
nested(size_t n)
{
	char *s = xmalloc(2 * n + 1);

	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	return s;
}

static void
test_parse_depth(void **state)
{
	static const struct {
		size_t n;
		int max_depth;
		int ok;
	} cases[] = {
		{ 1, 32, 1 },
		{ 31, 32, 1 },
		{ 32, 32, 1 },
		{ 33, 32, 0 },
		{ 1000, 32, 0 },
		{ 100000, 32, 0 },
		{ 1, 1, 1 },
		{ 2, 1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		char *s = nested(cases[i].n), err[128] = "";
		struct json_object *o;

		o = json_parse(
		    s, 2 * cases[i].n, cases[i].max_depth, err, sizeof(err));
		if ((o != NULL) != cases[i].ok)
			fail_msg("case %zu: depth %zu, limit %d: %s", i,
			    cases[i].n, cases[i].max_depth,
			    o ? "accepted" : err);
		json_object_put(o);
		free(s);
	}
}

/* n containers of shape inside one another around inner ("" or "1"). */
static char *
nested_shape(size_t n, int objects, const char *inner)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < n; i++)
		buf_puts(&b, objects ? "{\"k\":" : "[");
	if (n == 0 || *inner != '\0' || !objects)
		buf_puts(&b, inner);
	else
		buf_puts(&b, "null");
	for (i = 0; i < n; i++)
		buf_putc(&b, objects ? '}' : ']');
	return b.data;
}

/*
 * One depth limit: whatever the shape, the check and json-c accept
 * exactly the documents nested at most max_depth deep, so json-c never
 * refuses what the check let through.
 */
static void
test_depth_agrees(void **state)
{
	static const int limits[] = { 1, 2, 4, 8, 16, 32 };
	static const struct {
		int objects;
		const char *inner;
	} shapes[] = {
		{ 0, "" },
		{ 0, "1" },
		{ 0, "[]" },
		{ 1, "" },
		{ 1, "1" },
		{ 1, "{}" },
		{ 1, "\"s\"" },
	};
	size_t l, sh, n;

	(void)state;
	for (l = 0; l < NELEM(limits); l++)
		for (sh = 0; sh < NELEM(shapes); sh++)
			for (n = 1; n <= (size_t)limits[l] + 2; n++) {
				char *s = nested_shape(
				    n, shapes[sh].objects, shapes[sh].inner);
				char err[128] = "";
				struct json_object *o;
				size_t depth = n;
				int valid, want;

				/* A container inside the innermost one. */
				if (shapes[sh].inner[0] == '[' ||
				    shapes[sh].inner[0] == '{')
					depth++;
				want = depth <= (size_t)limits[l];
				valid = json_validate(s, strlen(s), limits[l],
				            err, sizeof(err)) == 0;
				o = json_parse(
				    s, strlen(s), limits[l], err, sizeof(err));
				if (valid != want || (o != NULL) != want)
					fail_msg("%s limit %d: check %s, json-c "
					         "%s: %s",
					    s, limits[l],
					    valid ? "accepts" : "refuses",
					    o ? "accepts" : "refuses", err);
				json_object_put(o);
				free(s);
			}
}

/* A member name twice in one object is refused, however it is written. */
static void
test_duplicate_members(void **state)
{
	static const struct {
		const char *text;
		const char *why; /* NULL: accepted */
	} cases[] = {
		{ "{\"dryRun\":true,\"dryRun\":false}",
		    "duplicate member dryRun at byte 15" },
		{ "{\"a\":1,\"b\":2,\"a\":3}", "duplicate member a" },
		{ "{\"a\":{\"b\":1},\"a\":2}", "duplicate member a" },
		{ "{\"x\":{\"a\":1,\"a\":2}}", "duplicate member a" },
		{ "[{\"a\":1},{\"a\":1,\"a\":1}]", "duplicate member a" },
		/* Escapes name the same member as the plain text. */
		{ "{\"d\\u0072yRun\":true,\"dryRun\":false}",
		    "duplicate member dryRun" },
		{ "{\"\\/\":1,\"/\":2}", "duplicate member /" },
		{ "{\"\\u00e9\":1,\"\xc3\xa9\":2}", "duplicate member" },
		{ "{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}",
		    "duplicate member" },
		/* As json-c keeps them: cut at NUL, lone surrogates U+FFFD. */
		{ "{\"a\\u0000b\":1,\"a\":2}", "duplicate member" },
		{ "{\"\\ud800\":1,\"\\udbff\":2}", "duplicate member" },
		{ "{\"\\udc00\":1,\"\\ufffd\":2}", "duplicate member" },
		/* Different members, or the same name in different objects. */
		{ "{\"a\":1,\"A\":2,\"a \":3,\"\":4}", NULL },
		{ "{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}", NULL },
		{ "[{\"a\":1},{\"a\":1}]", NULL },
		{ "{\"a\":{\"b\":1,\"c\":2},\"b\":3,\"c\":4}", NULL },
		{ "{\"\\ud83d\\ude00\":1,\"\\ud83d\\ude01\":2}", NULL },
		{ "{\"ab\":1,\"a\":2,\"abc\":3}", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		const char *t = cases[i].text;
		char err[128] = "";
		struct json_object *o = json_parse(t, strlen(t), 8, err,
		    sizeof(err));

		if (cases[i].why == NULL && o == NULL)
			fail_msg("case %zu %s: refused: %s", i, t, err);
		if (cases[i].why != NULL &&
		    (o != NULL || strstr(err, cases[i].why) == NULL))
			fail_msg("case %zu %s: %s, not \"%s\"", i, t,
			    o ? "accepted" : err, cases[i].why);
		json_object_put(o);
	}
}

/* Many members: distinct ones pass, one repeat anywhere is found. */
static void
test_duplicate_members_many(void **state)
{
	struct buf b;
	char err[128];
	struct json_object *o;
	int i;

	(void)state;
	buf_init(&b, 1 << 20);
	buf_putc(&b, '{');
	for (i = 0; i < 5000; i++)
		buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_putc(&b, '}');
	o = json_parse(b.data, b.len, 4, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(json_object_object_length(o), 5000);
	json_object_put(o);
	b.len--;
	buf_puts(&b, ",\"k2718\":0}");
	assert_null(json_parse(b.data, b.len, 4, err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate member k2718"));
	buf_free(&b);
}

/* A long name in the reason is cut, never inside a UTF-8 sequence. */
static void
test_duplicate_reason_utf8(void **state)
{
	struct buf b, name;
	char err[128];
	int i;

	(void)state;
	buf_init(&b, 1 << 16);
	buf_init(&name, 1 << 16);
	for (i = 0; i < 300; i++)
		buf_puts(&name, "\xc3\xa9");
	buf_printf(&b, "{\"%s\":1,\"%s\":2}", name.data, name.data);
	assert_null(json_parse(b.data, b.len, 4, err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate member \xc3\xa9"));
	/* As a JSON string it must pass the check: valid UTF-8. */
	buf_reset(&name);
	json_escape(&name, err, strlen(err));
	assert_int_equal(
	    json_validate(name.data, name.len, 1, err, sizeof(err)), 0);
	buf_free(&b);
	buf_free(&name);
}

/* utf8_cut: the longest prefix that does not end inside a sequence. */
static void
test_utf8_cut(void **state)
{
	static const struct {
		const char *s;
		size_t n, want;
	} cases[] = {
		{ "abc", 3, 3 },
		{ "abc", 2, 2 },
		{ "", 0, 0 },
		{ "a\xc3\xa9", 3, 3 },
		{ "a\xc3\xa9", 2, 1 },
		{ "a\xe2\x82\xac", 4, 4 },
		{ "a\xe2\x82\xac", 3, 1 },
		{ "a\xe2\x82\xac", 2, 1 },
		{ "a\xf0\x9f\x98\x80", 5, 5 },
		{ "a\xf0\x9f\x98\x80", 4, 1 },
		{ "a\xf0\x9f\x98\x80", 3, 1 },
		{ "a\xf0\x9f\x98\x80", 2, 1 },
		{ "\xc3\xa9\xc3\xa9", 3, 2 },
		{ "\xc3\xa9\xc3\xa9", 4, 4 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (utf8_cut(cases[i].s, cases[i].n) != cases[i].want)
			fail_msg("case %zu: %zu, not %zu", i,
			    utf8_cut(cases[i].s, cases[i].n), cases[i].want);
}

/* The text need not end in NUL: bytes past len are never read. */
static void
test_parse_exact_length(void **state)
{
	static const char doc[] = "{\"a\":[1,2]}";
	char *s = xmalloc(sizeof(doc) - 1);
	struct json_object *o;
	char err[128];

	(void)state;
	memcpy(s, doc, sizeof(doc) - 1);
	o = json_parse(s, sizeof(doc) - 1, 32, err, sizeof(err));
	assert_non_null(o);
	json_object_put(o);
	o = json_parse(s, sizeof(doc) - 2, 32, err, sizeof(err));
	assert_null(o);
	free(s);
}

/*
 * Regression: a top-level number or
 * literal is valid JSON, but json_tokener_parse_ex() waits for more
 * input at the end of the buffer and json_parse() reports "unexpected
 * end of JSON".  (openrouter.c feeds the end with parse_ex(tok, "", 1).)
 */
static void
test_parse_top_level_scalars(void **state)
{
	static const char *const docs[] = { "123", "-1.5", "true", "false" };
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < NELEM(docs); i++) {
		char err[128] = "";
		struct json_object *o;

		o = json_parse(docs[i], strlen(docs[i]), 32, err, sizeof(err));
		if (o == NULL) {
			print_message("# case %zu \"%s\": refused: %s\n", i,
			    docs[i], err);
			bad++;
		}
		json_object_put(o);
	}
	assert_int_equal(bad, 0);
}

/*
 * Regression: json-c 0.16 accepts, even
 * with JSON_TOKENER_STRICT, text that is not JSON (RFC 8259), and
 * json_parse() does not set JSON_TOKENER_VALIDATE_UTF8.  NaN and
 * Infinity reach number validators as non-finite doubles.
 */
static void
test_parse_accepts_non_json(void **state)
{
	static const char *const docs[] = {
		"{\"maxErrorRate\":NaN}",
		"{\"maxErrorRate\":Infinity}",
		"{\"maxErrorRate\":-Infinity}",
		"{\"topN\":1e999}",
		"{'modelId':\"x\"}",
		"[01.5]",
		"[-01]",
		"[00]",
		"[1.]",
		"[\"raw\x01"
		"control\"]",
		"[\"raw\nnewline\"]",
		"[\"\xff\"]",
		"[\"\xc0\xaf\"]",
		"[\"\xed\xa0\x80\"]",
	};
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < NELEM(docs); i++) {
		char err[128] = "";
		struct json_object *o;

		o = json_parse(docs[i], strlen(docs[i]), 32, err, sizeof(err));
		if (o != NULL) {
			/* The input may hold raw control bytes: print
			 * json-c's own (escaped) reading of it instead. */
			print_message("# case %zu: accepted as %s\n", i,
			    json_object_to_json_string_ext(o,
				JSON_C_TO_STRING_PLAIN));
			bad++;
		}
		json_object_put(o);
	}
	assert_int_equal(bad, 0);
}

/* util.h: parse_int */

struct int_case {
	const char *s;
	long long min, max;
	int ok;
	long long want;
};

static const struct int_case int_cases[] = {
	{ "0", 0, 10, 1, 0 },
	{ "10", 0, 10, 1, 10 },
	{ "7", 7, 7, 1, 7 },
	{ "007", 0, 10, 1, 7 },
	{ "00", 0, 10, 1, 0 },
	{ "11", 0, 10, 0, 0 },
	{ "6", 7, 7, 0, 0 },
	{ "-1", 0, 10, 0, 0 },
	{ "-0", 0, 10, 0, 0 },
	{ "-1", -5, 5, 1, -1 },
	{ "-5", -5, 5, 1, -5 },
	{ "-6", -5, 5, 0, 0 },
	{ "-0", -5, 5, 1, 0 },
	{ "-", -5, 5, 0, 0 },
	{ "--1", -5, 5, 0, 0 },
	{ "+1", -5, 5, 0, 0 },
	{ "+1", 0, 10, 0, 0 },
	{ "", 0, 10, 0, 0 },
	{ " 1", 0, 10, 0, 0 },
	{ "1 ", 0, 10, 0, 0 },
	{ "\t1", 0, 10, 0, 0 },
	{ "1\n", 0, 10, 0, 0 },
	{ "1a", 0, 10, 0, 0 },
	{ "a1", 0, 10, 0, 0 },
	{ "1.0", 0, 10, 0, 0 },
	{ "1e1", 0, 100, 0, 0 },
	{ "0x1", 0, 10, 0, 0 },
	{ "1_000", 0, 10000, 0, 0 },
	{ "\xef\xbc\x91", 0, 10, 0, 0 }, /* a full-width 1 */
	{ "9223372036854775807", LLONG_MIN, LLONG_MAX, 1, LLONG_MAX },
	{ "9223372036854775808", LLONG_MIN, LLONG_MAX, 0, 0 },
	{ "-9223372036854775808", LLONG_MIN, LLONG_MAX, 1, LLONG_MIN },
	{ "-9223372036854775809", LLONG_MIN, LLONG_MAX, 0, 0 },
	{ "99999999999999999999", 0, LLONG_MAX, 0, 0 },
	{ "18446744073709551617", 0, 10, 0, 0 }, /* 1 modulo 2^64 */
	{ "000000000000000000000000000000001", 0, 10, 1, 1 },
};

static void
test_parse_int_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(int_cases); i++) {
		const struct int_case *c = &int_cases[i];
		long long out = 777;
		int rc = parse_int(c->s, c->min, c->max, &out);

		if (c->ok && (rc != 0 || out != c->want))
			fail_msg("case %zu \"%s\" [%lld, %lld]: rc %d out %lld",
			    i, c->s, c->min, c->max, rc, out);
		if (!c->ok && (rc != -1 || out != 777))
			fail_msg("case %zu \"%s\" [%lld, %lld]: rc %d out %lld",
			    i, c->s, c->min, c->max, rc, out);
	}
}

/* util.h: parse_decimal */

struct dec_case {
	const char *s;
	double min, max;
	int ok;
	double want;
};

static const struct dec_case dec_cases[] = {
	{ "0", 0, 100, 1, 0 }, { "12", 0, 100, 1, 12 },
	{ "0.5", 0, 100, 1, 0.5 }, { "33.33", 0, 100, 1, 33.33 },
	{ "100", 0, 100, 1, 100 }, { "100.000", 0, 100, 1, 100 },
	{ "00.5", 0, 100, 1, 0.5 }, { "0.1", 0, 100, 1, 0.1 },
	{ "12345678901234567890", 0, 1e30, 1, 12345678901234567890.0 },
	{ "0.00000000000000000001", 0, 1, 1, 1e-20 },
	{ "100.0000001", 0, 100, 0, 0 }, { "101", 0, 100, 0, 0 },
	{ "0.5", 1, 100, 0, 0 }, { "-1", -100, 100, 0, 0 },
	{ "-0", -100, 100, 0, 0 }, { "+1", 0, 100, 0, 0 },
	{ ".5", 0, 100, 0, 0 }, { "5.", 0, 100, 0, 0 }, { ".", 0, 100, 0, 0 },
	{ "", 0, 100, 0, 0 }, { "1e2", 0, 1000, 0, 0 },
	{ "1E2", 0, 1000, 0, 0 }, { "nan", 0, 100, 0, 0 },
	{ "NAN", 0, 100, 0, 0 }, { "inf", 0, 100, 0, 0 },
	{ "infinity", 0, 1e308, 0, 0 }, { " 1", 0, 100, 0, 0 },
	{ "1 ", 0, 100, 0, 0 }, { "1,5", 0, 100, 0, 0 },
	{ "1.2.3", 0, 100, 0, 0 }, { "0x10", 0, 100, 0, 0 },
	{ "1..2", 0, 100, 0, 0 },
	{ "123456789012345678901", 0, 1e30, 0, 0 }, /* 21 digits */
	{ "0.000000000000000000001", 0, 1, 0, 0 }, /* 21 decimals */
};

static void
test_parse_decimal_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(dec_cases); i++) {
		const struct dec_case *c = &dec_cases[i];
		double out = 777;
		int rc = parse_decimal(c->s, c->min, c->max, &out);

		if (c->ok && (rc != 0 || out != c->want))
			fail_msg("case %zu \"%s\" [%g, %g]: rc %d out %.17g", i,
			    c->s, c->min, c->max, rc, out);
		if (!c->ok && (rc != -1 || out != 777))
			fail_msg("case %zu \"%s\" [%g, %g]: rc %d out %.17g", i,
			    c->s, c->min, c->max, rc, out);
	}
}

/* util.h: struct buf */

static void
test_buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_string_equal(b.data, "hello");
	/* Up to the cap exactly is fine. */
	assert_int_equal(buf_puts(&b, "world"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	assert_int_equal(b.over, 0);
	/* One more byte is refused, sets over, and changes nothing. */
	assert_int_equal(buf_putc(&b, 'x'), -1);
	assert_int_equal(b.over, 1);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	/* Once over, everything is refused, even nothing. */
	assert_int_equal(buf_append(&b, "", 0), -1);
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	assert_string_equal(b.data, "helloworld");
	/* A reset starts again. */
	buf_reset(&b);
	assert_int_equal(b.over, 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_puts(&b, "abc"), 0);
	assert_string_equal(b.data, "abc");
	buf_free(&b);
	assert_null(b.data);
}

/* A refused append writes none of its bytes. */
static void
test_buf_no_partial(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_puts(&b, "123456"), -1);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "hello");
	buf_free(&b);

	buf_init(&b, 8);
	assert_int_equal(buf_printf(&b, "%d", 123456789), -1);
	assert_int_equal(b.over, 1);
	assert_int_equal(b.len, 0);
	buf_free(&b);

	/* n so large that len + n would wrap around. */
	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "ab"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -1);
	assert_string_equal(b.data, "ab");
	buf_free(&b);
}

/* Growth over many reallocations keeps every byte. */
static void
test_buf_growth(void **state)
{
	char big[700];
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 5000);
	for (i = 0; i < 5000; i++)
		if (buf_putc(&b, (char)('a' + i % 26)) != 0)
			fail_msg("byte %zu refused", i);
	assert_int_equal(buf_putc(&b, 'z'), -1);
	assert_int_equal(b.len, 5000);
	assert_int_equal(b.data[5000], '\0');
	for (i = 0; i < 5000; i++)
		if (b.data[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is %c", i, b.data[i]);
	buf_free(&b);

	/* buf_printf past its 256-byte stack buffer. */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 1000);
	assert_int_equal(buf_printf(&b, "<%s>%d", big, 42), 0);
	assert_int_equal(b.len, sizeof(big) - 1 + 4);
	assert_int_equal(b.data[0], '<');
	assert_string_equal(b.data + sizeof(big), ">42");
	assert_int_equal(buf_printf(&b, "%s", big), -1);
	assert_int_equal(b.len, sizeof(big) - 1 + 4);
	buf_free(&b);
}

/*
 * Regression: util.h says a buf's
 * contents are always NUL-terminated, but a buf that has had nothing
 * appended (or whose first append was refused) has data == NULL.
 */
static void
test_buf_empty_data(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	buf_free(&b);
	buf_init(&b, 2);
	assert_int_equal(buf_puts(&b, "abc"), -1);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

/* util.h: the arena */

static void
test_arena_alignment(void **state)
{
	struct arena a = { NULL };
	size_t n;

	(void)state;
	for (n = 1; n <= 300; n++) {
		unsigned char *p = arena_alloc(&a, n);

		if ((uintptr_t)p % _Alignof(max_align_t) != 0)
			fail_msg("size %zu: %p misaligned", n, (void *)p);
		memset(p, 0xab, n);
	}
	/* Bigger than a block, and after it small ones again. */
	{
		unsigned char *p = arena_alloc(&a, 100000);

		assert_true((uintptr_t)p % _Alignof(max_align_t) == 0);
		memset(p, 0xcd, 100000);
		p = arena_alloc(&a, 3);
		assert_true((uintptr_t)p % _Alignof(max_align_t) == 0);
		memset(p, 0xef, 3);
	}
	arena_free(&a);
	assert_null(a.head);
}

/* Allocations never overlap and keep their contents. */
static void
test_arena_distinct(void **state)
{
	struct arena a = { NULL };
	unsigned char *p[500];
	size_t i, k;

	(void)state;
	for (i = 0; i < NELEM(p); i++) {
		size_t n = 1 + i * 7 % 200;

		p[i] = arena_alloc(&a, n);
		memset(p[i], (int)(i & 0xff), n);
	}
	for (i = 0; i < NELEM(p); i++) {
		size_t n = 1 + i * 7 % 200;

		for (k = 0; k < n; k++)
			if (p[i][k] != (unsigned char)(i & 0xff))
				fail_msg("allocation %zu byte %zu overwritten",
				    i, k);
	}
	arena_free(&a);
}

static void
test_arena_reset(void **state)
{
	struct arena a = { NULL };
	char *first, *again, *s;
	int round, i;

	(void)state;
	arena_reset(&a); /* empty: nothing to do */
	assert_null(a.head);
	first = arena_alloc(&a, 64);
	for (round = 0; round < 5; round++) {
		/* Fill several blocks, then start over. */
		for (i = 0; i < 20; i++)
			memset(arena_alloc(&a, 5000), 'x', 5000);
		arena_reset(&a);
		again = arena_alloc(&a, 64);
		/* The first block is kept and handed out again. */
		assert_ptr_equal(again, first);
	}
	s = arena_strdup(&a, "hello");
	assert_string_equal(s, "hello");
	s = arena_strndup(&a, "hello world", 5);
	assert_string_equal(s, "hello");
	s = arena_strdup(&a, "");
	assert_string_equal(s, "");
	arena_free(&a);
	assert_null(a.head);
	/* A freed arena can be used again. */
	s = arena_strdup(&a, "again");
	assert_string_equal(s, "again");
	arena_free(&a);
}

/* util.h: secret_equal */

static void
test_secret_equal(void **state)
{
	static const struct {
		const char *a, *b;
		int eq;
	} cases[] = {
		{ "", "", 1 },
		{ "a", "a", 1 },
		{ "s3cret-value", "s3cret-value", 1 },
		{ "a", "b", 0 },
		{ "abc", "abcd", 0 },
		{ "abcd", "abc", 0 },
		{ "", "x", 0 },
		{ "x", "", 0 },
		{ "secret", "Secret", 0 },
		{ "secret", "secreT", 0 },
		{ "secret\n", "secret", 0 },
	};
	char long_a[300], long_b[300];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (secret_equal(cases[i].a, cases[i].b) != cases[i].eq)
			fail_msg("case %zu \"%s\" \"%s\": want %d", i,
			    cases[i].a, cases[i].b, cases[i].eq);
	memset(long_a, 'k', sizeof(long_a) - 1);
	long_a[sizeof(long_a) - 1] = '\0';
	memcpy(long_b, long_a, sizeof(long_b));
	assert_int_equal(secret_equal(long_a, long_b), 1);
	long_b[298] = 'j';
	assert_int_equal(secret_equal(long_a, long_b), 0);
	long_b[298] = 'k';
	long_b[0] = 'j';
	assert_int_equal(secret_equal(long_a, long_b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_empty_data),
		cmocka_unit_test(test_parse_accepts_non_json),
		cmocka_unit_test(test_parse_top_level_scalars),
		cmocka_unit_test(test_writer_nested),
		cmocka_unit_test(test_writer_arrays),
		cmocka_unit_test(test_writer_obj_continue),
		cmocka_unit_test(test_writer_parses),
		cmocka_unit_test(test_writer_over_cap),
		cmocka_unit_test(test_writer_too_deep),
		cmocka_unit_test(test_escape_table),
		cmocka_unit_test(test_escape_round_trip),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_depth_agrees),
		cmocka_unit_test(test_duplicate_members),
		cmocka_unit_test(test_duplicate_members_many),
		cmocka_unit_test(test_duplicate_reason_utf8),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_parse_exact_length),
		cmocka_unit_test(test_parse_int_table),
		cmocka_unit_test(test_parse_decimal_table),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_buf_no_partial),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_arena_alignment),
		cmocka_unit_test(test_arena_distinct),
		cmocka_unit_test(test_arena_reset),
		cmocka_unit_test(test_secret_equal),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
