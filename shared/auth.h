/*
 * API keys: the Bearer header, the key format, the stored hash, new
 * keys from RAND_bytes, and request ids (UUIDs).
 */
#ifndef FLR_AUTH_H
#define FLR_AUTH_H

#include <stddef.h>

#include "util.h"

/* "fma_" + 43 base64url characters (32 random bytes). */
#define AUTH_KEY_LEN 47
#define AUTH_HASH_LEN 43 /* base64url(SHA-256) without padding */
#define AUTH_START_LEN 8 /* characters kept for display */
#define UUID_LEN 36

enum auth_header {
	AUTH_HEADER_OK,
	AUTH_HEADER_MISSING, /* no Authorization header */
	AUTH_HEADER_BAD_FORMAT, /* not "Bearer <token>" */
	AUTH_HEADER__MAX
};

/*
 * Find the token in an Authorization header value (NULL if absent).
 * The scheme is matched without regard to case, as RFC 9110 says.
 * On AUTH_HEADER_OK, *token points into header.
 */
enum auth_header auth_parse_header(const char *header, const char **token);

/* 1 when token has the shape of one of our keys, else 0. */
int auth_key_wellformed(const char *token);

/* Write base64url(SHA-256(key)) without padding and a NUL to out. */
void auth_hash_key(const char *key, char out[AUTH_HASH_LEN + 1]);

/*
 * Make a new key from 32 bytes of RAND_bytes, and its first
 * characters for display.  Returns 0, or -1 when the generator fails.
 */
int auth_new_key(
    char key[AUTH_KEY_LEN + 1], char start[AUTH_START_LEN + 1]) WUR;

/* Write a random (version 4) UUID; 0, or -1 when RAND_bytes fails. */
int uuid_v4(char out[UUID_LEN + 1]) WUR;

/* 1 when s is a UUID in canonical 8-4-4-4-12 hex form, else 0. */
int uuid_valid(const char *s);

/* base64url without padding of n bytes; out needs 4*ceil(n/3)+1. */
void base64url(const unsigned char *in, size_t n, char *out);

#endif
