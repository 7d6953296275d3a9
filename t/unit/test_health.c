/*
 * Health arithmetic (the error rate, rounded half up to two decimals
 * in integers) and how numbers and times are printed: SPEC.md §0 and
 * §2 want 1.96, 33.33, 0 and 100, never 33.329999….
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health.h"
#include "util.h"

struct rate_case {
	struct health_counts c; /* success, rate_limited, unavailable, error */
	long long issues;
	long long reports;
	long long x100;
};

static const struct rate_case rate_cases[] = {
	/* The issue's example: 3 issues in 153 reports is 1.96. */
	{ { 150, 1, 1, 1 }, 3, 153, 196 },
	{ { 150, 3, 0, 0 }, 3, 153, 196 },
	{ { 150, 0, 0, 3 }, 3, 153, 196 },
	{ { 2, 1, 0, 0 }, 1, 3, 3333 },
	{ { 0, 0, 0, 1 }, 1, 1, 10000 },
	{ { 0, 5, 6, 7 }, 18, 18, 10000 },
	{ { 0, 0, 0, 0 }, 0, 0, 0 },
	{ { 9, 0, 0, 0 }, 0, 9, 0 },
	{ { 1, 0, 2, 0 }, 2, 3, 6667 },
	{ { 7, 0, 1, 0 }, 1, 8, 1250 }, /* 12.5 exactly */
	{ { 15, 1, 0, 0 }, 1, 16, 625 }, /* 6.25 exactly */
	{ { 1, 1, 0, 0 }, 1, 2, 5000 },
	{ { 199999, 0, 0, 1 }, 1, 200000, 0 }, /* 0.0005 % rounds down */
	{ { 19999, 0, 0, 1 }, 1, 20000, 1 }, /* 0.005 % rounds up */
	{ { 39999, 0, 0, 1 }, 1, 40000, 0 }, /* 0.0025 % rounds down */
	{ { 6, 0, 0, 1 }, 1, 7, 1429 }, /* 14.2857… */
	{ { 5, 0, 0, 1 }, 1, 6, 1667 }, /* 16.666… */
	{ { 1999, 0, 0, 1 }, 1, 2000, 5 }, /* 0.05 exactly */
	{ { 2, 0, 0, 1 }, 1, 3, 3333 },
	{ { 0, 2, 0, 1 }, 3, 3, 10000 },
	{ { 1000000000LL, 0, 0, 1000000000LL }, 1000000000LL, 2000000000LL,
	    5000 },
};

static void
test_rate_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rate_cases); i++) {
		const struct rate_case *r = &rate_cases[i];
		long long x100 = health_error_rate_x100(&r->c);

		if (health_issues(&r->c) != r->issues ||
		    health_reports(&r->c) != r->reports)
			fail_msg("case %zu: issues %lld reports %lld, want "
			         "%lld %lld",
			    i, health_issues(&r->c), health_reports(&r->c),
			    r->issues, r->reports);
		if (x100 != r->x100)
			fail_msg("case %zu (%lld of %lld): x100 %lld, want "
			         "%lld",
			    i, r->issues, r->reports, x100, r->x100);
		if (health_error_rate(&r->c) != (double)r->x100 / 100.0)
			fail_msg("case %zu: rate %.17g", i,
			    health_error_rate(&r->c));
	}
}

