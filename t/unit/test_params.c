/*
 * The query string splitter and the listing parameters of SPEC.md §2
 * and §4: every parameter with its good and bad values, aliases,
 * duplicates and defaults.  Tables, one row per case; a failing row
 * names its index and input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "params.h"
#include "util.h"

/* The arena every test uses; freed by the teardown. */
static int
setup_arena(void **state)
{
	struct arena *a = xcalloc(1, sizeof(*a));

	*state = a;
	return 0;
}

static int
teardown_arena(void **state)
{
	struct arena *a = *state;

	arena_free(a);
	free(a);
	return 0;
}

/*
 * Parse qs and read the listing parameters from it on top of the
 * defaults: what a route does.  Returns what failed first.
 */
static int
parse_list(struct arena *a, const char *qs, int for_health,
    struct list_params *p, struct param_error *err)
{
	struct query q;

	memset(err, 0, sizeof(*err));
	if (query_parse(qs, a, &q, err) != 0)
		return -1;
	list_params_defaults(p, for_health);
	return list_params_parse(&q, p, for_health, err);
}

/* query_parse */

struct query_case {
	const char *qs;
	int n; /* pairs expected; -1: refused */
	const char *pairs[4][2];
};

static const struct query_case query_cases[] = {
	{ NULL, 0, { { NULL, NULL } } },
	{ "", 0, { { NULL, NULL } } },
	{ "a=1", 1, { { "a", "1" } } },
	{ "a=1&b=2", 2, { { "a", "1" }, { "b", "2" } } },
	/* Empty pieces are skipped. */
	{ "&", 0, { { NULL, NULL } } },
	{ "&&&", 0, { { NULL, NULL } } },
	{ "a=1&&b=2", 2, { { "a", "1" }, { "b", "2" } } },
	{ "&a=1&", 1, { { "a", "1" } } },
	/* No '=': an empty value; '=' alone: empty name and value. */
	{ "flag", 1, { { "flag", "" } } },
	{ "flag&x=", 2, { { "flag", "" }, { "x", "" } } },
	{ "=", 1, { { "", "" } } },
	{ "=v", 1, { { "", "v" } } },
	{ "a=b=c", 1, { { "a", "b=c" } } },
	/* Decoding: '+' is a space, %XX in either case, in names too. */
	{ "q=a+b", 1, { { "q", "a b" } } },
	{ "q=%2B", 1, { { "q", "+" } } },
	{ "q=%2b%2C", 1, { { "q", "+," } } },
	{ "q=%26%3D", 1, { { "q", "&=" } } },
	{ "%73ort=new%65st", 1, { { "sort", "newest" } } },
	{ "q=%41%42%43", 1, { { "q", "ABC" } } },
	{ "q=%C3%A9", 1, { { "q", "\xc3\xa9" } } },
	{ "q=%ff", 1, { { "q", "\xff" } } },
	{ "a+b=c+d", 1, { { "a b", "c d" } } },
	/* Malformed escapes and NUL bytes refuse the whole query. */
	{ "q=%zz", -1, { { NULL, NULL } } },
	{ "q=%4", -1, { { NULL, NULL } } },
	{ "q=%", -1, { { NULL, NULL } } },
	{ "q=%4g", -1, { { NULL, NULL } } },
	{ "q=%g4", -1, { { NULL, NULL } } },
	{ "q=%00", -1, { { NULL, NULL } } },
	{ "q=a%00b", -1, { { NULL, NULL } } },
	{ "%zz=1", -1, { { NULL, NULL } } },
	{ "%=1", -1, { { NULL, NULL } } },
	{ "%4&a=1", -1, { { NULL, NULL } } },
	{ "a=1&b=%", -1, { { NULL, NULL } } },
	{ "%%41", -1, { { NULL, NULL } } },
};

static void
test_query_table(void **state)
{
	struct arena *a = *state;
	size_t i;
	int k;

	for (i = 0; i < NELEM(query_cases); i++) {
		const struct query_case *c = &query_cases[i];
		struct param_error err;
		struct query q;
		int rc;

		memset(&err, 0, sizeof(err));
		rc = query_parse(c->qs, a, &q, &err);
		if (c->n < 0) {
			if (rc != -1)
				fail_msg("case %zu \"%s\": accepted", i, c->qs);
			if (err.code == NULL ||
			    strcmp(err.code, "invalid_query") != 0)
				fail_msg("case %zu \"%s\": code %s", i, c->qs,
				    err.code ? err.code : "(null)");
			assert_null(err.param);
			assert_true(err.detail[0] != '\0');
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu \"%s\": refused (%s)", i,
			    c->qs ? c->qs : "(null)", err.detail);
		if (q.n != c->n)
			fail_msg("case %zu \"%s\": %d pairs, want %d", i,
			    c->qs ? c->qs : "(null)", q.n, c->n);
		for (k = 0; k < c->n; k++)
			if (strcmp(q.pairs[k].name, c->pairs[k][0]) != 0 ||
			    strcmp(q.pairs[k].value, c->pairs[k][1]) != 0)
				fail_msg(
				    "case %zu \"%s\" pair %d: \"%s\"=\"%s\"", i,
				    c->qs, k, q.pairs[k].name,
				    q.pairs[k].value);
	}
}

