/*
 * The catalogue's filters and sorts of SPEC.md §2, on models built by
 * hand: capability bits from the OpenRouter fields, AND-combined
 * filters, and every sort with its deterministic ties whatever the
 * input order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "util.h"

#define CHAT FILTER_CHAT
#define VISION FILTER_VISION
#define TOOLS FILTER_TOOLS
#define LONG FILTER_LONG_CONTEXT
#define REASON FILTER_REASONING

struct caps_case {
	const char *modality;
	const char *input;
	const char *output;
	const char *params;
	long long context_length;
	unsigned caps;
	int n_params;
};

static const struct caps_case caps_cases[] = {
	{ "text->text", NULL, NULL, NULL, 0, CHAT, 0 },
	{ "text->text", "[\"text\"]", "[\"text\"]", "[]", 4096, CHAT, 0 },
	/* chat: text->text, or text among the output modalities. */
	{ NULL, NULL, "[\"text\"]", NULL, 0, CHAT, 0 },
	{ "text+image->text", "[\"text\",\"image\"]", "[\"text\"]",
	    "[\"tools\",\"temperature\"]", 131072, CHAT | VISION | TOOLS | LONG,
	    2 },
	{ "text+image->text", NULL, NULL, NULL, 0, 0, 0 },
	{ "text->image", "[\"text\"]", "[\"image\"]", NULL, 0, 0, 0 },
	{ "text->image", "[\"text\"]", "[\"image\",\"text\"]", NULL, 0, CHAT,
	    0 },
	{ "Text->Text", NULL, NULL, NULL, 0, 0, 0 },
	{ "", "[]", "[]", "[]", 0, 0, 0 },
	/* vision: image among the input modalities. */
	{ NULL, "[\"image\"]", NULL, NULL, 0, VISION, 0 },
	{ NULL, "[\"text\",\"file\",\"image\"]", NULL, NULL, 0, VISION, 0 },
	{ NULL, "[\"IMAGE\"]", NULL, NULL, 0, 0, 0 },
	{ NULL, "[\"images\"]", NULL, NULL, 0, 0, 0 },
	{ NULL, NULL, "[\"image\"]", NULL, 0, 0, 0 },
	{ NULL, "\"image\"", NULL, NULL, 0, 0, 0 },
	/* tools and reasoning from the supported parameters. */
	{ NULL, NULL, NULL, "[\"tools\"]", 0, TOOLS, 1 },
	{ NULL, NULL, NULL, "[\"tool_choice\"]", 0, 0, 1 },
	{ NULL, NULL, NULL, "[\"tools_x\",\"Tools\"]", 0, 0, 2 },
	{ NULL, NULL, NULL, "[\"reasoning\"]", 0, REASON, 1 },
	{ NULL, NULL, NULL, "[\"include_reasoning\"]", 0, REASON, 1 },
	{ NULL, NULL, NULL,
	    "[\"tools\",\"tool_choice\",\"reasoning\",\"include_reasoning\"]",
	    0, TOOLS | REASON, 4 },
	{ NULL, NULL, NULL, "[\"max_tokens\",\"temperature\",\"top_p\"]", 0, 0,
	    3 },
	/* Entries that are not strings still count as entries. */
	{ NULL, NULL, NULL, "[1,\"tools\",null]", 0, TOOLS, 3 },
	{ NULL, NULL, NULL, "[[\"tools\"]]", 0, 0, 1 },
	/* longContext: at least 100000 tokens. */
	{ NULL, NULL, NULL, NULL, 99999, 0, 0 },
	{ NULL, NULL, NULL, NULL, 100000, LONG, 0 },
	{ NULL, NULL, NULL, NULL, 100001, LONG, 0 },
	{ NULL, NULL, NULL, NULL, -1, 0, 0 },
	/* Garbage is no capability and no parameters. */
	{ NULL, NULL, NULL, "not json", 0, 0, 0 },
	{ NULL, NULL, NULL, "", 0, 0, 0 },
	{ NULL, NULL, NULL, "[\"tools\"", 0, 0, 0 },
	{ NULL, NULL, NULL, "[\"tools\"] x", 0, 0, 0 },
	{ NULL, NULL, NULL, "{\"tools\":true}", 0, 0, 0 },
	{ NULL, NULL, NULL, "\"tools\"", 0, 0, 0 },
	{ NULL, NULL, NULL, "null", 0, 0, 0 },
	{ NULL, "{", "]", "[", 0, 0, 0 },
	{ NULL, "[\"image\"", "[\"text\"", NULL, 0, 0, 0 },
	{ "text->text", "garbage", "garbage", "garbage", 100000, CHAT | LONG,
	    0 },
};

