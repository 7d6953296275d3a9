/*
 * What a worker remembers of its key lookups, without a database: the
 * table of hashes (insert, hit, expiry, a full set evicting), client
 * addresses as counted, the per-address limit and its window, and
 * key_screen() / key_learn() together: what each kind of key gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addrlimit.h"
#include "auth.h"
#include "keycheck.h"
#include "util.h"

/* A hash of AUTH_HASH_LEN characters: prefix (its set), then n. */
static void
make_hash(char out[AUTH_HASH_LEN + 1], const char *prefix, int n)
{
	char tail[16];
	size_t len = strlen(prefix);

	memset(out, 'x', AUTH_HASH_LEN);
	out[AUTH_HASH_LEN] = '\0';
	memcpy(out, prefix, len);
	snprintf(tail, sizeof(tail), "%08d", n);
	memcpy(out + AUTH_HASH_LEN - 8, tail, 8);
}

static struct key_cache cache;

static void
test_cache_hit_and_expiry(void **state)
{
	char a[AUTH_HASH_LEN + 1], b[AUTH_HASH_LEN + 1];

	(void)state;
	key_cache_init(&cache, 5000);
	make_hash(a, "Ab", 1);
	make_hash(b, "Ab", 2);
	assert_false(key_cache_has(&cache, a, 1000));
	key_cache_put(&cache, a, 1000);
	assert_true(key_cache_has(&cache, a, 1000));
	assert_true(key_cache_has(&cache, a, 5999));
	/* Another hash of the same set is not a hit. */
	assert_false(key_cache_has(&cache, b, 2000));
	/* Held for ttl_ms exactly: gone at 1000 + 5000. */
	assert_false(key_cache_has(&cache, a, 6000));
	/* Put again, it is held from then on. */
	key_cache_put(&cache, a, 7000);
	key_cache_put(&cache, a, 9000);
	assert_true(key_cache_has(&cache, a, 13999));
	assert_false(key_cache_has(&cache, a, 14000));
	key_cache_drop(&cache, a);
	assert_false(key_cache_has(&cache, a, 9000));
	/* A TTL of 0 holds nothing. */
	key_cache_init(&cache, 0);
	key_cache_put(&cache, a, 1000);
	assert_false(key_cache_has(&cache, a, 1000));
}

static void
test_cache_full_set(void **state)
{
	char h[KEY_CACHE_WAYS + 2][AUTH_HASH_LEN + 1], other[AUTH_HASH_LEN + 1];
	int i;

	(void)state;
	key_cache_init(&cache, 5000);
	/* One set holds KEY_CACHE_WAYS hashes at once. */
	for (i = 0; i < KEY_CACHE_WAYS + 2; i++)
		make_hash(h[i], "Qz", i);
	for (i = 0; i < KEY_CACHE_WAYS; i++)
		key_cache_put(&cache, h[i], 1000 + i);
	for (i = 0; i < KEY_CACHE_WAYS; i++)
		assert_true(key_cache_has(&cache, h[i], 1100));
	/* One more: the one that expires first makes room. */
	key_cache_put(&cache, h[KEY_CACHE_WAYS], 1100);
	assert_false(key_cache_has(&cache, h[0], 1100));
	for (i = 1; i <= KEY_CACHE_WAYS; i++)
		assert_true(key_cache_has(&cache, h[i], 1100));
	/* Refreshed, h[1] outlives h[2], which goes next. */
	key_cache_put(&cache, h[1], 1200);
	key_cache_put(&cache, h[KEY_CACHE_WAYS + 1], 1200);
	assert_true(key_cache_has(&cache, h[1], 1200));
	assert_false(key_cache_has(&cache, h[2], 1200));
	/* An expired entry is taken before any live one. */
	key_cache_put(&cache, h[0], 6102);
	assert_true(key_cache_has(&cache, h[0], 6102));
	assert_true(key_cache_has(&cache, h[1], 6102));
	assert_true(key_cache_has(&cache, h[KEY_CACHE_WAYS + 1], 6102));
	/* Other sets are untouched by all this. */
	make_hash(other, "Rz", 0);
	key_cache_put(&cache, other, 1000);
	assert_true(key_cache_has(&cache, other, 1200));
	assert_true(key_cache_has(&cache, h[1], 1200));
}

