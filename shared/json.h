/*
 * JSON out and in.  Output is written straight into a struct buf by a
 * small writer that prints numbers in their shortest round-trip form
 * (json-c prints 0.1 as 0.10000000000000001).  Input goes through
 * json-c with a depth limit, and typed getters that never coerce.
 */
#ifndef FLR_JSON_H
#define FLR_JSON_H

#include <stdint.h>

#include <json-c/json.h>

#include "util.h"

#define JW_MAX_DEPTH 32

/* How deep the containers of a request body may nest (json_parse()). */
#define JSON_BODY_DEPTH 16

struct jw {
	struct buf *b;
	int depth;
	int count[JW_MAX_DEPTH]; /* values written at each depth */
	int after_key;
};

/* Start writing into b (which the caller owns). */
void jw_init(struct jw *w, struct buf *b);

void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_num(struct jw *w, double v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Write ms since the epoch as an ISO 8601 string; < 0 writes null. */
void jw_time(struct jw *w, int64_t ms);
/*
 * Write the start of an object that is already encoded up to (not
 * including) its closing brace, with at least one member, and go on
 * inside it: the next jw_key() adds a member, jw_obj_end() closes it.
 */
void jw_obj_continue(struct jw *w, const char *json, size_t n);
/* Write already-encoded JSON text as one value. */
void jw_raw(struct jw *w, const char *json, size_t n);

/* Append s to b as a JSON string literal, quotes included. */
void json_escape(struct buf *b, const char *s, size_t n);

/*
 * Check that text (len bytes) is one JSON value by RFC 8259's grammar,
 * nested at most max_depth deep (containers inside one another), with
 * no object that has two members of the same name (compared as json-c
 * stores names: escapes decoded).  Returns 0, or -1 with the reason
 * and byte offset in err, cut on a UTF-8 character boundary.
 */
int json_validate(
    const char *text, size_t len, int max_depth, char *err, size_t errsz) WUR;

/*
 * Parse text (len bytes) as JSON that json_validate() accepts with
 * max_depth: json-c's own depth limit is set to match, so json-c never
 * refuses what the check let through.  Returns the object (caller
 * json_object_put()s it) or NULL with a short reason in err (also for
 * the document "null").
 */
struct json_object *json_parse(
    const char *text, size_t len, int max_depth, char *err, size_t errsz);

/*
 * Typed reads of an object's member, never coerced.  An absent member
 * or JSON null gives NULL (string) or -1 (boolean) with *err 0; a
 * member of another type (or a string with a NUL in it) sets *err 1.
 */
const char *json_get_string(struct json_object *obj, const char *key, int *err);
int json_get_bool(struct json_object *obj, const char *key, int *err);

/*
 * An integer member in [min, max], never coerced: a JSON number without
 * fraction or exponent.  Returns 1 with *out set, 0 when the member is
 * absent or null, -1 when it has another type or is out of range.
 */
int json_get_int(struct json_object *obj, const char *key, long long min,
    long long max, long long *out) WUR;

/* Characters (code points) in a valid UTF-8 string. */
size_t utf8_length(const char *s);

/*
 * The length of the longest prefix of s[0..n) that does not end inside
 * a UTF-8 sequence: n, or less when the last sequence is incomplete
 * (s was cut there).  For cutting valid UTF-8 text to a size.
 */
size_t utf8_cut(const char *s, size_t n);

#endif
