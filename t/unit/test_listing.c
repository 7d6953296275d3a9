/*
 * The listing pipeline of shared/listing.c on a catalogue built by
 * hand: filter → health → maxErrorRate → sort → exclusions → topN, in
 * that order, with the flags of the health and listing routes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "listing.h"

static char ids[6][8] = { "m/a", "m/b", "m/c", "m/d", "m/e", "m/f" };

/* context length, active, caps; success, errors */
static const struct {
	long long ctx;
	int active;
	unsigned caps;
	long long ok, bad;
} specs[6] = {
	{ 1000, 1, FILTER_CHAT, 9, 1 }, /* 10 % */
	{ 2000, 1, FILTER_CHAT | FILTER_TOOLS, 1, 1 }, /* 50 %, 2 reports */
	{ 3000, 1, FILTER_CHAT | FILTER_TOOLS, 0, 0 }, /* no reports */
	{ 4000, 0, FILTER_CHAT, 0, 5 }, /* inactive, 100 % */
	{ 5000, 1, FILTER_TOOLS, 80, 20 }, /* 20 % */
	{ 6000, 1, FILTER_CHAT, 3, 0 }, /* 0 % */
};

static struct model models[6];
static struct catalog cat;
static struct arena arena;

static void
build(void)
{
	size_t i;

	memset(models, 0, sizeof(models));
	for (i = 0; i < 6; i++) {
		models[i].id = ids[i];
		models[i].name = ids[i];
		models[i].context_length = specs[i].ctx;
		models[i].is_active = specs[i].active;
		models[i].caps = specs[i].caps;
	}
	cat.models = models;
	cat.n = 6;
}

/* What the counts query would have filled in. */
static void
fill_counts(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		size_t k = (size_t)(l->v[i].m - models);

		l->v[i].h.success = specs[k].ok;
		l->v[i].h.error = specs[k].bad;
	}
}

/* Run the pure pipeline and compare the ids with want ("a c e"). */
static void
expect(struct listing *l, const char *want)
{
	char got[64] = "";
	size_t i, used = 0;

	listing_select(l, &cat, &arena);
	fill_counts(l);
	listing_finish(l);
	for (i = 0; i < l->n; i++)
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%c",
		    i ? " " : "", l->v[i].m->id[2]);
	if (strcmp(got, want) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, want);
	arena_reset(&arena);
}

static void
listing_of(struct listing *l, unsigned flags)
{
	memset(l, 0, sizeof(*l));
	list_params_defaults(&l->p, PR_LISTING);
	l->flags = flags;
}

static void
test_filter_and_flags(void **state)
{
	struct listing l;

	(void)state;
	build();
	listing_of(&l, LISTING_ACTIVE);
	expect(&l, "f e c b a"); /* context length descending */
	listing_of(&l, 0);
	expect(&l, "f e d c b a"); /* inactive ones too (health) */
	listing_of(&l, LISTING_ACTIVE);
	l.p.filters = FILTER_CHAT | FILTER_TOOLS;
	expect(&l, "c b");
	listing_of(&l, LISTING_REPORTED);
	expect(&l, "f e d b a"); /* health: only models with reports */
}

static void
test_max_error_rate(void **state)
{
	struct listing l;

	(void)state;
	build();
	listing_of(&l, LISTING_ACTIVE);
	l.p.max_error_rate = 15;
	expect(&l, "f c a"); /* b (50 %) and e (20 %) go; c has none */
	l.p.min_reports = 3;
	expect(&l, "f c b a"); /* b has only 2 reports: kept */
	l.p.max_error_rate = 0;
	l.p.min_reports = 0;
	expect(&l, "f c");
}

static void
test_sort_then_exclude_then_top(void **state)
{
	struct prefs pr;
	struct listing l;

	(void)state;
	build();
	memset(&pr, 0, sizeof(pr));
	pr.exclude[pr.n_exclude++] = "m/f";
	listing_of(&l, LISTING_ACTIVE);
	l.p.sort = SORT_LEAST_ISSUES;
	expect(&l, "f c a e b"); /* 0 % with 3, 0 % with none, 10, 20, 50 */
	l.prefs = &pr;
	l.p.top_n = 2;
	/* Excluded after the sort, so topN counts the rest. */
	expect(&l, "c a");
	l.prefs = NULL;
	expect(&l, "f c");
}

static void
test_stale(void **state)
{
	long long age;

	(void)state;
	assert_int_equal(listing_stale(-1, 5000, 3600, &age), 1);
	assert_int_equal(age, -1);
	assert_int_equal(listing_stale(0, 3600000, 3600, &age), 0);
	assert_int_equal(age, 3600);
	assert_int_equal(listing_stale(0, 3601000, 3600, &age), 1);
	assert_int_equal(listing_stale(10000, 5000, 3600, &age), 0);
	assert_int_equal(age, 0); /* a clock behind the sync */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_and_flags),
		cmocka_unit_test(test_max_error_rate),
		cmocka_unit_test(test_sort_then_exclude_then_top),
		cmocka_unit_test(test_stale),
	};
	int rc;

	cmocka_set_message_output(CM_OUTPUT_TAP);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	arena_free(&arena);
	return rc;
}
