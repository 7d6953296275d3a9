#include "openrouter.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"

/* 9999-12-31T23:59:59Z: to_timestamp() takes anything up to it. */
#define CREATED_MAX 253402300799LL
/* Far above any real context size, and exact in a double. */
#define TOK_MAX 1000000000000000LL

/* Where a field check is happening, for the one-line reason. */
struct ctx {
	size_t idx;
	char *err;
	size_t errsz;
};

/* An id and where it came from, to find duplicates by sorting. */
struct seen_id {
	const char *id;
	size_t idx;
};

static int
fail(struct ctx *c, const char *field, const char *what)
{
	snprintf(c->err, c->errsz, "model %zu: %s %s", c->idx, field, what);
	return -1;
}

int
openrouter_price_is_zero(struct json_object *price)
{
	const char *s;
	size_t len, i;

	switch (json_object_get_type(price)) {
	case json_type_int:
		/* Values past INT64_MAX read back clamped, never as 0. */
		return json_object_get_int64(price) == 0;
	case json_type_double:
		return json_object_get_double(price) == 0.0;
	case json_type_string:
		break;
	default:
		return 0;
	}
	s = json_object_get_string(price);
	len = (size_t)json_object_get_string_len(price);
	/* "0" or "0.0…0" exactly: no sign, spaces, exponent or hex. */
	if (len == 0 || s[0] != '0')
		return 0;
	if (len == 1)
		return 1;
	if (s[1] != '.' || len == 2)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] != '0')
			return 0;
	return 1;
}

int
openrouter_is_free(struct json_object *prompt, struct json_object *completion)
{
	return openrouter_price_is_zero(prompt) &&
	    openrouter_price_is_zero(completion);
}

/* A member of obj, NULL when absent or JSON null. */
static struct json_object *
member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v;
}

/*
 * The member a field path names in obj, its parent: "context_length"
 * in a model, "architecture.modality" in its architecture.  The path is
 * what error messages show.
 */
static struct json_object *
field_member(struct json_object *obj, const char *field)
{
	const char *dot = strrchr(field, '.');

	return member(obj, dot != NULL ? dot + 1 : field);
}

/*
 * A string value as a C string: refuses other types, and embedded NUL
 * bytes (a "\u0000" escape), which neither C nor PostgreSQL text keeps.
 */
static int
read_string(struct ctx *c, struct json_object *v, const char *field, char **out)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return fail(c, field, "is not a string");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', len) != NULL)
		return fail(c, field, "contains a NUL character");
	*out = xstrndup(s, len);
	return 0;
}

/* An optional string member: NULL when absent or null. */
static int
opt_string(
    struct ctx *c, struct json_object *obj, const char *field, char **out)
{
	struct json_object *v = field_member(obj, field);

	*out = NULL;
	if (v == NULL)
		return 0;
	return read_string(c, v, field, out);
}

/* An optional integer member in [min, max]; -1 when absent or null. */
static int
opt_int(struct ctx *c, struct json_object *obj, const char *field,
    long long max, long long *out)
{
	struct json_object *v = field_member(obj, field);
	long long n;

	*out = -1;
	if (v == NULL)
		return 0;
	/* A double such as 4096.0 is refused too: the type is the contract. */
	if (!json_object_is_type(v, json_type_int))
		return fail(c, field, "is not an integer");
	n = json_object_get_int64(v);
	if (n < 0 || n > max)
		return fail(c, field, "is out of range");
	*out = n;
	return 0;
}

