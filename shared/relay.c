#include "relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"

enum db_status
relay_slot_take(struct db *db, long long uid, long long slots, int *slot)
{
	char u[24], n[24];
	const char *params[2] = { u, n };
	enum db_status st;
	PGresult *r;

	*slot = -1;
	snprintf(u, sizeof(u), "%lld", uid);
	snprintf(n, sizeof(n), "%lld", slots);
	r = db_exec(db, STMT_ROUTER_SLOT_TAKE, params, 2, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 1)
		*slot = (int)db_get_ll(r, 0, 0, -1);
	PQclear(r);
	return DB_OK;
}

void
relay_slot_release(struct db *db, long long uid, int slot)
{
	char u[24], s[16];
	const char *params[2] = { u, s };
	enum db_status st;
	PGresult *r;

	if (slot < 0)
		return;
	snprintf(u, sizeof(u), "%lld", uid);
	snprintf(s, sizeof(s), "%d", slot);
	r = db_exec(db, STMT_ROUTER_SLOT_RELEASE, params, 2, &st);
	/* A lost connection already released it. */
	if (r == NULL)
		log_warn("router slot %d of user %lld: not released (%d)", slot,
		    uid, (int)st);
	PQclear(r);
}

enum db_status
relay_order(struct db *db, const struct model **v, int n)
{
	const struct model *tmp[CHAT_MODELS_MAX + 1];
	const struct model **late = NULL;
	enum db_status st;
	PGresult *r;
	int i, k, rows, kept = 0, cooled = 0, is_late;

	r = db_exec(db, STMT_ROUTER_COOLDOWNS, NULL, 0, &st);
	if (r == NULL)
		return st;
	rows = PQntuples(r);
	if (rows > 0 && n > 0) {
		late = n <= (int)NELEM(tmp) ? tmp
		                            : xcalloc((size_t)n, sizeof(*late));
		for (i = 0; i < n; i++) {
			for (k = 0, is_late = 0; k < rows && !is_late; k++)
				is_late =
				    strcmp(PQgetvalue(r, k, 0), v[i]->id) == 0;
			if (is_late)
				late[cooled++] = v[i];
			else
				v[kept++] = v[i];
		}
		memcpy(v + kept, late, (size_t)cooled * sizeof(*v));
		if (late != tmp)
			free(late);
	}
	PQclear(r);
	return DB_OK;
}

/* The details of an attempt's report: what the router saw. */
static void
report_details(const struct relay *r, const struct relay_attempt *a, char *out,
    size_t outsz)
{
	switch (a->fail) {
	case ORC_FIRST_BYTE:
		snprintf(out, outsz, "router: no answer within %lld s",
		    r->cfg->router_first_byte_s);
		return;
	case ORC_TIMEOUT:
		snprintf(out, outsz, "router: the answer took over %lld s",
		    r->cfg->router_timeout_s);
		return;
	case ORC_TOO_BIG:
		snprintf(out, outsz, "router: the answer passed %lld bytes",
		    r->cfg->router_max_bytes);
		return;
	case ORC_DROPPED:
		snprintf(out, outsz,
		    "router: the connection broke off "
		    "(HTTP %ld)",
		    a->status);
		return;
	default:
		break;
	}
	if (r->started && a->outcome != ATTEMPT_SUCCESS)
		snprintf(out, outsz, "router: the stream broke off%s",
		    r->error_seen ? " with an error event" : "");
	else if (a->outcome == ATTEMPT_SUCCESS)
		snprintf(out, outsz, "router: HTTP %ld", a->status);
	else if (a->status >= 200 && a->status <= 299)
		snprintf(out, outsz, "router: HTTP %ld, not a chat completion",
		    a->status);
	else
		snprintf(out, outsz, "router: HTTP %ld", a->status);
}

/* Store the attempt's report; a failure is logged, never fatal. */
static void
report(struct relay *r, const struct relay_attempt *a)
{
	const char *outcome = attempt_report_outcome(a->outcome);
	char details[128], wait[24], uid[24];
	const char *params[7];
	enum db_status st;
	PGresult *res;

	if (outcome == NULL)
		return;
	report_details(r, a, details, sizeof(details));
	snprintf(wait, sizeof(wait), "%lld", r->call.retry_after_s);
	snprintf(uid, sizeof(uid), "%lld", r->user_id);
	params[0] = a->m->id;
	params[1] = uid;
	params[2] = r->key_id;
	params[3] = r->request_id;
	params[4] = outcome;
	params[5] = details;
	params[6] =
	    a->outcome == ATTEMPT_RATE_LIMITED && r->call.retry_after_s > 0
	    ? wait
	    : NULL;
	res = db_exec(r->db, STMT_ROUTER_REPORT, params, 7, &st);
	if (res == NULL)
		log_warn("report of %s (%s) not stored: %d", a->m->id, outcome,
		    (int)st);
	PQclear(res);
}

/* 1 when needle is among the n bytes at l. */
static int
contains(const char *l, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (l[i] == needle[0] && memcmp(l + i, needle, k) == 0)
			return 1;
	return 0;
}