static void
test_caps_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(caps_cases); i++) {
		const struct caps_case *c = &caps_cases[i];
		int n = 12345;
		unsigned caps = catalog_caps(c->modality, c->input, c->output,
		    c->params, c->context_length, &n);

		if (caps != c->caps || n != c->n_params)
			fail_msg("case %zu (%s | %s | %s | %s | %lld): caps "
			         "%#x n %d, want %#x n %d",
			    i, c->modality ? c->modality : "null",
			    c->input ? c->input : "null",
			    c->output ? c->output : "null",
			    c->params ? c->params : "null", c->context_length,
			    caps, n, c->caps, c->n_params);
	}
}

static const struct {
	unsigned caps;
	unsigned filters;
	int match;
} match_cases[] = {
	{ 0, 0, 1 },
	{ CHAT, 0, 1 },
	{ FILTER__ALL, 0, 1 },
	{ CHAT, CHAT, 1 },
	{ CHAT | VISION, CHAT, 1 },
	{ CHAT | VISION, VISION, 1 },
	{ CHAT | VISION, CHAT | VISION, 1 },
	{ CHAT, CHAT | VISION, 0 },
	{ VISION, CHAT | VISION, 0 },
	{ 0, CHAT, 0 },
	{ TOOLS | REASON | LONG, TOOLS | REASON, 1 },
	{ TOOLS | LONG, TOOLS | REASON, 0 },
	{ FILTER__ALL, FILTER__ALL, 1 },
	{ FILTER__ALL & ~REASON, FILTER__ALL, 0 },
	{ FILTER__ALL & ~CHAT, FILTER__ALL, 0 },
	{ LONG, LONG, 1 },
};

static void
test_match_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(match_cases); i++) {
		struct model m;

		memset(&m, 0, sizeof(m));
		m.caps = match_cases[i].caps;
		if (catalog_match(&m, match_cases[i].filters) !=
		    match_cases[i].match)
			fail_msg("case %zu: caps %#x filters %#x, want %d", i,
			    match_cases[i].caps, match_cases[i].filters,
			    match_cases[i].match);
	}
}

/*
 * The models the sorts run on.  Values are chosen so that each sort
 * meets ties at its key, null (-1) fields that must count as 0, and
 * ids whose order only strcmp decides ("a/alpha" < "aa/eta").
 */
struct spec {
	char id[16];
	long long context_length;
	long long max_out;
	int n_params;
	int64_t created_ms;
	int64_t first_seen_ms;
	struct health_counts h; /* success, rate_limited, unavailable, error */
};

static struct spec specs[] = {
	{ "a/alpha", 131072, 8192, 10, 1700000000000LL, 1800000000000LL,
	    { 97, 0, 0, 3 } }, /* 3.00 %, 100 reports */
	{ "b/beta", 131072, -1, 5, -1, 1750000000000LL,
	    { 0, 0, 0, 0 } }, /* no reports */
	{ "c/gamma", -1, 4096, 0, 1720000000000LL, 1100000000000LL,
	    { 10, 0, 0, 0 } }, /* 0 %, 10 reports */
	{ "d/delta", 0, 0, 10, -1, 1720000000000LL, { 9, 1, 0, 0 } }, /* 10 % */
	{ "e/eps", 32768, 8192, 12, 1750000000000LL, 1000,
	    { 1, 0, 0, 1 } }, /* 50 % */
	{ "f/zeta", 131072, 32768, 10, 1700000000000LL, 1000,
	    { 194, 0, 6, 0 } }, /* 3.00 %, 200 reports */
	{ "aa/eta", 32768, -1, 5, -1, 1700000000000LL,
	    { 0, 1, 1, 1 } }, /* 100 % */
	{ "z/theta", 1000000, 100000, 1, 1600000000000LL, 1900000000000LL,
	    { 20, 0, 0, 0 } }, /* 0 %, 20 reports */
	{ "i/iota", 200000, 8192, 3, 1600000000000LL, 1000,
	    { 10, 0, 0, 0 } }, /* 0 %, 10 reports */
};