/* All 1024 entries hold hashes at once when they spread evenly. */
static void
test_cache_capacity(void **state)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char h[AUTH_HASH_LEN + 1], prefix[3] = "";
	int i, held = 0;

	(void)state;
	key_cache_init(&cache, 5000);
	for (i = 0; i < KEY_CACHE_SETS * KEY_CACHE_WAYS; i++) {
		prefix[0] = b64[(i / 64) % 64];
		prefix[1] = b64[i % 64];
		make_hash(h, prefix, i);
		key_cache_put(&cache, h, 1000);
	}
	for (i = 0; i < KEY_CACHE_SETS * KEY_CACHE_WAYS; i++) {
		prefix[0] = b64[(i / 64) % 64];
		prefix[1] = b64[i % 64];
		make_hash(h, prefix, i);
		held += key_cache_has(&cache, h, 1000);
	}
	assert_int_equal(held, KEY_CACHE_SETS * KEY_CACHE_WAYS);
}

struct addr_case {
	const char *a, *b;
	int same; /* 1: counted as one client; -1: a is not counted */
};

static const struct addr_case addr_cases[] = {
	{ "192.0.2.1", "192.0.2.1", 1 },
	{ "192.0.2.1", "192.0.2.2", 0 },
	{ "192.0.2.1", "::ffff:192.0.2.1", 1 },
	/* IPv6 by its /64. */
	{ "2001:db8::1", "2001:db8::2", 1 },
	{ "2001:db8::1", "2001:db8:0:0:ffff:ffff:ffff:ffff", 1 },
	{ "2001:db8::1", "2001:db8:0:1::1", 0 },
	{ "2001:db8::1", "2001:db9::1", 0 },
	{ "::1", "::2", 1 },
	{ "0.0.0.0", "::", 0 },
	/* Not an IP address: not counted at all. */
	{ "unix:", NULL, -1 },
	{ "", NULL, -1 },
	{ NULL, NULL, -1 },
	{ "192.0.2.1 ", NULL, -1 },
	{ "192.0.2.256", NULL, -1 },
	{ "fe80::1%eth0", NULL, -1 },
	{ "192.0.2.1:443", NULL, -1 },
};

static void
test_addr_keys(void **state)
{
	struct addr_key x, y;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];
		int rc = addr_key_parse(c->a, &x);

		if (c->same < 0) {
			if (rc != -1)
				fail_msg("case %zu: %s counted", i, c->a);
			continue;
		}
		if (rc != 0 || addr_key_parse(c->b, &y) != 0)
			fail_msg("case %zu: %s or %s refused", i, c->a, c->b);
		if ((memcmp(&x, &y, sizeof(x)) == 0) != c->same)
			fail_msg("case %zu: %s and %s: same %d", i, c->a, c->b,
			    !c->same);
	}
}

static struct addr_limit limit;

static void
test_limit_window(void **state)
{
	struct addr_key a, b;
	int i;

	(void)state;
	assert_int_equal(addr_key_parse("192.0.2.7", &a), 0);
	assert_int_equal(addr_key_parse("192.0.2.8", &b), 0);
	addr_limit_init(&limit, 3, 10000);
	assert_int_equal(addr_limit_wait(&limit, &a, 1000), 0);
	assert_int_equal(addr_limit_count(&limit, &a, 1000), 0);
	assert_int_equal(addr_limit_count(&limit, &a, 2000), 0);
	assert_int_equal(addr_limit_wait(&limit, &a, 2000), 0);
	/* The third of the window reaches the limit: refused until 11000. */
	assert_int_equal(addr_limit_count(&limit, &a, 3000), 1);
	assert_int_equal(addr_limit_wait(&limit, &a, 3000), 8000);
	assert_int_equal(addr_limit_wait(&limit, &a, 10999), 1);
	/* Another address is not. */
	assert_int_equal(addr_limit_wait(&limit, &b, 3000), 0);
	/* Counting on changes nothing, and says nothing new. */
	for (i = 0; i < 5; i++)
		assert_int_equal(addr_limit_count(&limit, &a, 4000), 0);
	assert_int_equal(addr_limit_wait(&limit, &a, 4000), 7000);
	/* The window ends: a new one opens with the next event. */
	assert_int_equal(addr_limit_wait(&limit, &a, 11000), 0);
	assert_int_equal(addr_limit_count(&limit, &a, 11000), 0);
	assert_int_equal(addr_limit_wait(&limit, &a, 11000), 0);
	/* A limit of 0 refuses nobody. */
	addr_limit_init(&limit, 0, 10000);
	for (i = 0; i < 100; i++)
		assert_int_equal(addr_limit_count(&limit, &a, 1000), 0);
	assert_int_equal(addr_limit_wait(&limit, &a, 1000), 0);
}

