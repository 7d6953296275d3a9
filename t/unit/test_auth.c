/*
 * Keys and request ids (SPEC.md §1, §0): the stored hash against
 * known SHA-256 vectors, new keys, the Bearer header, UUIDs and
 * base64url against RFC 4648.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "util.h"

/* 43 base64url characters, to build keys from. */
#define BODY43 "x7Kp-Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nMr"

/*
 * base64url(SHA-256(key)) without padding, worked out with
 *   printf %s KEY | openssl dgst -sha256 -binary | basenc --base64url
 */
static const struct {
	const char *key;
	const char *hash;
} hash_cases[] = {
	{ "", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU" },
	{ "abc", "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" },
	{ "fma_" BODY43, "IR-3VhMwYifweP8tfjhIQ-QZpq-INxBM3oylMkJm3sI" },
	{ "fma_Xx0mE5kX41bM0x92ET1o2XxUebrBIi6FQeW_IkboeHo",
	    "AfDOvUO6-0f2NT9mpO1AG7L_CY7QNwhe6Uvh8qu52aE" },
	{ "fma_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "UDaBM8qVNUtiIU96Fbc3NbvVXGRBm92K_wJDn6yY300" },
	/* The header parser may leave trailing spaces; they are dropped. */
	{ "abc  ", "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" },
	{ "fma_" BODY43 " ", "IR-3VhMwYifweP8tfjhIQ-QZpq-INxBM3oylMkJm3sI" },
};

static void
test_hash_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(hash_cases); i++) {
		char out[AUTH_HASH_LEN + 1];

		memset(out, '#', sizeof(out));
		auth_hash_key(hash_cases[i].key, out);
		if (strcmp(out, hash_cases[i].hash) != 0)
			fail_msg("case %zu \"%s\": %s, want %s", i,
			    hash_cases[i].key, out, hash_cases[i].hash);
		assert_int_equal(strlen(out), AUTH_HASH_LEN);
	}
}

static int
all_b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		        s[i] == '_'))
			return 0;
	return 1;
}

static void
test_new_key(void **state)
{
	char key[AUTH_KEY_LEN + 1], start[AUTH_START_LEN + 1];
	char key2[AUTH_KEY_LEN + 1], start2[AUTH_START_LEN + 1];
	char hash[AUTH_HASH_LEN + 1];
	int i;

	(void)state;
	assert_int_equal(auth_new_key(key, start), 0);
	assert_int_equal(strlen(key), AUTH_KEY_LEN);
	assert_int_equal(AUTH_KEY_LEN, 4 + 43);
	assert_memory_equal(key, "fma_", 4);
	assert_true(all_b64url(key + 4, 43));
	assert_int_equal(strlen(start), AUTH_START_LEN);
	assert_memory_equal(start, key, AUTH_START_LEN);
	assert_int_equal(auth_key_wellformed(key), 1);
	auth_hash_key(key, hash);
	assert_int_equal(strlen(hash), AUTH_HASH_LEN);

	/* Keys differ from one another (32 random bytes each). */
	for (i = 0; i < 20; i++) {
		assert_int_equal(auth_new_key(key2, start2), 0);
		assert_string_not_equal(key, key2);
		assert_int_equal(auth_key_wellformed(key2), 1);
		assert_memory_equal(start2, key2, AUTH_START_LEN);
	}
}

/*
 * 32 bytes leave 16 bits for the last three characters: the last one
 * carries 4 bits and two zero bits, so it is one of 16.  And all 64
 * characters turn up in the bodies of a few hundred keys.
 */
static void
test_new_key_alphabet(void **state)
{
	char key[AUTH_KEY_LEN + 1], start[AUTH_START_LEN + 1];
	int seen[256] = { 0 }, i, n = 0;

	(void)state;
	for (i = 0; i < 300; i++) {
		int k;

		assert_int_equal(auth_new_key(key, start), 0);
		for (k = 4; k < AUTH_KEY_LEN; k++)
			seen[(unsigned char)key[k]] = 1;
		assert_non_null(
		    strchr("AEIMQUYcgkosw048", key[AUTH_KEY_LEN - 1]));
	}
	for (i = 0; i < 256; i++)
		n += seen[i];
	assert_int_equal(n, 64);
	assert_int_equal(seen['-'], 1);
	assert_int_equal(seen['_'], 1);
	assert_int_equal(seen['+'] + seen['/'] + seen['='], 0);
}

