#include "json.h"

#include <stdio.h>
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
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
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

static int
only_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

struct json_object *
json_parse(const char *text, size_t len, int max_depth, char *err,
    size_t errsz)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;

	if (len > (size_t)INT32_MAX) {
		snprintf(err, errsz, "document too large");
		return NULL;
	}
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_success &&
	    !only_space(text + json_tokener_get_parse_end(tok),
		len - json_tokener_get_parse_end(tok))) {
		/* Something follows the document: not one JSON value. */
		json_object_put(obj);
		obj = NULL;
		snprintf(err, errsz, "unexpected data after the JSON value");
	} else if (jerr != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
		snprintf(err, errsz, "%s",
		    jerr == json_tokener_continue
			? "unexpected end of JSON"
			: json_tokener_error_desc(jerr));
	}
	json_tokener_free(tok);
	return obj;
}
