#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* A comma before every value but the first at its depth. */
static void
jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->count[w->depth]++ > 0)
		buf_putc(w->b, ',');
}

static void
jw_open(struct jw *w, char c)
{
	jw_sep(w);
	buf_putc(w->b, c);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->count[w->depth] = 0;
}

static void
jw_close(struct jw *w, char c)
{
	buf_putc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void
jw_obj_begin(struct jw *w)
{
	jw_open(w, '{');
}

void
jw_obj_end(struct jw *w)
{
	jw_close(w, '}');
}

void
jw_arr_begin(struct jw *w)
{
	jw_open(w, '[');
}

void
jw_arr_end(struct jw *w)
{
	jw_close(w, ']');
}

void
jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	json_escape(w->b, key, strlen(key));
	buf_putc(w->b, ':');
	w->after_key = 1;
}

void
jw_str(struct jw *w, const char *s)
{
	if (s == NULL) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	json_escape(w->b, s, n);
}

void
jw_int(struct jw *w, long long v)
{
	jw_sep(w);
	buf_printf(w->b, "%lld", v);
}

void
jw_num(struct jw *w, double v)
{
	char tmp[32];

	format_number(v, tmp);
	jw_sep(w);
	buf_puts(w->b, tmp);
}

void
jw_bool(struct jw *w, int v)
{
	jw_sep(w);
	buf_puts(w->b, v ? "true" : "false");
}

void
jw_null(struct jw *w)
{
	jw_sep(w);
	buf_puts(w->b, "null");
}

void
jw_time(struct jw *w, int64_t ms)
{
	char tmp[25];

	if (ms < 0) {
		jw_null(w);
		return;
	}
	format_iso8601(ms, tmp);
	jw_str(w, tmp);
}

void
jw_obj_continue(struct jw *w, const char *json, size_t n)
{
	jw_sep(w);
	buf_append(w->b, json, n);
	if (w->depth < JW_MAX_DEPTH - 1)
		w->depth++;
	w->count[w->depth] = 1;
}

void
jw_raw(struct jw *w, const char *json, size_t n)
{
	jw_sep(w);
	buf_append(w->b, json, n);
}

void
json_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* Flush the plain run before this byte, then escape it. */
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_append(b, esc, 6);
		}
	}
	buf_append(b, s + run, n - run);
	buf_putc(b, '"');
}

/*
 * A strict RFC 8259 syntax check that runs before json-c, which (even
 * in strict mode) takes NaN, Infinity, leading zeros, single quotes
 * and raw control bytes in strings, and keeps the last of two members
 * with the same name.  Recursion is bounded by depth.
 */

/* A member name as written: the bytes between its quotes. */
struct jv_name {
	const unsigned char *p;
	size_t n;
};

struct jv {
	const unsigned char *p, *end;
	int depth, max_depth;
	const char *err;
	/* The names of the members of every object still open. */
	struct jv_name *names;
	size_t nnames, names_size;
	char msg[112];
};

static int jv_value(struct jv *v);
static int jv_number_syntax(struct jv *v);

