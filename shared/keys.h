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

/* A key as a listing shows it (never its plaintext or hash). */
struct key_row {
	char id[UUID_LEN + 1];
	const char *name; /* in the arena the listing was read into */
	const char *start; /* its first characters, in the same arena */
	int64_t created_ms;
	int64_t last_used_ms; /* -1: never used */
	int64_t expires_ms; /* -1: never expires */
	int enabled;
	int expired;
	long long request_count;
};

/* A user's keys, oldest first. */
struct key_list {
	struct key_row *keys; /* n rows in the arena; NULL when n is 0 */
	size_t n;
};

/* The user an admin listing is about, and that user's keys. */
struct user_keys {
	long long user_id;
	long long rate_limit_max;
	struct key_list list;
};

/*
 * Read the keys of user uid (STMT_KEY_LIST) into *out; the rows and
 * their strings live in arena a, freed when it is reset.  Returns
 * DB_OK (also for no keys), DB_ERROR or DB_UNAVAILABLE.
 */
enum db_status keys_list(
    struct db *db, long long uid, struct arena *a, struct key_list *out) WUR;

/*
 * Read the user with this (normalised) email and its keys
 * (STMT_ADMIN_KEY_LIST) into *out, rows and strings in arena a.
 * Returns DB_OK (a user without keys has out->list.n 0), DB_NOTFOUND
 * when no user has this email, DB_ERROR or DB_UNAVAILABLE.
 */
enum db_status keys_list_for_email(struct db *db, const char *email,
    struct arena *a, struct user_keys *out) WUR;

/* For keys_delete(): the key may belong to anybody (the admin route). */
#define KEYS_ANY_OWNER (-1LL)

/*
 * Delete key key_id (a valid UUID) if it belongs to user owner, or to
 * anybody when owner is KEYS_ANY_OWNER (STMT_KEY_DELETE); committed
 * durably.  Returns DB_OK when it was deleted, DB_NOTFOUND when there
 * is no such key of that owner, DB_ERROR or DB_UNAVAILABLE.
 */
enum db_status keys_delete(
    struct db *db, const char *key_id, long long owner) WUR;

/*
 * Write k as one key object; current_id, when it matches the key's id,
 * marks the key the request was made with (NULL: no "current" member).
 */
void keys_write_row(
    struct jw *w, const struct key_row *k, const char *current_id);

/* Write the members of a new key (plaintext included) into an open object. */
void keys_write_new(struct jw *w, const struct new_key *k, const char *name);

#endif
