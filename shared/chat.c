#include "chat.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

static int chat_fail(struct chat_error *err, const char *code,
    const char *field, const char *fmt, ...) PRINTF_LIKE(4, 5);

static int
chat_fail(struct chat_error *err, const char *code, const char *field,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	err->code = code;
	err->field = field;
	va_start(ap, fmt);
	n = vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	/* It may quote the caller's bytes: a 400's JSON stays UTF-8. */
	if (n > 0 && (size_t)n >= sizeof(err->detail))
		err->detail[utf8_cut(err->detail, sizeof(err->detail) - 1)] =
		    '\0';
	return -1;
}

/* A string member that names a model: 1..256 bytes, no NUL. */
static int
model_id_ok(struct json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	n = (size_t)json_object_get_string_len(v);
	return n > 0 && n <= CHAT_MODEL_ID_MAX &&
	    n == strlen(json_object_get_string(v));
}

/* One content part: text counts towards the prompt, images need vision. */
static void
read_part(struct json_object *part, struct chat_request *out, size_t *bytes)
{
	struct json_object *t, *text;
	const char *type;

	if (!json_object_is_type(part, json_type_object) ||
	    !json_object_object_get_ex(part, "type", &t) ||
	    !json_object_is_type(t, json_type_string))
		return;
	type = json_object_get_string(t);
	if (strcmp(type, "image_url") == 0 || strcmp(type, "input_image") == 0)
		out->needs |= FILTER_VISION;
	if (strcmp(type, "text") == 0 &&
	    json_object_object_get_ex(part, "text", &text) &&
	    json_object_is_type(text, json_type_string))
		*bytes += (size_t)json_object_get_string_len(text);
}

/* Each message must be an object with a string role. */
static int
read_messages(struct json_object *body, struct chat_request *out, size_t *bytes,
    struct chat_error *err)
{
	static const char shape[] =
	    "messages must be a non-empty array of objects, each with a "
	    "string role";
	struct json_object *msgs, *m, *role, *content;
	size_t i, n, k;

	if (!json_object_object_get_ex(body, "messages", &msgs) ||
	    !json_object_is_type(msgs, json_type_array))
		return chat_fail(err, "invalid_field", "messages", shape);
	n = json_object_array_length(msgs);
	if (n == 0 || n > CHAT_MESSAGES_MAX)
		return chat_fail(err, "invalid_field", "messages",
		    "messages must hold from 1 to %d messages",
		    CHAT_MESSAGES_MAX);
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(msgs, i);
		if (!json_object_is_type(m, json_type_object) ||
		    !json_object_object_get_ex(m, "role", &role) ||
		    !json_object_is_type(role, json_type_string))
			return chat_fail(
			    err, "invalid_field", "messages", shape);
		if (!json_object_object_get_ex(m, "content", &content))
			continue;
		if (json_object_is_type(content, json_type_string))
			*bytes += (size_t)json_object_get_string_len(content);
		else if (json_object_is_type(content, json_type_array))
			for (k = 0; k < json_object_array_length(content); k++)
				read_part(json_object_array_get_idx(content, k),
				    out, bytes);
	}
	return 0;
}

/* "model" and "models": which models the caller names, if any. */
static int
read_models(struct json_object *body, struct arena *a, struct chat_request *out,
    struct chat_error *err)
{
	struct json_object *v;
	size_t i, n;
	int k, dup;