/* "x=1&x=1&…" with n pairs, in the arena. */
static char *
many_pairs(struct arena *a, int n)
{
	char *s = arena_alloc(a, (size_t)n * 4 + 1), *o = s;
	int i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = '&';
		memcpy(o, "x=1", 3);
		o += 3;
	}
	*o = '\0';
	return s;
}

static void
test_query_pair_limit(void **state)
{
	struct arena *a = *state;
	struct param_error err;
	struct query q;

	assert_int_equal(strlen(many_pairs(a, 2)), 7);
	assert_string_equal(many_pairs(a, 2), "x=1&x=1");

	assert_int_equal(
	    query_parse(many_pairs(a, QUERY_MAX_PAIRS), a, &q, &err), 0);
	assert_int_equal(q.n, QUERY_MAX_PAIRS);
	assert_string_equal(q.pairs[QUERY_MAX_PAIRS - 1].name, "x");

	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    query_parse(many_pairs(a, QUERY_MAX_PAIRS + 1), a, &q, &err), -1);
	assert_string_equal(err.code, "invalid_query");
	assert_null(err.param);

	/* Empty pieces do not count towards the limit. */
	{
		const char *pairs = many_pairs(a, QUERY_MAX_PAIRS);
		char *s = arena_alloc(a, strlen(pairs) + 100);

		memset(s, '&', 99);
		memcpy(s + 99, pairs, strlen(pairs) + 1);
		assert_int_equal(query_parse(s, a, &q, &err), 0);
		assert_int_equal(q.n, QUERY_MAX_PAIRS);
	}
}

/* Defaults */

static void
test_defaults(void **state)
{
	struct list_params p;
	int i;

	(void)state;
	list_params_defaults(&p, 0);
	assert_int_equal(p.sort, SORT_CONTEXT_LENGTH);
	assert_int_equal(p.range, TR_24H);
	assert_true(p.max_error_rate < 0);
	assert_int_equal(p.top_n, 0);
	assert_int_equal(p.filters, 0);
	assert_int_equal(p.min_reports, 0);
	assert_int_equal(p.my_reports, 0);
	for (i = 0; i < P__MAX; i++)
		assert_int_equal(p.given[i], 0);

	list_params_defaults(&p, 1);
	assert_int_equal(p.sort, SORT_ISSUE_COUNT);
	assert_int_equal(p.range, TR_24H);
	assert_true(p.max_error_rate < 0);
	assert_int_equal(p.top_n, 0);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(param_name(P_FILTER), "filter");
	assert_string_equal(param_name(P_SORT), "sort");
	assert_string_equal(param_name(P_TOP_N), "topN");
	assert_string_equal(param_name(P_MAX_ERROR_RATE), "maxErrorRate");
	assert_string_equal(param_name(P_MIN_REPORTS), "minReports");
	assert_string_equal(param_name(P_TIME_RANGE), "timeRange");
	assert_string_equal(param_name(P_MY_REPORTS), "myReports");
	assert_string_equal(sort_name(SORT_CONTEXT_LENGTH), "contextLength");
	assert_string_equal(sort_name(SORT_ISSUE_COUNT), "issueCount");
	assert_string_equal(time_range_name(TR_15M), "15m");
	assert_string_equal(time_range_name(TR_ALL), "all");
	assert_string_equal(filter_name(0), "chat");
	assert_string_equal(filter_name(3), "longContext");
	assert_int_equal(time_range_seconds(TR_15M), 900);
	assert_int_equal(time_range_seconds(TR_1H), 3600);
	assert_int_equal(time_range_seconds(TR_24H), 86400);
	assert_int_equal(time_range_seconds(TR_30D), 30 * 86400);
	assert_int_equal(time_range_seconds(TR_ALL), -1);
}

/*
 * One value of one parameter through list_param_set.  ok 0 rows must
 * be refused as invalid_parameter naming the canonical parameter and
 * leave the field at its default; ok 1 rows set the field to want.
 */
struct value_case {
	enum param_id id;
	const char *value;
	int for_health;
	int ok;
	double want; /* the field's value as a double (filters: bits) */
};