#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static const struct {
	enum sort_key key;
	const char *order[N_SPECS];
} sort_cases[] = {
	{ SORT_CONTEXT_LENGTH,
	    { "z/theta", "i/iota", "a/alpha", "b/beta", "f/zeta", "aa/eta",
	        "e/eps", "c/gamma", "d/delta" } },
	{ SORT_MAX_OUTPUT,
	    { "z/theta", "f/zeta", "i/iota", "a/alpha", "e/eps", "c/gamma",
	        "b/beta", "aa/eta", "d/delta" } },
	{ SORT_CAPABLE,
	    { "e/eps", "a/alpha", "f/zeta", "d/delta", "b/beta", "aa/eta",
	        "i/iota", "z/theta", "c/gamma" } },
	{ SORT_LEAST_ISSUES,
	    { "z/theta", "i/iota", "c/gamma", "b/beta", "f/zeta", "a/alpha",
	        "d/delta", "e/eps", "aa/eta" } },
	{ SORT_NEWEST,
	    { "b/beta", "e/eps", "c/gamma", "d/delta", "a/alpha", "f/zeta",
	        "aa/eta", "z/theta", "i/iota" } },
	{ SORT_ISSUE_COUNT,
	    { "f/zeta", "a/alpha", "aa/eta", "e/eps", "d/delta", "z/theta",
	        "i/iota", "b/beta", "c/gamma" } },
};

static struct model models[N_SPECS];

static void
build_models(void)
{
	size_t i;

	memset(models, 0, sizeof(models));
	for (i = 0; i < N_SPECS; i++) {
		models[i].id = specs[i].id;
		models[i].name = specs[i].id;
		models[i].context_length = specs[i].context_length;
		models[i].max_completion_tokens = specs[i].max_out;
		models[i].n_params = specs[i].n_params;
		models[i].created_ms = specs[i].created_ms;
		models[i].first_seen_ms = specs[i].first_seen_ms;
		models[i].is_active = 1;
	}
}

/* v[k] is the ranked entry of specs[perm[k]]. */
static void
build_ranked(struct ranked *v, const size_t *perm)
{
	size_t k;

	for (k = 0; k < N_SPECS; k++) {
		memset(&v[k], 0, sizeof(v[k]));
		v[k].m = &models[perm[k]];
		v[k].h = specs[perm[k]].h;
		ranked_finish(&v[k], 0);
	}
}

/* A fixed pseudo-random permutation (xorshift, so runs repeat). */
static void
shuffle(size_t *perm, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	size_t i;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n; i > 1; i--) {
		size_t j, t;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		j = x % i;
		t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}

/* Input orders: as listed, reversed, rotated, and some shuffles. */
static void
make_perm(size_t *perm, int which)
{
	size_t i;

	for (i = 0; i < N_SPECS; i++) {
		if (which == 0)
			perm[i] = i;
		else if (which == 1)
			perm[i] = N_SPECS - 1 - i;
		else if (which == 2)
			perm[i] = (i + 4) % N_SPECS;
	}
	if (which >= 3)
		shuffle(perm, N_SPECS, (uint32_t)which * 2654435761u);
}

#define N_PERMS 12

static void
test_ranked_finish(void **state)
{
	struct ranked v[N_SPECS];
	size_t perm[N_SPECS];

	(void)state;
	build_models();
	make_perm(perm, 0);
	build_ranked(v, perm);
	assert_int_equal(v[0].reports, 100);
	assert_int_equal(v[0].error_rate_x100, 300);
	assert_int_equal(v[1].reports, 0);
	assert_int_equal(v[1].error_rate_x100, 0);
	assert_int_equal(v[3].error_rate_x100, 1000);
	assert_int_equal(v[5].reports, 200);
	assert_int_equal(v[5].error_rate_x100, 300);
	assert_int_equal(v[6].error_rate_x100, 10000);
}

static void
test_sort_table(void **state)
{
	size_t i, k;
	int p;

	(void)state;
	build_models();
	for (i = 0; i < NELEM(sort_cases); i++)
		for (p = 0; p < N_PERMS; p++) {
			struct ranked v[N_SPECS];
			size_t perm[N_SPECS];

			make_perm(perm, p);
			build_ranked(v, perm);
			catalog_sort(v, N_SPECS, sort_cases[i].key);
			for (k = 0; k < N_SPECS; k++)
				if (strcmp(v[k].m->id,
				        sort_cases[i].order[k]) != 0)
					fail_msg("sort %s, input order %d: "
					         "position %zu is %s, want %s",
					    sort_name(sort_cases[i].key), p, k,
					    v[k].m->id, sort_cases[i].order[k]);
		}
}

