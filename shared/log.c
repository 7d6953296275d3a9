#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *level_names[LOG__MAX] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

/* Caps on what a request may put in the context of its lines. */
#define METHOD_MAX 16
#define PATH_MAX_SHOWN 64

static struct {
	const char *program;
	enum log_level min;
	char request_id[40];
	char route[128];
} lg = { "flr", LOG_INFO, "", "" };

void
log_setup(const char *program, enum log_level min)
{
	lg.program = program;
	lg.min = min;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	int i;

	for (i = 0; i < LOG__MAX; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void
log_context(const char *request_id, const char *route)
{
	snprintf(lg.request_id, sizeof(lg.request_id), "%s",
	    request_id ? request_id : "");
	snprintf(lg.route, sizeof(lg.route), "%s", route ? route : "");
}

void
log_request(const char *request_id, const char *method, const char *pattern,
    const char *path)
{
	char route[sizeof(lg.route)];

	/* Only a path no route knows is shown, and only its start. */
	if (pattern != NULL)
		snprintf(route, sizeof(route), "%.*s %s", METHOD_MAX, method,
		    pattern);
	else
		snprintf(route, sizeof(route), "%.*s (no route) %.*s",
		    METHOD_MAX, method, PATH_MAX_SHOWN, path);
	log_context(request_id, route);
}

/* One line being written: once cut, later pieces are dropped. */
struct line {
	char buf[2048];
	size_t n;
	int cut;
};

/*
 * Append s to the line, escaped: bytes outside printable ASCII as \xNN
 * and the backslash as \\, so that whatever a request sent can neither
 * end the line nor reach a terminal as a control sequence; with quoted,
 * the double quote too (as \x22), for a value shown between quotes.  A
 * line that would overflow ends in "...".
 */
static void
put_escaped(struct line *l, const char *s, int quoted)
{
	static const char hex[] = "0123456789abcdef";
	static const char mark[] = "...";
	size_t room = sizeof(l->buf) - sizeof(mark);

	for (; *s != '\0' && !l->cut; s++) {
		unsigned char c = (unsigned char)*s;
		int plain =
		    c >= 0x20 && c < 0x7f && c != '\\' && !(quoted && c == '"');

		if (l->n + (plain ? 1 : 4) > room) {
			memcpy(l->buf + l->n, mark, sizeof(mark) - 1);
			l->n += sizeof(mark) - 1;
			l->cut = 1;
		} else if (plain) {
			l->buf[l->n++] = (char)c;
		} else if (c == '\\') {
			l->buf[l->n++] = '\\';
			l->buf[l->n++] = '\\';
		} else {
			l->buf[l->n++] = '\\';
			l->buf[l->n++] = 'x';
			l->buf[l->n++] = hex[c >> 4];
			l->buf[l->n++] = hex[c & 15];
		}
	}
	l->buf[l->n] = '\0';
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	struct line l = { .n = 0 };
	char msg[1024];
	va_list ap;

	if (level < lg.min || level >= LOG__MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/*
	 * Every piece goes through put_escaped(): this is the one place
	 * lines are written, so no caller can forget to escape.
	 */
	put_escaped(&l, lg.program, 0);
	put_escaped(&l, ": ", 0);
	put_escaped(&l, level_names[level], 0);
	put_escaped(&l, ":", 0);
	if (lg.request_id[0] != '\0') {
		put_escaped(&l, " rid=", 0);
		put_escaped(&l, lg.request_id, 0);
	}
	if (lg.route[0] != '\0') {
		put_escaped(&l, " route=\"", 0);
		put_escaped(&l, lg.route, 1);
		put_escaped(&l, "\"", 0);
	}
	put_escaped(&l, " ", 0);
	put_escaped(&l, msg, 0);
	/* One write per line, so lines from workers never interleave. */
	fprintf(stderr, "%s\n", l.buf);
}
