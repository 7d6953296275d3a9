/*
 * API keys as accounts see them (SPEC.md §5, §6): new keys for a user
 * (self-service) or for an email address (admin, creating the user),
 * at most KEYS_PER_USER per user however many requests race, and the
 * JSON of a key.  A new key's plaintext exists only in struct new_key
 * until keys_forget(); the database holds its hash and first
 * characters.
 */
#ifndef FLR_KEYS_H
#define FLR_KEYS_H

#include <stdint.h>

#include <libpq-fe.h>

#include "auth.h"
#include "db.h"
#include "json.h"
#include "util.h"

/* Every key a user holds counts: enabled or not, expired or not. */
#define KEYS_PER_USER 10
#define KEY_NAME_MAX 100 /* characters */
#define EMAIL_MAX 320 /* bytes */
#define KEY_EXPIRY_MAX_DAYS 3650

enum key_status {
	KEY_OK,
	KEY_LIMIT, /* the user already holds KEYS_PER_USER keys */
	KEY_NO_RANDOM, /* RAND_bytes failed */
	KEY_UNAVAILABLE, /* the database is away: 503 */
	KEY_ERROR, /* the database refused: 500 */
	KEY__MAX
};

struct new_key {
	char key[AUTH_KEY_LEN + 1]; /* the plaintext, shown once */
	char start[AUTH_START_LEN + 1];
	char id[UUID_LEN + 1];
	int64_t created_ms;
	int64_t expires_ms; /* -1: never expires */
	long long user_id;
	long long rate_limit_max; /* the owner's, after an admin create */
};

/*
 * Make a key named name for user uid, expiring after expires_days
 * (0: never).  Fills *out on KEY_OK; returns a key_status.  The caller
 * calls keys_forget(out) once the key has been written out.
 */
enum key_status keys_create_for_user(struct db *db, long long uid,
    const char *name, long long expires_days, struct new_key *out) WUR;

/*
 * The same for the user with this (normalised) email, created if new;
 * rate_limit_max >= 0 also sets that user's quota.
 */
enum key_status keys_create_for_email(struct db *db, const char *email,
    long long rate_limit_max, const char *name, long long expires_days,
    struct new_key *out) WUR;

/* Wipe the plaintext key from memory. */
void keys_forget(struct new_key *k);

/*
 * Check an email address's shape (local@domain, printable ASCII, at
 * most EMAIL_MAX bytes, domain labels of letters, digits and hyphens)
 * and write it lowercased to out.  Returns 0, or -1 when it is not
 * one.
 */
int keys_email_normalize(const char *in, char out[EMAIL_MAX + 1]) WUR;

/* 1 when name is 1 to KEY_NAME_MAX characters without control ones. */
int keys_name_valid(const char *name);

/*
 * Write row of a result with the key columns of STMT_KEY_LIST (and
 * STMT_ADMIN_KEY_LIST) as one key object; current_id, when it matches
 * the key's id, marks the key the request was made with.
 */
void keys_write_row(
    struct jw *w, const PGresult *r, int row, const char *current_id);

/* Write the members of a new key (plaintext included) into an open object. */
void keys_write_new(struct jw *w, const struct new_key *k, const char *name);

#endif
