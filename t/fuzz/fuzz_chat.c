/*
 * libFuzzer: one input through every parser of the router's path, each
 * with its own invariant.
 *
 * As a chat body (json_parse at CHAT_JSON_DEPTH, then chat_read): what
 * is accepted names at most CHAT_MODELS_MAX distinct model ids of 1 to
 * CHAT_MODEL_ID_MAX bytes (never "auto"), maxAttempts from 1 to
 * RELAY_ATTEMPTS_MAX and the other knobs within their bounds, and no
 * string of flr with a NUL in it; what is refused names its field and
 * says why in valid UTF-8 (it goes out in a problem+json body).  The
 * explicit models are active, distinct and named by the request; the
 * body sent upstream reads back as the same request for that one model.
 *
 * As OpenRouter's stream, through the relay's filter in one chunk, in
 * chunks, and in chunks with a small line cap (each chunk a buffer of
 * its own, so a read past it is caught): comments and blank lines before
 * the first event are dropped, everything from its first byte on is
 * relayed, and the two add up to the input; the answer begins at the
 * first event whatever the chunks, a stream is refused only for a line
 * over the cap before any event, and [DONE] and error events are seen
 * exactly where whole lines say so.
 *
 * As an answer's header lines (Retry-After, X-RateLimit-Reset): a number
 * only from blanks and 1 to 18 digits.  As an answer's body: an outcome
 * for every status, a success without a sink only for a body that is a
 * chat completion, the account quota only when the body says so, a
 * quota wait within [1, 86400] s, and error messages that are one line
 * of printable ASCII within their buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chat.h"
#include "json.h"
#include "orcall.h"
#include "relay.h"

/* 2026-12-01T12:00:00Z, in ms */
#define NOW_MS 1796126400000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct arena arena;

/* ---- helpers ------------------------------------------------------- */

/* FNV-1a of the input: its chunks and the small cap follow from it. */
static uint64_t
hash_of(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n-- > 0)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

static uint64_t
next_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* 1 when needle is among the n bytes at p. */
static int
has(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(p + i, needle, k) == 0)
			return 1;
	return 0;
}

/* RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int
utf8_ok(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, len;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			len = 2, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			len = 3, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			len = 4, cp = s[i] & 0x07;
		else
			return 0;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 &&
		        (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += len;
	}
	return 1;
}

/* One line of printable ASCII, NUL-terminated within outsz bytes. */
static void
check_one_line(const char *s, size_t outsz)
{
	size_t i;

	for (i = 0; i < outsz && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
	if (i == outsz)
		abort();
}

/* ---- the chat body ------------------------------------------------- */

static char id_ab[] = "a/b:free", id_cd[] = "c/d:free", id_ef[] = "e/f:free";

/* The free catalogue of the explicit models: two active, one not. */
static struct model cat_models[3];
static struct catalog cat;

static void
catalog_setup(void)
{
	if (cat.n > 0)
		return;
	cat_models[0].id = id_ab;
	cat_models[0].is_active = 1;
	cat_models[1].id = id_cd;
	cat_models[1].is_active = 1;
	cat_models[2].id = id_ef;
	cat.models = cat_models;
	cat.n = NELEM(cat_models);
}

static void
check_refusal(const struct chat_error *err)
{
	size_t n = strnlen(err->detail, sizeof(err->detail));

	if (err->code == NULL || err->field == NULL || err->field[0] == '\0')
		abort();
	if (n == 0 || n == sizeof(err->detail))
		abort();
	if (!utf8_ok(err->detail, n))
		abort(); /* cut inside a character: invalid JSON text */
}

static void
check_model_id(const char *id)
{
	size_t n;

	if (id == NULL)
		abort();
	n = strlen(id);
	if (n == 0 || n > CHAT_MODEL_ID_MAX)
		abort();
}

/* No string of v (or inside it, one level down) holds a NUL. */
static int
no_nul(struct json_object *v)
{
	size_t i;

	if (json_object_is_type(v, json_type_string))
		return (size_t)json_object_get_string_len(v) ==
		    strlen(json_object_get_string(v));
	if (json_object_is_type(v, json_type_array))
		for (i = 0; i < json_object_array_length(v); i++)
			if (!no_nul(json_object_array_get_idx(v, i)))
				return 0;
	return 1;
}

static void
check_knobs(const struct chat_request *cr, struct json_object *body)
{
	const struct list_params *p = &cr->p;
	struct json_object *flr;
	int i;

	if (p->max_attempts < 1 || p->max_attempts > RELAY_ATTEMPTS_MAX)
		abort();
	if (p->sort >= SORT__PUBLIC || p->range >= TR__MAX ||
	    p->source >= SOURCE__MAX || (p->filters & ~FILTER__ALL) != 0)
		abort();
	if (!(p->max_error_rate == -1 ||
	        (p->max_error_rate >= 0 && p->max_error_rate <= 100)))
		abort();
	if (!(p->min_uptime == -1 ||
	        (p->min_uptime >= 0 && p->min_uptime <= 100)))
		abort();
	if (p->min_reports < 0 || p->min_reports > 1000000)
		abort();
	if (p->given[P_TOP_N] || p->given[P_MY_REPORTS] || p->given[P_PAGE] ||
	    p->given[P_PAGE_SIZE] || p->given[P_DAYS] || p->top_n != 0)
		abort(); /* the router takes none of these */
	if (json_object_object_get_ex(body, "flr", &flr) && flr != NULL) {
		json_object_object_foreach(flr, name, v)
		{
			(void)name;
			if (v != NULL && !no_nul(v))
				abort();
		}
	}
	for (i = 0; i < P__MAX; i++)
		if (p->given[i] != 0 && p->given[i] != 1)
			abort();
}

static void
check_request(const struct chat_request *cr, struct json_object *body)
{
	int i, j;

	if (cr->body != body)
		abort();
	if (cr->n_models < 0 || cr->n_models > CHAT_MODELS_MAX)
		abort();
	for (i = 0; i < cr->n_models; i++) {
		check_model_id(cr->models[i]);
		for (j = 0; j < i; j++)
			if (strcmp(cr->models[i], cr->models[j]) == 0)
				abort(); /* repeats are dropped */
	}
	if (cr->model != NULL) {
		check_model_id(cr->model);
		if (strcmp(cr->model, "auto") == 0)
			abort();
	}
	if (cr->stream != 0 && cr->stream != 1)
		abort();
	if ((cr->needs & ~(unsigned)(FILTER_TOOLS | FILTER_VISION)) != 0)
		abort();
	if (cr->prompt_tokens < 0 || cr->max_tokens < 0 ||
	    cr->max_tokens > 100000000)
		abort();
	check_knobs(cr, body);
}

/* 1 when id is what the request names, in "model" or "models". */
static int
named(const struct chat_request *cr, const char *id)
{
	int i;

	if (cr->model != NULL && strcmp(cr->model, id) == 0)
		return 1;
	for (i = 0; i < cr->n_models; i++)
		if (strcmp(cr->models[i], id) == 0)
			return 1;
	return 0;
}

static void
check_explicit(const struct chat_request *cr, const struct model **cand, int n,
    const struct chat_error *err)
{
	int none = cr->model == NULL && cr->n_models == 0, i, j;

	if (n < 0) {
		check_refusal(err);
		if (none || strcmp(err->code, "model_not_free") != 0 ||
		    (strcmp(err->field, "model") != 0 &&
		        strcmp(err->field, "models") != 0))
			abort();
		return;
	}
	if (n > CHAT_MODELS_MAX + 1 || (n == 0) != none)
		abort();
	for (i = 0; i < n; i++) {
		if (cand[i] < cat.models || cand[i] >= cat.models + cat.n ||
		    !cand[i]->is_active || !named(cr, cand[i]->id))
			abort();
		for (j = 0; j < i; j++)
			if (cand[i] == cand[j])
				abort();
	}
}

/* What goes upstream reads back as the request, for model id alone. */
static void
check_forwarded(struct chat_request *cr, const char *id, size_t size)
{
	struct chat_request again;
	struct chat_error err;
	struct json_object *o, *m;
	struct buf out;
	char why[160];

	buf_init(&out, 2 * size + 65536);
	if (chat_upstream_body(cr, id, &out) != 0)
		abort();
	o = json_parse(out.data, out.len, CHAT_JSON_DEPTH, why, sizeof(why));
	if (o == NULL || !json_object_is_type(o, json_type_object))
		abort();
	if (!json_object_object_get_ex(o, "model", &m) ||
	    !json_object_is_type(m, json_type_string) ||
	    strcmp(json_object_get_string(m), id) != 0 ||
	    json_object_object_get_ex(o, "models", NULL) ||
	    json_object_object_get_ex(o, "flr", NULL))
		abort();
	memset(&err, 0, sizeof(err));
	if (chat_read(o, &arena, &again, &err) != 0)
		abort();
	if (again.model == NULL || strcmp(again.model, id) != 0 ||
	    again.n_models != 0 || again.stream != cr->stream ||
	    again.needs != cr->needs || again.max_tokens != cr->max_tokens ||
	    again.prompt_tokens != cr->prompt_tokens)
		abort();
	json_object_put(o);
	buf_free(&out);
}

static void
fuzz_body(const uint8_t *data, size_t size)
{
	const struct model *cand[CHAT_MODELS_MAX + 1];
	struct chat_request cr;
	struct chat_error err;
	struct json_object *body;
	char why[160];
	int n;

	body = json_parse(
	    (const char *)data, size, CHAT_JSON_DEPTH, why, sizeof(why));
	/* The route refuses anything but an object before chat_read. */
	if (body == NULL || !json_object_is_type(body, json_type_object))
		goto out;
	memset(&err, 0, sizeof(err));
	if (chat_read(body, &arena, &cr, &err) != 0) {
		check_refusal(&err);
		if (strcmp(err.code, "invalid_field") != 0 &&
		    strcmp(err.code, "unknown_field") != 0)
			abort();
		goto out;
	}
	check_request(&cr, body);
	memset(&err, 0, sizeof(err));
	n = chat_explicit_models(&cr, &cat, cand, &err);
	check_explicit(&cr, cand, n, &err);
	check_forwarded(&cr, n > 0 ? cand[0]->id : id_ab, size);
out:
	json_object_put(body);
	arena_reset(&arena);
}

/* ---- the stream ---------------------------------------------------- */

static struct model streamed = { .id = id_ab };

#define CUT_AT_LAST SIZE_MAX

/* One pass of the input through the filter, and what reached the client. */
struct pass {
	struct relay r;
	int begun;
	int fail_begin; /* the client leaves at the head */
	int rc; /* the sink's last answer */
	size_t fed;
	struct buf out;
};

static int
on_begin(void *arg, const struct model *m, int attempt)
{
	struct pass *s = arg;

	if (s->begun++ > 0 || s->out.len != 0 || m != &streamed || attempt != 1)
		abort();
	return s->fail_begin ? -1 : 0;
}

static int
on_write(void *arg, const char *p, size_t n)
{
	struct pass *s = arg;

	if (s->begun != 1 || buf_append(&s->out, p, n) != 0)
		abort();
	return 0;
}

/*
 * Chunks of up to max_chunk bytes at random, or the whole input at once
 * (0), or cut after every byte equal to the input's last (CUT_AT_LAST:
 * the fuzzer places the cuts itself); fail_begin: the client left.
 */
static void
run_pass(struct pass *s, const uint8_t *data, size_t size, size_t cap,
    uint64_t seed, size_t max_chunk, int fail_begin)
{
	memset(s, 0, sizeof(*s));
	s->fail_begin = fail_begin;
	s->r.begin = on_begin;
	s->r.write = on_write;
	s->r.arg = s;
	s->r.streaming = &streamed;
	relay_stream_init(&s->r, cap);
	buf_init(&s->out, size + 1);
	while (s->fed < size) {
		size_t k = max_chunk == 0 ? size - s->fed
		                          : 1 + next_rand(&seed) % max_chunk;
		const uint8_t *cut;

		if (max_chunk == CUT_AT_LAST) {
			cut = memchr(
			    data + s->fed, data[size - 1], size - s->fed);
			k = (size_t)(cut - (data + s->fed)) + 1;
		}
		char *chunk;

		if (k > size - s->fed)
			k = size - s->fed;
		chunk = xmalloc(k);
		memcpy(chunk, data + s->fed, k);
		s->rc = relay_stream_sink(&s->r, chunk, k);
		free(chunk);
		s->fed += k;
		if (s->rc != 0)
			break;
	}
}

static void
pass_free(struct pass *s)
{
	relay_stream_free(&s->r);
	buf_free(&s->out);
}

enum start { HELD, STARTS, REFUSED };

/*
 * Where the answer begins by the filter's contract, whatever the chunks:
 * at the end of the first line that is not a comment or blank (HELD
 * until then, the line at *at kept); any line before it that passes cap
 * bytes, newline included, makes the answer no stream (REFUSED).
 */
static enum start
expected_start(const uint8_t *d, size_t n, size_t cap, size_t *at)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *nl = memchr(d + i, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - (d + i)) + 1 : n - i;
		int comment = d[i] == ':' || d[i] == '\n' || d[i] == '\r';

		*at = i;
		if (len > cap)
			return REFUSED;
		if (nl == NULL)
			return HELD;
		if (!comment)
			return STARTS;
		i += len;
	}
	*at = n;
	return HELD;
}

