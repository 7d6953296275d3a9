/*
 * The pure parts of accounts: email and key-name validation and the
 * JSON of a listed key (shared/keys.c), and saved preferences
 * (shared/prefs.c) — a PUT body
 * read field by field, stored text read back with bad fields dropped,
 * the canonical JSON written, and the defaults applied only where the
 * query said nothing.  Tables, one row per case.
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

#include "json.h"
#include "keys.h"
#include "log.h"
#include "prefs.h"
#include "util.h"

static const struct {
	const char *in;
	const char *out; /* NULL: refused */
} emails[] = {
	{ "alice@example.com", "alice@example.com" },
	{ "Alice@Example.COM", "alice@example.com" },
	{ "demo@localhost", "demo@localhost" },
	{ "o'brien+tag@sub-1.example.co.uk", "o'brien+tag@sub-1.example.co.uk" },
	{ "a.b.c@x.y", "a.b.c@x.y" },
	{ "a@b", "a@b" },
	{ "", NULL },
	{ "@", NULL },
	{ "a@", NULL },
	{ "@b", NULL },
	{ "ab", NULL },
	{ "a@b@c", NULL },
	{ ".a@b", NULL },
	{ "a.@b", NULL },
	{ "a..b@c", NULL },
	{ "a b@c", NULL },
	{ "a\"b@c", NULL },
	{ "a@b.", NULL },
	{ "a@.b", NULL },
	{ "a@b..c", NULL },
	{ "a@-b", NULL },
	{ "a@b-", NULL },
	{ "a@b_c", NULL },
	{ "a@b c", NULL },
	{ "\xc3\xa4@b", NULL },
	{ "a\n@b", NULL },
};

static void
test_emails(void **state)
{
	char out[EMAIL_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(emails); i++) {
		int rc = keys_email_normalize(emails[i].in, out);

		if ((rc == 0) != (emails[i].out != NULL))
			fail_msg("email %zu \"%s\": rc %d", i, emails[i].in, rc);
		if (rc == 0 && strcmp(out, emails[i].out) != 0)
			fail_msg("email %zu: got %s", i, out);
	}
}

static void
test_email_lengths(void **state)
{
	char in[400], out[EMAIL_MAX + 1];

	(void)state;
	/* 64 + 1 + 4 labels of 63 and 3 dots = 320 bytes: the longest. */
	memset(in, 'a', 64);
	in[64] = '@';
	memset(in + 65, 'b', 255);
	in[65 + 63] = in[65 + 127] = in[65 + 191] = '.';
	in[320] = '\0';
	assert_int_equal(keys_email_normalize(in, out), 0);
	in[0] = '.';
	assert_int_equal(keys_email_normalize(in, out), -1);
	memset(in, 'a', 65);
	in[65] = '@';
	memcpy(in + 66, "b.c", 4);
	assert_int_equal(keys_email_normalize(in, out), -1); /* local 65 */
}

static void
test_names(void **state)
{
	char n[400];
	int i;

	(void)state;
	assert_true(keys_name_valid("laptop"));
	assert_true(keys_name_valid("Ünïcödé ✓"));
	assert_false(keys_name_valid(""));
	assert_false(keys_name_valid("a\tb"));
	assert_false(keys_name_valid("a\x7f"));
	memset(n, 'x', 100);
	n[100] = '\0';
	assert_true(keys_name_valid(n));
	n[100] = 'x';
	n[101] = '\0';
	assert_false(keys_name_valid(n));
	/* 100 two-byte characters are 100 characters. */
	for (i = 0; i < 100; i++)
		memcpy(n + 2 * i, "\xc3\xa9", 2);
	n[200] = '\0';
	assert_true(keys_name_valid(n));
}

