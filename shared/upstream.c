#include "upstream.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"

/* Buckets may lie this far ahead of now (clocks differ a little). */
#define FUTURE_SLACK_S 86400
/* 2000-01-01T00:00:00Z: nothing was reported before. */
#define OLDEST_BUCKET_S 946684800LL

const char *const upstream_windows[UPSTREAM_WINDOWS] = { "15m", "30m", "1h",
	"6h", "24h", "7d", "30d" };

/* The export's columns, in order. */
static const char *const columns[] = { "grain", "bucket", "modelId", "success",
	"rateLimited", "unavailable", "error" };

enum { COL_GRAIN, COL_BUCKET, COL_MODEL, COL_SUCCESS, COL__MAX = 7 };

const char *
upstream_kind_name(enum upstream_kind k)
{
	static const char *names[UPSTREAM__MAX] = {
		[UPSTREAM_UNKNOWN] = "unknown",
		[UPSTREAM_FLR] = "flr",
		[UPSTREAM_HOSTED] = "hosted",
	};

	return k < UPSTREAM__MAX ? names[k] : "unknown";
}

/* n digits of s as a number, or -1 when one is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years from year 1 to year y. */
static int64_t
leaps_through(int64_t y)
{
	return y / 4 - y / 100 + y / 400;
}

/* Days from 1970-01-01 to y-m-d (y >= 1970) of the Gregorian calendar. */
static int64_t
days_since_epoch(int y, int m, int d)
{
	static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243,
		273, 304, 334 };
	int64_t days = 365 * (int64_t)(y - 1970) + leaps_through(y - 1) -
	    leaps_through(1969);

	return days + before[m - 1] + (m > 2 && leap(y)) + d - 1;
}

int
upstream_parse_time(const char *s, size_t len, int64_t *ms)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, mo, d, h, mi, se, frac = 0;

	if (len != 20 && len != 24)
		return -1;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[len - 1] != 'Z')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (len == 24 && (s[19] != '.' || (frac = digits(s + 20, 3)) < 0))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 59)
		return -1;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return -1;
	*ms = ((days_since_epoch(y, mo, d) * 24 + h) * 60 + mi) * 60 + se;
	*ms = *ms * 1000 + frac;
	return 0;
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