/*
 * The flags against the whole lines relayed: never set without a line
 * that says so, always set by a line of at most cap bytes that does.
 */
static void
check_flags(const char *p, size_t n, size_t cap, const struct relay *r)
{
	int done = 0, error = 0, done_short = 0, error_short = 0;
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t len, t;
		int is_done, is_error;

		if (nl == NULL)
			break; /* a line not ended yet says nothing */
		len = (size_t)(nl - (p + i)) + 1;
		for (t = len;
		     t > 0 && (p[i + t - 1] == '\r' || p[i + t - 1] == '\n');
		     t--)
			;
		is_done = t == 12 && memcmp(p + i, "data: [DONE]", 12) == 0;
		is_error = t > 5 && memcmp(p + i, "data:", 5) == 0 &&
		    has(p + i, t, "\"finish_reason\":\"error\"");
		done |= is_done;
		error |= is_error;
		if (len <= cap) {
			done_short |= is_done;
			error_short |= is_error;
		}
		i += len;
	}
	if ((r->done_seen && !done) || (r->error_seen && !error))
		abort();
	if ((done_short && !r->done_seen) || (error_short && !r->error_seen))
		abort();
}

static void
check_pass(const struct pass *s, const uint8_t *d, size_t n, size_t cap)
{
	const struct relay *r = &s->r;
	size_t at = 0;
	enum start want = expected_start(d, n, cap, &at);

	if (r->started != (s->begun > 0) || r->call.started != r->started)
		abort();
	if (want == REFUSED) {
		if (!r->bad_stream || r->started || s->rc != -1)
			abort();
		return;
	}
	if (r->bad_stream)
		abort();
	if (want == HELD) {
		/* Only the line not ended yet is held; the rest dropped. */
		if (r->started || s->rc != 0 || r->pending.len != n - at ||
		    memcmp(r->pending.data, d + at, n - at) != 0)
			abort();
		return;
	}
	if (!r->started)
		abort();
	if (s->fail_begin) {
		if (s->rc != -1 || s->out.len != 0)
			abort();
		return;
	}
	/* What was dropped and what was relayed add up to the input. */
	if (s->rc != 0 || s->out.len != n - at ||
	    memcmp(s->out.data, d + at, n - at) != 0)
		abort();
	check_flags(s->out.data, s->out.len, cap, r);
}