/* The rate as the API prints it. */
static void
test_rate_printed(void **state)
{
	static const struct {
		struct health_counts c;
		const char *text;
	} cases[] = {
		{ { 150, 3, 0, 0 }, "1.96" },
		{ { 2, 1, 0, 0 }, "33.33" },
		{ { 0, 0, 1, 0 }, "100" },
		{ { 0, 0, 0, 0 }, "0" },
		{ { 1, 2, 0, 0 }, "66.67" },
		{ { 7, 1, 0, 0 }, "12.5" },
		{ { 15, 1, 0, 0 }, "6.25" },
		{ { 199999, 1, 0, 0 }, "0" },
		{ { 19999, 1, 0, 0 }, "0.01" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		char out[32];

		format_number(health_error_rate(&cases[i].c), out);
		if (strcmp(out, cases[i].text) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, out,
			    cases[i].text);
	}
}

/* Exact rounding against a brute-force reference over small counts. */
static void
test_rate_exhaustive(void **state)
{
	long long issues, reports;

	(void)state;
	for (reports = 1; reports <= 400; reports++)
		for (issues = 0; issues <= reports; issues++) {
			struct health_counts c = { reports - issues, issues, 0,
				0 };
			/* 10000 × issues / reports = q + r / reports */
			long long q = 10000 * issues / reports;
			long long r = 10000 * issues % reports;
			long long want = 2 * r >= reports ? q + 1 : q;
			long long got = health_error_rate_x100(&c);

			if (got != want)
				fail_msg("%lld of %lld: %lld, want %lld",
				    issues, reports, got, want);
		}
}

struct number_case {
	double v;
	const char *text;
};

static const struct number_case number_cases[] = {
	{ 1.96, "1.96" },
	{ 33.33, "33.33" },
	{ 0, "0" },
	{ -0.0, "0" },
	{ 100, "100" },
	{ 0.1, "0.1" },
	{ 12.5, "12.5" },
	{ 66.67, "66.67" },
	{ 1, "1" },
	{ 10, "10" },
	{ 1000, "1000" },
	{ 86400, "86400" },
	{ 123456789, "123456789" },
	{ 0.3, "0.3" },
	{ 0.1 + 0.2, "0.30000000000000004" },
	{ 2.5, "2.5" },
	{ -1.5, "-1.5" },
	{ 1e15, "1e+15" },
};

static void
test_number_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(number_cases); i++) {
		char out[32];

		format_number(number_cases[i].v, out);
		if (strcmp(out, number_cases[i].text) != 0)
			fail_msg("case %zu (%.17g): \"%s\", want \"%s\"", i,
			    number_cases[i].v, out, number_cases[i].text);
	}
}

/* x100 written by hand as a decimal: 1 → 0.01, 150 → 1.5, 10000 → 100. */
static void
hundredths(long long x100, char *out, size_t size)
{
	long long whole = x100 / 100, frac = x100 % 100;

	if (frac == 0)
		snprintf(out, size, "%lld", whole);
	else if (frac % 10 == 0)
		snprintf(out, size, "%lld.%lld", whole, frac / 10);
	else
		snprintf(out, size, "%lld.%02lld", whole, frac);
}

static void
test_number_every_rate(void **state)
{
	long long x100;

	(void)state;
	for (x100 = 0; x100 <= 10000; x100++) {
		char out[32], want[32];

		format_number((double)x100 / 100.0, out);
		hundredths(x100, want, sizeof(want));
		if (strcmp(out, want) != 0)
			fail_msg(
			    "x100 %lld: \"%s\", want \"%s\"", x100, out, want);
	}
}

static void
test_hundredths_helper(void **state)
{
	char out[32];

	(void)state;
	hundredths(1, out, sizeof(out));
	assert_string_equal(out, "0.01");
	hundredths(10, out, sizeof(out));
	assert_string_equal(out, "0.1");
	hundredths(150, out, sizeof(out));
	assert_string_equal(out, "1.5");
	hundredths(196, out, sizeof(out));
	assert_string_equal(out, "1.96");
	hundredths(10000, out, sizeof(out));
	assert_string_equal(out, "100");
	hundredths(0, out, sizeof(out));
	assert_string_equal(out, "0");
}

/* A printed number reads back to the same double. */
static void
test_number_round_trip(void **state)
{
	static const double v[] = {
		0.1,
		1.0 / 3,
		2.0 / 3,
		3.141592653589793,
		1e-5,
		123.456,
		99.99,
		0.07,
		4503599627370497.0,
		1e300,
		5e-324,
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(v); i++) {
		char out[32];

		format_number(v[i], out);
		if (strtod(out, NULL) != v[i])
			fail_msg(
			    "case %zu: %.17g printed as \"%s\"", i, v[i], out);
	}
}

struct time_case {
	int64_t ms;
	const char *text;
};

