/*
 * A worker's copies of its large bodies (bodycache.h): a copy comes
 * back under its tag without the per-request bytes, cut where they
 * were; a fifth tag replaces the least recently used; a body over the
 * bound, or a cut outside the body, is not stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bodycache.h"

static const char BODY[] = "{\"a\":1,\"now\":\"12:00\",\"b\":2}";

/* The offsets of the per-request member of BODY: [cut, resume). */
static void
cut_of(size_t *cut, size_t *resume)
{
	*cut = (size_t)(strstr(BODY, ",\"now\"") - BODY);
	*resume = (size_t)(strstr(BODY, ",\"b\"") - BODY);
}

static void
test_copy_round_trip(void **state)
{
	const struct body_copy *c;
	struct body_cache cache;
	size_t cut, resume;

	(void)state;
	body_cache_init(&cache);
	cut_of(&cut, &resume);
	assert_null(body_cache_get(&cache, "W/\"t1\""));
	body_cache_put(&cache, "W/\"t1\"", BODY, strlen(BODY), cut, resume);
	c = body_cache_get(&cache, "W/\"t1\"");
	assert_non_null(c);
	assert_int_equal(c->head, cut);
	assert_int_equal(c->len, strlen("{\"a\":1,\"b\":2}"));
	assert_memory_equal(c->data, "{\"a\":1", c->head);
	assert_memory_equal(c->data + c->head, ",\"b\":2}", c->len - c->head);
	assert_null(body_cache_get(&cache, "W/\"t2\""));
	/* Another tag, nothing cut: stored beside the first. */
	body_cache_put(&cache, "W/\"t2\"", BODY, strlen(BODY), cut, cut);
	assert_int_equal(body_cache_get(&cache, "W/\"t2\"")->len, strlen(BODY));
	assert_non_null(body_cache_get(&cache, "W/\"t1\""));
	body_cache_free(&cache);
}

static void
test_least_recently_used(void **state)
{
	struct body_cache cache;
	char tag[16];
	int i;

	(void)state;
	body_cache_init(&cache);
	for (i = 0; i < BODY_CACHE_SLOTS; i++) {
		snprintf(tag, sizeof(tag), "t%d", i);
		body_cache_put(&cache, tag, BODY, strlen(BODY), 0, 0);
	}
	/* t0 is used again, so t1 is the least recently used. */
	assert_non_null(body_cache_get(&cache, "t0"));
	body_cache_put(&cache, "new", BODY, strlen(BODY), 0, 0);
	assert_non_null(body_cache_get(&cache, "new"));
	assert_non_null(body_cache_get(&cache, "t0"));
	assert_null(body_cache_get(&cache, "t1"));
	for (i = 2; i < BODY_CACHE_SLOTS; i++) {
		snprintf(tag, sizeof(tag), "t%d", i);
		assert_non_null(body_cache_get(&cache, tag));
	}
	body_cache_free(&cache);
}

static void
test_not_stored(void **state)
{
	struct body_cache cache;
	size_t big = BODY_CACHE_MAX + 1;
	char *body = malloc(big);

	(void)state;
	assert_non_null(body);
	memset(body, ' ', big);
	body_cache_init(&cache);
	body_cache_put(&cache, "big", body, big, 0, 0);
	assert_null(body_cache_get(&cache, "big"));
	/* Cut out one byte: now it fits exactly. */
	body_cache_put(&cache, "fits", body, big, 10, 11);
	assert_non_null(body_cache_get(&cache, "fits"));
	body_cache_put(&cache, "bad1", BODY, strlen(BODY), 5, 4);
	body_cache_put(&cache, "bad2", BODY, strlen(BODY), 0, sizeof(BODY));
	body_cache_put(&cache, "", BODY, strlen(BODY), 0, 0);
	assert_null(body_cache_get(&cache, ""));
	assert_null(body_cache_get(&cache, "bad1"));
	assert_null(body_cache_get(&cache, "bad2"));
	free(body);
	body_cache_free(&cache);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_round_trip),
		cmocka_unit_test(test_least_recently_used),
		cmocka_unit_test(test_not_stored),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