/* One whole line of the stream after it began: does it end the stream? */
static void
track_line(struct relay *r, const char *l, size_t n)
{
	while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == '\n'))
		n--;
	if (n == 12 && memcmp(l, "data: [DONE]", 12) == 0)
		r->done_seen = 1;
	else if (n > 5 && memcmp(l, "data:", 5) == 0 &&
	    contains(l, n, "\"finish_reason\":\"error\""))
		r->error_seen = 1;
}

/* Follow the lines of bytes relayed, which may split lines anywhere. */
static void
track(struct relay *r, const char *p, size_t n)
{
	const char *nl;

	while (n > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		size_t k = (size_t)(nl - p) + 1;

		if (r->line.over) {
			buf_reset(&r->line); /* too long to look into */
			r->line.over = 0;
		} else if (r->line.len > 0) {
			/* Over the cap with its end: not its start alone. */
			if (buf_append(&r->line, p, k) == 0)
				track_line(r, r->line.data, r->line.len);
			buf_reset(&r->line);
		} else {
			track_line(r, p, k);
		}
		p += k;
		n -= k;
	}
	if (n > 0)
		(void)buf_append(&r->line, p, n);
}

/*
 * The first event's line is whole in r->pending: send the head, then the
 * line and the rest of the chunk (in one write when they fit together).
 */
static int
first_event(struct relay *r, const char *rest, size_t n)
{
	r->started = r->call.started = 1;
	if (r->begin(r->arg, r->streaming, r->attempts + 1) != 0)
		return -1;
	if (n > 0 && buf_append(&r->pending, rest, n) == 0)
		n = 0;
	track(r, r->pending.data, r->pending.len);
	if (r->write(r->arg, r->pending.data, r->pending.len) != 0)
		return -1;
	if (n == 0)
		return 0;
	track(r, rest, n);
	return r->write(r->arg, rest, n);
}

/*
 * Until the first event, lines are held back and comments (": OPENROUTER
 * PROCESSING") dropped, so another model can still be tried; from the
 * first event on, every byte goes to the client as it comes.  The cap is
 * on each line before the first event, newline included, whatever the
 * chunks bring with it: only the line is held, never the rest of a chunk.
 */
int
relay_stream_sink(void *arg, const char *p, size_t n)
{
	struct relay *r = arg;

	if (r->started) {
		track(r, p, n);
		return r->write(r->arg, p, n);
	}
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl != NULL ? (size_t)(nl - p) + 1 : n;
		char first;

		if (buf_append(&r->pending, p, k) != 0) {
			r->bad_stream = 1; /* not a stream */
			return -1;
		}
		if (nl == NULL)
			return 0; /* the line goes on in the next chunk */
		first = r->pending.data[0];
		if (first != ':' && first != '\n' && first != '\r')
			return first_event(r, p + k, n - k);
		buf_reset(&r->pending); /* a comment or a blank line */
		p += k;
		n -= k;
	}
	return 0;
}

void
relay_stream_init(struct relay *r, size_t line_max)
{
	r->started = r->call.started = 0;
	r->done_seen = r->error_seen = r->bad_stream = 0;
	buf_init(&r->pending, line_max);
	buf_init(&r->line, line_max);
}

void
relay_stream_free(struct relay *r)
{
	buf_free(&r->pending);
	buf_free(&r->line);
}

/* What a streamed attempt came to, once its transfer ended. */
static enum attempt_outcome
stream_outcome(const struct relay *r, enum attempt_outcome o)
{
	if (o == ATTEMPT_CLIENT_GONE && !r->bad_stream)
		return o;
	if (!r->started)
		return r->bad_stream || o == ATTEMPT_SUCCESS ? ATTEMPT_ERROR
		                                             : o;
	if (o == ATTEMPT_SUCCESS && r->done_seen && !r->error_seen)
		return ATTEMPT_SUCCESS;
	return ATTEMPT_ERROR;
}

/* One attempt on model m; its outcome, the answer in r->call. */
static enum attempt_outcome
attempt(struct relay *r, const struct model *m, double budget_left_ms,
    struct buf *body, struct buf *url)
{
	const struct config *cfg = r->cfg;
	struct orcall_call *c = &r->call;
	double first = (double)cfg->router_first_byte_s * 1000.0;