static const struct value_case value_cases[] = {
	/* maxAttempts, the router's knob: an integer 1 to 5, never clamped. */
	{ P_MAX_ATTEMPTS, "1", PR_ROUTER, 1, 1 },
	{ P_MAX_ATTEMPTS, "5", PR_ROUTER, 1, 5 },
	{ P_MAX_ATTEMPTS, "0", PR_ROUTER, 0, 0 },
	{ P_MAX_ATTEMPTS, "6", PR_ROUTER, 0, 0 },
	{ P_MAX_ATTEMPTS, "2.5", PR_ROUTER, 0, 0 },
	{ P_MAX_ATTEMPTS, "", PR_ROUTER, 0, 0 },
	/* filter: each value, comma lists AND-combined into bits. */
	{ P_FILTER, "chat", 0, 1, FILTER_CHAT },
	{ P_FILTER, "vision", 0, 1, FILTER_VISION },
	{ P_FILTER, "tools", 0, 1, FILTER_TOOLS },
	{ P_FILTER, "longContext", 0, 1, FILTER_LONG_CONTEXT },
	{ P_FILTER, "reasoning", 0, 1, FILTER_REASONING },
	{ P_FILTER, "chat,vision", 0, 1, FILTER_CHAT | FILTER_VISION },
	{ P_FILTER, "tools,reasoning,longContext", 0, 1,
	    FILTER_TOOLS | FILTER_REASONING | FILTER_LONG_CONTEXT },
	{ P_FILTER, "chat,vision,tools,longContext,reasoning", 0, 1,
	    FILTER__ALL },
	{ P_FILTER, "chat,chat", 0, 1, FILTER_CHAT },
	{ P_FILTER, "vision", 1, 1, FILTER_VISION },
	{ P_FILTER, "", 0, 0, 0 },
	{ P_FILTER, "chat,", 0, 0, 0 },
	{ P_FILTER, ",chat", 0, 0, 0 },
	{ P_FILTER, ",", 0, 0, 0 },
	{ P_FILTER, "Chat", 0, 0, 0 },
	{ P_FILTER, "CHAT", 0, 0, 0 },
	{ P_FILTER, "longcontext", 0, 0, 0 },
	{ P_FILTER, "chat,,vision", 0, 0, 0 },
	{ P_FILTER, "foo", 0, 0, 0 },
	{ P_FILTER, "chat,foo", 0, 0, 0 },
	{ P_FILTER, "chat vision", 0, 0, 0 },
	{ P_FILTER, "chat, vision", 0, 0, 0 },
	{ P_FILTER, " chat", 0, 0, 0 },
	{ P_FILTER, "cha", 0, 0, 0 },
	{ P_FILTER, "chats", 0, 0, 0 },
	/* sort: the five user values; issueCount is internal. */
	{ P_SORT, "contextLength", 0, 1, SORT_CONTEXT_LENGTH },
	{ P_SORT, "maxOutput", 0, 1, SORT_MAX_OUTPUT },
	{ P_SORT, "capable", 0, 1, SORT_CAPABLE },
	{ P_SORT, "leastIssues", 0, 1, SORT_LEAST_ISSUES },
	{ P_SORT, "newest", 0, 1, SORT_NEWEST },
	{ P_SORT, "leastIssues", 1, 1, SORT_LEAST_ISSUES },
	{ P_SORT, "", 0, 0, 0 },
	{ P_SORT, "newest ", 0, 0, 0 },
	{ P_SORT, " newest", 0, 0, 0 },
	{ P_SORT, "Newest", 0, 0, 0 },
	{ P_SORT, "contextlength", 0, 0, 0 },
	{ P_SORT, "issueCount", 0, 0, 0 },
	{ P_SORT, "issueCount", 1, 0, 0 },
	{ P_SORT, "newest,capable", 0, 0, 0 },
	/* topN: an integer 1..100. */
	{ P_TOP_N, "1", 0, 1, 1 },
	{ P_TOP_N, "100", 0, 1, 100 },
	{ P_TOP_N, "42", 0, 1, 42 },
	{ P_TOP_N, "0005", 0, 1, 5 }, /* leading zeros are still 5 */
	{ P_TOP_N, "0", 0, 0, 0 },
	{ P_TOP_N, "101", 0, 0, 0 },
	{ P_TOP_N, "-1", 0, 0, 0 },
	{ P_TOP_N, "-0", 0, 0, 0 },
	{ P_TOP_N, "1.5", 0, 0, 0 },
	{ P_TOP_N, "1.0", 0, 0, 0 },
	{ P_TOP_N, "", 0, 0, 0 },
	{ P_TOP_N, "abc", 0, 0, 0 },
	{ P_TOP_N, "+5", 0, 0, 0 },
	{ P_TOP_N, " 5", 0, 0, 0 },
	{ P_TOP_N, "5 ", 0, 0, 0 },
	{ P_TOP_N, "5a", 0, 0, 0 },
	{ P_TOP_N, "0x10", 0, 0, 0 },
	{ P_TOP_N, "1e1", 0, 0, 0 },
	{ P_TOP_N, "99999999999999999999", 0, 0, 0 },
	{ P_TOP_N, "-99999999999999999999", 0, 0, 0 },
	{ P_TOP_N, "4294967301", 0, 0, 0 }, /* 5 modulo 2^32 */
	/* maxErrorRate: a plain decimal 0..100. */
	{ P_MAX_ERROR_RATE, "0", 0, 1, 0 },
	{ P_MAX_ERROR_RATE, "100", 0, 1, 100 },
	{ P_MAX_ERROR_RATE, "33.33", 0, 1, 33.33 },
	{ P_MAX_ERROR_RATE, "0.5", 0, 1, 0.5 },
	{ P_MAX_ERROR_RATE, "100.00", 0, 1, 100 },
	{ P_MAX_ERROR_RATE, "5", 1, 1, 5 },
	{ P_MAX_ERROR_RATE, "101", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "100.01", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "-1", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "-0", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "1e2", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "nan", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "NaN", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "inf", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "infinity", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, ".5", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "5.", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, ".", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "+5", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, " 5", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "5 ", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "0x10", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "1,5", 0, 0, 0 },
	{ P_MAX_ERROR_RATE, "1.2.3", 0, 0, 0 },
	/* minReports: an integer 0..1000000. */
	{ P_MIN_REPORTS, "0", 0, 1, 0 },
	{ P_MIN_REPORTS, "1", 0, 1, 1 },
	{ P_MIN_REPORTS, "1000000", 0, 1, 1000000 },
	{ P_MIN_REPORTS, "1000001", 0, 0, 0 },
	{ P_MIN_REPORTS, "-1", 0, 0, 0 },
	{ P_MIN_REPORTS, "", 0, 0, 0 },
	{ P_MIN_REPORTS, "1.5", 0, 0, 0 },
	{ P_MIN_REPORTS, "ten", 0, 0, 0 },
	/* timeRange: each window; all is not for /api/health. */
	{ P_TIME_RANGE, "15m", 0, 1, TR_15M },
	{ P_TIME_RANGE, "30m", 0, 1, TR_30M },
	{ P_TIME_RANGE, "1h", 0, 1, TR_1H },
	{ P_TIME_RANGE, "6h", 0, 1, TR_6H },
	{ P_TIME_RANGE, "24h", 0, 1, TR_24H },
	{ P_TIME_RANGE, "7d", 0, 1, TR_7D },
	{ P_TIME_RANGE, "30d", 0, 1, TR_30D },
	{ P_TIME_RANGE, "all", 0, 1, TR_ALL },
	{ P_TIME_RANGE, "15m", 1, 1, TR_15M },
	{ P_TIME_RANGE, "30d", 1, 1, TR_30D },
	{ P_TIME_RANGE, "all", 1, 0, 0 },
	{ P_TIME_RANGE, "1d", 0, 0, 0 },
	{ P_TIME_RANGE, "1d", 1, 0, 0 },
	{ P_TIME_RANGE, "", 0, 0, 0 },
	{ P_TIME_RANGE, "24H", 0, 0, 0 },
	{ P_TIME_RANGE, "ALL", 0, 0, 0 },
	{ P_TIME_RANGE, "60m", 0, 0, 0 },
	{ P_TIME_RANGE, "24h ", 0, 0, 0 },
	/* myReports: exactly true or false. */
	{ P_MY_REPORTS, "true", 0, 1, 1 },
	{ P_MY_REPORTS, "false", 0, 1, 0 },
	{ P_MY_REPORTS, "true", 1, 1, 1 },
	{ P_MY_REPORTS, "TRUE", 0, 0, 0 },
	{ P_MY_REPORTS, "True", 0, 0, 0 },
	{ P_MY_REPORTS, "1", 0, 0, 0 },
	{ P_MY_REPORTS, "0", 0, 0, 0 },
	{ P_MY_REPORTS, "yes", 0, 0, 0 },
	{ P_MY_REPORTS, "", 0, 0, 0 },
	{ P_MY_REPORTS, "t", 0, 0, 0 },
	{ P_MY_REPORTS, "truex", 0, 0, 0 },
};

