/*
 * What the key routes (self-service and admin) share: reading the
 * fields of a new key from a JSON body, turning a key_status into a
 * response, the 201 that shows a new key once, the answer to a
 * deletion and the JSON of a listing.
 */
#ifndef FLR_ACCOUNTS_H
#define FLR_ACCOUNTS_H

#include "app.h"
#include "keys.h"

/*
 * Read "name" (required) and "expiresInDays" (optional; 0 when absent
 * or null) from body.  Returns 0, or -1 with 400 invalid_field naming
 * the field written to res.
 */
int accounts_key_fields(struct json_object *body, const char **name,
    long long *expires_days, struct response *res) WUR;

/* 400 invalid_field for field, with a sentence of what it accepts. */
void accounts_field_error(
    struct response *res, const char *field, const char *detail);

/*
 * Answer a key creation: 201 with the new key (and, for an admin
 * create, its owner) on KEY_OK, else the matching problem.  Wipes the
 * plaintext from k either way.  The caller sends Cache-Control:
 * no-store: the body holds the plaintext key.
 */
void accounts_created(struct response *res, enum key_status ks,
    struct new_key *k, const char *name, const char *email);

/*
 * Answer a key deletion from keys_delete()'s status: 204, 404 not_found
 * (no such key of that owner) or 503.
 */
void accounts_deleted(struct response *res, enum db_status st);

/*
 * Write the n keys of a listing as "keys", and "count"; current_id as
 * keys_write_row() takes it.
 */
void accounts_write_keys(
    struct jw *w, const struct key_row *keys, size_t n, const char *current_id);

#endif
