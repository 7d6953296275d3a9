/*
 * The fetch module without a server: which protocols a URL may use
 * and be redirected to, how base URLs are joined, the bearer header's
 * checks, and fetch_one() and fetch_batch() on file:// URLs (each job
 * with its own cap and outcome).  Run from the top of the source
 * tree, where the fixture lives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fetch.h"
#include "util.h"

#define FIXTURE "t/fixtures/openrouter-models.json"

struct proto_case {
	const char *url;
	const char *protocols; /* NULL: refused */
	const char *redirects;
};

static const struct proto_case proto_cases[] = {
	{ "https://openrouter.ai/api/v1/models", "https", "https" },
	{ "http://127.0.0.1:8080/x", "http,https", "http,https" },
	{ "file:///tmp/models.json", "file", "file" },
	{ "HTTPS://openrouter.ai/", NULL, NULL },
	{ "ftp://example.org/x", NULL, NULL },
	{ "gopher://example.org/", NULL, NULL },
	{ "https:/x", NULL, NULL },
	{ "//example.org/", NULL, NULL },
	{ "", NULL, NULL },
};

static void
test_protocols(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(proto_cases); i++) {
		const struct proto_case *c = &proto_cases[i];
		const char *p, *r;
		int rc = fetch_protocols(c->url, &p, &r);

		if (c->protocols == NULL) {
			if (rc != -1 || p != NULL || r != NULL)
				fail_msg("%s: accepted", c->url);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: refused", c->url);
		assert_string_equal(p, c->protocols);
		assert_string_equal(r, c->redirects);
		/* Never a way from https down to http, nor to a file. */
		if (strcmp(c->protocols, "https") == 0)
			assert_string_equal(r, "https");
		assert_null(
		    strstr(strcmp(c->protocols, "file") ? r : "", "file"));
	}
}

static void
test_join(void **state)
{
	static const char *const cases[][3] = {
		{ "https://a.example.org", "/api/x",
		    "https://a.example.org/api/x" },
		{ "https://a.example.org/", "/api/x",
		    "https://a.example.org/api/x" },
		{ "https://a.example.org///", "/api/x",
		    "https://a.example.org/api/x" },
		{ "https://openrouter.ai/api/v1", "/models",
		    "https://openrouter.ai/api/v1/models" },
	};
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 256);
	for (i = 0; i < NELEM(cases); i++) {
		buf_reset(&b);
		assert_int_equal(fetch_join(&b, cases[i][0], cases[i][1]), 0);
		assert_string_equal(b.data, cases[i][2]);
	}
	buf_free(&b);
	buf_init(&b, 10);
	assert_int_equal(fetch_join(&b, "https://a.example.org", "/x"), -1);
	buf_free(&b);
}

static void
test_bearer(void **state)
{
	static const char *const bad[] = { "", "a b", "a\tb", "a\r\nX: y",
		"k\x7f", "caf\xc3\xa9" };
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(fetch_bearer(&b, "sk-or-v1-abc"), 0);
	assert_string_equal(b.data, "Authorization: Bearer sk-or-v1-abc");
	for (i = 0; i < NELEM(bad); i++)
		if (fetch_bearer(&b, bad[i]) != -1)
			fail_msg("token %zu accepted", i);
	assert_int_equal(fetch_bearer(&b,
	                     "0123456789012345678901234567890123456789012345"
	                     "67890123456789"),
	    -2);
	buf_free(&b);
}

static void
file_url(char *out, size_t n, const char *path)
{
	char cwd[1024];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(out, n, "file://%s/%s", cwd, path);
}

static void
opts(struct fetch_opts *o, long long max_bytes)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_s = 5;
	o->timeout_s = 5;
	o->max_bytes = max_bytes;
	o->tries = 1;
}

static void
test_one_file(void **state)
{
	struct fetch_result r;
	struct fetch_opts o;
	char url[1200];

	(void)state;
	file_url(url, sizeof(url), FIXTURE);
	opts(&o, 64 << 20);
	assert_int_equal(fetch_one(url, &o, &r), FETCH_OK);
	assert_true(r.body.len > 100000);
	assert_int_equal(r.tries, 1);
	assert_memory_equal(r.body.data, "{", 1);
	fetch_result_free(&r);

	opts(&o, 1024);
	assert_int_equal(fetch_one(url, &o, &r), FETCH_TOO_BIG);
	assert_string_equal(r.err, "response body larger than 1024 bytes");
	fetch_result_free(&r);

	opts(&o, 1024);
	assert_int_equal(fetch_one("ftp://x/", &o, &r), FETCH_SETUP);
	fetch_result_free(&r);
}

static void
test_batch_files(void **state)
{
	char ok[1200], missing[1200];
	struct fetch_job jobs[7];
	struct fetch_opts o;
	size_t i, len = 0;

	(void)state;
	file_url(ok, sizeof(ok), FIXTURE);
	file_url(missing, sizeof(missing), "t/fixtures/no-such-file.json");
	memset(jobs, 0, sizeof(jobs));
	for (i = 0; i < NELEM(jobs); i++)
		jobs[i].url = ok;
	jobs[2].url = missing;
	jobs[4].url = "ftp://example.org/x";
	opts(&o, 64 << 20);
	assert_int_equal(fetch_batch(jobs, NELEM(jobs), 3, &o), 0);
	for (i = 0; i < NELEM(jobs); i++) {
		enum fetch_status want = i == 2 ? FETCH_NETWORK
		    : i == 4                    ? FETCH_SETUP
		                                : FETCH_OK;

		if (jobs[i].res.status != want)
			fail_msg("job %zu: status %d, want %d (%s)", i,
			    jobs[i].res.status, want, jobs[i].res.err);
		if (want == FETCH_OK && len == 0)
			len = jobs[i].res.body.len;
		if (want == FETCH_OK)
			assert_int_equal(jobs[i].res.body.len, len);
		else
			assert_true(jobs[i].res.err[0] != '\0');
		fetch_result_free(&jobs[i].res);
	}

	/* Each job has its own cap. */
	opts(&o, 2048);
	for (i = 0; i < 3; i++)
		jobs[i].url = ok;
	assert_int_equal(fetch_batch(jobs, 3, 8, &o), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(jobs[i].res.status, FETCH_TOO_BIG);
		fetch_result_free(&jobs[i].res);
	}
	assert_int_equal(fetch_batch(jobs, 0, 8, &o), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_one_file),
		cmocka_unit_test(test_batch_files),
	};
	int rc;

	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (fetch_global_init() != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fetch_global_cleanup();
	return rc;
}
