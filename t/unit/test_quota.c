/*
 * The fixed quota window of SPEC.md §1 as the headers report it:
 * allowed, remaining, the reset time and the seconds until it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "quota.h"
#include "util.h"

#define DAY 86400

struct quota_case {
	struct quota q; /* limit, count, window_seconds, start ms, now ms */
	int allowed;
	long long remaining;
	long long reset_at;
	long long seconds_to_reset;
};

static const struct quota_case quota_cases[] = {
	/* The first request of a window of 200. */
	{ { 200, 1, DAY, 1000000000000LL, 1000000000000LL }, 1, 199,
	    1000086400LL, DAY },
	/* The last one that fits, and the first one that does not. */
	{ { 200, 200, DAY, 0, 5000 }, 1, 0, DAY, DAY - 5 },
	{ { 200, 201, DAY, 0, 5000 }, 0, 0, DAY, DAY - 5 },
	{ { 200, 5000, DAY, 0, 5000 }, 0, 0, DAY, DAY - 5 },
	{ { 1, 1, 60, 0, 0 }, 1, 0, 60, 60 },
	{ { 1, 2, 60, 0, 0 }, 0, 0, 60, 60 },
	/* limit 0: even the first request is refused. */
	{ { 0, 1, DAY, 0, 0 }, 0, 0, DAY, DAY },
	/* The reset rounds up to whole seconds. */
	{ { 200, 1, DAY, 1000500, 1000500 }, 1, 199, 87401, DAY },
	{ { 200, 1, DAY, 1000001, 1000001 }, 1, 199, 87401, DAY },
	{ { 200, 1, DAY, 1000999, 1000999 }, 1, 199, 87401, DAY },
	{ { 200, 1, DAY, 1000000, 1000000 }, 1, 199, 87400, DAY },
	/* Seconds to reset round up too: 0.001 s left is 1 s. */
	{ { 10, 3, 60, 0, 59999 }, 1, 7, 60, 1 },
	{ { 10, 3, 60, 0, 59000 }, 1, 7, 60, 1 },
	{ { 10, 3, 60, 0, 58999 }, 1, 7, 60, 2 },
	{ { 10, 3, 60, 0, 500 }, 1, 7, 60, 60 },
	{ { 10, 3, 60, 0, 1000 }, 1, 7, 60, 59 },
	/* At or past the end: still 1, never 0 or negative. */
	{ { 10, 3, 60, 0, 60000 }, 1, 7, 60, 1 },
	{ { 10, 3, 60, 0, 61000 }, 1, 7, 60, 1 },
	{ { 10, 3, 60, 0, 999999999 }, 1, 7, 60, 1 },
	/* The database clock may lag the window start by a little. */
	{ { 10, 1, 60, 10000, 9000 }, 1, 9, 70, 61 },
	/* A short window and a large limit. */
	{ { 1000000, 999999, 1, 1767868200123LL, 1767868200123LL }, 1, 1,
	    1767868202LL, 1 },
};

static void
test_quota_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(quota_cases); i++) {
		const struct quota_case *c = &quota_cases[i];
		const struct quota *q = &c->q;

		if (quota_allowed(q) != c->allowed)
			fail_msg("case %zu (count %lld of %lld): allowed %d", i,
			    q->count, q->limit, quota_allowed(q));
		if (quota_remaining(q) != c->remaining)
			fail_msg("case %zu: remaining %lld, want %lld", i,
			    quota_remaining(q), c->remaining);
		if (quota_reset_at(q) != c->reset_at)
			fail_msg("case %zu: reset_at %lld, want %lld", i,
			    quota_reset_at(q), c->reset_at);
		if (quota_seconds_to_reset(q) != c->seconds_to_reset)
			fail_msg("case %zu: seconds_to_reset %lld, want %lld",
			    i, quota_seconds_to_reset(q), c->seconds_to_reset);
	}
}

/* Every count of a window of 5: 5 pass, the rest get 0 remaining. */
static void
test_quota_sequence(void **state)
{
	struct quota q = { 5, 0, 3600, 1700000000000LL, 1700000000000LL };
	long long n, passed = 0;

	(void)state;
	for (n = 1; n <= 12; n++) {
		q.count = n;
		passed += quota_allowed(&q);
		assert_true(quota_remaining(&q) >= 0);
		if (n <= 5)
			assert_int_equal(quota_remaining(&q), 5 - n);
		else
			assert_int_equal(quota_remaining(&q), 0);
	}
	assert_int_equal(passed, 5);
}

/* Seconds to reset are never below 1 and agree with reset_at. */
static void
test_quota_seconds_sweep(void **state)
{
	struct quota q = { 10, 1, 60, 1000250, 0 };
	int64_t t;

	(void)state;
	for (t = 1000250 - 2000; t <= 1000250 + 62000; t += 37) {
		long long s;

		q.now_ms = t;
		s = quota_seconds_to_reset(&q);
		if (s < 1)
			fail_msg("now %lld: %lld", (long long)t, s);
		/* now + s reaches the end of the window, s - 1 does not. */
		if (t < 1000250 + 60000) {
			if (t + s * 1000 < 1000250 + 60000 ||
			    t + (s - 1) * 1000 >= 1000250 + 60000)
				fail_msg("now %lld: %lld s", (long long)t, s);
		} else if (s != 1) {
			fail_msg(
			    "now %lld after the end: %lld", (long long)t, s);
		}
	}
	assert_int_equal(quota_reset_at(&q), 1061);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quota_table),
		cmocka_unit_test(test_quota_sequence),
		cmocka_unit_test(test_quota_seconds_sweep),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
