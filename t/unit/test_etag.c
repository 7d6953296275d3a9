/*
 * ETags of shared/etag.c without a database: If-None-Match read as RFC
 * 9110 says (a table of values, hostile ones among them), and tags that
 * move with every input the body depends on, and with nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "etag.h"

#define TAG "W/\"0123456789abcdef0123456789abcdef\""
#define OPAQUE "\"0123456789abcdef0123456789abcdef\""

static const struct {
	const char *header;
	int match;
} cases[] = {
	{ NULL, 0 },
	{ "", 0 },
	{ " ", 0 },
	{ "*", 1 },
	{ " *\t", 1 },
	{ "**", 0 },
	{ "*, " TAG, 0 }, /* "*" stands alone */
	{ TAG, 1 },
	{ OPAQUE, 1 }, /* weak comparison: W/ or not */
	{ "w/" OPAQUE, 0 }, /* W/ is case-sensitive */
	{ "\"a\", W/\"b\", " TAG, 1 },
	{ "\"a\",W/\"b\"," OPAQUE, 1 },
	{ "\"a\", W/\"b\"", 0 },
	{ ", ," TAG ",,", 1 }, /* empty list elements */
	{ ",", 0 },
	{ TAG ", junk", 0 }, /* malformed: matches nothing */
	{ "junk, " TAG, 0 },
	{ TAG " " OPAQUE, 0 }, /* no comma between */
	{ "\"0123456789abcdef0123456789abcdef", 0 }, /* unterminated */
	{ "0123456789abcdef0123456789abcdef", 0 }, /* unquoted */
	{ "W/\"0123456789abcdef0123456789abcde\"", 0 }, /* one short */
	{ "W/\"0123456789abcdef0123456789abcdef0\"", 0 },
	{ "W/\"01234567\x01" "9abcdef0123456789abcdef\"", 0 },
	{ "\"\"", 0 },
	{ "\"\xc3\xa9\", " TAG, 1 }, /* obs-text is allowed */
};

static void
test_match(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (etag_match(cases[i].header, TAG) != cases[i].match)
			fail_msg("If-None-Match: %s: want %d", cases[i].header ?
			    cases[i].header : "(absent)", cases[i].match);
	/* A strong tag is matched by its weak form too. */
	assert_int_equal(etag_match("W/\"abc\"", "\"abc\""), 1);
	assert_int_equal(etag_match("\"abc\"", "\"abc\""), 1);
	assert_int_equal(etag_match("\"abd\"", "\"abc\""), 0);
}

static struct list_params p;
static struct data_versions v;
static struct etag_input in;

/* A counted /ids over 24 h, a fresh catalogue, a report in the window. */
static void
base(void)
{
	memset(&p, 0, sizeof(p));
	list_params_defaults(&p, PR_LISTING);
	memset(&v, 0, sizeof(v));
	v.reports = 42;
	v.upstream = 3;
	v.oldest_us = 1767860000000000LL;
	snprintf(v.first_day, sizeof(v.first_day), "2025-12-01");
	memset(&in, 0, sizeof(in));
	in.kind = ETAG_IDS;
	in.p = &p;
	in.catalog_version = 7;
	in.last_sync_ms = 1767866400000LL; /* 2026-01-08 10:00:00 */
	in.now_ms = in.last_sync_ms + 60000;
	in.stale_after = 3600;
}

static void
tag_of(char out[ETAG_SIZE])
{
	etag_compose(&in, &v, out);
}

/* The tag now differs from before (what says why). */
static void
moved(const char *before, const char *what)
{
	char now[ETAG_SIZE];

	tag_of(now);
	if (strcmp(before, now) == 0)
		fail_msg("the tag did not change with %s", what);
}

static void
same(const char *before, const char *what)
{
	char now[ETAG_SIZE];

	tag_of(now);
	if (strcmp(before, now) != 0)
		fail_msg("the tag changed with %s", what);
}