/* The field a parameter sets, as a double, to compare with want. */
static double
field_of(const struct list_params *p, enum param_id id)
{
	switch (id) {
	case P_FILTER:
		return p->filters;
	case P_SORT:
		return p->sort;
	case P_TOP_N:
		return (double)p->top_n;
	case P_MAX_ERROR_RATE:
		return p->max_error_rate;
	case P_MIN_REPORTS:
		return (double)p->min_reports;
	case P_TIME_RANGE:
		return p->range;
	case P_MY_REPORTS:
		return p->my_reports;
	case P_PAGE:
		return (double)p->page;
	case P_PAGE_SIZE:
		return (double)p->page_size;
	case P_DAYS:
		return (double)p->days;
	case P_SOURCE:
		return p->source;
	case P_MIN_UPTIME:
		return p->min_uptime;
	case P_MAX_ATTEMPTS:
		return (double)p->max_attempts;
	case P__MAX:
		break;
	}
	return -12345;
}

static void
test_value_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(value_cases); i++) {
		const struct value_case *c = &value_cases[i];
		struct list_params p, d;
		struct param_error err;
		int rc;

		list_params_defaults(&p, c->for_health);
		list_params_defaults(&d, c->for_health);
		memset(&err, 0, sizeof(err));
		rc = list_param_set(c->id, c->value, &p, c->for_health, &err);
		if (c->ok) {
			if (rc != 0)
				fail_msg("case %zu %s=\"%s\": refused (%s)", i,
				    param_name(c->id), c->value, err.detail);
			if (field_of(&p, c->id) != c->want)
				fail_msg("case %zu %s=\"%s\": got %g, want %g",
				    i, param_name(c->id), c->value,
				    field_of(&p, c->id), c->want);
			continue;
		}
		if (rc != -1)
			fail_msg("case %zu %s=\"%s\" (health %d): accepted", i,
			    param_name(c->id), c->value, c->for_health);
		if (err.code == NULL ||
		    strcmp(err.code, "invalid_parameter") != 0 ||
		    err.param == NULL ||
		    strcmp(err.param, param_name(c->id)) != 0)
			fail_msg("case %zu %s=\"%s\": code %s param %s", i,
			    param_name(c->id), c->value,
			    err.code ? err.code : "(null)",
			    err.param ? err.param : "(null)");
		if (err.detail[0] == '\0' ||
		    strstr(err.detail, param_name(c->id)) == NULL)
			fail_msg("case %zu: detail \"%s\" does not name %s", i,
			    err.detail, param_name(c->id));
		if (field_of(&p, c->id) != field_of(&d, c->id))
			fail_msg("case %zu %s=\"%s\": refused value was kept",
			    i, param_name(c->id), c->value);
	}
}