/* PUT bodies: what is refused and for which field. */
static const struct {
	const char *body;
	const char *code; /* NULL: accepted */
	const char *field;
} updates[] = {
	{ "{}", NULL, NULL },
	{ "{\"sort\":\"newest\",\"topN\":5}", NULL, NULL },
	{ "{\"useCases\":\"chat,tools\"}", NULL, NULL },
	{ "{\"useCases\":[\"chat\",\"tools\"]}", NULL, NULL },
	{ "{\"useCases\":[]}", NULL, NULL },
	{ "{\"maxErrorRate\":0}", NULL, NULL },
	{ "{\"maxErrorRate\":99.99}", NULL, NULL },
	{ "{\"myReports\":false,\"timeRange\":\"all\"}", NULL, NULL },
	{ "{\"sort\":null,\"excludeModelIds\":null}", NULL, NULL },
	{ "{\"useCases\":\"\"}", "invalid_field", "useCases" },
	{ "{\"useCases\":[\"chat,tools\"]}", "invalid_field", "useCases" },
	{ "{\"sort\":\"issueCount\"}", "invalid_field", "sort" },
	{ "{\"topN\":5.0}", "invalid_field", "topN" },
	{ "{\"topN\":\"5\"}", "invalid_field", "topN" },
	{ "{\"maxErrorRate\":-1}", "invalid_field", "maxErrorRate" },
	{ "{\"maxErrorRate\":\"1\"}", "invalid_field", "maxErrorRate" },
	{ "{\"timeRange\":\"1d\"}", "invalid_field", "timeRange" },
	{ "{\"myReports\":0}", "invalid_field", "myReports" },
	{ "{\"excludeModelIds\":[\"\"]}", "invalid_field", "excludeModelIds" },
	{ "{\"excludeModelIds\":\"a\"}", "invalid_field", "excludeModelIds" },
	{ "{\"nope\":1}", "unknown_field", "nope" },
	{ "{\"minReports\":1}", "unknown_field", "minReports" },
};

static void
test_updates(void **state)
{
	struct arena *a = *state;
	struct prefs_error pe;
	int clear[PREF__MAX];
	struct prefs set;
	size_t i;
	char err[64];

	for (i = 0; i < NELEM(updates); i++) {
		struct json_object *o = json_parse(updates[i].body,
		    strlen(updates[i].body), 8, err, sizeof(err));
		int rc;

		assert_non_null(o);
		memset(&pe, 0, sizeof(pe));
		rc = prefs_parse_update(o, a, &set, clear, &pe);
		json_object_put(o);
		if ((rc == 0) != (updates[i].code == NULL))
			fail_msg("update %zu %s: rc %d", i, updates[i].body, rc);
		if (rc != 0 && (strcmp(pe.code, updates[i].code) != 0 ||
				   strcmp(pe.field, updates[i].field) != 0))
			fail_msg("update %zu: %s %s", i, pe.code, pe.field);
	}
}

/* Write pr's members as an object into b. */
static void
write_all(const struct prefs *pr, int all, struct buf *b)
{
	struct jw w;

	buf_reset(b);
	jw_init(&w, b);
	jw_obj_begin(&w);
	prefs_write_members(&w, pr, all);
	jw_obj_end(&w);
}

static void
test_update_canonical(void **state)
{
	static const char body[] = "{\"useCases\":\"tools,chat,tools\","
	    "\"excludeModelIds\":[\"b\",\"a\",\"b\"],\"maxErrorRate\":0.1,"
	    "\"sort\":null}";
	struct arena *a = *state;
	struct prefs_error pe;
	int clear[PREF__MAX];
	struct prefs set;
	struct buf b;
	char err[64];
	struct json_object *o = json_parse(body, strlen(body), 8, err,
	    sizeof(err));

	assert_int_equal(prefs_parse_update(o, a, &set, clear, &pe), 0);
	json_object_put(o);
	buf_init(&b, 4096);
	write_all(&set, 0, &b);
	assert_string_equal(b.data, "{\"useCases\":[\"chat\",\"tools\"],"
	    "\"maxErrorRate\":0.1,\"excludeModelIds\":[\"b\",\"a\"]}");
	assert_true(clear[PREF_SORT]);
	assert_false(clear[PREF_TOP_N]);
	write_all(&set, 1, &b);
	assert_string_equal(b.data, "{\"useCases\":[\"chat\",\"tools\"],"
	    "\"sort\":null,\"topN\":null,\"maxErrorRate\":0.1,"
	    "\"timeRange\":null,\"myReports\":null,"
	    "\"excludeModelIds\":[\"b\",\"a\"]}");
	buf_free(&b);
}