static void
test_shape(void **state)
{
	char t[ETAG_SIZE], u[ETAG_SIZE];
	size_t i;

	(void)state;
	base();
	tag_of(t);
	assert_int_equal(strlen(t), 36);
	assert_memory_equal(t, "W/\"", 3);
	assert_int_equal(t[35], '"');
	for (i = 3; i < 35; i++)
		assert_non_null(strchr("0123456789abcdef", t[i]));
	tag_of(u);
	assert_string_equal(t, u);
}

static void
test_inputs_move_it(void **state)
{
	char t[ETAG_SIZE];
	const char *ex[] = { "m/a" };
	struct prefs pr;

	(void)state;
#define CHECK(what, change)                                                 \
	do {                                                                \
		base();                                                     \
		tag_of(t);                                                  \
		change;                                                     \
		moved(t, what);                                             \
	} while (0)
	CHECK("the route", in.kind = ETAG_FULL);
	CHECK("the catalogue version", in.catalog_version++);
	CHECK("the last sync", in.last_sync_ms++);
	CHECK("a report", v.reports++);
	CHECK("an upstream import", v.upstream++);
	CHECK("a report leaving the window", v.oldest_us++);
	CHECK("topN", p.top_n = 5);
	CHECK("the filter", p.filters = FILTER_TOOLS);
	CHECK("the sort", p.sort = SORT_NEWEST);
	CHECK("maxErrorRate", p.max_error_rate = 12.5);
	CHECK("minReports", p.min_reports = 3);
	CHECK("timeRange", p.range = TR_7D);
	CHECK("myReports", (p.my_reports = 1, in.uid = 9));
	CHECK("going stale", in.now_ms += 3601000);
	memset(&pr, 0, sizeof(pr));
	pr.exclude[0] = ex[0];
	pr.n_exclude = 1;
	CHECK("a saved exclusion", in.prefs = &pr);
	/* Another user's own reports are another body. */
	base();
	p.my_reports = 1;
	in.uid = 9;
	tag_of(t);
	in.uid = 10;
	moved(t, "the user of myReports");
#undef CHECK
}

static void
test_nothing_else_moves_it(void **state)
{
	char t[ETAG_SIZE];

	(void)state;
	/* The clock alone, while fresh: nothing in the body moves. */
	base();
	tag_of(t);
	in.now_ms += 1000;
	same(t, "a second passing");
	/* The user matters only for myReports. */
	in.uid = 12;
	same(t, "a user without myReports");
	/* The availability day does not touch a listing. */
	snprintf(v.first_day, sizeof(v.first_day), "2025-12-02");
	same(t, "the availability days of a listing");
	/* All time has no window: no report ever leaves it. */
	base();
	p.range = TR_ALL;
	tag_of(t);
	v.oldest_us = 5;
	same(t, "the oldest report of no window");
	/* Stale: its age is in the body, so in the tag, second by second. */
	base();
	in.now_ms = in.last_sync_ms + 7200000;
	tag_of(t);
	in.now_ms += 400;
	same(t, "less than a second while stale");
	in.now_ms += 1000;
	moved(t, "a second while stale");
}

static void
test_health_and_availability_time(void **state)
{
	char t[ETAG_SIZE];

	(void)state;
	/* 6h: hour buckets, so the timeline moves on the hour. */
	base();
	in.kind = ETAG_HEALTH;
	p.range = TR_6H;
	in.now_ms = 1767866400000LL + 60000; /* 10:01 */
	tag_of(t);
	in.now_ms += 58 * 60000; /* 10:59 */
	same(t, "minutes inside one timeline bucket");
	in.now_ms += 2 * 60000; /* 11:01 */
	moved(t, "a new timeline bucket");
	/* Availability: the UTC day, and the days retention keeps. */
	base();
	in.kind = ETAG_AVAILABILITY;
	tag_of(t);
	v.reports++;
	v.oldest_us++;
	same(t, "reports, which availability does not show");
	in.now_ms += 86400000;
	moved(t, "the next UTC day");
	base();
	in.kind = ETAG_AVAILABILITY;
	tag_of(t);
	snprintf(v.first_day, sizeof(v.first_day), "2025-12-02");
	moved(t, "retention deleting a day");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_inputs_move_it),
		cmocka_unit_test(test_nothing_else_moves_it),
		cmocka_unit_test(test_health_and_availability_time),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
