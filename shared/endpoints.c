#include "endpoints.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"

/* Where a check is happening, for the one-line reason. */
struct ctx {
	size_t idx;
	char *err;
	size_t errsz;
};

/* The percentiles a statistics object may hold. */
static const char *const percentiles[] = { "p50", "p75", "p90", "p99" };

static int
fail(struct ctx *c, const char *field, const char *what)
{
	snprintf(c->err, c->errsz, "endpoint %zu: %s %s", c->idx, field, what);
	return -1;
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
 * An optional number member in [0, max] into *out (-1 when absent or
 * null).  Integers and fractions are both numbers; a value json-c read
 * as infinite (1e999) is out of range.
 */
static int
opt_number(struct ctx *c, struct json_object *obj, const char *key,
    const char *field, double max, double *out)
{
	struct json_object *v = member(obj, key);
	double d;

	*out = -1;
	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int))
		d = (double)json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_double))
		d = json_object_get_double(v);
	else
		return fail(c, field, "is not a number");
	if (!isfinite(d) || d < 0 || d > max)
		return fail(c, field, "is out of range");
	*out = d;
	return 0;
}

/*
 * An optional percentile object (latency_last_30m, throughput_last_30m):
 * every percentile it has is checked, its p50 goes to *p50 (-1 when
 * the object or its p50 is absent or null).
 */
static int
opt_percentiles(struct ctx *c, struct json_object *obj, const char *key,
    double max, double *p50)
{
	struct json_object *v = member(obj, key);
	char field[64];
	double d;
	size_t i;

	*p50 = -1;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return fail(c, key, "is not an object");
	for (i = 0; i < NELEM(percentiles); i++) {
		snprintf(field, sizeof(field), "%s.%s", key, percentiles[i]);
		if (opt_number(c, v, percentiles[i], field, max, &d) != 0)
			return -1;
		if (i == 0)
			*p50 = d;
	}
	return 0;
}

/* The provider's name: NULL when absent or null, else checked text. */
static int
opt_provider(struct ctx *c, struct json_object *obj, const char **out)
{
	struct json_object *v = member(obj, "provider_name");
	const char *s;
	size_t len, i;

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return fail(c, "provider_name", "is not a string");
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > ENDPOINTS_NAME_MAX)
		return fail(c, "provider_name", "is empty or too long");
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return fail(
			    c, "provider_name", "contains a control character");
	*out = s;
	return 0;
}

/* status: an open enum, an integer or (in older answers) a string. */
static int
check_status(struct ctx *c, struct json_object *obj)
{
	struct json_object *v = member(obj, "status");

	if (v == NULL || json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_string))
		return 0;
	return fail(c, "status", "is not an integer or a string");
}

/* What one endpoint gives, checked, before the fold. */
struct endpoint {
	const char *provider; /* points into the tree */
	double uptime[3]; /* 5m, 30m, 1d */
	double latency_p50, throughput_p50;
};

static int
read_endpoint(struct ctx *c, struct json_object *obj, struct endpoint *e)
{
	static const char *const uptimes[] = { "uptime_last_5m",
		"uptime_last_30m", "uptime_last_1d" };
	size_t i;

	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(
		    c->err, c->errsz, "endpoint %zu: is not an object", c->idx);
		return -1;
	}
	if (opt_provider(c, obj, &e->provider) != 0 ||
	    check_status(c, obj) != 0)
		return -1;
	for (i = 0; i < NELEM(uptimes); i++)
		if (opt_number(c, obj, uptimes[i], uptimes[i], 100.0,
		        &e->uptime[i]) != 0)
			return -1;
	if (opt_percentiles(c, obj, "latency_last_30m",
	        ENDPOINTS_LATENCY_MAX_MS, &e->latency_p50) != 0)
		return -1;
	return opt_percentiles(c, obj, "throughput_last_30m",
	    ENDPOINTS_THROUGHPUT_MAX, &e->throughput_p50);
}

/* The larger of two figures where -1 is none. */
static double
best_high(double acc, double v)
{
	return v >= 0 && (acc < 0 || v > acc) ? v : acc;
}

/* The smaller of two figures where -1 is none. */
static double
best_low(double acc, double v)
{
	return v >= 0 && (acc < 0 || v < acc) ? v : acc;
}

static void
add_provider(struct endpoint_stats *s, const char *name)
{
	size_t i;

	if (name == NULL)
		return;
	for (i = 0; i < s->nproviders; i++)
		if (strcmp(s->providers[i], name) == 0)
			return;
	s->providers[s->nproviders++] = xstrdup(name);
}

