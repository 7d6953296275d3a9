/*
 * One line per event on stderr (journald keeps it): level, request id,
 * route, message.  Bytes that came from a request are escaped with
 * log_escape() before they reach a line.
 */
#ifndef FLR_LOG_H
#define FLR_LOG_H

#include <stddef.h>

#include "util.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG__MAX };

/* Set the lowest level written and the program name in each line. */
void log_setup(const char *program, enum log_level min);

/*
 * Parse "debug", "info", "warn" or "error".  Returns 0 and sets *out,
 * or -1 for anything else.
 */
int log_parse_level(const char *s, enum log_level *out) WUR;

/* Set (or clear with NULL) the request id and route shown in lines. */
void log_context(const char *request_id, const char *route);

void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/*
 * Copy at most n bytes of s into out (size outsz) with control bytes,
 * quotes, backslashes and non-ASCII written as \xNN; always
 * NUL-terminates, truncating with "..." when out is too small.
 * Returns out.
 */
char *log_escape(const char *s, size_t n, char *out, size_t outsz);

#endif
