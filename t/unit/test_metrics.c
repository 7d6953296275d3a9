/*
 * The pool's metrics segment (shared/metrics.c) with real processes:
 * children that open the same file count into the same counters, a
 * child that dies keeps its counts there, a segment of another layout
 * is replaced without pulling the memory from under a process that
 * maps it, and the exposition says what was counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"

static const struct metrics_route routes[] = {
	{ "GET", "/api/health" },
	{ "POST", "/api/v1/models/feedback" },
	{ "GET", "/api/v1/keys/{id}" },
};

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/flr-metrics-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/metrics", dir);
	return 0;
}

static int
teardown(void **state)
{
	char other[160];

	(void)state;
	unlink(path);
	snprintf(other, sizeof(other), "%s.%ld", path, (long)getpid());
	unlink(other);
	rmdir(dir);
	return 0;
}

/* The exposition of m, in a buffer the caller frees. */
static struct buf
scrape(const struct metrics *m)
{
	struct metrics_gauges g = { .db_up = 1, .active_models = 12,
		.sync_age_ms = 61250, .upstream_age_ms = -1 };
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_write(m, &g, &b), 0);
	return b;
}

/* The value of the sample whose line starts with series, or -1. */
static long long
sample(const struct buf *b, const char *series)
{
	size_t n = strlen(series);
	const char *p = b->data;
	long long v = -1;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			if (sscanf(p + n + 1, "%lld", &v) != 1)
				v = -1;
			return v;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return -1;
}

static void
count(struct metrics *m, int route, int status, const char *code, double s)
{
	struct metrics_request r = { .route = route, .status = status,
		.code = code, .seconds = s, .outcome = -1 };

	metrics_request(m, &r);
}

static void
test_processes_share(void **state)
{
	struct metrics m;
	char err[256];
	struct buf b;
	int i, wst;

	(void)state;
	for (i = 0; i < 3; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct metrics c;
			int k;

			if (metrics_open(&c, path, routes, NELEM(routes), err,
			        sizeof(err)) != 0)
				_exit(1);
			for (k = 0; k < 1000; k++)
				count(&c, 0, 200, NULL, 0.001);
			count(&c, 1, 503, "service_unavailable", 0.2);
			/* Dies without closing: the counts are in the file. */
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &wst, 0), pid);
		assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	}
	assert_int_equal(
	    metrics_open(&m, path, routes, NELEM(routes), err, sizeof(err)), 0);
	b = scrape(&m);
	assert_int_equal(sample(&b, "flr_http_requests_total{method=\"GET\","
	                            "route=\"/api/health\",status=\"200\"}"),
	    3000);
	assert_int_equal(sample(&b,
	                     "flr_http_unavailable_total{method=\"POST\","
	                     "route=\"/api/v1/models/feedback\"}"),
	    3);
	assert_int_equal(sample(&b, "flr_worker_starts_total"), 4);
	/* 1 ms is in the 1 ms bucket (le is "less or equal"). */
	assert_int_equal(
	    sample(&b, "flr_http_request_duration_seconds_bucket{method=\"GET\","
	               "route=\"/api/health\",le=\"0.0005\"}"),
	    0);
	assert_int_equal(
	    sample(&b, "flr_http_request_duration_seconds_bucket{method=\"GET\","
	               "route=\"/api/health\",le=\"0.001\"}"),
	    3000);
	assert_int_equal(
	    sample(&b, "flr_http_request_duration_seconds_count{method=\"GET\","
	               "route=\"/api/health\"}"),
	    3000);
	assert_non_null(strstr(b.data,
	    "flr_http_request_duration_seconds_sum{method=\"GET\","
	    "route=\"/api/health\"} 3.000000\n"));
	buf_free(&b);
	metrics_close(&m);
}

static void
test_what_is_counted(void **state)
{
	struct metrics m;
	char err[256];
	struct buf b;
	struct metrics_request r = { .route = 1, .status = 200,
		.outcome = MO_RATE_LIMITED };

	(void)state;
	unlink(path);
	assert_int_equal(
	    metrics_open(&m, path, routes, NELEM(routes), err, sizeof(err)), 0);
	count(&m, -1, 404, "not_found", 0.0001);
	count(&m, 7, 405, "method_not_allowed", 0.0001);
	count(&m, 0, 503, "admin_disabled", 0.0001); /* not the database */
	count(&m, 0, 429, "rate_limited", 0.0001);
	count(&m, 1, 429, "feedback_rate_limited", 0.0001); /* not quota */
	count(&m, 2, 299, NULL, 500.0); /* unknown status, past 120 s */
	metrics_request(&m, &r);
	metrics_db_error(&m, MDB_LOST);
	metrics_db_error(&m, MDB_LOST);
	metrics_db_reconnect(&m);
	metrics_db_error(NULL, MDB_LOST); /* a db without metrics */
	b = scrape(&m);
	assert_int_equal(sample(&b, "flr_http_requests_total{method=\"other\","
	                            "route=\"unmatched\",status=\"404\"}"),
	    1);
	assert_int_equal(sample(&b, "flr_http_requests_total{method=\"other\","
	                            "route=\"unmatched\",status=\"405\"}"),
	    1);
	assert_int_equal(
	    sample(&b, "flr_http_requests_total{method=\"GET\","
	               "route=\"/api/v1/keys/{id}\",status=\"other\"}"),
	    1);
	assert_int_equal(
	    sample(&b, "flr_http_request_duration_seconds_bucket{method=\"GET\","
	               "route=\"/api/v1/keys/{id}\",le=\"120\"}"),
	    0);
	assert_int_equal(
	    sample(&b, "flr_http_request_duration_seconds_bucket{method=\"GET\","
	               "route=\"/api/v1/keys/{id}\",le=\"+Inf\"}"),
	    1);
	assert_null(strstr(b.data, "flr_http_unavailable_total{"));
	assert_int_equal(sample(&b, "flr_quota_refusals_total{method=\"GET\","
	                            "route=\"/api/health\"}"),
	    1);
	assert_null(strstr(b.data, "flr_quota_refusals_total{method=\"POST\""));
	assert_int_equal(
	    sample(&b, "flr_reports_stored_total{outcome=\"rate_limited\"}"), 1);
	assert_int_equal(
	    sample(&b, "flr_reports_stored_total{outcome=\"success\"}"), 0);
	assert_int_equal(sample(&b, "flr_db_errors_total{kind=\"lost\"}"), 2);
	assert_int_equal(sample(&b, "flr_db_errors_total{kind=\"connect\"}"), 0);
	assert_int_equal(sample(&b, "flr_db_reconnects_total"), 1);
	assert_int_equal(sample(&b, "flr_catalog_active_models"), 12);
	assert_non_null(
	    strstr(b.data, "\nflr_catalog_sync_age_seconds 61.250\n"));
	/* Never imported: the family without a sample. */
	assert_non_null(strstr(b.data,
	    "# TYPE flr_upstream_import_age_seconds gauge\n"));
	assert_null(strstr(b.data, "\nflr_upstream_import_age_seconds "));
	buf_free(&b);
	metrics_close(&m);
}

