/*
 * When a read replica may serve reads (shared/replica.c): in recovery,
 * streaming, and its replay lag known and within the bound; and that
 * without DATABASE_READ_URL every read goes to the primary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "replica.h"
#include "util.h"

struct usable_case {
	struct replica_status s; /* in_recovery, streaming, lag_ms */
	long long max_lag_ms;
	int usable;
};

static const struct usable_case usable_cases[] = {
	{ { 1, 1, 0 }, 1000, 1 },
	{ { 1, 1, 1000 }, 1000, 1 },
	{ { 1, 1, 1001 }, 1000, 0 },
	/* Lag unknown: nothing replayed since it started, behind. */
	{ { 1, 1, -1 }, 1000, 0 },
	/* A primary (the URL names the wrong server), or promoted. */
	{ { 0, 0, 0 }, 1000, 0 },
	/* Cut off from the primary: its lag says nothing. */
	{ { 1, 0, 0 }, 1000, 0 },
	/* A bound of 0: only a replica that replayed all it received. */
	{ { 1, 1, 0 }, 0, 1 },
	{ { 1, 1, 1 }, 0, 0 },
};

static void
test_usable_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(usable_cases); i++) {
		const struct usable_case *c = &usable_cases[i];
		int got = replica_status_usable(&c->s, c->max_lag_ms);

		if (got != c->usable)
			fail_msg("case %zu: usable %d, want %d", i, got,
			    c->usable);
	}
}

/* No DATABASE_READ_URL: the primary, at once and without a check. */
static void
test_pick_unconfigured(void **state)
{
	struct replica r;
	struct db primary;

	(void)state;
	replica_init(&r, NULL, "test", 1000, 1000);
	assert_ptr_equal(replica_pick(&r, &primary, 0), &primary);
	assert_ptr_equal(replica_pick(&r, &primary, 1e9), &primary);
	replica_failed(&r, 5);
	assert_ptr_equal(replica_pick(&r, &primary, 10), &primary);
	replica_close(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usable_table),
		cmocka_unit_test(test_pick_unconfigured),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