static const struct {
	const char *token;
	int ok;
} wellformed_cases[] = {
	{ "fma_" BODY43, 1 },
	{ "fma_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1 },
	{ "fma_-------------------------------------------", 1 },
	{ "fma____________________________________________", 1 },
	/* A trailing space is what the header parser may leave. */
	{ "fma_" BODY43 " ", 1 },
	{ "", 0 },
	{ "fma_", 0 },
	{ "fma", 0 },
	{ "FMA_" BODY43, 0 },
	{ "fmb_" BODY43, 0 },
	{ "sk_x" BODY43, 0 },
	{ "fma-" BODY43, 0 },
	{ "_fma" BODY43, 0 },
	{ "fma_" BODY43 "A", 0 }, /* 44 characters */
	{ "fma_" BODY43 "AA", 0 }, /* 45 */
	{ "fma_x7Kp-Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nM", 0 }, /* 42 */
	{ "fma_x7Kp+Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nMr", 0 },
	{ "fma_x7Kp/Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nMr", 0 },
	{ "fma_x7Kp-Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nM=", 0 },
	{ "fma_x7Kp-Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nMr=", 0 },
	{ "fma_x7Kp Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nMr", 0 },
	{ "fma_x7Kp.Qm_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nMr", 0 },
	{ "fma_x7Kp\xc3\xa9m_3vR9tLw2ZbN8cYd4hJf6gTs1aEo5uIi0nM", 0 },
	{ " fma_" BODY43, 0 },
	{ "fma_" BODY43 "\t", 0 },
};

static void
test_wellformed_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(wellformed_cases); i++)
		if (auth_key_wellformed(wellformed_cases[i].token) !=
		    wellformed_cases[i].ok)
			fail_msg("case %zu \"%s\": want %d", i,
			    wellformed_cases[i].token, wellformed_cases[i].ok);
}

static const struct {
	const char *header; /* NULL: no header */
	enum auth_header want;
	const char *token; /* from the start of the token, when OK */
} header_cases[] = {
	{ NULL, AUTH_HEADER_MISSING, NULL },
	{ "", AUTH_HEADER_MISSING, NULL },
	{ "Bearer fma_x", AUTH_HEADER_OK, "fma_x" },
	{ "bearer fma_x", AUTH_HEADER_OK, "fma_x" },
	{ "BEARER fma_x", AUTH_HEADER_OK, "fma_x" },
	{ "bEaReR fma_x", AUTH_HEADER_OK, "fma_x" },
	{ "Bearer   fma_x", AUTH_HEADER_OK, "fma_x" },
	{ "Bearer fma_x  ", AUTH_HEADER_OK, "fma_x  " },
	{ "Bearer fma_" BODY43, AUTH_HEADER_OK, "fma_" BODY43 },
	{ "Bearer x", AUTH_HEADER_OK, "x" },
	{ "Bearer", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearer ", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearer    ", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Basic abc", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Basic YWxhZGRpbjpvcGVuc2VzYW1l", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearerfma_x", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearer a b", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearer a  b  ", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Token x", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "fma_x", AUTH_HEADER_BAD_FORMAT, NULL },
	{ " Bearer fma_x", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bear fma_x", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearer\tfma_x", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearer: fma_x", AUTH_HEADER_BAD_FORMAT, NULL },
	{ "Bearers fma_x", AUTH_HEADER_BAD_FORMAT, NULL },
};

static void
test_header_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(header_cases); i++) {
		const char *token = NULL;
		enum auth_header got;

		got = auth_parse_header(header_cases[i].header, &token);
		if (got != header_cases[i].want)
			fail_msg("case %zu \"%s\": %d, want %d", i,
			    header_cases[i].header ? header_cases[i].header
			                           : "(null)",
			    got, header_cases[i].want);
		if (got != AUTH_HEADER_OK)
			continue;
		assert_non_null(token);
		if (strcmp(token, header_cases[i].token) != 0)
			fail_msg("case %zu \"%s\": token \"%s\"", i,
			    header_cases[i].header, token);
		/* The token points into the header. */
		assert_true(token > header_cases[i].header);
	}
}

/* A key sent with trailing spaces still hashes to the stored hash. */
static void
test_header_then_hash(void **state)
{
	const char *token = NULL;
	char a[AUTH_HASH_LEN + 1], b[AUTH_HASH_LEN + 1];

	(void)state;
	assert_int_equal(auth_parse_header("Bearer fma_" BODY43 "   ", &token),
	    AUTH_HEADER_OK);
	assert_int_equal(auth_key_wellformed(token), 1);
	auth_hash_key(token, a);
	auth_hash_key("fma_" BODY43, b);
	assert_string_equal(a, b);
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void
test_uuid_v4_shape(void **state)
{
	char u[UUID_LEN + 1], prev[UUID_LEN + 1] = "";
	int i, k;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(uuid_v4(u), 0);
		assert_int_equal(strlen(u), UUID_LEN);
		for (k = 0; k < UUID_LEN; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23) {
				if (u[k] != '-')
					fail_msg("%s: no dash at %d", u, k);
			} else if (!is_hex(u[k])) {
				fail_msg("%s: not lower-case hex at %d", u, k);
			}
		}
		if (u[14] != '4')
			fail_msg("%s: version %c", u, u[14]);
		if (strchr("89ab", u[19]) == NULL)
			fail_msg("%s: variant %c", u, u[19]);
		assert_int_equal(uuid_valid(u), 1);
		assert_string_not_equal(u, prev);
		memcpy(prev, u, sizeof(prev));
	}
}

