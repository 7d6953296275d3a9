/*
 * The relay's stream filter (shared/relay.c) alone, fed the way libcurl
 * feeds it: comments and blank lines before the first event dropped,
 * the answer relayed from the first event on, a line over the cap
 * before any event refused, and the same outcome however the bytes are
 * cut into chunks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "relay.h"

static char model_id[] = "a/b:free";
static struct model model = { .id = model_id };

/* A filter ready for one answer, and what reached the client. */
struct feed {
	struct relay r;
	int begun;
	struct buf out;
};

static int
on_begin(void *arg, const struct model *m, int attempt)
{
	struct feed *f = arg;

	assert_ptr_equal(m, &model);
	assert_int_equal(attempt, 1);
	f->begun++;
	return 0;
}

static int
on_write(void *arg, const char *p, size_t n)
{
	struct feed *f = arg;

	assert_int_equal(f->begun, 1);
	return buf_append(&f->out, p, n);
}

static void
feed_init(struct feed *f)
{
	memset(f, 0, sizeof(*f));
	f->r.begin = on_begin;
	f->r.write = on_write;
	f->r.arg = f;
	f->r.streaming = &model;
	relay_stream_init(&f->r, RELAY_SSE_LINE_MAX);
	buf_init(&f->out, 1 << 20);
}

static void
feed_free(struct feed *f)
{
	relay_stream_free(&f->r);
	buf_free(&f->out);
}

/* s in chunks of at most chunk bytes (0: all at once); the last rc. */
static int
feed(struct feed *f, const char *s, size_t n, size_t chunk)
{
	size_t at = 0;
	int rc = 0;

	while (at < n && rc == 0) {
		size_t k = chunk == 0 || chunk > n - at ? n - at : chunk;

		rc = relay_stream_sink(&f->r, s + at, k);
		at += k;
	}
	return rc;
}

static void
test_comments_dropped(void **state)
{
	static const char head[] = ": OPENROUTER PROCESSING\n\n";
	static const char body[] = "data: {\"choices\":[]}\n\n"
	                           ": OPENROUTER PROCESSING\n\n"
	                           "data: [DONE]\n\n";
	static const size_t chunks[] = { 0, 1, 2, 5, 64 };
	char all[256];
	size_t i;

	(void)state;
	snprintf(all, sizeof(all), "%s%s", head, body);
	for (i = 0; i < NELEM(chunks); i++) {
		struct feed f;

		feed_init(&f);
		assert_int_equal(feed(&f, all, strlen(all), chunks[i]), 0);
		assert_int_equal(f.begun, 1);
		assert_true(f.r.started && f.r.call.started);
		/* Comments after the first event go on to the client. */
		assert_string_equal(f.out.data, body);
		assert_true(f.r.done_seen);
		assert_false(f.r.error_seen);
		feed_free(&f);
	}
}

/*
 * Regression (found by t/fuzz/fuzz_chat.c): the held line and the whole
 * chunk after it were measured against the cap together, so a first
 * event that fits was refused as "not a stream" when the chunk that
 * ended it brought more events along — or not, as the chunks fell.
 */
static void
test_first_event_near_the_cap(void **state)
{
	const size_t line = RELAY_SSE_LINE_MAX - 1000;
	const size_t more = 16384;
	char *s = malloc(line + more);
	struct feed f;
	size_t i;

	(void)state;
	assert_non_null(s);
	memcpy(s, "data: ", 6);
	memset(s + 6, 'x', line - 7);
	s[line - 1] = '\n';
	for (i = line; i < line + more; i++)
		s[i] = i % 64 == 63 ? '\n' : 'y';
	/* curl's chunks: most of the line, then the rest and more events. */
	feed_init(&f);
	assert_int_equal(relay_stream_sink(&f.r, s, line - 500), 0);
	assert_int_equal(f.begun, 0);
	assert_int_equal(
	    relay_stream_sink(&f.r, s + line - 500, more + 500), 0);
	assert_false(f.r.bad_stream);
	assert_int_equal(f.begun, 1);
	assert_int_equal(f.out.len, line + more);
	assert_memory_equal(f.out.data, s, line + more);
	feed_free(&f);
	free(s);
}

/* Over the cap before any event, in any chunks: not a stream. */
static void
test_long_line_refused(void **state)
{
	const size_t n = RELAY_SSE_LINE_MAX + 1;
	static const size_t chunks[] = { 0, 100, 16384 };
	char *s = malloc(n);
	size_t i;

	(void)state;
	assert_non_null(s);
	s[0] = ':';
	memset(s + 1, 'z', n - 2);
	s[n - 1] = '\n';
	for (i = 0; i < NELEM(chunks); i++) {
		struct feed f;

		feed_init(&f);
		assert_int_equal(feed(&f, s, n, chunks[i]), -1);
		assert_true(f.r.bad_stream);
		assert_int_equal(f.begun, 0);
		feed_free(&f);
	}
	/* A line that fits is held until it ends, never refused. */
	for (i = 0; i < NELEM(chunks); i++) {
		struct feed f;

		feed_init(&f);
		assert_int_equal(feed(&f, s + 1, n - 2, chunks[i]), 0);
		assert_false(f.r.bad_stream);
		assert_int_equal(f.begun, 0);
		assert_int_equal(f.r.pending.len, n - 2);
		feed_free(&f);
	}
	free(s);
}

/*
 * A line over the cap after the answer began is passed on unread, also
 * when its start came in a chunk of its own: "data: [DONE]" followed by
 * more of the same line is no [DONE].
 */
static void
test_long_line_unread(void **state)
{
	const size_t n = RELAY_SSE_LINE_MAX + 10;
	char *tail = malloc(n);
	struct feed f;

	(void)state;
	assert_non_null(tail);
	memset(tail, 'x', n - 1);
	tail[n - 1] = '\n';
	feed_init(&f);
	assert_int_equal(feed(&f, "data: {}\n\n", 10, 0), 0);
	assert_int_equal(feed(&f, "data: [DONE]", 12, 0), 0);
	assert_int_equal(feed(&f, tail, n, 0), 0);
	assert_false(f.r.done_seen);
	assert_int_equal(f.out.len, 10 + 12 + n);
	/* The next line is read again. */
	assert_int_equal(feed(&f, "data: [DONE]\n", 13, 0), 0);
	assert_true(f.r.done_seen);
	feed_free(&f);
	free(tail);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comments_dropped),
		cmocka_unit_test(test_first_event_near_the_cap),
		cmocka_unit_test(test_long_line_refused),
		cmocka_unit_test(test_long_line_unread),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