/* The whole body as JSON, depth-limited: NULL with a reason. */
static struct json_object *
parse_body(const char *body, size_t len, char *err, size_t errsz)
{
	struct json_object *root;
	char why[160];

	if (len == 0) {
		snprintf(err, errsz, "empty body");
		return NULL;
	}
	if (len >= INT_MAX) {
		snprintf(err, errsz, "body too large to parse");
		return NULL;
	}
	root = json_parse(body, len, UPSTREAM_MAX_DEPTH, why, sizeof(why));
	if (root == NULL) {
		snprintf(err, errsz, "not JSON: %s", why);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errsz, "not a JSON object");
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* A model id: 1 to 256 bytes, no control characters.  1 when good. */
static int
good_id(struct json_object *v)
{
	const char *s;
	size_t len, i;

	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > UPSTREAM_ID_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

/* A string member equal to want.  1 when so. */
static int
string_is(struct json_object *obj, const char *key, const char *want)
{
	struct json_object *v = member(obj, key);

	return json_object_is_type(v, json_type_string) &&
	    (size_t)json_object_get_string_len(v) == strlen(want) &&
	    memcmp(json_object_get_string(v), want, strlen(want)) == 0;
}

/* The export's header: format, generatedAt, columns.  0 or -1. */
static int
check_header(struct json_object *root, struct upstream_export *out, char *err,
    size_t errsz)
{
	struct json_object *v = member(root, "generatedAt"), *cols;
	size_t i;

	if (!string_is(root, "format", UPSTREAM_FORMAT)) {
		snprintf(err, errsz, "format is not \"%s\"", UPSTREAM_FORMAT);
		return -1;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    upstream_parse_time(json_object_get_string(v),
	        (size_t)json_object_get_string_len(v),
	        &out->generated_ms) != 0) {
		snprintf(err, errsz, "generatedAt is not an ISO 8601 time");
		return -1;
	}
	cols = member(root, "columns");
	if (!json_object_is_type(cols, json_type_array) ||
	    json_object_array_length(cols) != NELEM(columns)) {
		snprintf(err, errsz, "columns are not the %zu expected",
		    NELEM(columns));
		return -1;
	}
	for (i = 0; i < NELEM(columns); i++) {
		struct json_object *c = json_object_array_get_idx(cols, i);

		if (!json_object_is_type(c, json_type_string) ||
		    strcmp(json_object_get_string(c), columns[i]) != 0 ||
		    (size_t)json_object_get_string_len(c) !=
		        strlen(columns[i])) {
			snprintf(err, errsz, "column %zu is not \"%s\"", i,
			    columns[i]);
			return -1;
		}
	}
	return 0;
}

/* Where a row check is happening, for the one-line reason. */
struct ctx {
	size_t idx;
	char *err;
	size_t errsz;
};

static int
row_fail(struct ctx *c, const char *what)
{
	snprintf(c->err, c->errsz, "row %zu: %s", c->idx, what);
	return -1;
}

/* A count: a JSON integer from 0 to 10^9.  0 or -1. */
static int
read_count(
    struct ctx *c, struct json_object *v, const char *name, long long *out)
{
	long long n;
	char what[64];

	snprintf(
	    what, sizeof(what), "%s is not an integer from 0 to 10^9", name);
	if (!json_object_is_type(v, json_type_int))
		return row_fail(c, what);
	n = json_object_get_int64(v);
	if (n < 0 || n > UPSTREAM_MAX_COUNT)
		return row_fail(c, what);
	*out = n;
	return 0;
}

/* The grain and bucket of a row: 0 or -1. */
static int
read_bucket(struct ctx *c, struct json_object *g, struct json_object *b,
    int64_t now_s, struct upstream_row *r)
{
	int64_t ms;
	long long grain;

	if (!json_object_is_type(g, json_type_int))
		return row_fail(c, "grain is not 60, 3600 or 86400");
	grain = json_object_get_int64(g);
	if (grain != 60 && grain != 3600 && grain != 86400)
		return row_fail(c, "grain is not 60, 3600 or 86400");
	if (!json_object_is_type(b, json_type_string) ||
	    upstream_parse_time(json_object_get_string(b),
	        (size_t)json_object_get_string_len(b), &ms) != 0)
		return row_fail(c, "bucket is not an ISO 8601 time");
	if (ms % (grain * 1000) != 0)
		return row_fail(c, "bucket is not aligned to its grain");
	if (ms / 1000 < OLDEST_BUCKET_S || ms / 1000 > now_s + FUTURE_SLACK_S)
		return row_fail(c, "bucket is out of range");
	r->grain = (int)grain;
	r->bucket_s = ms / 1000;
	return 0;
}

/*
 * One row, checked, into *r; its model id (pointing into the tree) to
 * *id.  0 or -1.
 */
static int
read_row(struct ctx *c, struct json_object *row, int64_t now_s,
    struct upstream_row *r, const char **id)
{
	static const char *const names[] = { "success", "rateLimited",
		"unavailable", "error" };
	long long *counts[] = { &r->success, &r->rate_limited, &r->unavailable,
		&r->error };
	struct json_object *m;
	size_t i;

	if (!json_object_is_type(row, json_type_array) ||
	    json_object_array_length(row) != COL__MAX)
		return row_fail(c, "is not an array of 7 values");
	if (read_bucket(c, json_object_array_get_idx(row, COL_GRAIN),
	        json_object_array_get_idx(row, COL_BUCKET), now_s, r) != 0)
		return -1;
	m = json_object_array_get_idx(row, COL_MODEL);
	if (!good_id(m))
		return row_fail(
		    c, "modelId is not 1 to 256 bytes of printable text");
	*id = json_object_get_string(m);
	for (i = 0; i < NELEM(names); i++)
		if (read_count(c,
		        json_object_array_get_idx(row, COL_SUCCESS + i),
		        names[i], counts[i]) != 0)
			return -1;
	return 0;
}

/* A row and its place in the payload, to sort and find repeats. */
struct keyed {
	struct upstream_row row;
	const char *id;
	size_t idx;
};

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int d = strcmp(x->id, y->id);

	if (d != 0)
		return d;
	if (x->row.grain != y->row.grain)
		return x->row.grain < y->row.grain ? -1 : 1;
	if (x->row.bucket_s != y->row.bucket_s)
		return x->row.bucket_s < y->row.bucket_s ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Sort the rows, refuse a repeated (model, grain, bucket) and more
 * than UPSTREAM_MAX_MODELS models, and keep them in *out, each id
 * once.  0 or -1.
 */
static int
keep_rows(struct keyed *k, size_t n, struct upstream_export *out, char *err,
    size_t errsz)
{
	size_t i, models = 0;

	qsort(k, n, sizeof(*k), keyed_cmp);
	for (i = 0; i < n; i++) {
		int same_id = i > 0 && strcmp(k[i - 1].id, k[i].id) == 0;

		if (same_id && k[i - 1].row.grain == k[i].row.grain &&
		    k[i - 1].row.bucket_s == k[i].row.bucket_s) {
			snprintf(err, errsz,
			    "row %zu: the same model, grain and bucket as "
			    "row %zu",
			    k[i].idx, k[i - 1].idx);
			return -1;
		}
		if (!same_id && ++models > UPSTREAM_MAX_MODELS) {
			snprintf(err, errsz, "more than %d models",
			    UPSTREAM_MAX_MODELS);
			return -1;
		}
	}
	out->ids = xcalloc(models, sizeof(*out->ids));
	out->rows = xcalloc(n, sizeof(*out->rows));
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(k[i - 1].id, k[i].id) != 0)
			out->ids[out->nids++] = xstrdup(k[i].id);
		out->rows[i] = k[i].row;
		out->rows[i].model_id = out->ids[out->nids - 1];
	}
	out->n = n;
	return 0;
}