static const struct {
	const char *s;
	int ok;
} uuid_cases[] = {
	{ "123e4567-e89b-42d3-a456-426614174000", 1 },
	{ "00000000-0000-0000-0000-000000000000", 1 },
	{ "ffffffff-ffff-ffff-ffff-ffffffffffff", 1 },
	{ "123E4567-E89B-42D3-A456-426614174ABC", 1 },
	{ "123e4567-E89b-42d3-a456-426614174aBc", 1 },
	{ "", 0 },
	{ "123e4567e89b42d3a456426614174000", 0 },
	{ "123e4567-e89b-42d3-a456426614174000-", 0 },
	{ "123e4567-e89b-42d3-a456-42661417400", 0 }, /* 35 */
	{ "123e4567-e89b-42d3-a456-4266141740000", 0 }, /* 37 */
	{ "123e4567-e89b-42d3-a456-42661417400g", 0 },
	{ "123e4567-e89b-42d3-a456-42661417400 ", 0 },
	{ " 23e4567-e89b-42d3-a456-426614174000", 0 },
	{ "123e4567_e89b-42d3-a456-426614174000", 0 },
	{ "123e4567-e89b-42d3-a4564-26614174000", 0 },
	{ "123e456-7e89b-42d3-a456-426614174000", 0 },
	{ "{23e4567-e89b-42d3-a456-42661417400}", 0 },
	{ "z23e4567-e89b-42d3-a456-426614174000", 0 },
	{ "123e4567-e89b-42d3-a456-426614174000\n", 0 },
	{ "------------------------------------", 0 },
};

static void
test_uuid_valid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(uuid_cases); i++)
		if (uuid_valid(uuid_cases[i].s) != uuid_cases[i].ok)
			fail_msg("case %zu \"%s\": want %d", i, uuid_cases[i].s,
			    uuid_cases[i].ok);
}

static const struct {
	const char *in;
	size_t n; /* 0: strlen(in) */
	const char *out;
} b64_cases[] = {
	/* RFC 4648 §10, without the padding. */
	{ "", 0, "" },
	{ "f", 0, "Zg" },
	{ "fo", 0, "Zm8" },
	{ "foo", 0, "Zm9v" },
	{ "foob", 0, "Zm9vYg" },
	{ "fooba", 0, "Zm9vYmE" },
	{ "foobar", 0, "Zm9vYmFy" },
	/* The two characters where base64url differs from base64. */
	{ "\xfb\xff", 0, "-_8" },
	{ "\xff\xff\xff", 0, "____" },
	{ "\xfb\xef\xbe", 0, "----" },
	{ "\x00\x00\x00", 3, "AAAA" },
	{ "\x00", 1, "AA" },
	{ "a\0"
	  "b",
	    3, "YQBi" },
};

static void
test_base64url_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(b64_cases); i++) {
		size_t n =
		    b64_cases[i].n ? b64_cases[i].n : strlen(b64_cases[i].in);
		char out[64];

		memset(out, '#', sizeof(out));
		base64url((const unsigned char *)b64_cases[i].in, n, out);
		if (strcmp(out, b64_cases[i].out) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, out,
			    b64_cases[i].out);
	}
}

/* Output length is ceil(4n/3) for every n, and never more. */
static void
test_base64url_lengths(void **state)
{
	unsigned char in[64];
	char out[100];
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(in); n++)
		in[n] = (unsigned char)(n * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		memset(out, '#', sizeof(out));
		base64url(in, n, out);
		assert_int_equal(strlen(out), (4 * n + 2) / 3);
		assert_int_equal(out[(4 * n + 2) / 3 + 1], '#');
	}
}

/*
 * Regression: auth_key_wellformed()
 * allows one space after the 43 characters (for the header parser's
 * trailing spaces) but then stops looking, so anything may follow it.
 */
static void
test_wellformed_trailing_garbage(void **state)
{
	(void)state;
	assert_int_equal(auth_key_wellformed("fma_" BODY43 " x"), 0);
	assert_int_equal(auth_key_wellformed("fma_" BODY43 " fma_"), 0);
	assert_int_equal(auth_key_wellformed("fma_" BODY43 "  \t"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wellformed_trailing_garbage),
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_new_key),
		cmocka_unit_test(test_new_key_alphabet),
		cmocka_unit_test(test_wellformed_table),
		cmocka_unit_test(test_header_table),
		cmocka_unit_test(test_header_then_hash),
		cmocka_unit_test(test_uuid_v4_shape),
		cmocka_unit_test(test_uuid_valid_table),
		cmocka_unit_test(test_base64url_vectors),
		cmocka_unit_test(test_base64url_lengths),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
