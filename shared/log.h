/*
 * One line per event on stderr (journald keeps it): level, request id,
 * route, message.  log_msg() escapes every byte outside printable ASCII
 * (and the backslash) of every piece as it writes the line, so text that
 * came from a request, a server or a file never ends a line early or
 * reaches a terminal as a control sequence; callers pass it as it is.
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

/*
 * Set the context of a request's lines: its id and its route as
 * "METHOD PATTERN" (the route table's pattern, e.g.
 * "DELETE /api/admin/keys/{id}"), never the path the client sent.  With
 * pattern NULL (no route has that path) it is "METHOD (no route)" and
 * the path's first 64 bytes.  Nothing is kept beyond the call.
 */
void log_request(const char *request_id, const char *method,
    const char *pattern, const char *path);

/*
 * Write one line at level (if it is not below the level of log_setup())
 * with the current context, the message cut to about 1 KiB.
 */
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
