/*
 * Saved preferences of an API key (SPEC.md §5): defaults for the
 * listing parameters of §2 and model ids to leave out.  Every field is
 * validated exactly as its query parameter (list_param_set) when it is
 * saved, and again when it is read back, so a stored value that no
 * longer validates (an old sort name, say) is dropped with a warning
 * instead of breaking a listing.  Stored in api_keys.preferences
 * (jsonb) in a canonical form: useCases an array of names, sort and
 * timeRange names, topN an integer, maxErrorRate a number, myReports a
 * boolean, excludeModelIds an array of distinct ids.
 */
#ifndef FLR_PREFS_H
#define FLR_PREFS_H

#include <stddef.h>

#include <json-c/json.h>

#include "db.h"
#include "json.h"
#include "params.h"
#include "util.h"

#define PREFS_EXCLUDE_MAX 50 /* distinct excluded model ids */
#define PREFS_MODEL_ID_MAX 256 /* bytes of one id */

enum pref_field {
	PREF_USE_CASES,
	PREF_SORT,
	PREF_TOP_N,
	PREF_MAX_ERROR_RATE,
	PREF_TIME_RANGE,
	PREF_MY_REPORTS,
	PREF_EXCLUDE,
	PREF__MAX
};

struct prefs {
	int has[PREF__MAX]; /* 1: set to the value below */
	struct list_params p; /* values of the listing fields that are set */
	const char *exclude[PREFS_EXCLUDE_MAX];
	size_t n_exclude;
};

/* A refused field of a PUT body: always a 400. */
struct prefs_error {
	const char *code; /* "invalid_field" or "unknown_field" */
	const char *field; /* the body's member name */
	char detail[200];
};

/* The JSON name of a field ("useCases"). */
const char *prefs_field_name(enum pref_field f);

/*
 * Read the body of a PUT: each member present is validated; a member
 * that is null is to be cleared; any other name is refused.  Fills
 * *set with the values given (has[] set), clear[] with 1 for the null
 * ones; strings live in arena a.  Returns 0, or -1 with *err.
 */
int prefs_parse_update(struct json_object *body, struct arena *a,
    struct prefs *set, int clear[PREF__MAX], struct prefs_error *err) WUR;

/*
 * Read stored preferences (the jsonb text; NULL or "" is none) into
 * *out, strings in arena a.  Fields that do not validate, and names
 * that are not fields, are left out with a warning in the log: a bad
 * stored value never fails a request.
 */
void prefs_load(const char *stored, struct arena *a, struct prefs *out);

/*
 * Write the fields set in pr: every field with its value or (all_fields)
 * null when unset, as members of the object being written by w.
 */
void prefs_write_members(struct jw *w, const struct prefs *pr, int all_fields);

/*
 * Save a PUT on key key_id (STMT_PREFS_UPDATE), in one atomic step:
 * the fields set in *set take their values, those with clear[] 1 are
 * removed, the others keep theirs.  Committed durably.  On DB_OK,
 * *saved holds the key's preferences as now stored, read back as
 * prefs_load() does, strings in arena a.  Returns DB_OK, DB_NOTFOUND
 * (no such key: deleted since it was checked), DB_ERROR or
 * DB_UNAVAILABLE.
 */
enum db_status prefs_update(struct db *db, const char *key_id,
    const struct prefs *set, const int clear[PREF__MAX], struct arena *a,
    struct prefs *saved) WUR;

/*
 * Give p the saved value of every listing parameter the request did
 * not name (p->given[]): a query parameter always wins.
 */
void prefs_apply(const struct prefs *pr, struct list_params *p);

/* 1 when id is one of the excluded model ids. */
int prefs_excluded(const struct prefs *pr, const char *id);

#endif