/* The permutations really are different input orders. */
static void
test_perms_differ(void **state)
{
	size_t a[N_SPECS], b[N_SPECS], seen[N_SPECS];
	int p, q;
	size_t k;

	(void)state;
	for (p = 0; p < N_PERMS; p++) {
		make_perm(a, p);
		memset(seen, 0, sizeof(seen));
		for (k = 0; k < N_SPECS; k++)
			seen[a[k]]++;
		for (k = 0; k < N_SPECS; k++)
			assert_int_equal(seen[k], 1);
		for (q = 0; q < p; q++) {
			make_perm(b, q);
			if (memcmp(a, b, sizeof(a)) == 0)
				fail_msg("orders %d and %d are the same", p, q);
		}
	}
}

/* Sorting a sorted list again changes nothing; 0 and 1 entries work. */
static void
test_sort_edges(void **state)
{
	struct ranked v[N_SPECS], w[N_SPECS];
	size_t perm[N_SPECS], k;
	int key;

	(void)state;
	build_models();
	for (key = 0; key < SORT__MAX; key++) {
		make_perm(perm, 5);
		build_ranked(v, perm);
		catalog_sort(v, N_SPECS, (enum sort_key)key);
		memcpy(w, v, sizeof(v));
		catalog_sort(w, N_SPECS, (enum sort_key)key);
		for (k = 0; k < N_SPECS; k++)
			assert_ptr_equal(v[k].m, w[k].m);
		catalog_sort(v, 1, (enum sort_key)key);
		assert_ptr_equal(v[0].m, w[0].m);
		catalog_sort(v, 0, (enum sort_key)key);
	}
}

/*
 * Regression: catalog_sort(NULL, 0, …)
 * passes NULL to qsort(), whose argument is declared nonnull; UBSan
 * stops the program.  catalog_find() already guards n == 0 this way.
 */
static void
test_sort_empty_null(void **state)
{
	int key;

	(void)state;
	for (key = 0; key < SORT__MAX; key++)
		catalog_sort(NULL, 0, (enum sort_key)key);
}

/* Equal keys everywhere: the ties alone decide. */
static void
test_sort_all_ties(void **state)
{
	static char ids[5][8] = { "m/e", "m/a", "m/c", "m/b", "m/d" };
	static const long long ctx[5] = { 100, 100, 200, -1, 0 };
	static const char *const want[5] = { "m/c", "m/a", "m/e", "m/b",
		"m/d" };
	static const char *const ids_sorted[5] = { "m/a", "m/b", "m/c",
		"m/d", "m/e" };
	struct model m[5];
	struct ranked v[5];
	int key;
	size_t i;

	(void)state;
	/* SORT_ID (availability's order) is the id alone: no ties. */
	for (key = 0; key < SORT__MAX; key++) {
		for (i = 0; i < 5; i++) {
			memset(&m[i], 0, sizeof(m[i]));
			m[i].id = ids[i];
			m[i].context_length = ctx[i];
			m[i].max_completion_tokens = 4096;
			m[i].n_params = 7;
			m[i].created_ms = 1700000000000LL;
			memset(&v[i], 0, sizeof(v[i]));
			v[i].m = &m[i];
			v[i].h.success = 4;
			v[i].h.error = 1;
			ranked_finish(&v[i], 0);
		}
		catalog_sort(v, 5, (enum sort_key)key);
		for (i = 0; i < 5; i++)
			if (strcmp(v[i].m->id,
			        key == SORT_ID ? ids_sorted[i] : want[i]) != 0)
				fail_msg("sort %d: position %zu is %s", key, i,
				    v[i].m->id);
	}
}

/* catalog_find on a catalogue put together by hand. */
static void
test_find(void **state)
{
	static char ids[4][8] = { "a/1", "a/2", "b/1", "c" };
	struct model m[4];
	struct catalog c;
	size_t i;

	(void)state;
	catalog_init(&c);
	assert_int_equal(c.version, -1);
	assert_int_equal(c.n, 0);
	assert_null(catalog_find(&c, "a/1"));
	memset(m, 0, sizeof(m));
	for (i = 0; i < 4; i++)
		m[i].id = ids[i];
	c.models = m;
	c.n = 4;
	for (i = 0; i < 4; i++)
		assert_ptr_equal(catalog_find(&c, ids[i]), &m[i]);
	assert_null(catalog_find(&c, "a"));
	assert_null(catalog_find(&c, "a/3"));
	assert_null(catalog_find(&c, ""));
	assert_null(catalog_find(&c, "d"));
	assert_null(catalog_find(&c, "A/1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_empty_null),
		cmocka_unit_test(test_caps_table),
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_ranked_finish),
		cmocka_unit_test(test_perms_differ),
		cmocka_unit_test(test_sort_table),
		cmocka_unit_test(test_sort_edges),
		cmocka_unit_test(test_sort_all_ties),
		cmocka_unit_test(test_find),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