/* want addresses 10.0.x.y that share one set of the table. */
static void
same_set(struct addr_key *out, int want)
{
	struct addr_key k;
	char text[32];
	int n = 0, i;

	for (i = 0; i < 65536 && n < want; i++) {
		snprintf(text, sizeof(text), "10.0.%d.%d", i / 256, i % 256);
		assert_int_equal(addr_key_parse(text, &k), 0);
		if (n == 0 ||
		    addr_limit_set_of(&k) == addr_limit_set_of(&out[0]))
			out[n++] = k;
	}
	assert_int_equal(n, want);
}

static void
test_limit_full_set(void **state)
{
	struct addr_key a[ADDR_LIMIT_WAYS + 1];
	int i;

	(void)state;
	same_set(a, ADDR_LIMIT_WAYS + 1);
	addr_limit_init(&limit, 2, 10000);
	/* a[0] is refused; a[1..3] have counted once each. */
	(void)addr_limit_count(&limit, &a[0], 1000);
	assert_int_equal(addr_limit_count(&limit, &a[0], 1000), 1);
	for (i = 1; i < ADDR_LIMIT_WAYS; i++)
		(void)addr_limit_count(&limit, &a[i], 1000 + i);
	/* A new one takes the entry that counted least, the oldest of
	 * those (a[1]'s): a[2] and a[3] still count their second. */
	(void)addr_limit_count(&limit, &a[ADDR_LIMIT_WAYS], 2000);
	assert_true(addr_limit_wait(&limit, &a[0], 2000) > 0);
	assert_int_equal(addr_limit_count(&limit, &a[2], 2000), 1);
	assert_int_equal(addr_limit_count(&limit, &a[3], 2000), 1);
	/* a[1] starts again, in a[4]'s entry: refused ones stay. */
	assert_int_equal(addr_limit_count(&limit, &a[1], 2000), 0);
	for (i = 0; i < ADDR_LIMIT_WAYS; i++)
		if (i != 1 && addr_limit_wait(&limit, &a[i], 2000) <= 0)
			fail_msg("a[%d] is no longer refused", i);
	assert_int_equal(
	    addr_limit_count(&limit, &a[ADDR_LIMIT_WAYS], 2000), 0);
	/* Once a window has ended, its entry is free for anyone. */
	assert_int_equal(addr_limit_wait(&limit, &a[0], 11000), 0);
}

static struct key_memory mem;

/* A well-formed key, different for each n. */
static void
make_key(char out[AUTH_KEY_LEN + 1], int n)
{
	char tail[16];

	memcpy(out, "fma_", 4);
	memset(out + 4, 'K', AUTH_KEY_LEN - 4);
	out[AUTH_KEY_LEN] = '\0';
	snprintf(tail, sizeof(tail), "%08d", n);
	memcpy(out + AUTH_KEY_LEN - 8, tail, 8);
	assert_true(auth_key_wellformed(out));
}

/* key_screen() of key n from addr: 0 to look up, else the verdict. */
static int
screen(const char *addr, int n, long long *retry, char hash[AUTH_HASH_LEN + 1])
{
	char key[AUTH_KEY_LEN + 1];
	enum key_verdict v;

	make_key(key, n);
	if (!key_screen(&mem, addr, key, hash, &v, retry))
		return 0;
	assert_true(v == VERDICT_UNKNOWN || v == VERDICT_THROTTLED);
	return v == VERDICT_UNKNOWN ? 401 : 429;
}