	if (json_object_object_get_ex(body, "model", &v) && v != NULL) {
		if (!model_id_ok(v))
			return chat_fail(err, "invalid_field", "model",
			    "model must be a model id of 1 to %d bytes, or "
			    "\"auto\"",
			    CHAT_MODEL_ID_MAX);
		if (strcmp(json_object_get_string(v), "auto") != 0)
			out->model = arena_strdup(a, json_object_get_string(v));
	}
	if (!json_object_object_get_ex(body, "models", &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0 || n > CHAT_MODELS_MAX)
		return chat_fail(err, "invalid_field", "models",
		    "models must be an array of 1 to %d model ids",
		    CHAT_MODELS_MAX);
	for (i = 0; i < n; i++) {
		struct json_object *id = json_object_array_get_idx(v, i);

		if (!model_id_ok(id))
			return chat_fail(err, "invalid_field", "models",
			    "models must be an array of 1 to %d model ids",
			    CHAT_MODELS_MAX);
		for (k = 0, dup = 0; k < out->n_models; k++)
			dup |= strcmp(out->models[k],
			           json_object_get_string(id)) == 0;
		if (!dup)
			out->models[out->n_models++] =
			    arena_strdup(a, json_object_get_string(id));
	}
	return 0;
}

/* stream, tools, max_tokens: what a model must offer. */
static int
read_needs(struct json_object *body, struct chat_request *out, size_t *bytes,
    struct chat_error *err)
{
	static const char *limits[] = { "max_tokens", "max_completion_tokens" };
	struct json_object *v;
	long long n;
	size_t i;
	int e, s;

	s = json_get_bool(body, "stream", &e);
	if (e)
		return chat_fail(
		    err, "invalid_field", "stream", "stream must be a boolean");
	out->stream = s == 1;
	if (json_object_object_get_ex(body, "tools", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_array))
			return chat_fail(err, "invalid_field", "tools",
			    "tools must be an array");
		if (json_object_array_length(v) > 0) {
			out->needs |= FILTER_TOOLS;
			*bytes += strlen(json_object_to_json_string_ext(
			    v, JSON_C_TO_STRING_PLAIN));
		}
	}
	for (i = 0; i < NELEM(limits); i++) {
		int rc = json_get_int(body, limits[i], 1, 100000000, &n);

		if (rc < 0)
			return chat_fail(err, "invalid_field", limits[i],
			    "%s must be an integer from 1 to 100000000",
			    limits[i]);
		if (rc == 1 && n > out->max_tokens)
			out->max_tokens = n;
	}
	return 0;
}

/*
 * One member of "flr" as the text the parameter table reads: strings as
 * they are, numbers as written, a filter also as an array of words.
 */
static const char *
flr_text(struct json_object *v, char *tmp, size_t tmpsz)
{
	size_t i, used = 0;

	switch (json_object_get_type(v)) {
	case json_type_string:
		if ((size_t)json_object_get_string_len(v) !=
		    strlen(json_object_get_string(v)))
			return NULL;
		return json_object_get_string(v);
	case json_type_int:
		snprintf(
		    tmp, tmpsz, "%lld", (long long)json_object_get_int64(v));
		return tmp;
	case json_type_double: {
		char num[32];

		format_number(json_object_get_double(v), num);
		snprintf(tmp, tmpsz, "%s", num);
		return tmp;
	}
	case json_type_array:
		tmp[0] = '\0';
		for (i = 0; i < json_object_array_length(v); i++) {
			struct json_object *w = json_object_array_get_idx(v, i);

			if (!json_object_is_type(w, json_type_string) ||
			    (size_t)json_object_get_string_len(w) !=
			        strlen(json_object_get_string(w)) ||
			    used >= tmpsz)
				return NULL;
			used +=
			    (size_t)snprintf(tmp + used, tmpsz - used, "%s%s",
			        i > 0 ? "," : "", json_object_get_string(w));
		}
		return used < tmpsz && used > 0 ? tmp : NULL;
	default:
		return NULL;
	}
}

/* The knobs the flr member takes, by their table names. */
static const enum param_id flr_params[] = { P_FILTER, P_SORT, P_MAX_ERROR_RATE,
	P_MIN_REPORTS, P_TIME_RANGE, P_SOURCE, P_MIN_UPTIME, P_MAX_ATTEMPTS };

static const char *const flr_fields[] = { "flr.filter", "flr.sort",
	"flr.maxErrorRate", "flr.minReports", "flr.timeRange", "flr.source",
	"flr.minUptime", "flr.maxAttempts" };

/* JSON types are never converted: numbers for numbers, words as strings. */
static int
flr_type_ok(enum param_id id, struct json_object *v)
{
	enum json_type t = json_object_get_type(v);

	switch (id) {
	case P_FILTER:
		return t == json_type_string || t == json_type_array;
	case P_SORT:
	case P_TIME_RANGE:
	case P_SOURCE:
		return t == json_type_string;
	default:
		return t == json_type_int || t == json_type_double;
	}
}