/*
 * Whole query strings through list_params_parse: aliases, given[],
 * duplicates, unknown names, and which parameter an error names.
 */
struct list_case {
	const char *qs;
	int for_health;
	const char *code; /* NULL: accepted */
	const char *param;
	unsigned given; /* bit per enum param_id */
	unsigned filters;
	enum sort_key sort;
	enum time_range range;
	int top_n;
};

#define G(id) (1u << (id))

static const struct list_case list_cases[] = {
	{ "", 0, NULL, NULL, 0, 0, SORT_CONTEXT_LENGTH, TR_24H, 0 },
	{ "", 1, NULL, NULL, 0, 0, SORT_ISSUE_COUNT, TR_24H, 0 },
	{ "foo=bar&x&sortx=newest&Sort=newest", 0, NULL, NULL, 0, 0,
	    SORT_CONTEXT_LENGTH, TR_24H, 0 },
	{ "filter=chat", 0, NULL, NULL, G(P_FILTER), FILTER_CHAT,
	    SORT_CONTEXT_LENGTH, TR_24H, 0 },
	{ "useCase=vision", 0, NULL, NULL, G(P_FILTER), FILTER_VISION,
	    SORT_CONTEXT_LENGTH, TR_24H, 0 },
	{ "useCases=tools%2Creasoning", 0, NULL, NULL, G(P_FILTER),
	    FILTER_TOOLS | FILTER_REASONING, SORT_CONTEXT_LENGTH, TR_24H, 0 },
	{ "useCases=tools,reasoning", 0, NULL, NULL, G(P_FILTER),
	    FILTER_TOOLS | FILTER_REASONING, SORT_CONTEXT_LENGTH, TR_24H, 0 },
	{ "timeWindow=7d", 0, NULL, NULL, G(P_TIME_RANGE), 0,
	    SORT_CONTEXT_LENGTH, TR_7D, 0 },
	{ "range=1h", 0, NULL, NULL, G(P_TIME_RANGE), 0, SORT_CONTEXT_LENGTH,
	    TR_1H, 0 },
	{ "timeRange=all", 0, NULL, NULL, G(P_TIME_RANGE), 0,
	    SORT_CONTEXT_LENGTH, TR_ALL, 0 },
	{ "sort=newest&topN=5&filter=chat,longContext&maxErrorRate=10"
	  "&minReports=3&timeRange=30m&myReports=true",
	    0, NULL, NULL,
	    G(P_SORT) | G(P_TOP_N) | G(P_FILTER) | G(P_MAX_ERROR_RATE) |
	        G(P_MIN_REPORTS) | G(P_TIME_RANGE) | G(P_MY_REPORTS),
	    FILTER_CHAT | FILTER_LONG_CONTEXT, SORT_NEWEST, TR_30M, 5 },
	{ "sort=leastIssues&myReports=false", 1, NULL, NULL,
	    G(P_SORT) | G(P_MY_REPORTS), 0, SORT_LEAST_ISSUES, TR_24H, 0 },
	/* Bad values name the canonical parameter, alias or not. */
	{ "useCase=Chat", 0, "invalid_parameter", "filter", 0, 0, 0, 0, 0 },
	{ "useCases=", 0, "invalid_parameter", "filter", 0, 0, 0, 0, 0 },
	{ "filter=chat,", 0, "invalid_parameter", "filter", 0, 0, 0, 0, 0 },
	{ "range=1d", 0, "invalid_parameter", "timeRange", 0, 0, 0, 0, 0 },
	{ "timeWindow=all", 1, "invalid_parameter", "timeRange", 0, 0, 0, 0,
	    0 },
	{ "timeRange=all", 1, "invalid_parameter", "timeRange", 0, 0, 0, 0, 0 },
	{ "sort=issueCount", 1, "invalid_parameter", "sort", 0, 0, 0, 0, 0 },
	{ "sort=newest+", 0, "invalid_parameter", "sort", 0, 0, 0, 0, 0 },
	{ "topN=%2B5", 0, "invalid_parameter", "topN", 0, 0, 0, 0, 0 },
	{ "topN=+5", 0, "invalid_parameter", "topN", 0, 0, 0, 0, 0 },
	{ "topN", 0, "invalid_parameter", "topN", 0, 0, 0, 0, 0 },
	{ "myReports=1", 0, "invalid_parameter", "myReports", 0, 0, 0, 0, 0 },
	{ "minReports=1000001", 0, "invalid_parameter", "minReports", 0, 0, 0,
	    0, 0 },
	{ "maxErrorRate=nan", 0, "invalid_parameter", "maxErrorRate", 0, 0, 0,
	    0, 0 },
	/* The first bad parameter is the one named. */
	{ "sort=newest&topN=0&filter=foo", 0, "invalid_parameter", "topN", 0, 0,
	    0, 0, 0 },
	/* Duplicates, under one name or two. */
	{ "sort=newest&sort=capable", 0, "duplicate_parameter", "sort", 0, 0, 0,
	    0, 0 },
	{ "sort=newest&sort=newest", 0, "duplicate_parameter", "sort", 0, 0, 0,
	    0, 0 },
	{ "filter=chat&useCase=vision", 0, "duplicate_parameter", "filter", 0,
	    0, 0, 0, 0 },
	{ "useCase=chat&useCases=vision", 0, "duplicate_parameter", "filter", 0,
	    0, 0, 0, 0 },
	{ "timeRange=1h&range=6h", 0, "duplicate_parameter", "timeRange", 0, 0,
	    0, 0, 0 },
	{ "timeWindow=1h&range=1h", 1, "duplicate_parameter", "timeRange", 0, 0,
	    0, 0, 0 },
	{ "topN=1&x=y&topN=2", 0, "duplicate_parameter", "topN", 0, 0, 0, 0,
	    0 },
	{ "myReports=true&myReports=true", 0, "duplicate_parameter",
	    "myReports", 0, 0, 0, 0, 0 },
	{ "maxErrorRate=1&maxErrorRate=2", 0, "duplicate_parameter",
	    "maxErrorRate", 0, 0, 0, 0, 0 },
	{ "minReports=1&minReports=2", 0, "duplicate_parameter", "minReports",
	    0, 0, 0, 0, 0 },
	/* Unknown names may repeat: they are ignored. */
	{ "x=1&x=2&sort=newest", 0, NULL, NULL, G(P_SORT), 0, SORT_NEWEST,
	    TR_24H, 0 },
	/* A malformed query is refused before any parameter. */
	{ "sort=newest&x=%zz", 0, "invalid_query", NULL, 0, 0, 0, 0, 0 },
};

