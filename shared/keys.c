#include "keys.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"

static enum key_status
from_db(enum db_status st)
{
	return st == DB_UNAVAILABLE ? KEY_UNAVAILABLE : KEY_ERROR;
}

/*
 * STMT_USER_LOCK: lock user uid's row until the transaction ends.  Its
 * one column (user_id) is not read: that the row exists is the answer.
 * Returns DB_OK, DB_NOTFOUND (no such user), DB_ERROR or
 * DB_UNAVAILABLE.
 */
static enum db_status
user_lock(struct db *db, long long uid)
{
	char u[24];
	const char *params[1] = { u };
	enum db_status st;
	PGresult *r;

	snprintf(u, sizeof(u), "%lld", uid);
	r = db_exec(db, STMT_USER_LOCK, params, 1, &st);
	if (r == NULL)
		return st;
	st = PQntuples(r) == 1 ? DB_OK : DB_NOTFOUND;
	PQclear(r);
	return st;
}

/* Columns of STMT_USER_UPSERT. */
enum { UU_USER_ID, UU_RATE_LIMIT_MAX };

/*
 * STMT_USER_UPSERT: the user with this email, created if new and
 * locked either way; its id to *uid and its quota to *max.  Returns
 * DB_OK, DB_ERROR or DB_UNAVAILABLE.
 */
static enum db_status
user_upsert(struct db *db, const char *email, long long *uid, long long *max)
{
	const char *params[1] = { email };
	enum db_status st;
	PGresult *r = db_exec(db, STMT_USER_UPSERT, params, 1, &st);

	if (r == NULL)
		return st;
	if (PQntuples(r) == 1) {
		*uid = db_get_ll(r, 0, UU_USER_ID, 0);
		*max = db_get_ll(r, 0, UU_RATE_LIMIT_MAX, 0);
	} else {
		st = DB_ERROR;
	}
	PQclear(r);
	return st;
}

/* Columns of STMT_USER_SET_LIMIT. */
enum { USL_RATE_LIMIT_MAX };

/*
 * STMT_USER_SET_LIMIT: set user uid's quota to max; *stored gets what
 * the row holds afterwards.  Returns DB_OK, DB_NOTFOUND (no such
 * user), DB_ERROR or DB_UNAVAILABLE.
 */
static enum db_status
user_set_limit(struct db *db, long long uid, long long max, long long *stored)
{
	char u[24], m[24];
	const char *params[2] = { u, m };
	enum db_status st;
	PGresult *r;

	snprintf(u, sizeof(u), "%lld", uid);
	snprintf(m, sizeof(m), "%lld", max);
	r = db_exec(db, STMT_USER_SET_LIMIT, params, 2, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 1)
		*stored = db_get_ll(r, 0, USL_RATE_LIMIT_MAX, 0);
	else
		st = DB_NOTFOUND;
	PQclear(r);
	return st;
}

/* Columns of STMT_KEY_CREATE. */
enum { NK_ID, NK_CREATED_MS, NK_EXPIRES_MS, NK_SYNCHRONOUS_COMMIT };

/*
 * STMT_KEY_CREATE: store key k (its start, and hash: the hash of its
 * plaintext) named name for user k->user_id, expiring after days (0:
 * never), unless that user already holds KEYS_PER_USER keys.  Fills
 * k's id and times.  Returns DB_OK, DB_NOTFOUND (no row: the limit is
 * reached), DB_CONFLICT (the hash is taken), DB_ERROR or
 * DB_UNAVAILABLE.
 */
static enum db_status
key_insert(struct db *db, const char *name, const char *hash, long long days,
    struct new_key *k)
{
	char uid[24], d[24], limit[16];
	const char *params[6] = { uid, name, k->start, hash, NULL, limit };
	enum db_status st;
	PGresult *r;

	snprintf(uid, sizeof(uid), "%lld", k->user_id);
	snprintf(d, sizeof(d), "%lld", days);
	snprintf(limit, sizeof(limit), "%d", KEYS_PER_USER);
	if (days > 0)
		params[4] = d;
	r = db_exec(db, STMT_KEY_CREATE, params, 6, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 1) {
		snprintf(k->id, sizeof(k->id), "%s", PQgetvalue(r, 0, NK_ID));
		k->created_ms = db_get_ll(r, 0, NK_CREATED_MS, 0);
		k->expires_ms = db_get_ll(r, 0, NK_EXPIRES_MS, -1);
	} else {
		st = DB_NOTFOUND;
	}
	PQclear(r);
	return st;
}

/*
 * A fresh key for out->user_id, inside the transaction that holds the
 * owner's row lock: only its hash and start are stored, and the count
 * is checked by the same statement that inserts it.
 */