static void
jv_ws(struct jv *v)
{
	while (v->p < v->end &&
	    (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
		v->p++;
}

static int
jv_fail(struct jv *v, const char *why)
{
	if (v->err == NULL)
		v->err = why;
	return -1;
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * Length of the valid UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static int
jv_string(struct jv *v)
{
	int i;

	for (v->p++; v->p < v->end; v->p++) {
		unsigned char c = *v->p;

		if (c == '"') {
			v->p++;
			return 0;
		}
		if (c < 0x20)
			return jv_fail(v, "control character in a string");
		if (c >= 0x80) {
			size_t n = utf8_seq(v->p, v->end);

			if (n == 0)
				return jv_fail(v, "invalid UTF-8 in a string");
			v->p += n - 1;
			continue;
		}
		if (c != '\\')
			continue;
		if (++v->p >= v->end)
			break;
		if (strchr("\"\\/bfnrt", *v->p) != NULL && *v->p != '\0')
			continue;
		if (*v->p != 'u')
			return jv_fail(v, "bad escape in a string");
		for (i = 1; i <= 4; i++)
			if (v->p + i >= v->end || !is_hex(v->p[i]))
				return jv_fail(v, "bad \\u escape in a string");
		v->p += 4;
	}
	return jv_fail(v, "unterminated string");
}

static int
jv_digits(struct jv *v)
{
	const unsigned char *start = v->p;

	while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
		v->p++;
	return v->p > start ? 0 : jv_fail(v, "malformed number");
}

static int
jv_number(struct jv *v)
{
	const unsigned char *start = v->p;
	char tmp[64];
	size_t n;

	if (jv_number_syntax(v) != 0)
		return -1;
	/* A number json-c would turn into infinity is not a number. */
	n = (size_t)(v->p - start);
	if (n >= sizeof(tmp))
		return jv_fail(v, "number too long");
	memcpy(tmp, start, n);
	tmp[n] = '\0';
	if (!isfinite(strtod(tmp, NULL)))
		return jv_fail(v, "number out of range");
	return 0;
}

static int
jv_number_syntax(struct jv *v)
{
	if (*v->p == '-')
		v->p++;
	if (v->p < v->end && *v->p == '0')
		v->p++;
	else if (jv_digits(v) != 0)
		return -1;
	if (v->p < v->end && *v->p == '.') {
		v->p++;
		if (jv_digits(v) != 0)
			return -1;
	}
	if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
		v->p++;
		if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
			v->p++;
		if (jv_digits(v) != 0)
			return -1;
	}
	return 0;
}

static int
jv_literal(struct jv *v, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(v->end - v->p) < n || memcmp(v->p, word, n) != 0)
		return jv_fail(v, "unexpected character");
	v->p += n;
	return 0;
}

static unsigned
hex4(const unsigned char *p)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/*
 * The next code point of a member name that the check has passed (*p up
 * to end), as json-c will store the name: escapes decoded, a surrogate
 * pair joined, a lone surrogate as U+FFFD.  -1 at the end, and at a
 * U+0000, where json-c's C string of the name ends.
 */
static long
name_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	unsigned long c;
	size_t n;

	if (p >= end)
		return -1;
	if (*p != '\\') {
		n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
		c = n == 1 ? *p : *p & (0x7f >> n);
		for (size_t i = 1; i < n; i++)
			c = c << 6 | (p[i] & 0x3f);
		*pp = p + n;
		return (long)c;
	}
	if (p[1] != 'u') {
		static const char from[] = "\"\\/bfnrt",
		                  to[] = "\"\\/\b\f\n\r\t";

		*pp = p + 2;
		return (unsigned char)to[strchr(from, p[1]) - from];
	}
	c = hex4(p + 2);
	*pp = p + 6;
	if (c >= 0xd800 && c <= 0xdbff && end - *pp >= 6 && (*pp)[0] == '\\' &&
	    (*pp)[1] == 'u' && hex4(*pp + 2) >= 0xdc00 &&
	    hex4(*pp + 2) <= 0xdfff) {
		c = 0x10000 + ((c - 0xd800) << 10) + (hex4(*pp + 2) - 0xdc00);
		*pp += 6;
	} else if (c >= 0xd800 && c <= 0xdfff) {
		c = 0xfffd;
	}
	return c == 0 ? -1 : (long)c;
}

/* -1, 0 or 1: member names in the order of what they decode to. */
static int
name_order(const struct jv_name *x, const struct jv_name *y)
{
	const unsigned char *p = x->p, *q = y->p;
	long c, d;

	do {
		c = name_next(&p, x->p + x->n);
		d = name_next(&q, y->p + y->n);
	} while (c == d && c >= 0);
	return c == d ? 0 : c < d ? -1 : 1;
}

/* qsort: by name, and equal names in the order they were written. */
static int
name_cmp(const void *a, const void *b)
{
	const struct jv_name *x = a, *y = b;
	int o = name_order(x, y);

	if (o != 0)
		return o;
	return x->p < y->p ? -1 : x->p > y->p;
}

static void
jv_push_name(struct jv *v, const unsigned char *p, size_t n)
{
	if (v->nnames == v->names_size) {
		v->names_size = v->names_size ? 2 * v->names_size : 16;
		v->names =
		    xrealloc(v->names, v->names_size * sizeof(*v->names));
	}
	v->names[v->nnames].p = p;
	v->names[v->nnames++].n = n;
}

/*
 * The object whose names start at names[base] has closed: refuse a
 * name it has twice (json-c would keep only the last member), and
 * forget its names.  The reason names the member as written, cut short
 * on a character boundary, at the second one.
 */
static int
jv_unique_names(struct jv *v, size_t base)
{
	struct jv_name *n = v->names + base;
	size_t count = v->nnames - base, i;

	v->nnames = base;
	if (count < 2)
		return 0;
	qsort(n, count, sizeof(*n), name_cmp);
	for (i = 1; i < count; i++) {
		if (name_order(&n[i - 1], &n[i]) != 0)
			continue;
		snprintf(v->msg, sizeof(v->msg), "duplicate member %.*s",
		    (int)utf8_cut(
		        (const char *)n[i].p, n[i].n < 64 ? n[i].n : 64),
		    (const char *)n[i].p);
		v->p = n[i].p - 1;
		return jv_fail(v, v->msg);
	}
	return 0;
}

