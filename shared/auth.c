#include "auth.h"

#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

enum auth_header
auth_parse_header(const char *header, const char **token)
{
	const char *p;

	if (header == NULL || *header == '\0')
		return AUTH_HEADER_MISSING;
	if (strncasecmp(header, "Bearer", 6) != 0 || header[6] != ' ')
		return AUTH_HEADER_BAD_FORMAT;
	for (p = header + 7; *p == ' '; p++)
		;
	if (*p == '\0')
		return AUTH_HEADER_BAD_FORMAT;
	/* One token: nothing but trailing spaces after it. */
	*token = p;
	for (; *p != '\0' && *p != ' '; p++)
		;
	for (; *p == ' '; p++)
		;
	if (*p != '\0')
		return AUTH_HEADER_BAD_FORMAT;
	return AUTH_HEADER_OK;
}

static int
is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
auth_key_wellformed(const char *token)
{
	size_t i;

	if (strncmp(token, "fma_", 4) != 0)
		return 0;
	for (i = 4; i < AUTH_KEY_LEN; i++)
		if (!is_b64url(token[i]))
			return 0;
	/* Trailing spaces were allowed by the header parser. */
	for (; token[i] == ' '; i++)
		;
	return token[i] == '\0';
}

void
base64url(const unsigned char *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                         "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];

		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		out[o++] = al[v >> 6 & 63];
		out[o++] = al[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = al[v >> 18 & 63];
		out[o++] = al[v >> 12 & 63];
		out[o++] = al[v >> 6 & 63];
	}
	out[o] = '\0';
}

void
auth_hash_key(const char *key, char out[AUTH_HASH_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t n = strlen(key);

	/* The header parser may leave trailing spaces: not part of it. */
	while (n > 0 && key[n - 1] == ' ')
		n--;
	SHA256((const unsigned char *)key, n, md);
	base64url(md, sizeof(md), out);
}

int
auth_new_key(char key[AUTH_KEY_LEN + 1], char start[AUTH_START_LEN + 1])
{
	unsigned char raw[32];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	memcpy(key, "fma_", 4);
	base64url(raw, sizeof(raw), key + 4);
	memcpy(start, key, AUTH_START_LEN);
	start[AUTH_START_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int
uuid_v4(char out[UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	int i, o = 0;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

int
uuid_valid(const char *s)
{
	int i;

	for (i = 0; i < UUID_LEN; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		               (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return s[UUID_LEN] == '\0';
}
