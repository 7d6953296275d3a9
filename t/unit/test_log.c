/*
 * The log module: whatever the context and the message hold, a line is
 * one line of printable ASCII, with request bytes escaped, the route
 * shown as its pattern (or a marker and the capped path), and over-long
 * lines cut with "...".  Lines are read back from a temporary file that
 * stands in for stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Run log_msg("%s", msg) with stderr in a file; the bytes written. */
static char *
capture(const char *msg)
{
	static char out[8192];
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), 2) == 2);
	log_msg(LOG_WARN, "%s", msg);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

/* One line: ends in its only newline, no byte outside printable ASCII. */
static void
assert_one_line(const char *s)
{
	size_t n = strlen(s), i;

	assert_true(n > 0);
	assert_int_equal(s[n - 1], '\n');
	for (i = 0; i + 1 < n; i++)
		assert_true(s[i] >= 0x20 && s[i] < 0x7f);
}

static void
test_message_escaped(void **state)
{
	char *line;

	(void)state;
	log_context(NULL, NULL);
	line = capture("a\nflr-api: error: FORGED\r\x1b[2J\\ \xc2\x9b\"q\"");
	assert_one_line(line);
	assert_string_equal(line,
	    "test: warn: a\\x0aflr-api: error: FORGED\\x0d\\x1b[2J\\\\ "
	    "\\xc2\\x9b\"q\"\n");
}

static void
test_route_pattern(void **state)
{
	char *line;

	(void)state;
	log_request("0b7a3c1e-5f2d-4e6a-9c8b-1d2e3f4a5b6c", "DELETE",
	    "/api/admin/keys/{id}", "/api/admin/keys/x\nFORGED");
	line = capture("refused");
	assert_one_line(line);
	assert_string_equal(line,
	    "test: warn: rid=0b7a3c1e-5f2d-4e6a-9c8b-1d2e3f4a5b6c "
	    "route=\"DELETE /api/admin/keys/{id}\" refused\n");
	log_context(NULL, NULL);
}

static void
test_route_unknown_path(void **state)
{
	char path[300], *line;

	(void)state;
	memset(path, 'p', sizeof(path));
	memcpy(path, "/x\"\n\x1b", 5);
	path[sizeof(path) - 1] = '\0';
	log_request("r", "GET\n", NULL, path);
	line = capture("m");
	assert_one_line(line);
	/* The quote of the path is escaped inside the quoted route. */
	assert_non_null(
	    strstr(line, "route=\"GET\\x0a (no route) /x\\x22\\x0a\\x1bppp"));
	/* The path is cut at 64 bytes. */
	assert_non_null(strstr(line, "ppp\" m\n"));
	assert_null(strstr(line,
	    "pppppppppppppppppppppppppppppppppppppppppppppppp"
	    "pppppppppppppppppp"));
	log_context(NULL, NULL);
}

static void
test_long_line_cut(void **state)
{
	char msg[1500], *line;

	(void)state;
	/* Each byte escapes to four: far over the line's size. */
	memset(msg, '\n', sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	line = capture(msg);
	assert_one_line(line);
	assert_true(strlen(line) <= 2048);
	assert_non_null(strstr(line, "\\x0a...\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_escaped),
		cmocka_unit_test(test_route_pattern),
		cmocka_unit_test(test_route_unknown_path),
		cmocka_unit_test(test_long_line_cut),
	};

	log_setup("test", LOG_DEBUG);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
