#include "accounts.h"

#include <string.h>

#include "json.h"

void
accounts_field_error(
    struct response *res, const char *field, const char *detail)
{
	response_problem(res, 400, "invalid_field", field, "%s", detail);
}

int
accounts_key_fields(struct json_object *body, const char **name,
    long long *expires_days, struct response *res)
{
	int err;

	*name = json_get_string(body, "name", &err);
	if (err || *name == NULL || !keys_name_valid(*name)) {
		accounts_field_error(res, "name",
		    "name must be a string of 1 "
		    "to 100 characters without control characters");
		return -1;
	}
	*expires_days = 0;
	if (json_get_int(body, "expiresInDays", 1, KEY_EXPIRY_MAX_DAYS,
	        expires_days) < 0) {
		accounts_field_error(res, "expiresInDays",
		    "expiresInDays must "
		    "be an integer from 1 to 3650 (or null: never)");
		return -1;
	}
	return 0;
}

void
accounts_created(struct response *res, enum key_status ks, struct new_key *k,
    const char *name, const char *email)
{
	struct jw w;

	switch (ks) {
	case KEY_OK:
		res->status = 201;
		jw_init(&w, &res->body);
		jw_obj_begin(&w);
		keys_write_new(&w, k, name);
		if (email != NULL) {
			jw_key(&w, "email"), jw_str(&w, email);
			jw_key(&w, "userId"), jw_int(&w, k->user_id);
			jw_key(&w, "rateLimitMax"),
			    jw_int(&w, k->rate_limit_max);
		}
		jw_obj_end(&w);
		break;
	case KEY_LIMIT:
		response_problem(res, 403, "key_limit", NULL,
		    "a user may hold at most %d keys; delete one first",
		    KEYS_PER_USER);
		break;
	case KEY_UNAVAILABLE:
		response_unavailable(res);
		break;
	case KEY_NO_RANDOM:
	case KEY_ERROR:
	case KEY__MAX:
		response_problem(res, 500, "internal_error", NULL,
		    "the key could not be created");
		break;
	}
	keys_forget(k);
}

void
accounts_deleted(struct response *res, enum db_status st)
{
	switch (st) {
	case DB_OK:
		res->status = 204;
		break;
	case DB_NOTFOUND:
		response_problem(res, 404, "not_found", NULL, "no such key");
		break;
	case DB_CONFLICT:
	case DB_ERROR:
	case DB_UNAVAILABLE:
	case DB__MAX:
		response_unavailable(res);
		break;
	}
}

void
accounts_write_keys(
    struct jw *w, const struct key_row *keys, size_t n, const char *current_id)
{
	size_t i;

	jw_key(w, "keys");
	jw_arr_begin(w);
	for (i = 0; i < n; i++)
		keys_write_row(w, &keys[i], current_id);
	jw_arr_end(w);
	jw_key(w, "count"), jw_int(w, (long long)n);
}