static enum key_status
make_key(struct db *db, const char *name, long long days, struct new_key *out)
{
	char hash[AUTH_HASH_LEN + 1];
	enum db_status st;

	if (auth_new_key(out->key, out->start) != 0)
		return KEY_NO_RANDOM;
	auth_hash_key(out->key, hash);
	st = key_insert(db, name, hash, days, out);
	if (st == DB_NOTFOUND)
		return KEY_LIMIT;
	return st == DB_OK ? KEY_OK : from_db(st);
}

/* COMMIT what went well, ROLLBACK anything else; the final status. */
static enum key_status
finish(struct db *db, enum key_status ks)
{
	enum db_status st;

	if (ks == KEY_OK) {
		st = db_end(db, DB_COMMIT);
		return st == DB_OK ? KEY_OK : from_db(st);
	}
	if (db_end(db, DB_ROLLBACK) != DB_OK)
		log_warn("key creation: rollback failed");
	return ks;
}

enum key_status
keys_create_for_user(struct db *db, long long uid, const char *name,
    long long expires_days, struct new_key *out)
{
	enum db_status st;

	memset(out, 0, sizeof(*out));
	out->user_id = uid;
	out->rate_limit_max = -1;
	st = db_begin(db);
	if (st != DB_OK)
		return from_db(st);
	st = user_lock(db, uid);
	return finish(db,
	    st == DB_OK ? make_key(db, name, expires_days, out) : from_db(st));
}

/* After the owner's row is locked: its quota, if asked, then the key. */
static enum key_status
admin_steps(struct db *db, const char *email, long long rate_limit_max,
    const char *name, long long days, struct new_key *out)
{
	enum db_status st;

	st = user_upsert(db, email, &out->user_id, &out->rate_limit_max);
	if (st == DB_OK && rate_limit_max >= 0)
		st = user_set_limit(
		    db, out->user_id, rate_limit_max, &out->rate_limit_max);
	if (st != DB_OK)
		return from_db(st);
	return make_key(db, name, days, out);
}

enum key_status
keys_create_for_email(struct db *db, const char *email,
    long long rate_limit_max, const char *name, long long expires_days,
    struct new_key *out)
{
	enum db_status st;

	memset(out, 0, sizeof(*out));
	st = db_begin(db);
	if (st != DB_OK)
		return from_db(st);
	return finish(db,
	    admin_steps(db, email, rate_limit_max, name, expires_days, out));
}

