/*
 * Small helpers both programs use: allocation that aborts on failure,
 * bounded number parsing, a growable byte buffer with a hard cap, and
 * a per-request arena.
 */
#ifndef FLR_UTIL_H
#define FLR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define WUR __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort the process when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Parse all of s as a base-10 integer in [min, max] into *out: no sign
 * but a leading '-' when min < 0, no spaces, no empty string.
 * Returns 0 on success, -1 otherwise (*out untouched).
 */
int parse_int(const char *s, long long min, long long max, long long *out) WUR;

/*
 * Parse all of s as a plain decimal ("12", "0.5", "33.33"; no sign,
 * exponent, spaces, or bare point) in [min, max].  Returns 0 or -1.
 */
int parse_decimal(const char *s, double min, double max, double *out) WUR;

/*
 * A growable buffer that refuses to grow past cap bytes.  Appends
 * return 0, or -1 (and set over) once the cap would be crossed; the
 * contents are always NUL-terminated.
 */
struct buf {
	char *data;
	size_t len;
	size_t size;
	size_t cap;
	int over;
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * A bump allocator for memory that lives as long as one request:
 * arena_reset() frees it all at once but keeps the first block.
 */
struct arena_block;
struct arena {
	struct arena_block *head;
};

void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

/* Constant-time comparison of two strings; 1 when equal. */
int secret_equal(const char *a, const char *b);

/* Wall-clock time in milliseconds since the epoch, and monotonic ms. */
int64_t now_ms(void);
double mono_ms(void);

/*
 * Format ms since the epoch as ISO 8601 UTC with milliseconds
 * ("2026-01-08T10:30:00.000Z") into out (at least 25 bytes).
 */
void format_iso8601(int64_t ms, char out[25]);

/*
 * Format a double in the shortest form that reads back to the same
 * value ("1.96", "33.33", "0", "100").  out needs 32 bytes.
 */
void format_number(double v, char out[32]);

/*
 * Make s one line of printable ASCII in place: every byte below 0x20
 * or from 0x7f up becomes '?'.  For reasons that end up on a terminal,
 * in the journal and in text columns, whatever bytes went into them.
 */
void text_one_line(char *s);

#endif