static int
read_flr(
    struct json_object *body, struct chat_request *out, struct chat_error *err)
{
	struct json_object *flr;
	struct param_error pe;
	char tmp[256];
	size_t i;

	if (!json_object_object_get_ex(body, "flr", &flr) || flr == NULL)
		return 0;
	if (!json_object_is_type(flr, json_type_object))
		return chat_fail(
		    err, "invalid_field", "flr", "flr must be an object");
	json_object_object_foreach(flr, name, v)
	{
		const char *text;

		for (i = 0; i < NELEM(flr_params); i++)
			if (strcmp(name, param_name(flr_params[i])) == 0)
				break;
		if (i == NELEM(flr_params))
			return chat_fail(err, "unknown_field", "flr",
			    "flr has no member %.*s; it takes filter, sort, "
			    "maxErrorRate, minReports, timeRange, source, "
			    "minUptime, maxAttempts",
			    (int)utf8_cut(name, strnlen(name, 64)), name);
		if (v == NULL)
			continue;
		text = flr_type_ok(flr_params[i], v)
		    ? flr_text(v, tmp, sizeof(tmp))
		    : NULL;
		if (text == NULL ||
		    list_param_set(
		        flr_params[i], text, &out->p, PR_ROUTER, &pe) != 0) {
			param_rule_text(flr_params[i], PR_ROUTER, pe.detail,
			    sizeof(pe.detail));
			return chat_fail(err, "invalid_field", flr_fields[i],
			    "flr.%s", pe.detail);
		}
		out->p.given[flr_params[i]] = 1;
	}
	return 0;
}

int
chat_read(struct json_object *body, struct arena *a, struct chat_request *out,
    struct chat_error *err)
{
	size_t bytes = 0;

	memset(out, 0, sizeof(*out));
	out->body = body;
	list_params_defaults(&out->p, PR_ROUTER);
	if (read_messages(body, out, &bytes, err) != 0 ||
	    read_models(body, a, out, err) != 0 ||
	    read_needs(body, out, &bytes, err) != 0 ||
	    read_flr(body, out, err) != 0)
		return -1;
	out->prompt_tokens = (long long)((bytes + 3) / 4);
	return 0;
}

int
chat_fits(const struct chat_request *cr, const struct model *m)
{
	if (m->context_length <= 0)
		return 1;
	return cr->prompt_tokens + cr->max_tokens <= m->context_length;
}

/* Model id of field, if it is an active model of c. */
static const struct model *
free_model(const struct catalog *c, const char *id)
{
	const struct model *m = catalog_find(c, id);

	return m != NULL && m->is_active ? m : NULL;
}

int
chat_explicit_models(const struct chat_request *cr, const struct catalog *c,
    const struct model **out, struct chat_error *err)
{
	int n = 0, i, k;

	if (cr->model != NULL) {
		out[n] = free_model(c, cr->model);
		if (out[n] == NULL)
			return chat_fail(err, "model_not_free", "model",
			    "%.256s is not a free model of the active "
			    "catalogue "
			    "(GET /api/v1/models lists them)",
			    cr->model);
		n++;
	}
	for (i = 0; i < cr->n_models; i++) {
		const struct model *m = free_model(c, cr->models[i]);

		if (m == NULL)
			return chat_fail(err, "model_not_free", "models",
			    "%.256s is not a free model of the active "
			    "catalogue "
			    "(GET /api/v1/models lists them)",
			    cr->models[i]);
		for (k = 0; k < n && out[k] != m; k++)
			;
		if (k == n)
			out[n++] = m;
	}
	return n;
}

int
chat_upstream_body(struct chat_request *cr, const char *id, struct buf *out)
{
	const char *text;
	size_t len;

	json_object_object_del(cr->body, "models");
	json_object_object_del(cr->body, "flr");
	json_object_object_add(cr->body, "model", json_object_new_string(id));
	text = json_object_to_json_string_length(cr->body,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		return -1;
	return buf_append(out, text, len);
}