void
keys_forget(struct new_key *k)
{
	OPENSSL_cleanse(k->key, sizeof(k->key));
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5322 atext (the dot is handled apart). */
static int
is_atext(unsigned char c)
{
	return is_alnum(c) ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* The part before the '@': dot-separated runs of atext. */
static int
local_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
		if (s[i] != '.' && !is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Host name labels: 1 to 63 letters, digits or inner hyphens. */
static int
domain_valid(const char *s)
{
	size_t n = strlen(s), len;

	if (n == 0 || n > 255)
		return 0;
	for (;;) {
		len = strcspn(s, ".");
		if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
			return 0;
		for (n = 0; n < len; n++)
			if (!is_alnum((unsigned char)s[n]) && s[n] != '-')
				return 0;
		if (s[len] == '\0')
			return 1;
		s += len + 1;
	}
}

int
keys_email_normalize(const char *in, char out[EMAIL_MAX + 1])
{
	const char *at = strchr(in, '@');
	size_t n = strlen(in), i;

	if (n < 3 || n > EMAIL_MAX || at == NULL || strchr(at + 1, '@'))
		return -1;
	if (!local_valid(in, (size_t)(at - in)) || !domain_valid(at + 1))
		return -1;
	/* One address, one user, whatever case it was typed in. */
	for (i = 0; i <= n; i++)
		out[i] =
		    (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
	return 0;
}

int
keys_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = utf8_length(name);

	if (n < 1 || n > KEY_NAME_MAX)
		return 0;
	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Columns of KEY_COLUMNS in sql.c: all of STMT_KEY_LIST, the first of
 * STMT_ADMIN_KEY_LIST.
 */
enum key_col {
	KEY_COL_ID,
	KEY_COL_NAME,
	KEY_COL_START,
	KEY_COL_CREATED_MS,
	KEY_COL_LAST_USED_MS,
	KEY_COL_EXPIRES_MS,
	KEY_COL_ENABLED,
	KEY_COL_REQUEST_COUNT,
	KEY_COL_EXPIRED,
	KEY_COL__MAX
};

/* The key columns of row into *k, its strings copied into a. */
static void
read_key(const PGresult *r, int row, struct arena *a, struct key_row *k)
{
	snprintf(k->id, sizeof(k->id), "%s", PQgetvalue(r, row, KEY_COL_ID));
	k->name = db_get_arena_str(r, row, KEY_COL_NAME, a);
	k->start = db_get_arena_str(r, row, KEY_COL_START, a);
	k->created_ms = db_get_ll(r, row, KEY_COL_CREATED_MS, -1);
	k->last_used_ms = db_get_ll(r, row, KEY_COL_LAST_USED_MS, -1);
	k->expires_ms = db_get_ll(r, row, KEY_COL_EXPIRES_MS, -1);
	k->enabled = db_get_bool(r, row, KEY_COL_ENABLED, 0);
	k->expired = db_get_bool(r, row, KEY_COL_EXPIRED, 0);
	k->request_count = db_get_ll(r, row, KEY_COL_REQUEST_COUNT, 0);
}

/*
 * Every row of r that holds a key, in order, into *out.  An admin
 * listing's keyless user is one row whose key columns are NULL.
 */
static void
read_keys(const PGresult *r, struct arena *a, struct key_list *out)
{
	int i, n = PQntuples(r);

	out->keys = NULL;
	out->n = 0;
	if (n == 0)
		return;
	out->keys = arena_alloc(a, (size_t)n * sizeof(*out->keys));
	for (i = 0; i < n; i++)
		if (!PQgetisnull(r, i, KEY_COL_ID))
			read_key(r, i, a, &out->keys[out->n++]);
	if (out->n == 0)
		out->keys = NULL;
}

enum db_status
keys_list(struct db *db, long long uid, struct arena *a, struct key_list *out)
{
	char u[24];
	const char *params[1] = { u };
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	snprintf(u, sizeof(u), "%lld", uid);
	r = db_exec(db, STMT_KEY_LIST, params, 1, &st);
	if (r == NULL)
		return st;
	read_keys(r, a, out);
	PQclear(r);
	return DB_OK;
}

/* Columns of STMT_ADMIN_KEY_LIST: the key columns, then the owner's. */
enum { AKL_USER_ID = KEY_COL__MAX, AKL_RATE_LIMIT_MAX };

enum db_status
keys_list_for_email(
    struct db *db, const char *email, struct arena *a, struct user_keys *out)
{
	const char *params[1] = { email };
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	r = db_exec(db, STMT_ADMIN_KEY_LIST, params, 1, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 0) {
		st = DB_NOTFOUND;
	} else {
		out->user_id = db_get_ll(r, 0, AKL_USER_ID, 0);
		out->rate_limit_max = db_get_ll(r, 0, AKL_RATE_LIMIT_MAX, 0);
		read_keys(r, a, &out->list);
	}
	PQclear(r);
	return st;
}

/*
 * Columns of STMT_KEY_DELETE (id, synchronous_commit) are not read:
 * that a row came back is the answer.
 */
enum db_status
keys_delete(struct db *db, const char *key_id, long long owner)
{
	char u[24];
	const char *params[2] = { key_id, NULL };
	enum db_status st;
	PGresult *r;

	if (owner != KEYS_ANY_OWNER) {
		snprintf(u, sizeof(u), "%lld", owner);
		params[1] = u;
	}
	r = db_exec(db, STMT_KEY_DELETE, params, 2, &st);
	if (r == NULL)
		return st;
	st = PQntuples(r) == 1 ? DB_OK : DB_NOTFOUND;
	PQclear(r);
	return st;
}

void
keys_write_row(struct jw *w, const struct key_row *k, const char *current_id)
{
	jw_obj_begin(w);
	jw_key(w, "id"), jw_str(w, k->id);
	jw_key(w, "name"), jw_str(w, k->name);
	jw_key(w, "start"), jw_str(w, k->start);
	jw_key(w, "createdAt"), jw_time(w, k->created_ms);
	jw_key(w, "lastUsedAt"), jw_time(w, k->last_used_ms);
	jw_key(w, "expiresAt"), jw_time(w, k->expires_ms);
	jw_key(w, "enabled"), jw_bool(w, k->enabled);
	jw_key(w, "expired"), jw_bool(w, k->expired);
	jw_key(w, "requestCount"), jw_int(w, k->request_count);
	if (current_id != NULL)
		jw_key(w, "current"),
		    jw_bool(w, strcmp(k->id, current_id) == 0);
	jw_obj_end(w);
}

void
keys_write_new(struct jw *w, const struct new_key *k, const char *name)
{
	jw_key(w, "id"), jw_str(w, k->id);
	jw_key(w, "name"), jw_str(w, name);
	jw_key(w, "key"), jw_str(w, k->key);
	jw_key(w, "start"), jw_str(w, k->start);
	jw_key(w, "createdAt"), jw_time(w, k->created_ms);
	jw_key(w, "lastUsedAt"), jw_null(w);
	jw_key(w, "expiresAt"), jw_time(w, k->expires_ms);
	jw_key(w, "enabled"), jw_bool(w, 1);
	jw_key(w, "expired"), jw_bool(w, 0);
	jw_key(w, "requestCount"), jw_int(w, 0);
}