/* Every row of the rows array, checked, into *out. */
static int
read_rows(struct json_object *rows, int64_t now_s, struct upstream_export *out,
    char *err, size_t errsz)
{
	size_t n = json_object_array_length(rows), i;
	struct keyed *k;
	struct ctx c = { 0, err, errsz };
	int rc = -1;

	if (n > UPSTREAM_MAX_ROWS) {
		snprintf(err, errsz, "more than %d rows", UPSTREAM_MAX_ROWS);
		return -1;
	}
	k = xcalloc(n, sizeof(*k));
	for (i = 0; i < n; i++) {
		c.idx = i;
		k[i].idx = i;
		if (read_row(&c, json_object_array_get_idx(rows, i), now_s,
		        &k[i].row, &k[i].id) != 0)
			goto out;
	}
	rc = keep_rows(k, n, out, err, errsz);
out:
	free(k);
	return rc;
}

int
upstream_parse_export(const char *body, size_t len, int64_t now_s,
    struct upstream_export *out, char *err, size_t errsz)
{
	struct json_object *root, *rows;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = parse_body(body, len, err, errsz);
	if (root == NULL)
		return -1;
	if (check_header(root, out, err, errsz) != 0)
		goto out;
	rows = member(root, "rows");
	if (!json_object_is_type(rows, json_type_array)) {
		snprintf(err, errsz, "rows is missing or not an array");
		goto out;
	}
	rc = read_rows(rows, now_s, out, err, errsz);
out:
	if (rc != 0)
		upstream_export_free(out);
	json_object_put(root);
	return rc;
}

void
upstream_export_free(struct upstream_export *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nids; i++)
		free(e->ids[i]);
	free(e->ids);
	free(e->rows);
	memset(e, 0, sizeof(*e));
}

/* An issue's error rate: a number from 0 to 100.  0 or -1. */
static int
read_rate(struct json_object *v, double *out)
{
	double d;

	if (json_object_is_type(v, json_type_int))
		d = (double)json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_double))
		d = json_object_get_double(v);
	else
		return -1;
	if (!isfinite(d) || d < 0 || d > 100)
		return -1;
	*out = d;
	return 0;
}

static int
rate_cmp(const void *a, const void *b)
{
	const struct upstream_rate *x = a, *y = b;

	return strcmp(x->model_id, y->model_id);
}

/* The issues, checked, into *out; refuses a model twice.  0 or -1. */
static int
read_issues(struct json_object *issues, struct upstream_rates *out, char *err,
    size_t errsz)
{
	size_t n = json_object_array_length(issues), i;

	if (n > UPSTREAM_MAX_MODELS) {
		snprintf(
		    err, errsz, "more than %d issues", UPSTREAM_MAX_MODELS);
		return -1;
	}
	out->v = xcalloc(n, sizeof(*out->v));
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(issues, i);
		struct upstream_rate *r = &out->v[out->n];

		if (!json_object_is_type(it, json_type_object)) {
			snprintf(err, errsz, "issue %zu: is not an object", i);
			return -1;
		}
		if (!good_id(member(it, "modelId"))) {
			snprintf(err, errsz,
			    "issue %zu: modelId is not 1 to 256 bytes of "
			    "printable text",
			    i);
			return -1;
		}
		if (read_rate(member(it, "errorRate"), &r->error_rate) != 0) {
			snprintf(err, errsz,
			    "issue %zu: errorRate is not a number from 0 to "
			    "100",
			    i);
			return -1;
		}
		r->model_id =
		    xstrdup(json_object_get_string(member(it, "modelId")));
		out->n++;
	}
	qsort(out->v, out->n, sizeof(*out->v), rate_cmp);
	for (i = 1; i < out->n; i++)
		if (strcmp(out->v[i - 1].model_id, out->v[i].model_id) == 0) {
			snprintf(err, errsz, "a model is listed twice");
			return -1;
		}
	return 0;
}

int
upstream_parse_health(const char *body, size_t len, const char *range,
    struct upstream_rates *out, char *err, size_t errsz)
{
	struct json_object *root, *issues;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = parse_body(body, len, err, errsz);
	if (root == NULL)
		return -1;
	if (!string_is(root, "range", range)) {
		snprintf(err, errsz, "range is not \"%s\"", range);
		goto out;
	}
	issues = member(root, "issues");
	if (!json_object_is_type(issues, json_type_array)) {
		snprintf(err, errsz, "issues is missing or not an array");
		goto out;
	}
	rc = read_issues(issues, out, err, errsz);
out:
	if (rc != 0)
		upstream_rates_free(out);
	json_object_put(root);
	return rc;
}

void
upstream_rates_free(struct upstream_rates *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->v[i].model_id);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
