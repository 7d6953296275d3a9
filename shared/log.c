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

static struct {
	const char *program;
	enum log_level min;
	char request_id[40];
	char route[64];
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
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if (level < lg.min || level >= LOG__MAX)
		return;
	n = snprintf(
	    line, sizeof(line), "%s: %s:", lg.program, level_names[level]);
	if (lg.request_id[0] != '\0' && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, " rid=%s",
		    lg.request_id);
	if (lg.route[0] != '\0' && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(
		    line + n, sizeof(line) - (size_t)n, " route=%s", lg.route);
	if (n > 0 && (size_t)n < sizeof(line) - 1) {
		line[n++] = ' ';
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* One write per line, so lines from workers never interleave. */
	fprintf(stderr, "%s\n", line);
}

char *
log_escape(const char *s, size_t n, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (outsz == 0)
		return out;
	for (i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		int plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';

		if (o + (plain ? 1 : 4) + 4 > outsz) {
			if (o + 4 <= outsz) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}