static void
fuzz_stream(const uint8_t *data, size_t size, uint64_t h)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 16, 100, 4096, 16384,
		CUT_AT_LAST };
	size_t small = 1 + (size_t)((h >> 8) % 512);
	struct pass whole, parts, tight;

	run_pass(&whole, data, size, RELAY_SSE_LINE_MAX, h, 0, 0);
	check_pass(&whole, data, size, RELAY_SSE_LINE_MAX);
	run_pass(&parts, data, size, RELAY_SSE_LINE_MAX, h,
	    chunks[h % NELEM(chunks)], 0);
	check_pass(&parts, data, size, RELAY_SSE_LINE_MAX);
	/* At the real cap every line of the input fits: chunks change nothing. */
	if (whole.r.started != parts.r.started ||
	    whole.r.done_seen != parts.r.done_seen ||
	    whole.r.error_seen != parts.r.error_seen ||
	    whole.out.len != parts.out.len ||
	    memcmp(whole.out.data, parts.out.data, whole.out.len) != 0)
		abort();
	/* A cap the input can pass; now and then the client leaves. */
	run_pass(&tight, data, size, small, h >> 3,
	    chunks[(h >> 20) % NELEM(chunks)], (h >> 40) % 8 == 0);
	check_pass(&tight, data, size, small);
	pass_free(&whole);
	pass_free(&parts);
	pass_free(&tight);
}