static void
check_list_ok(size_t i, const struct list_case *c, const struct list_params *p)
{
	int k;

	for (k = 0; k < P__MAX; k++)
		if (p->given[k] != !!(c->given & G(k)))
			fail_msg("case %zu \"%s\": given[%s] = %d", i, c->qs,
			    param_name((enum param_id)k), p->given[k]);
	if (p->filters != c->filters || p->sort != c->sort ||
	    p->range != c->range || p->top_n != c->top_n)
		fail_msg("case %zu \"%s\": filters %u sort %d range %d "
		         "topN %d",
		    i, c->qs, p->filters, p->sort, p->range, p->top_n);
}

static void
test_list_table(void **state)
{
	struct arena *a = *state;
	size_t i;

	for (i = 0; i < NELEM(list_cases); i++) {
		const struct list_case *c = &list_cases[i];
		struct list_params p;
		struct param_error err;
		int rc = parse_list(a, c->qs, c->for_health, &p, &err);

		if (c->code == NULL) {
			if (rc != 0)
				fail_msg("case %zu \"%s\": refused (%s)", i,
				    c->qs, err.detail);
			check_list_ok(i, c, &p);
			continue;
		}
		if (rc != -1)
			fail_msg("case %zu \"%s\": accepted", i, c->qs);
		if (err.code == NULL || strcmp(err.code, c->code) != 0)
			fail_msg("case %zu \"%s\": code %s, want %s", i, c->qs,
			    err.code ? err.code : "(null)", c->code);
		if ((c->param == NULL) != (err.param == NULL) ||
		    (c->param != NULL && strcmp(c->param, err.param) != 0))
			fail_msg("case %zu \"%s\": param %s, want %s", i, c->qs,
			    err.param ? err.param : "(null)",
			    c->param ? c->param : "(null)");
		if (err.detail[0] == '\0')
			fail_msg("case %zu \"%s\": no detail", i, c->qs);
	}
}