/* An optional boolean member: -1 when absent or null, else 0 or 1. */
static int
opt_bool(struct ctx *c, struct json_object *obj, const char *field, int *out)
{
	struct json_object *v = field_member(obj, field);

	*out = -1;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(c, field, "is not a boolean");
	*out = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

/* An optional object member: *out NULL when absent or null. */
static int
opt_object(struct ctx *c, struct json_object *obj, const char *field,
    struct json_object **out)
{
	struct json_object *v = field_member(obj, field);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return fail(c, field, "is not an object");
	*out = v;
	return 0;
}

static void
strings_free(struct openrouter_strings *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* An optional array of strings: empty when absent or null. */
static int
opt_strings(struct ctx *c, struct json_object *obj, const char *field,
    struct openrouter_strings *out)
{
	struct json_object *v = field_member(obj, field);
	size_t i, n;

	out->v = NULL;
	out->n = 0;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return fail(c, field, "is not an array of strings");
	n = json_object_array_length(v);
	if (n == 0)
		return 0;
	out->v = xcalloc(n, sizeof(*out->v));
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string)) {
			strings_free(out);
			return fail(c, field, "is not an array of strings");
		}
		if (read_string(c, e, field, &out->v[i]) != 0) {
			strings_free(out);
			return -1;
		}
		out->n++;
	}
	return 0;
}

static void
model_free(struct openrouter_model *m)
{
	free(m->id);
	free(m->name);
	free(m->description);
	free(m->modality);
	strings_free(&m->input_modalities);
	strings_free(&m->output_modalities);
	strings_free(&m->supported_parameters);
	memset(m, 0, sizeof(*m));
}

/* The id: required, a string, not empty. */
static int
read_id(struct ctx *c, struct json_object *obj, char **out)
{
	struct json_object *v = member(obj, "id");

	*out = NULL;
	if (v == NULL || !json_object_is_type(v, json_type_string))
		return fail(c, "id", "is missing or not a string");
	if (json_object_get_string_len(v) == 0)
		return fail(c, "id", "is empty");
	return read_string(c, v, "id", out);
}

/* architecture.{modality,input_modalities,output_modalities} */
static int
read_architecture(
    struct ctx *c, struct json_object *obj, struct openrouter_model *m)
{
	struct json_object *a;

	if (opt_object(c, obj, "architecture", &a) != 0)
		return -1;
	if (opt_string(c, a, "architecture.modality", &m->modality) != 0)
		return -1;
	if (opt_strings(c, a, "architecture.input_modalities",
	        &m->input_modalities) != 0)
		return -1;
	return opt_strings(
	    c, a, "architecture.output_modalities", &m->output_modalities);
}

/* top_provider.{max_completion_tokens,is_moderated} */
static int
read_top_provider(
    struct ctx *c, struct json_object *obj, struct openrouter_model *m)
{
	struct json_object *t;

	if (opt_object(c, obj, "top_provider", &t) != 0)
		return -1;
	if (opt_int(c, t, "top_provider.max_completion_tokens", TOK_MAX,
	        &m->max_completion_tokens) != 0)
		return -1;
	return opt_bool(c, t, "top_provider.is_moderated", &m->is_moderated);
}

/* Every kept field of one model, in payload order; -1 at the first bad one. */
static int
read_fields(struct ctx *c, struct json_object *obj, struct openrouter_model *m)
{
	if (read_id(c, obj, &m->id) != 0)
		return -1;
	if (opt_string(c, obj, "name", &m->name) != 0)
		return -1;
	if (opt_int(c, obj, "created", CREATED_MAX, &m->created) != 0)
		return -1;
	if (opt_int(c, obj, "context_length", TOK_MAX, &m->context_length) != 0)
		return -1;
	if (opt_string(c, obj, "description", &m->description) != 0)
		return -1;
	if (read_architecture(c, obj, m) != 0)
		return -1;
	if (read_top_provider(c, obj, m) != 0)
		return -1;
	return opt_strings(
	    c, obj, "supported_parameters", &m->supported_parameters);
}

/*
 * Check every kept field of one model and read them into *m.  On
 * failure *m is freed and err says which field.
 */