/* The members of an object or elements of an array, after the '{'. */
static int
jv_container(struct jv *v, unsigned char close)
{
	size_t base = v->nnames;

	if (++v->depth > v->max_depth)
		return jv_fail(v, "nesting too deep");
	v->p++;
	jv_ws(v);
	if (v->p < v->end && *v->p == close) {
		v->p++;
		v->depth--;
		return 0;
	}
	for (;;) {
		jv_ws(v);
		if (close == '}') {
			const unsigned char *name = v->p + 1;

			if (v->p >= v->end || *v->p != '"')
				return jv_fail(v, "expected a member name");
			if (jv_string(v) != 0)
				return -1;
			jv_push_name(v, name, (size_t)(v->p - 1 - name));
			jv_ws(v);
			if (v->p >= v->end || *v->p++ != ':')
				return jv_fail(v, "expected ':'");
		}
		if (jv_value(v) != 0)
			return -1;
		jv_ws(v);
		if (v->p < v->end && *v->p == ',') {
			v->p++;
			continue;
		}
		if (v->p < v->end && *v->p == close) {
			v->p++;
			v->depth--;
			return close == '}' ? jv_unique_names(v, base) : 0;
		}
		return jv_fail(v,
		    v->p >= v->end ? "unexpected end of JSON"
		                   : "expected ',' or a close");
	}
}

static int
jv_value(struct jv *v)
{
	jv_ws(v);
	if (v->p >= v->end)
		return jv_fail(v, "unexpected end of JSON");
	switch (*v->p) {
	case '{':
		return jv_container(v, '}');
	case '[':
		return jv_container(v, ']');
	case '"':
		return jv_string(v);
	case 't':
		return jv_literal(v, "true");
	case 'f':
		return jv_literal(v, "false");
	case 'n':
		return jv_literal(v, "null");
	default:
		if (*v->p == '-' || (*v->p >= '0' && *v->p <= '9'))
			return jv_number(v);
		return jv_fail(v, "unexpected character");
	}
}

int
json_validate(
    const char *text, size_t len, int max_depth, char *err, size_t errsz)
{
	struct jv v = { .p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.max_depth = max_depth };
	int rc = -1;

	if (jv_value(&v) == 0) {
		jv_ws(&v);
		if (v.p == v.end)
			rc = 0;
		else
			jv_fail(&v, "unexpected data after the JSON value");
	}
	free(v.names);
	if (rc == 0)
		return 0;
	if (errsz > 0) {
		int n = snprintf(err, errsz, "%s at byte %zu", v.err,
		    (size_t)(v.p - (const unsigned char *)text));

		/* The reason may quote a name: never cut it mid-character. */
		if (n > 0 && (size_t)n >= errsz)
			err[utf8_cut(err, errsz - 1)] = '\0';
	}
	return -1;
}

size_t
utf8_cut(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = n, need;
	int back;

	/* Back over at most three continuation bytes to a lead byte. */
	for (back = 0; back < 4 && start > 0; back++) {
		start--;
		if ((u[start] & 0xc0) != 0x80)
			break;
	}
	if (start == n || u[start] < 0xc0)
		return n;
	need = u[start] < 0xe0 ? 2 : u[start] < 0xf0 ? 3 : 4;
	return n - start >= need ? n : start;
}

struct json_object *
json_parse(const char *text, size_t len, int max_depth, char *err, size_t errsz)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;

	if (len > (size_t)INT32_MAX) {
		snprintf(err, errsz, "document too large");
		return NULL;
	}
	if (json_validate(text, len, max_depth, err, errsz) != 0)
		return NULL;
	/*
	 * json-c counts a level for every value it descends into, a scalar
	 * in the innermost container too, and refuses at depth - 1: one
	 * more than the check's limit accepts exactly what the check does.
	 */
	tok = json_tokener_new_ex(max_depth + 1);
	if (tok == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(
	    tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	/* A bare number at the very end waits for more: end it. */
	if (jerr == json_tokener_continue) {
		obj = json_tokener_parse_ex(tok, " ", 1);
		jerr = json_tokener_get_error(tok);
	}
	/* The validator has seen the whole text: nothing trails it. */
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
		snprintf(err, errsz, "%s",
		    jerr == json_tokener_continue
		        ? "unexpected end of JSON"
		        : json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	if (obj == NULL && jerr == json_tokener_success)
		snprintf(err, errsz, "the document is null");
	return obj;
}

const char *
json_get_string(struct json_object *obj, const char *key, int *err)
{
	struct json_object *v;

	*err = 0;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return NULL;
	/* An embedded NUL would be cut short everywhere after here. */
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) !=
	        strlen(json_object_get_string(v))) {
		*err = 1;
		return NULL;
	}
	return json_object_get_string(v);
}

int
json_get_bool(struct json_object *obj, const char *key, int *err)
{
	struct json_object *v;

	*err = 0;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return -1;
	if (!json_object_is_type(v, json_type_boolean)) {
		*err = 1;
		return -1;
	}
	return json_object_get_boolean(v) ? 1 : 0;
}

int
json_get_int(struct json_object *obj, const char *key, long long min,
    long long max, long long *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	/* 5.0 and 5e0 are doubles to json-c: refused, as a string is. */
	if (!json_object_is_type(v, json_type_int))
		return -1;
	/* Past the int64 range json-c saturates: still out of bounds. */
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return -1;
	*out = (long long)n;
	return 1;
}

size_t
utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}