static const struct time_case time_cases[] = {
	{ 0, "1970-01-01T00:00:00.000Z" },
	{ 1767868200123LL, "2026-01-08T10:30:00.123Z" },
	{ 1767868200000LL, "2026-01-08T10:30:00.000Z" },
	{ 999, "1970-01-01T00:00:00.999Z" },
	{ 1000, "1970-01-01T00:00:01.000Z" },
	{ 951782400000LL, "2000-02-29T00:00:00.000Z" },
	{ 1709251199999LL, "2024-02-29T23:59:59.999Z" },
	{ 4102444800000LL, "2100-01-01T00:00:00.000Z" },
};

static void
test_iso8601_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(time_cases); i++) {
		char out[25];

		memset(out, 'x', sizeof(out));
		format_iso8601(time_cases[i].ms, out);
		if (strcmp(out, time_cases[i].text) != 0)
			fail_msg("case %zu (%lld): \"%s\", want \"%s\"", i,
			    (long long)time_cases[i].ms, out,
			    time_cases[i].text);
	}
}

/*
 * sort=healthiest: what the score must order, as pairs (a ranks above b)
 * and fixed points.  -1 is "no evidence".
 */
struct score_case {
	struct health_evidence e;
	double want; /* -2: only used in the pairs below */
};

#define EV(s, f, r, u) { s, f, r, u }
static const struct health_evidence nothing = EV(0, 0, -1, -1);

static void
test_score_fixed(void **state)
{
	struct health_evidence e = nothing;

	(void)state;
	assert_true(health_score(&e) == -1);
	e.failure = 10;
	assert_true(health_score(&e) == 0);
	e = nothing;
	e.success = 10;
	/* Wilson, 10 of 10, z = 1.96: 0.7225 */
	assert_true(fabs(health_score(&e) - 0.72246) < 1e-4);
	e = nothing;
	e.uptime = 1;
	assert_true(fabs(health_score(&e) - 0.72246) < 1e-4);
	e = nothing;
	e.upstream_error_rate = 0;
	/* 20 pseudo-reports, all good: 0.8389 */
	assert_true(fabs(health_score(&e) - 0.83887) < 1e-4);
	e.uptime = 2; /* out of range: ignored */
	assert_true(fabs(health_score(&e) - 0.83887) < 1e-4);
}

/* Each row: a must score strictly above b. */
static const struct {
	struct health_evidence a, b;
	const char *why;
} score_pairs[] = {
	{ EV(0, 10, -1, -1), EV(0, 0, -1, -1), "ten failures outrank nothing" },
	{ EV(1000, 0, -1, -1), EV(3, 0, -1, -1),
	    "a thousand successes outrank three" },
	{ EV(1000, 1, -1, -1), EV(0, 0, -1, -1),
	    "1000 successes and one failure outrank an untried model" },
	{ EV(1000, 1, -1, -1), EV(5, 0, -1, -1),
	    "and outrank five successes" },
	{ EV(0, 0, -1, 0.99), EV(0, 0, -1, -1),
	    "uptime alone is evidence" },
	{ EV(0, 0, -1, 0.99), EV(0, 0, -1, 0.5), "higher uptime first" },
	{ EV(0, 0, 5, -1), EV(0, 0, 50, -1), "lower upstream error rate first" },
	{ EV(50, 0, -1, 0.2), EV(0, 0, -1, 0.99),
	    "fifty of our successes outweigh a good uptime" },
	{ EV(0, 0, -1, 0.99), EV(0, 3, -1, 0.99),
	    "failures pull a good uptime down" },
	{ EV(90, 10, -1, -1), EV(9, 1, -1, -1),
	    "the same rate over more reports first" },
	{ EV(99, 1, -1, -1), EV(80, 20, -1, -1), "a better rate first" },
};

static void
test_score_pairs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(score_pairs); i++) {
		double a = health_score(&score_pairs[i].a);
		double b = health_score(&score_pairs[i].b);

		if (!(a > b))
			fail_msg("%s: %.6f is not above %.6f",
			    score_pairs[i].why, a, b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_table),
		cmocka_unit_test(test_rate_printed),
		cmocka_unit_test(test_rate_exhaustive),
		cmocka_unit_test(test_number_table),
		cmocka_unit_test(test_hundredths_helper),
		cmocka_unit_test(test_number_every_rate),
		cmocka_unit_test(test_number_round_trip),
		cmocka_unit_test(test_iso8601_table),
		cmocka_unit_test(test_score_fixed),
		cmocka_unit_test(test_score_pairs),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