static void
test_load_and_apply(void **state)
{
	struct arena *a = *state;
	struct list_params p;
	struct prefs pr;
	struct buf b;

	/* Bad stored fields are dropped; good ones kept. */
	prefs_load("{\"sort\":\"bogus\",\"topN\":3,\"colour\":1,"
	    "\"timeRange\":\"7d\",\"myReports\":true,"
	    "\"excludeModelIds\":[\"x\"],\"useCases\":[\"vision\"]}", a, &pr);
	buf_init(&b, 4096);
	write_all(&pr, 0, &b);
	assert_string_equal(b.data, "{\"useCases\":[\"vision\"],\"topN\":3,"
	    "\"timeRange\":\"7d\",\"myReports\":true,"
	    "\"excludeModelIds\":[\"x\"]}");
	assert_true(prefs_excluded(&pr, "x"));
	assert_false(prefs_excluded(&pr, "y"));

	/* Applied only where the query gave nothing. */
	list_params_defaults(&p, 0);
	p.given[P_TOP_N] = 1;
	p.top_n = 50;
	prefs_apply(&pr, &p);
	assert_int_equal(p.top_n, 50);
	assert_int_equal(p.range, TR_7D);
	assert_int_equal(p.filters, FILTER_VISION);
	assert_int_equal(p.sort, SORT_CONTEXT_LENGTH);
	assert_true(p.my_reports);

	/* Not an object, not JSON, nothing: all defaults. */
	prefs_load("[1]", a, &pr);
	write_all(&pr, 0, &b);
	assert_string_equal(b.data, "{}");
	prefs_load("", a, &pr);
	write_all(&pr, 0, &b);
	assert_string_equal(b.data, "{}");
	prefs_load(NULL, a, &pr);
	assert_int_equal(pr.n_exclude, 0);
	buf_free(&b);
}

#define KEY_ID "0b9e6c2e-4a47-4f8e-9d3e-2c1f7a5b8e10"

static const struct {
	const char *what;
	struct key_row k;
	const char *current_id; /* the request's key, or NULL */
	const char *json;
} key_rows[] = {
	{ "a fresh key in a listing made with it",
	    { KEY_ID, "laptop", "fma_Ab3d", 1767225600000LL, -1, -1, 1, 0,
	        0 },
	    KEY_ID,
	    "{\"id\":\"" KEY_ID "\",\"name\":\"laptop\","
	    "\"start\":\"fma_Ab3d\","
	    "\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"lastUsedAt\":null,"
	    "\"expiresAt\":null,\"enabled\":true,\"expired\":false,"
	    "\"requestCount\":0,\"current\":true}" },
	{ "a used, expired key beside the one in hand",
	    { KEY_ID, "ci \"nightly\"", "fma_Zz00", 1767225600000LL,
	        1767225601500LL, 1767312000000LL, 0, 1, 42 },
	    "5f0c1a9e-7d2b-4c3a-8e1f-6b2d9a0c4e71",
	    "{\"id\":\"" KEY_ID "\",\"name\":\"ci \\\"nightly\\\"\","
	    "\"start\":\"fma_Zz00\","
	    "\"createdAt\":\"2026-01-01T00:00:00.000Z\","
	    "\"lastUsedAt\":\"2026-01-01T00:00:01.500Z\","
	    "\"expiresAt\":\"2026-01-02T00:00:00.000Z\",\"enabled\":false,"
	    "\"expired\":true,\"requestCount\":42,\"current\":false}" },
	{ "an admin listing says nothing of a current key",
	    { KEY_ID, "x", "fma_0000", 0, -1, -1, 1, 0, 7 },
	    NULL,
	    "{\"id\":\"" KEY_ID "\",\"name\":\"x\",\"start\":\"fma_0000\","
	    "\"createdAt\":\"1970-01-01T00:00:00.000Z\",\"lastUsedAt\":null,"
	    "\"expiresAt\":null,\"enabled\":true,\"expired\":false,"
	    "\"requestCount\":7}" },
};

static void
test_key_rows(void **state)
{
	struct buf b;
	struct jw w;
	size_t i;

	(void)state;
	buf_init(&b, 4096);
	for (i = 0; i < NELEM(key_rows); i++) {
		buf_reset(&b);
		jw_init(&w, &b);
		keys_write_row(&w, &key_rows[i].k, key_rows[i].current_id);
		if (strcmp(b.data, key_rows[i].json) != 0)
			fail_msg("key row %zu (%s): %s", i, key_rows[i].what,
			    b.data);
	}
	buf_free(&b);
}

static int
setup_arena(void **state)
{
	*state = xcalloc(1, sizeof(struct arena));
	return 0;
}

static int
teardown_arena(void **state)
{
	arena_free(*state);
	free(*state);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emails),
		cmocka_unit_test(test_email_lengths),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_key_rows),
		cmocka_unit_test_setup_teardown(test_updates, setup_arena,
		    teardown_arena),
		cmocka_unit_test_setup_teardown(test_update_canonical,
		    setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_load_and_apply,
		    setup_arena, teardown_arena),
	};

	/* The bad stored fields are logged; keep the TAP stream clean. */
	log_setup("test_accounts", LOG_ERROR);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