static void
test_screen_and_learn(void **state)
{
	char hash[AUTH_HASH_LEN + 1], want[AUTH_HASH_LEN + 1];
	char key[AUTH_KEY_LEN + 1];
	const char *bad = "192.0.2.66", *other = "192.0.2.67";
	enum key_verdict v;
	long long retry;
	int i;

	(void)state;
	key_memory_init(&mem, 60000, 3, 10000, NULL);
	/* Not shaped like a key: unknown, no hash, nothing to look up. */
	assert_int_equal(
	    key_screen(&mem, bad, "fma_short", hash, &v, &retry), 1);
	assert_int_equal(v, VERDICT_UNKNOWN);
	/* Well formed: looked up, with its hash. */
	assert_int_equal(screen(bad, 1, &retry, hash), 0);
	make_key(key, 1);
	auth_hash_key(key, want);
	assert_string_equal(hash, want);
	/* Disabled and expired keys are looked up again every time. */
	key_learn(&mem, bad, hash, VERDICT_DISABLED);
	assert_int_equal(screen(bad, 1, &retry, hash), 0);
	key_learn(&mem, bad, hash, VERDICT_EXPIRED);
	assert_int_equal(screen(bad, 1, &retry, hash), 0);
	/* Unknown: answered from memory, from any address. */
	key_learn(&mem, bad, hash, VERDICT_UNKNOWN);
	assert_int_equal(screen(bad, 1, &retry, hash), 401);
	assert_int_equal(screen(other, 1, &retry, hash), 401);
	/* Key 2 is valid. */
	assert_int_equal(screen(bad, 2, &retry, hash), 0);
	key_learn(&mem, bad, hash, VERDICT_VALID);
	/* Two more unknown keys from bad: the third of the window. */
	for (i = 3; i <= 4; i++) {
		assert_int_equal(screen(bad, i, &retry, hash), 0);
		key_learn(&mem, bad, hash, VERDICT_UNKNOWN);
	}
	/* Any key not known from bad now: 429 with the window's rest. */
	assert_int_equal(screen(bad, 5, &retry, hash), 429);
	assert_true(retry >= 1 && retry <= 10);
	/* Known unknown keys still get their 401; a valid one goes on. */
	assert_int_equal(screen(bad, 3, &retry, hash), 401);
	assert_int_equal(screen(bad, 2, &retry, hash), 0);
	/* Other addresses, and unaddressed requests, are not refused. */
	assert_int_equal(screen(other, 5, &retry, hash), 0);
	assert_int_equal(screen(NULL, 5, &retry, hash), 0);
	assert_int_equal(screen("unix:", 5, &retry, hash), 0);
	/* Key 2 disabled since: no longer let through. */
	assert_int_equal(screen(bad, 2, &retry, hash), 0);
	key_learn(&mem, bad, hash, VERDICT_DISABLED);
	assert_int_equal(screen(bad, 2, &retry, hash), 429);
	/* Key 6, found valid, then deleted: unknown, from memory. */
	assert_int_equal(screen(other, 6, &retry, hash), 0);
	key_learn(&mem, other, hash, VERDICT_VALID);
	assert_int_equal(screen(bad, 6, &retry, hash), 0);
	key_learn(&mem, bad, hash, VERDICT_UNKNOWN);
	assert_int_equal(screen(bad, 6, &retry, hash), 401);
	/* Without a memory only the shape is screened. */
	assert_int_equal(key_screen(NULL, bad, key, hash, &v, &retry), 0);
	key_learn(NULL, bad, hash, VERDICT_UNKNOWN);
	/* A negative TTL of 0 remembers no unknown key. */
	key_memory_init(&mem, 0, 3, 10000, NULL);
	assert_int_equal(screen(bad, 1, &retry, hash), 0);
	key_learn(&mem, bad, hash, VERDICT_UNKNOWN);
	assert_int_equal(screen(bad, 1, &retry, hash), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hit_and_expiry),
		cmocka_unit_test(test_cache_full_set),
		cmocka_unit_test(test_cache_capacity),
		cmocka_unit_test(test_addr_keys),
		cmocka_unit_test(test_limit_window),
		cmocka_unit_test(test_limit_full_set),
		cmocka_unit_test(test_screen_and_learn),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