/* Fold one checked endpoint into the model's row. */
static void
fold(struct endpoint_stats *s, const struct endpoint *e)
{
	s->endpoints++;
	s->uptime_5m = best_high(s->uptime_5m, e->uptime[0]);
	s->uptime_30m = best_high(s->uptime_30m, e->uptime[1]);
	s->uptime_1d = best_high(s->uptime_1d, e->uptime[2]);
	s->latency_p50_ms = best_low(s->latency_p50_ms, e->latency_p50);
	s->throughput_p50 = best_high(s->throughput_p50, e->throughput_p50);
	add_provider(s, e->provider);
}

/* The endpoints array of a parsed answer, or NULL with a reason. */
static struct json_object *
endpoints_array(struct json_object *root, char *err, size_t errsz)
{
	struct json_object *data, *list;

	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errsz, "not a JSON object");
		return NULL;
	}
	data = member(root, "data");
	if (!json_object_is_type(data, json_type_object)) {
		snprintf(err, errsz, "data is missing or not an object");
		return NULL;
	}
	list = member(data, "endpoints");
	if (!json_object_is_type(list, json_type_array)) {
		snprintf(
		    err, errsz, "data.endpoints is missing or not an array");
		return NULL;
	}
	if (json_object_array_length(list) > ENDPOINTS_MAX) {
		snprintf(err, errsz, "more than %d endpoints", ENDPOINTS_MAX);
		return NULL;
	}
	return list;
}

/* Check every endpoint of list and fold them into *out. */
static int
read_endpoints(struct json_object *list, struct endpoint_stats *out, char *err,
    size_t errsz)
{
	size_t n = json_object_array_length(list), i;
	struct ctx c = { 0, err, errsz };

	out->uptime_5m = out->uptime_30m = out->uptime_1d = -1;
	out->latency_p50_ms = out->throughput_p50 = -1;
	if (n > 0)
		out->providers = xcalloc(n, sizeof(*out->providers));
	for (i = 0; i < n; i++) {
		struct endpoint e;

		c.idx = i;
		if (read_endpoint(&c, json_object_array_get_idx(list, i), &e) !=
		    0)
			return -1;
		fold(out, &e);
	}
	return 0;
}

int
endpoints_parse(const char *body, size_t len, struct endpoint_stats *out,
    char *err, size_t errsz)
{
	struct json_object *root = NULL, *list;
	char why[160];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		snprintf(err, errsz, "empty body");
		return -1;
	}
	if (len >= INT_MAX) {
		snprintf(err, errsz, "body too large to parse");
		return -1;
	}
	root = json_parse(body, len, ENDPOINTS_MAX_DEPTH, why, sizeof(why));
	if (root == NULL) {
		snprintf(err, errsz, "not JSON: %s", why);
		goto out;
	}
	list = endpoints_array(root, err, errsz);
	if (list != NULL)
		rc = read_endpoints(list, out, err, errsz);
out:
	if (rc != 0)
		endpoints_free(out);
	json_object_put(root);
	return rc;
}

void
endpoints_free(struct endpoint_stats *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nproviders; i++)
		free(s->providers[i]);
	free(s->providers);
	memset(s, 0, sizeof(*s));
}

/* Characters a path segment keeps as they are. */
static int
path_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~' || ch == ':';
}

/* Append n bytes of s, percent-encoded, as one path segment. */
static int
put_segment(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int rc = buf_putc(b, '/');

	for (i = 0; i < n && rc == 0; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (path_char(ch)) {
			rc = buf_putc(b, (char)ch);
			continue;
		}
		rc = buf_putc(b, '%');
		if (rc == 0)
			rc = buf_putc(b, hex[ch >> 4]);
		if (rc == 0)
			rc = buf_putc(b, hex[ch & 15]);
	}
	return rc;
}

/* A segment that is empty, "." or "..": never sent. */
static int
bad_segment(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.');
}

int
endpoints_path(struct buf *b, const char *model_id)
{
	const char *slash = strchr(model_id, '/');
	size_t alen, slen;

	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		return -1;
	alen = (size_t)(slash - model_id);
	slen = strlen(slash + 1);
	if (bad_segment(model_id, alen) || bad_segment(slash + 1, slen))
		return -1;
	if (buf_puts(b, "/models") != 0 ||
	    put_segment(b, model_id, alen) != 0 ||
	    put_segment(b, slash + 1, slen) != 0 ||
	    buf_puts(b, "/endpoints") != 0)
		return -2;
	return 0;
}
