#include "prefs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *field_names[PREF__MAX] = {
	[PREF_USE_CASES] = "useCases",
	[PREF_SORT] = "sort",
	[PREF_TOP_N] = "topN",
	[PREF_MAX_ERROR_RATE] = "maxErrorRate",
	[PREF_TIME_RANGE] = "timeRange",
	[PREF_MY_REPORTS] = "myReports",
	[PREF_EXCLUDE] = "excludeModelIds",
};

/*
 * What each field accepts, as the 400 says it: the listing fields say
 * what their query parameter says (one table, shared/params.c); the
 * two that are not query parameters say it here.
 */
static const enum param_id field_params[PREF__MAX] = {
	[PREF_USE_CASES] = P__MAX,
	[PREF_SORT] = P_SORT,
	[PREF_TOP_N] = P_TOP_N,
	[PREF_MAX_ERROR_RATE] = P_MAX_ERROR_RATE,
	[PREF_TIME_RANGE] = P_TIME_RANGE,
	[PREF_MY_REPORTS] = P_MY_REPORTS,
	[PREF_EXCLUDE] = P__MAX,
};

static void
field_rule(enum pref_field f, char *out, size_t outsz)
{
	if (f == PREF_USE_CASES)
		snprintf(out, outsz,
		    "useCases must be an array of (or a comma list "
		    "of) chat, vision, tools, longContext, reasoning");
	else if (f == PREF_EXCLUDE)
		snprintf(out, outsz,
		    "excludeModelIds must be an array of at most %d "
		    "distinct model ids, each a string of 1 to %d bytes",
		    PREFS_EXCLUDE_MAX, PREFS_MODEL_ID_MAX);
	else
		param_rule_text(field_params[f], PR_LISTING, out, outsz);
}

const char *
prefs_field_name(enum pref_field f)
{
	return field_names[f];
}

static int
field_of(const char *name, enum pref_field *f)
{
	int i;

	for (i = 0; i < PREF__MAX; i++)
		if (strcmp(name, field_names[i]) == 0) {
			*f = (enum pref_field)i;
			return 0;
		}
	return -1;
}

/* A string without an embedded NUL (which C would cut short). */
static const char *
plain_string(struct json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return NULL;
	return s;
}

/* useCases: the comma form of the query, or an array of single names. */
static int
read_use_cases(struct json_object *v, struct prefs *pr)
{
	struct list_params one;
	struct param_error pe;
	unsigned bits = 0;
	const char *s;
	size_t i, n;

	if ((s = plain_string(v)) != NULL)
		return list_param_set(P_FILTER, s, &pr->p, 0, &pe);
	if (!json_object_is_type(v, json_type_array))
		return -1;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		s = plain_string(json_object_array_get_idx(v, i));
		if (s == NULL || strchr(s, ',') != NULL ||
		    list_param_set(P_FILTER, s, &one, 0, &pe) != 0)
			return -1;
		bits |= one.filters;
	}
	pr->p.filters = bits;
	return 0;
}

/* excludeModelIds: distinct ids kept in the order first given. */
static int
read_exclude(struct json_object *v, struct arena *a, struct prefs *pr)
{
	size_t i, k, n, len;
	const char *s;

	if (!json_object_is_type(v, json_type_array))
		return -1;
	pr->n_exclude = 0;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		s = plain_string(json_object_array_get_idx(v, i));
		if (s == NULL)
			return -1;
		len = strlen(s);
		if (len == 0 || len > PREFS_MODEL_ID_MAX)
			return -1;
		for (k = 0; k < pr->n_exclude; k++)
			if (strcmp(pr->exclude[k], s) == 0)
				break;
		if (k < pr->n_exclude)
			continue;
		if (pr->n_exclude == PREFS_EXCLUDE_MAX)
			return -1;
		pr->exclude[pr->n_exclude++] = arena_strdup(a, s);
	}
	return 0;
}

static int
read_max_error_rate(struct json_object *v, struct prefs *pr)
{
	double d;

	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return -1;
	d = json_object_get_double(v);
	if (!isfinite(d) || d < 0 || d > 100)
		return -1;
	pr->p.max_error_rate = d;
	return 0;
}