/* ---- the answer's headers and body --------------------------------- */

/*
 * A header's value as the contract says: blanks, 1 to 18 digits, blanks
 * and the line's end; -1 for anything else.
 */
static long long
plain_number(const char *v, size_t n)
{
	size_t i = 0, digits = 0;
	long long out = 0;

	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	while (i < n && v[i] >= '0' && v[i] <= '9') {
		if (++digits > 18)
			return -1;
		out = out * 10 + (v[i++] - '0');
	}
	while (i < n && strchr(" \t\r\n", v[i]) != NULL && v[i] != '\0')
		i++;
	return digits > 0 && i == n ? out : -1;
}

/* One header line, in a buffer of its own, and what it must change. */
static void
header_line(struct orcall_call *c, const char *p, size_t n)
{
	long long retry = c->retry_after_s, reset = c->reset_ms, v;
	char *line = xmalloc(n > 0 ? n : 1);

	memcpy(line, p, n);
	orcall_header(c, line, n);
	free(line);
	if (n > 5 && memcmp(p, "HTTP/", 5) == 0) {
		retry = reset = -1;
	} else if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		retry = plain_number(p + 12, n - 12);
	} else if (n > 18 && strncasecmp(p, "x-ratelimit-reset:", 18) == 0) {
		v = plain_number(p + 18, n - 18);
		reset = v < 0 ? -1 : v < 100000000000LL ? v * 1000 : v;
	}
	if (c->retry_after_s != retry || c->reset_ms != reset)
		abort();
}

/* Each line of the input as a header, and its first as both values. */
static void
fuzz_headers(
    const uint8_t *data, size_t size, long long *retry, long long *reset)
{
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', size);
	size_t first = nl != NULL ? (size_t)(nl - p) + 1 : size, i, k;
	struct orcall_call c;
	struct buf b;

	memset(&c, 0, sizeof(c));
	c.retry_after_s = c.reset_ms = -1;
	for (i = 0; i < size; i += k) {
		nl = memchr(p + i, '\n', size - i);
		k = nl != NULL ? (size_t)(nl - (p + i)) + 1 : size - i;
		header_line(&c, p + i, k);
	}
	buf_init(&b, first + 32);
	buf_puts(&b, "Retry-After:");
	buf_append(&b, p, first);
	header_line(&c, b.data, b.len);
	buf_reset(&b);
	buf_puts(&b, "X-RateLimit-Reset:");
	buf_append(&b, p, first);
	header_line(&c, b.data, b.len);
	buf_free(&b);
	*retry = c.retry_after_s;
	*reset = c.reset_ms;
}