static int
read_model(struct ctx *c, struct json_object *obj, struct openrouter_model *m)
{
	memset(m, 0, sizeof(*m));
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(
		    c->err, c->errsz, "model %zu: is not an object", c->idx);
		return -1;
	}
	if (read_fields(c, obj, m) != 0) {
		model_free(m);
		return -1;
	}
	if (m->name == NULL || m->name[0] == '\0') {
		free(m->name);
		m->name = xstrdup(m->id);
	}
	return 0;
}

/* Whether a model is free; a pricing of any other shape says no. */
static int
model_is_free(struct json_object *obj)
{
	struct json_object *p = member(obj, "pricing");

	if (!json_object_is_type(p, json_type_object))
		return 0;
	return openrouter_is_free(member(p, "prompt"), member(p, "completion"));
}

static int
seen_cmp(const void *a, const void *b)
{
	const struct seen_id *x = a, *y = b;
	int d = strcmp(x->id, y->id);

	if (d != 0)
		return d;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Refuse a payload that names a model twice: the upsert could not
 * tell which of the two to keep.  ids were checked to be NUL-free.
 */
static int
check_unique(struct seen_id *ids, size_t n, char *err, size_t errsz)
{
	size_t i;

	qsort(ids, n, sizeof(*ids), seen_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(ids[i - 1].id, ids[i].id) == 0) {
			snprintf(err, errsz,
			    "model %zu: id is a duplicate of "
			    "model %zu's",
			    ids[i].idx, ids[i - 1].idx);
			return -1;
		}
	return 0;
}

/*
 * The whole body as one JSON value, with a depth limit, strict syntax
 * and UTF-8 checked.  Returns the value (caller puts it) or NULL.
 */
static struct json_object *
parse_json(const char *body, size_t len, char *err, size_t errsz)
{
	struct json_object *v;
	char why[160];

	v = json_parse(body, len, OPENROUTER_MAX_DEPTH, why, sizeof(why));
	if (v == NULL)
		snprintf(err, errsz, "not JSON: %s", why);
	return v;
}

/* Check and read every model of data, keeping the free ones. */
static int
read_models(struct json_object *data, struct openrouter_catalog *out, char *err,
    size_t errsz)
{
	size_t n = json_object_array_length(data), i;
	struct seen_id *ids = xcalloc(n, sizeof(*ids));
	struct ctx c = { 0, err, errsz };
	int rc = -1;

	out->total = n;
	out->models = xcalloc(n, sizeof(*out->models));
	for (i = 0; i < n; i++) {
		struct json_object *obj = json_object_array_get_idx(data, i);
		struct openrouter_model m;

		c.idx = i;
		if (read_model(&c, obj, &m) != 0)
			goto out;
		/* Points into the tree, which outlives ids. */
		ids[i].id = json_object_get_string(member(obj, "id"));
		ids[i].idx = i;
		if (model_is_free(obj))
			out->models[out->n++] = m;
		else
			model_free(&m);
	}
	rc = check_unique(ids, n, err, errsz);
out:
	free(ids);
	return rc;
}

int
openrouter_parse(const char *body, size_t len, struct openrouter_catalog *out,
    char *err, size_t errsz)
{
	struct json_object *root = NULL, *data;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		snprintf(err, errsz, "empty body");
		return -1;
	}
	/* json-c counts in int; the fetch cap keeps bodies far below. */
	if (len >= INT_MAX) {
		snprintf(err, errsz, "body too large to parse");
		return -1;
	}
	root = parse_json(body, len, err, errsz);
	if (root == NULL)
		goto out;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errsz, "not a JSON object");
		goto out;
	}
	data = member(root, "data");
	if (!json_object_is_type(data, json_type_array)) {
		snprintf(err, errsz, "data is missing or not an array");
		goto out;
	}
	rc = read_models(data, out, err, errsz);
out:
	if (rc != 0)
		openrouter_catalog_free(out);
	json_object_put(root);
	return rc;
}

void
openrouter_catalog_free(struct openrouter_catalog *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		model_free(&c->models[i]);
	free(c->models);
	memset(c, 0, sizeof(*c));
}