/*
 * Validate member f of obj (present, not null) into pr.  Strings go
 * through list_param_set, the very check the query parameters get.
 */
static int
read_field(struct json_object *obj, enum pref_field f, struct arena *a,
    struct prefs *pr)
{
	struct json_object *v = NULL;
	struct param_error pe;
	const char *s;
	long long n;
	int err, b;

	json_object_object_get_ex(obj, field_names[f], &v);
	switch (f) {
	case PREF_USE_CASES:
		return read_use_cases(v, pr);
	case PREF_SORT:
		s = plain_string(v);
		return s ? list_param_set(P_SORT, s, &pr->p, 0, &pe) : -1;
	case PREF_TIME_RANGE:
		s = plain_string(v);
		return s ? list_param_set(P_TIME_RANGE, s, &pr->p, 0, &pe) : -1;
	case PREF_TOP_N:
		if (json_get_int(obj, field_names[f], 1, 100, &n) != 1)
			return -1;
		pr->p.top_n = n;
		return 0;
	case PREF_MAX_ERROR_RATE:
		return read_max_error_rate(v, pr);
	case PREF_MY_REPORTS:
		b = json_get_bool(obj, field_names[f], &err);
		if (err || b < 0)
			return -1;
		pr->p.my_reports = b;
		return 0;
	case PREF_EXCLUDE:
		return read_exclude(v, a, pr);
	case PREF__MAX:
		break;
	}
	return -1;
}

static void
prefs_clear(struct prefs *pr)
{
	memset(pr, 0, sizeof(*pr));
	list_params_defaults(&pr->p, 0);
}

int
prefs_parse_update(struct json_object *body, struct arena *a, struct prefs *set,
    int clear[PREF__MAX], struct prefs_error *err)
{
	enum pref_field f;

	prefs_clear(set);
	memset(clear, 0, sizeof(int) * PREF__MAX);
	/* Members in the order the body gives them: the first bad one. */
	json_object_object_foreach(body, name, v)
	{
		if (field_of(name, &f) != 0) {
			err->code = "unknown_field";
			snprintf(err->detail, sizeof(err->detail),
			    "preferences have no field of this name; known: "
			    "useCases, sort, topN, maxErrorRate, timeRange, "
			    "myReports, excludeModelIds");
			/* The name came from the client: arena copy. */
			err->field = arena_strdup(a, name);
			return -1;
		}
		if (v == NULL) {
			clear[f] = 1;
			continue;
		}
		if (read_field(body, f, a, set) != 0) {
			err->code = "invalid_field";
			err->field = field_names[f];
			field_rule(f, err->detail, sizeof(err->detail));
			return -1;
		}
		set->has[f] = 1;
	}
	return 0;
}

void
prefs_load(const char *stored, struct arena *a, struct prefs *out)
{
	struct json_object *obj;
	enum pref_field f;
	char why[128];

	prefs_clear(out);
	/* Most keys have none: skip the parser on the hot path. */
	if (stored == NULL || *stored == '\0' || strcmp(stored, "{}") == 0)
		return;
	obj = json_parse(stored, strlen(stored), 8, why, sizeof(why));
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		log_warn("saved preferences ignored: not a JSON object");
		json_object_put(obj);
		return;
	}
	json_object_object_foreach(obj, name, v)
	{
		if (field_of(name, &f) != 0) {
			log_warn("saved preference \"%.64s\" ignored: no such "
			         "field",
			    name);
			continue;
		}
		if (v == NULL)
			continue;
		if (read_field(obj, f, a, out) != 0) {
			char rule[200];

			field_rule(f, rule, sizeof(rule));
			log_warn("saved preference %s ignored: %s",
			    field_names[f], rule);
			continue;
		}
		out->has[f] = 1;
	}
	json_object_put(obj);
}