/* A body the router answers with: an object with a choices array. */
static int
completion_ok(const uint8_t *data, size_t size)
{
	struct json_object *o, *v;
	char why[64];
	int ok;

	o = json_parse((const char *)data, size, 64, why, sizeof(why));
	ok = o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "choices", &v) &&
	    json_object_is_type(v, json_type_array);
	json_object_put(o);
	return ok;
}

static int
no_sink(void *arg, const char *p, size_t n)
{
	(void)arg, (void)p, (void)n;
	abort(); /* classify never calls it */
}

static void
check_outcome(const struct orcall_call *c, int completion, const uint8_t *data,
    size_t size)
{
	enum attempt_outcome o = orcall_classify(c);

	if (o >= ATTEMPT__MAX || strcmp(attempt_name(o), "unknown") == 0)
		abort();
	if (c->status == 429) {
		if (o != ATTEMPT_RATE_LIMITED && o != ATTEMPT_ACCOUNT_QUOTA)
			abort();
		if (o == ATTEMPT_ACCOUNT_QUOTA &&
		    !has((const char *)data, size, "free-models-per-"))
			abort();
	} else if (c->status == 200) {
		if (c->sink != NULL
		        ? o != ATTEMPT_SUCCESS
		        : o != ATTEMPT_SUCCESS && o != ATTEMPT_ERROR)
			abort();
		if (c->sink == NULL && o == ATTEMPT_SUCCESS && !completion)
			abort(); /* answer_success() would add to a non-object */
	} else if (o == ATTEMPT_SUCCESS) {
		abort();
	}
}

static void
fuzz_answer(const uint8_t *data, size_t size, long long retry, long long reset)
{
	static const long statuses[] = { 200, 400, 401, 402, 404, 408, 429, 500,
		502, 503 };
	static const size_t sizes[] = { 1, 2, 17, 200, 256 };
	int completion = completion_ok(data, size);
	struct orcall_call c;
	char msg[256];
	long long wait;
	size_t i;

	memset(&c, 0, sizeof(c));
	buf_init(&c.body, size + 1);
	if (buf_append(&c.body, data, size) != 0)
		abort();
	c.fail = ORC_OK;
	for (i = 0; i < NELEM(statuses); i++) {
		c.status = statuses[i];
		c.sink = NULL;
		check_outcome(&c, completion, data, size);
		c.sink = no_sink;
		check_outcome(&c, completion, data, size);
	}
	c.sink = NULL;
	/* The quota's wait with the headers the input gave, and without. */
	c.retry_after_s = retry;
	c.reset_ms = reset;
	wait = orcall_quota_wait(&c, NOW_MS);
	if (wait < 1 || wait > 86400)
		abort();
	c.retry_after_s = c.reset_ms = -1;
	wait = orcall_quota_wait(&c, NOW_MS);
	if (wait < 1 || wait > 86400)
		abort();
	for (i = 0; i < NELEM(sizes); i++) {
		memset(msg, 'x', sizeof(msg));
		orcall_error_message(&c, msg, sizes[i]);
		check_one_line(msg, sizes[i]);
		if (sizes[i] == 1 && msg[0] != '\0')
			abort();
	}
	buf_free(&c.body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = hash_of(data, size);
	long long retry, reset;

	catalog_setup();
	fuzz_body(data, size);
	fuzz_stream(data, size, h);
	fuzz_headers(data, size, &retry, &reset);
	fuzz_answer(data, size, retry, reset);
	return 0;
}