static void
test_database_away(void **state)
{
	struct metrics_gauges g = { .db_up = 0 };
	struct metrics m;
	char err[256];
	struct buf b;

	(void)state;
	assert_int_equal(
	    metrics_open(&m, path, routes, NELEM(routes), err, sizeof(err)), 0);
	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_write(&m, &g, &b), 0);
	assert_int_equal(sample(&b, "flr_db_up"), 0);
	assert_null(strstr(b.data, "\nflr_catalog_active_models "));
	assert_non_null(strstr(b.data, "\nflr_worker_starts_total "));
	buf_free(&b);
	/* A buffer too small for the text is an error, not a cut. */
	buf_init(&b, 64);
	assert_int_equal(metrics_write(&m, &g, &b), -1);
	buf_free(&b);
	metrics_close(&m);
}

static void
test_other_layout(void **state)
{
	static const struct metrics_route fewer[] = { { "GET", "/api/health" } };
	struct metrics old, neu;
	struct stat st;
	char err[256];
	struct buf b;
	FILE *f;

	(void)state;
	unlink(path);
	assert_int_equal(metrics_open(&old, path, routes, NELEM(routes), err,
	                     sizeof(err)),
	    0);
	count(&old, 0, 200, NULL, 0.01);
	/* Another build (another route table): a new, empty segment. */
	assert_int_equal(metrics_open(&neu, path, fewer, NELEM(fewer), err,
	                     sizeof(err)),
	    0);
	b = scrape(&neu);
	assert_int_equal(sample(&b, "flr_worker_starts_total"), 1);
	assert_null(strstr(b.data, "flr_http_requests_total{"));
	buf_free(&b);
	/* The old mapping is still memory, not a SIGBUS. */
	count(&old, 0, 200, NULL, 0.01);
	metrics_close(&old);
	metrics_close(&neu);
	/* Garbage of the right size is replaced too. */
	assert_int_equal(stat(path, &st), 0);
	f = fopen(path, "r+");
	assert_non_null(f);
	fputs("not a segment", f);
	fclose(f);
	assert_int_equal(
	    metrics_open(&neu, path, fewer, NELEM(fewer), err, sizeof(err)), 0);
	b = scrape(&neu);
	assert_int_equal(sample(&b, "flr_worker_starts_total"), 1);
	buf_free(&b);
	metrics_close(&neu);
	/* A path that cannot be made is an error with its reason. */
	assert_int_equal(metrics_open(&neu, "/nonexistent/dir/metrics", fewer,
	                     NELEM(fewer), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/dir/metrics"));
	assert_null(neu.seg);
	count(&neu, 0, 200, NULL, 0.01); /* closed: a no-op */
}

static void
test_report_outcome(void **state)
{
	static const struct {
		const char *body;
		int outcome;
	} bodies[] = {
		{ "{\"modelId\":\"m/a\",\"success\":true}", MO_SUCCESS },
		{ "{\"modelId\":\"m/a\",\"issue\":\"error\"}", MO_ERROR },
		{ "{\"modelId\":\"m/a\",\"success\":false,"
		  "\"issue\":\"unavailable\"}",
		    MO_UNAVAILABLE },
		{ "{\"modelId\":\"m/a\",\"issue\":\"rate_limited\","
		  "\"details\":\"429\"}",
		    MO_RATE_LIMITED },
		{ "{\"modelId\":\"m/a\",\"success\":true,\"dryRun\":true}", -1 },
		{ "{\"modelId\":\"m/a\"}", -1 },
		{ "[1]", -1 },
		{ "{", -1 },
		{ "", -1 },
	};
	struct arena a = { NULL };
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bodies); i++)
		if (metrics_report_outcome(bodies[i].body,
		        strlen(bodies[i].body), &a) != bodies[i].outcome)
			fail_msg("%s: want %d", bodies[i].body,
			    bodies[i].outcome);
	assert_int_equal(metrics_report_outcome(NULL, 0, &a), -1);
	arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_processes_share),
		cmocka_unit_test(test_what_is_counted),
		cmocka_unit_test(test_database_away),
		cmocka_unit_test(test_other_layout),
		cmocka_unit_test(test_report_outcome),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