/* The numeric fields set through the query, exactly. */
static void
test_list_numbers(void **state)
{
	struct arena *a = *state;
	struct list_params p;
	struct param_error err;

	assert_int_equal(parse_list(a,
	                     "maxErrorRate=33.33&minReports=1000000"
	                     "&myReports=true&topN=0100",
	                     0, &p, &err),
	    0);
	assert_true(p.max_error_rate == 33.33);
	assert_int_equal(p.min_reports, 1000000);
	assert_int_equal(p.my_reports, 1);
	assert_int_equal(p.top_n, 100);
	assert_int_equal(p.given[P_MAX_ERROR_RATE], 1);
	assert_int_equal(p.given[P_SORT], 0);
	assert_int_equal(p.sort, SORT_CONTEXT_LENGTH);

	assert_int_equal(parse_list(a, "maxErrorRate=0", 1, &p, &err), 0);
	assert_true(p.max_error_rate == 0);
	assert_int_equal(p.sort, SORT_ISSUE_COUNT);
}

/*
 * Regression: a parameter given twice
 * is reported as invalid_parameter when its first value is bad,
 * because values are checked as they are read.  SPEC §2 says a
 * repeated parameter is a duplicate_parameter whatever its values.
 */
static void
test_duplicate_with_bad_values(void **state)
{
	static const char *const qs[] = {
		"sort=a&sort=b",
		"filter=foo&useCase=chat",
		"timeRange=1d&range=6h",
		"topN=0&topN=5",
	};
	static const char *const want[] = {
		"sort",
		"filter",
		"timeRange",
		"topN",
	};
	struct arena *a = *state;
	size_t i, bad = 0;

	for (i = 0; i < NELEM(qs); i++) {
		struct list_params p;
		struct param_error err;

		if (parse_list(a, qs[i], 0, &p, &err) != -1) {
			print_message(
			    "# case %zu \"%s\": accepted\n", i, qs[i]);
			bad++;
		} else if (strcmp(err.code, "duplicate_parameter") != 0 ||
		    err.param == NULL || strcmp(err.param, want[i]) != 0) {
			print_message(
			    "# case %zu \"%s\": code %s param %s, want "
			    "duplicate_parameter %s\n",
			    i, qs[i], err.code, err.param ? err.param : "-",
			    want[i]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/*
 * The lenient read: what each query becomes, and the X-FLR-Adjusted
 * value that reports it ("" for none; NULL for a 400 in both modes).
 * Every case that adjusts something is a 400 when read strictly.
 */
struct lenient_case {
	enum param_route route;
	const char *qs;
	const char *adjusted;
	long long top_n;
	unsigned filters;
	int range;
};

static const struct lenient_case lenient_cases[] = {
	{ PR_LISTING, "topN=5", "", 5, 0, TR_24H },
	{ PR_LISTING, "topN=101", "topN;was=\"101\";now=\"100\";rule=clamped",
	    100, 0, TR_24H },
	{ PR_LISTING, "topN=2.5", "topN;was=\"2.5\";now=\"2\";rule=truncated",
	    2, 0, TR_24H },
	{ PR_LISTING, "topN=-1", "topN;was=\"-1\";now=\"1\";rule=clamped", 1,
	    0, TR_24H },
	{ PR_LISTING, "topN=-0.5", "topN;was=\"-0.5\";now=\"1\";rule=clamped",
	    1, 0, TR_24H },
	{ PR_LISTING, "topN=100.9",
	    "topN;was=\"100.9\";now=\"100\";rule=truncated", 100, 0, TR_24H },
	{ PR_LISTING, "topN=", "topN;was=\"\";rule=empty", 0, 0, TR_24H },
	{ PR_LISTING, "topN=abc", NULL, 0, 0, 0 },
	{ PR_LISTING, "topN=1e3", NULL, 0, 0, 0 },
	{ PR_LISTING, "topN=+5", NULL, 0, 0, 0 },
	{ PR_LISTING, "topN=5.", NULL, 0, 0, 0 },
	{ PR_LISTING, "topN=--1", NULL, 0, 0, 0 },
	{ PR_LISTING, "useCase=chat,bogus",
	    "useCase;was=\"chat,bogus\";now=\"chat\";rule=dropped", 0,
	    FILTER_CHAT, TR_24H },
	{ PR_LISTING, "useCases=tools,,vision",
	    "useCases;was=\"tools,,vision\";now=\"vision,tools\";rule=dropped",
	    0, FILTER_VISION | FILTER_TOOLS, TR_24H },
	{ PR_LISTING, "filter=a%22b%5Cc",
	    "filter;was=\"a\\\"b\\\\c\";now=\"\";rule=dropped", 0, 0, TR_24H },
	{ PR_LISTING, "filter=%E2%82%AC",
	    "filter;was=%\"%e2%82%ac\";now=\"\";rule=dropped", 0, 0, TR_24H },
	{ PR_LISTING, "filter=%FF", "filter;now=\"\";rule=dropped", 0, 0,
	    TR_24H },
	{ PR_LISTING, "timeRange=all", "", 0, 0, TR_ALL },
	{ PR_HEALTH, "range=all", "range;was=\"all\";now=\"24h\";rule=default",
	    0, 0, TR_24H },
	{ PR_HEALTH, "range=1y", NULL, 0, 0, 0 },
	{ PR_LISTING, "sort=", "sort;was=\"\";rule=empty", 0, 0, TR_24H },
	{ PR_LISTING, "sort=bogus", NULL, 0, 0, 0 },
	{ PR_LISTING, "myReports=maybe", NULL, 0, 0, 0 },
	{ PR_DEMO, "myReports=false", "myReports;was=\"false\";rule=dropped", 0,
	    0, TR_24H },
	{ PR_DEMO, "topN=3&myReports=true",
	    "myReports;was=\"true\";rule=dropped", 3, 0, TR_24H },
	{ PR_LISTING, "topN=0&maxErrorRate=-3",
	    "topN;was=\"0\";now=\"1\";rule=clamped, "
	    "maxErrorRate;was=\"-3\";now=\"0\";rule=clamped",
	    1, 0, TR_24H },
	{ PR_LISTING, "topN=5&topN=101", NULL, 0, 0, 0 },
	{ PR_USAGE, "page=0&pageSize=1000",
	    "page;was=\"0\";now=\"1\";rule=clamped, "
	    "pageSize;was=\"1000\";now=\"100\";rule=clamped",
	    0, 0, TR_24H },
	{ PR_AVAILABILITY, "days=91&topN=1000",
	    "days;was=\"91\";now=\"90\";rule=clamped", 0, 0, TR_24H },
};

static void
test_lenient_table(void **state)
{
	struct arena *a = *state;
	size_t i;

	for (i = 0; i < NELEM(lenient_cases); i++) {
		const struct lenient_case *c = &lenient_cases[i];
		struct param_adjustments adj = { .n = 0 };
		struct list_params p;
		struct param_error err;
		struct query q;
		struct buf b;
		int rc;

		assert_int_equal(query_parse(c->qs, a, &q, &err), 0);
		list_params_defaults(&p, c->route);
		rc = params_read(&q, c->route, 0, a, &p, &adj, &err);
		if (c->adjusted == NULL) {
			if (rc != -1)
				fail_msg("case %zu \"%s\": not refused", i,
				    c->qs);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu \"%s\": refused: %s", i, c->qs,
			    err.detail);
		buf_init(&b, 4096);
		param_adjustments_format(&adj, &b);
		if (strcmp(b.data, c->adjusted) != 0)
			fail_msg("case %zu \"%s\": adjusted \"%s\", want "
				 "\"%s\"",
			    i, c->qs, b.data, c->adjusted);
		buf_free(&b);
		if (c->route == PR_LISTING || c->route == PR_DEMO ||
		    c->route == PR_HEALTH) {
			assert_int_equal(p.top_n, c->top_n);
			assert_int_equal(p.filters, c->filters);
			assert_int_equal(p.range, c->range);
		}
		/* Strict handling refuses exactly what was adjusted. */
		list_params_defaults(&p, c->route);
		rc = params_read(&q, c->route, 1, a, &p, NULL, &err);
		if (rc != (adj.n > 0 ? -1 : 0))
			fail_msg("case %zu \"%s\": strict gave %d", i, c->qs,
			    rc);
	}
}

/* Page and days clamp to their own bounds; the defaults are 1, 20, 30. */
static void
test_lenient_bounds(void **state)
{
	struct arena *a = *state;
	struct param_adjustments adj = { .n = 0 };
	struct param_error err;
	struct list_params p;
	struct query q;

	list_params_defaults(&p, PR_USAGE);
	assert_int_equal(p.page, 1);
	assert_int_equal(p.page_size, 20);
	assert_int_equal(p.days, 30);
	assert_int_equal(query_parse("page=99999999999999999999999999", a, &q,
	                     &err),
	    0);
	assert_int_equal(params_read(&q, PR_USAGE, 0, a, &p, &adj, &err), 0);
	assert_int_equal(p.page, 10000);
	assert_int_equal(adj.n, 1);
	assert_int_equal(adj.v[0].rule, RULE_CLAMPED);
	/* The 400's words come from the table. */
	param_rule_text(P_DAYS, PR_AVAILABILITY, err.detail,
	    sizeof(err.detail));
	assert_string_equal(err.detail, "days must be an integer from 1 to 90");
	param_rule_text(P_TIME_RANGE, PR_HEALTH, err.detail,
	    sizeof(err.detail));
	assert_string_equal(err.detail,
	    "timeRange must be one of: 15m, 30m, 1h, 6h, 24h, 7d, 30d");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duplicate_with_bad_values),
		cmocka_unit_test(test_query_table),
		cmocka_unit_test(test_query_pair_limit),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_value_table),
		cmocka_unit_test(test_list_table),
		cmocka_unit_test(test_list_numbers),
		cmocka_unit_test(test_lenient_table),
		cmocka_unit_test(test_lenient_bounds),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup_arena, teardown_arena);
}