static void
write_value(struct jw *w, const struct prefs *pr, enum pref_field f)
{
	size_t i;
	int b;

	switch (f) {
	case PREF_USE_CASES:
		jw_arr_begin(w);
		for (b = 0; b < FILTER__COUNT; b++)
			if (pr->p.filters & (1u << b))
				jw_str(w, filter_name(b));
		jw_arr_end(w);
		return;
	case PREF_SORT:
		jw_str(w, sort_name(pr->p.sort));
		return;
	case PREF_TOP_N:
		jw_int(w, pr->p.top_n);
		return;
	case PREF_MAX_ERROR_RATE:
		jw_num(w, pr->p.max_error_rate);
		return;
	case PREF_TIME_RANGE:
		jw_str(w, time_range_name(pr->p.range));
		return;
	case PREF_MY_REPORTS:
		jw_bool(w, pr->p.my_reports);
		return;
	case PREF_EXCLUDE:
		jw_arr_begin(w);
		for (i = 0; i < pr->n_exclude; i++)
			jw_str(w, pr->exclude[i]);
		jw_arr_end(w);
		return;
	case PREF__MAX:
		break;
	}
	jw_null(w);
}

void
prefs_write_members(struct jw *w, const struct prefs *pr, int all_fields)
{
	int f;

	for (f = 0; f < PREF__MAX; f++) {
		if (!pr->has[f] && !all_fields)
			continue;
		jw_key(w, field_names[f]);
		if (pr->has[f])
			write_value(w, pr, (enum pref_field)f);
		else
			jw_null(w);
	}
}

#define PREFS_JSON_CAP 65536 /* 50 ids of 256 bytes, escaped, and more */

/*
 * The update's parameters: the values as a JSON object, the cleared
 * names as a text[] literal.  -1 when either outgrew its cap.
 */
static int
update_params(const struct prefs *set, const int clear[PREF__MAX],
    struct buf *json, struct buf *names)
{
	struct jw w;
	int f, n = 0;

	jw_init(&w, json);
	jw_obj_begin(&w);
	prefs_write_members(&w, set, 0);
	jw_obj_end(&w);
	/* Field names need no quoting. */
	buf_putc(names, '{');
	for (f = 0; f < PREF__MAX; f++)
		if (clear[f]) {
			if (n++ > 0)
				buf_putc(names, ',');
			buf_puts(names, field_names[f]);
		}
	buf_putc(names, '}');
	return json->over || names->over ? -1 : 0;
}

/* Columns of STMT_PREFS_UPDATE. */
enum { PU_PREFERENCES, PU_SYNCHRONOUS_COMMIT };

enum db_status
prefs_update(struct db *db, const char *key_id, const struct prefs *set,
    const int clear[PREF__MAX], struct arena *a, struct prefs *saved)
{
	struct buf json, names;
	const char *params[3];
	enum db_status st = DB_ERROR;
	PGresult *r = NULL;

	buf_init(&json, PREFS_JSON_CAP);
	buf_init(&names, 256);
	if (update_params(set, clear, &json, &names) != 0) {
		log_error("preferences update: parameters over their cap");
		goto out;
	}
	params[0] = key_id;
	params[1] = json.data;
	params[2] = names.data;
	r = db_exec(db, STMT_PREFS_UPDATE, params, 3, &st);
	if (r == NULL)
		goto out;
	if (PQntuples(r) == 1)
		prefs_load(db_get_str(r, 0, PU_PREFERENCES), a, saved);
	else
		st = DB_NOTFOUND;
out:
	PQclear(r);
	buf_free(&json);
	buf_free(&names);
	return st;
}

void
prefs_apply(const struct prefs *pr, struct list_params *p)
{
	if (pr->has[PREF_USE_CASES] && !p->given[P_FILTER])
		p->filters = pr->p.filters;
	if (pr->has[PREF_SORT] && !p->given[P_SORT])
		p->sort = pr->p.sort;
	if (pr->has[PREF_TOP_N] && !p->given[P_TOP_N])
		p->top_n = pr->p.top_n;
	if (pr->has[PREF_MAX_ERROR_RATE] && !p->given[P_MAX_ERROR_RATE])
		p->max_error_rate = pr->p.max_error_rate;
	if (pr->has[PREF_TIME_RANGE] && !p->given[P_TIME_RANGE])
		p->range = pr->p.range;
	if (pr->has[PREF_MY_REPORTS] && !p->given[P_MY_REPORTS])
		p->my_reports = pr->p.my_reports;
}

int
prefs_excluded(const struct prefs *pr, const char *id)
{
	size_t i;

	for (i = 0; i < pr->n_exclude; i++)
		if (strcmp(pr->exclude[i], id) == 0)
			return 1;
	return 0;
}