	memset(c, 0, sizeof(*c));
	buf_reset(body);
	if (chat_upstream_body(r->cr, m->id, body) != 0) {
		buf_init(&c->body, 1);
		c->fail = ORC_TOO_BIG;
		return ATTEMPT_ERROR;
	}
	c->url = url->data;
	c->key = r->key;
	c->payload = body->data;
	c->payload_len = body->len;
	c->allow_http = strncmp(cfg->openrouter_base_url, "http://", 7) == 0;
	c->stream = r->cr->stream;
	c->connect_timeout_ms = cfg->router_connect_timeout_s * 1000;
	/* Waiting for a first byte is bounded by the budget, too. */
	c->first_byte_ms =
	    (long long)(first < budget_left_ms ? first : budget_left_ms);
	if (c->first_byte_ms < 1000)
		c->first_byte_ms = 1000;
	c->total_ms = cfg->router_timeout_s * 1000;
	c->max_bytes = (size_t)cfg->router_max_bytes;
	if (r->cr->stream) {
		c->sink = relay_stream_sink;
		c->sink_arg = r;
		r->streaming = m;
		buf_reset(&r->pending);
		buf_reset(&r->line);
		r->done_seen = r->error_seen = r->bad_stream = 0;
	}
	if (orcall_run(r->up, c) != 0) {
		log_error("router: %s", c->error);
		return ATTEMPT_ERROR;
	}
	if (r->cr->stream)
		return stream_outcome(r, orcall_classify(c));
	return orcall_classify(c);
}

/* Whether the outcome lets another model be tried. */
static int
goes_on(enum attempt_outcome o)
{
	return o == ATTEMPT_RATE_LIMITED || o == ATTEMPT_UNAVAILABLE ||
	    o == ATTEMPT_ERROR || o == ATTEMPT_UNREACHABLE;
}

void
relay_run(struct relay *r)
{
	long long budget = r->cfg->router_budget_s * 1000;
	long long max = r->cr->p.max_attempts;
	double started = mono_ms();
	struct buf body, url;
	size_t base_len;
	int i;

	r->attempts = 0;
	r->outcome = ATTEMPT_ERROR;
	r->retry_after = -1;
	relay_stream_init(r, RELAY_SSE_LINE_MAX);
	memset(&r->call, 0, sizeof(r->call));
	buf_init(&r->call.body, 1);
	buf_init(&body, 2 * (size_t)r->cfg->router_max_bytes + 65536);
	buf_init(&url, 4096);
	/* "…/v1/" and "…/v1" name the same base. */
	base_len = strlen(r->cfg->openrouter_base_url);
	while (base_len > 0 && r->cfg->openrouter_base_url[base_len - 1] == '/')
		base_len--;
	buf_printf(&url, "%.*s/chat/completions", (int)base_len,
	    r->cfg->openrouter_base_url);
	for (i = 0; i < r->n_cand && r->attempts < max; i++) {
		struct relay_attempt *a = &r->tried[r->attempts];
		double spent = mono_ms() - started;

		if (r->attempts > 0 && spent >= (double)budget)
			break;
		buf_free(&r->call.body);
		a->m = r->cand[i];
		a->outcome =
		    attempt(r, a->m, (double)budget - spent, &body, &url);
		a->status = r->call.status;
		a->fail = r->call.fail;
		r->attempts++;
		r->outcome = a->outcome;
		log_info("router: attempt %d: %s: %s (HTTP %ld)", r->attempts,
		    a->m->id, attempt_name(a->outcome), a->status);
		if (a->outcome == ATTEMPT_RATE_LIMITED &&
		    r->call.retry_after_s >= 0 &&
		    (r->retry_after < 0 ||
		        r->call.retry_after_s < r->retry_after))
			r->retry_after = r->call.retry_after_s;
		report(r, a);
		/* Once a stream has begun, its answer is this model's. */
		if (!goes_on(a->outcome) || r->started)
			break;
	}
	buf_free(&body);
	buf_free(&url);
	relay_stream_free(r);
}

void
relay_stream_error(const struct relay *r, struct buf *out)
{
	const struct relay_attempt *a = &r->tried[r->attempts - 1];
	char why[160];

	snprintf(why, sizeof(why), "the stream of %s broke off: %s", a->m->id,
	    a->fail == ORC_TIMEOUT       ? "it took too long"
	        : a->fail == ORC_TOO_BIG ? "it passed the size cap"
	        : r->error_seen          ? "the model reported an error"
	                                 : "the connection ended early");
	buf_puts(out, "data: {\"error\":{\"message\":");
	json_escape(out, why, strlen(why));
	buf_puts(out, ",\"code\":502,\"type\":\"upstream_failed\"}}\n\n");
}

void
relay_summary(const struct relay *r, char *out, size_t outsz)
{
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < r->attempts && used < outsz; i++) {
		const struct relay_attempt *a = &r->tried[i];
		const char *why = a->fail == ORC_FIRST_BYTE ? "no first byte"
		    : a->fail == ORC_TIMEOUT                ? "too slow"
		    : a->fail == ORC_TOO_BIG                ? "too big"
		    : a->fail == ORC_CONNECT                ? "no connection"
		    : a->fail == ORC_DROPPED                ? "broke off"
		                                            : NULL;

		if (why != NULL)
			used += (size_t)snprintf(out + used, outsz - used,
			    "%s%s: %s (%s)", i > 0 ? "; " : "", a->m->id,
			    attempt_name(a->outcome), why);
		else
			used += (size_t)snprintf(out + used, outsz - used,
			    "%s%s: %s (HTTP %ld)", i > 0 ? "; " : "", a->m->id,
			    attempt_name(a->outcome), a->status);
	}
}
