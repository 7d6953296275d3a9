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

/* Columns of STMT_KEY_CREATE. */
enum { C_ID, C_CREATED, C_EXPIRES };

/*
 * The insert, inside the transaction that holds the owner's row lock:
 * a fresh key, its hash and start stored, the count checked by the
 * same statement.
 */
static enum key_status
insert_key(struct db *db, const char *name, long long days, struct new_key *out)
{
	char hash[AUTH_HASH_LEN + 1], uid[24], d[24], limit[16];
	const char *params[6];
	enum db_status st;
	PGresult *r;

	if (auth_new_key(out->key, out->start) != 0)
		return KEY_NO_RANDOM;
	auth_hash_key(out->key, hash);
	snprintf(uid, sizeof(uid), "%lld", out->user_id);
	snprintf(d, sizeof(d), "%lld", days);
	snprintf(limit, sizeof(limit), "%d", KEYS_PER_USER);
	params[0] = uid;
	params[1] = name;
	params[2] = out->start;
	params[3] = hash;
	params[4] = days > 0 ? d : NULL;
	params[5] = limit;
	r = db_exec(db, STMT_KEY_CREATE, params, 6, &st);
	if (r == NULL)
		return from_db(st);
	if (PQntuples(r) != 1) {
		PQclear(r);
		return KEY_LIMIT;
	}
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(r, 0, C_ID));
	out->created_ms = db_get_ll(r, 0, C_CREATED, 0);
	out->expires_ms = db_get_ll(r, 0, C_EXPIRES, -1);
	PQclear(r);
	return KEY_OK;
}

/* COMMIT what went well, ROLLBACK anything else; the final status. */
static enum key_status
finish(struct db *db, enum key_status ks)
{
	enum db_status st;

	if (ks == KEY_OK) {
		st = db_command(db, "COMMIT");
		if (st == DB_OK)
			return KEY_OK;
		ks = from_db(st);
	}
	/* After a lost connection this runs on a new one: harmless. */
	if (db_command(db, "ROLLBACK") != DB_OK)
		log_warn("key creation: rollback failed");
	return ks;
}

/* Run a statement that returns the owner's row; *r its result. */
static enum key_status
owner_row(
    struct db *db, enum stmt s, const char *const *params, int n, PGresult **r)
{
	enum db_status st;

	*r = db_exec(db, s, params, n, &st);
	if (*r == NULL)
		return from_db(st);
	if (PQntuples(*r) != 1) {
		PQclear(*r);
		*r = NULL;
		return KEY_ERROR;
	}
	return KEY_OK;
}

enum key_status
keys_create_for_user(struct db *db, long long uid, const char *name,
    long long expires_days, struct new_key *out)
{
	char u[24];
	const char *params[1] = { u };
	enum key_status ks;
	enum db_status st;
	PGresult *r = NULL;

	memset(out, 0, sizeof(*out));
	out->user_id = uid;
	out->rate_limit_max = -1;
	snprintf(u, sizeof(u), "%lld", uid);
	st = db_command(db, "BEGIN");
	if (st != DB_OK)
		return from_db(st);
	ks = owner_row(db, STMT_USER_LOCK, params, 1, &r);
	PQclear(r);
	if (ks == KEY_OK)
		ks = insert_key(db, name, expires_days, out);
	return finish(db, ks);
}

/* After the owner's row is locked: its quota, if asked, then the key. */
static enum key_status
admin_steps(struct db *db, const char *email, long long rate_limit_max,
    const char *name, long long days, struct new_key *out)
{
	char u[24], max[24];
	const char *params[2];
	enum key_status ks;
	PGresult *r;

	params[0] = email;
	ks = owner_row(db, STMT_USER_UPSERT, params, 1, &r);
	if (ks != KEY_OK)
		return ks;
	out->user_id = db_get_ll(r, 0, 0, 0);
	out->rate_limit_max = db_get_ll(r, 0, 1, 0);
	PQclear(r);
	if (rate_limit_max >= 0) {
		snprintf(u, sizeof(u), "%lld", out->user_id);
		snprintf(max, sizeof(max), "%lld", rate_limit_max);
		params[0] = u;
		params[1] = max;
		ks = owner_row(db, STMT_USER_SET_LIMIT, params, 2, &r);
		if (ks != KEY_OK)
			return ks;
		out->rate_limit_max = db_get_ll(r, 0, 0, 0);
		PQclear(r);
	}
	return insert_key(db, name, days, out);
}

enum key_status
keys_create_for_email(struct db *db, const char *email,
    long long rate_limit_max, const char *name, long long expires_days,
    struct new_key *out)
{
	enum db_status st;

	memset(out, 0, sizeof(*out));
	st = db_command(db, "BEGIN");
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

/* Columns of KEY_COLUMNS in sql.c. */
enum {
	R_ID,
	R_NAME,
	R_START,
	R_CREATED,
	R_LAST_USED,
	R_EXPIRES,
	R_ENABLED,
	R_REQUESTS,
	R_EXPIRED
};

void
keys_write_row(struct jw *w, const PGresult *r, int row, const char *current_id)
{
	const char *id = PQgetvalue(r, row, R_ID);

	jw_obj_begin(w);
	jw_key(w, "id"), jw_str(w, id);
	jw_key(w, "name"), jw_str(w, PQgetvalue(r, row, R_NAME));
	jw_key(w, "start"), jw_str(w, PQgetvalue(r, row, R_START));
	jw_key(w, "createdAt"), jw_time(w, db_get_ll(r, row, R_CREATED, -1));
	jw_key(w, "lastUsedAt");
	jw_time(w, db_get_ll(r, row, R_LAST_USED, -1));
	jw_key(w, "expiresAt"), jw_time(w, db_get_ll(r, row, R_EXPIRES, -1));
	jw_key(w, "enabled"), jw_bool(w, db_get_bool(r, row, R_ENABLED, 0));
	jw_key(w, "expired"), jw_bool(w, db_get_bool(r, row, R_EXPIRED, 0));
	jw_key(w, "requestCount");
	jw_int(w, db_get_ll(r, row, R_REQUESTS, 0));
	if (current_id != NULL)
		jw_key(w, "current"), jw_bool(w, strcmp(id, current_id) == 0);
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
