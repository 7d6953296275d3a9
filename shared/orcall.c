#include "orcall.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "json.h"

#define UPSTREAM_USER_AGENT "flr-router/0.1"
#define ERROR_BODY_MAX 65536 /* an error answer we read, not relay */

struct orcall {
	CURL *h;
};

struct orcall *
orcall_new(void)
{
	struct orcall *up = xcalloc(1, sizeof(*up));

	up->h = curl_easy_init();
	if (up->h == NULL)
		abort(); /* only fails for want of memory */
	return up;
}

void
orcall_free(struct orcall *up)
{
	if (up == NULL)
		return;
	curl_easy_cleanup(up->h);
	free(up);
}

/* The state of one transfer, seen by curl's callbacks. */
struct transfer {
	struct orcall_call *call;
	CURL *h;
	double started;
	int got_header; /* the first byte of the answer came */
	int too_big;
	int client_gone;
	int first_byte_late;
};

/* Keep s one line of printable ASCII: it reaches logs and clients. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* A header's value as a non-negative integer, or -1. */
static long long
header_number(const char *v, size_t n)
{
	long long out = 0;
	size_t i = 0, digits = 0;

	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	for (; i < n && v[i] >= '0' && v[i] <= '9' && digits < 18;
	     i++, digits++)
		out = out * 10 + (v[i] - '0');
	while (i < n &&
	    (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'))
		i++;
	return digits > 0 && i == n ? out : -1;
}

/* A reset time as OpenRouter sends it: ms since the epoch (or s). */
static long long
reset_ms_of(long long v)
{
	if (v < 0)
		return -1;
	return v < 100000000000LL ? v * 1000 : v;
}

void
orcall_header(struct orcall_call *c, const char *p, size_t len)
{
	/* A new status line (after 100 Continue): forget the last one's. */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		c->retry_after_s = -1;
		c->reset_ms = -1;
	} else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		c->retry_after_s = header_number(p + 12, len - 12);
	} else if (len > 18 && strncasecmp(p, "x-ratelimit-reset:", 18) == 0) {
		c->reset_ms = reset_ms_of(header_number(p + 18, len - 18));
	}
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;

	t->got_header = 1;
	orcall_header(t->call, p, len);
	return len;
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	struct orcall_call *c = t->call;
	size_t len = size * n;
	long status = 0;

	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	if (c->sink != NULL && status >= 200 && status <= 299) {
		if (c->relayed + len > c->max_bytes) {
			t->too_big = 1;
			return 0;
		}
		if (c->sink(c->sink_arg, p, len) != 0) {
			t->client_gone = 1;
			return 0;
		}
		c->relayed += len;
		return len;
	}
	/* A short count makes curl stop with CURLE_WRITE_ERROR. */
	if (buf_append(&c->body, p, len) != 0) {
		t->too_big = 1;
		return 0;
	}
	return len;
}

/* Called at least once a second: the first-byte deadline. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct transfer *t = arg;
	int answered = t->call->sink != NULL ? t->call->started : t->got_header;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (!answered &&
	    mono_ms() - t->started > (double)t->call->first_byte_ms) {
		t->first_byte_late = 1;
		return 1;
	}
	return 0;
}

static struct curl_slist *
headers_for(const struct orcall_call *c)
{
	struct curl_slist *l = NULL, *n;
	const char *lines[4] = { "Content-Type: application/json",
		c->stream ? "Accept: text/event-stream"
		          : "Accept: application/json",
		/* Never wait for 100 Continue on a big body. */
		"Expect:", NULL };
	struct buf auth;
	size_t i;

	buf_init(&auth, 1024);
	buf_printf(&auth, "Authorization: Bearer %s", c->key);
	lines[3] = auth.data;
	for (i = 0; i < NELEM(lines); i++) {
		n = curl_slist_append(l, lines[i]);
		if (n == NULL)
			abort(); /* out of memory, as xmalloc would */
		l = n;
	}
	/* The key does not outlive the list that needs it. */
	memset(auth.data, 0, auth.len);
	buf_free(&auth);
	return l;
}

static int
set_options(CURL *h, struct transfer *t, struct curl_slist *hl)
{
	struct orcall_call *c = t->call;

	return curl_easy_setopt(h, CURLOPT_URL, c->url) ||
	        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	            c->allow_http ? "https,http" : "https") ||
	        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) ||
	        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) ||
	        curl_easy_setopt(h, CURLOPT_USERAGENT, UPSTREAM_USER_AGENT) ||
	        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") ||
	        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	            (long)c->connect_timeout_ms) ||
	        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->total_ms) ||
	        curl_easy_setopt(
	            h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_bytes) ||
	        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->payload) ||
	        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	            (curl_off_t)c->payload_len) ||
	        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl) ||
	        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) ||
	        curl_easy_setopt(h, CURLOPT_HEADERDATA, t) ||
	        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) ||
	        curl_easy_setopt(h, CURLOPT_WRITEDATA, t) ||
	        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	        curl_easy_setopt(h, CURLOPT_XFERINFODATA, t) ||
	        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L)
	    ? -1
	    : 0;
}

/* How the transfer ended, from curl's code and the callbacks' flags. */
static enum orcall_fail
fail_of(CURLcode rc, const struct transfer *t)
{
	if (t->client_gone)
		return ORC_CLIENT_GONE;
	if (t->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return ORC_TOO_BIG;
	if (t->first_byte_late)
		return ORC_FIRST_BYTE;
	switch (rc) {
	case CURLE_OK:
		return ORC_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return ORC_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return (t->call->sink != NULL ? t->call->started
		                              : t->got_header)
		    ? ORC_TIMEOUT
		    : ORC_FIRST_BYTE;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return ORC_DROPPED;
	default:
		return ORC_OTHER;
	}
}

int
orcall_run(struct orcall *up, struct orcall_call *c)
{
	struct transfer t = { 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl;
	CURLcode rc;
	int ret = 0;

	c->fail = ORC_OTHER;
	c->status = 0;
	c->relayed = 0;
	c->retry_after_s = -1;
	c->reset_ms = -1;
	c->started = 0;
	c->error[0] = '\0';
	buf_init(&c->body, c->sink != NULL ? ERROR_BODY_MAX : c->max_bytes);
	t.call = c;
	t.h = up->h;
	t.started = mono_ms();
	/* A reset handle keeps its connections: the next TLS is cheap. */
	curl_easy_reset(up->h);
	hl = headers_for(c);
	if (set_options(up->h, &t, hl) != 0 ||
	    curl_easy_setopt(up->h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK) {
		snprintf(c->error, sizeof(c->error),
		    "libcurl refused an option (7.85 or newer is needed)");
		ret = -1;
		goto out;
	}
	rc = curl_easy_perform(up->h);
	curl_easy_getinfo(up->h, CURLINFO_RESPONSE_CODE, &c->status);
	c->fail = fail_of(rc, &t);
	if (rc != CURLE_OK)
		snprintf(c->error, sizeof(c->error), "%s",
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	one_line(c->error);
out:
	/* The handle keeps no pointer into this call's memory. */
	curl_easy_setopt(up->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(up->h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hl);
	return ret;
}

/* The body as a JSON object, or NULL (caller puts it). */
static struct json_object *
body_json(const struct orcall_call *c)
{
	char err[64];

	if (c->body.len == 0)
		return NULL;
	return json_parse(c->body.data, c->body.len, 64, err, sizeof(err));
}

/* 1 when a 2xx body is a chat completion: choices, and no error. */
static int
is_completion(const struct orcall_call *c)
{
	struct json_object *o = body_json(c), *v;
	int ok;

	ok = o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "choices", &v) &&
	    json_object_is_type(v, json_type_array) &&
	    !json_object_object_get_ex(o, "error", NULL);
	json_object_put(o);
	return ok;
}

/* OpenRouter's own per-account limit of free models, not the model's. */
static int
is_account_quota(const struct orcall_call *c)
{
	return c->body.len > 0 &&
	    (strstr(c->body.data, "free-models-per-day") != NULL ||
	        strstr(c->body.data, "free-models-per-min") != NULL);
}

enum attempt_outcome
orcall_classify(const struct orcall_call *c)
{
	switch (c->fail) {
	case ORC_CLIENT_GONE:
		return ATTEMPT_CLIENT_GONE;
	case ORC_CONNECT:
		return ATTEMPT_UNREACHABLE;
	case ORC_OK:
		break;
	default:
		return ATTEMPT_ERROR;
	}
	if (c->status == 429)
		return is_account_quota(c) ? ATTEMPT_ACCOUNT_QUOTA
		                           : ATTEMPT_RATE_LIMITED;
	if (c->status == 404 || c->status == 502 || c->status == 503)
		return ATTEMPT_UNAVAILABLE;
	if (c->status == 400 || c->status == 401 || c->status == 402 ||
	    c->status == 403 || c->status == 413 || c->status == 422)
		return ATTEMPT_REFUSED;
	if (c->status < 200 || c->status > 299)
		return ATTEMPT_ERROR;
	if (c->sink != NULL)
		return ATTEMPT_SUCCESS;
	return is_completion(c) ? ATTEMPT_SUCCESS : ATTEMPT_ERROR;
}

const char *
attempt_report_outcome(enum attempt_outcome o)
{
	switch (o) {
	case ATTEMPT_SUCCESS:
		return "success";
	case ATTEMPT_RATE_LIMITED:
		return "rate_limited";
	case ATTEMPT_UNAVAILABLE:
		return "unavailable";
	case ATTEMPT_ERROR:
		return "error";
	default:
		return NULL;
	}
}

const char *
attempt_name(enum attempt_outcome o)
{
	static const char *names[ATTEMPT__MAX] = {
		[ATTEMPT_SUCCESS] = "success",
		[ATTEMPT_RATE_LIMITED] = "rate_limited",
		[ATTEMPT_ACCOUNT_QUOTA] = "account_quota",
		[ATTEMPT_UNAVAILABLE] = "unavailable",
		[ATTEMPT_ERROR] = "error",
		[ATTEMPT_UNREACHABLE] = "unreachable",
		[ATTEMPT_REFUSED] = "refused",
		[ATTEMPT_CLIENT_GONE] = "client_gone",
	};

	return o < ATTEMPT__MAX ? names[o] : "unknown";
}

/* error.metadata.headers["X-RateLimit-Reset"] of an error body, or -1. */
static long long
body_reset_ms(const struct orcall_call *c)
{
	struct json_object *o = body_json(c), *e, *m, *h, *v;
	long long out = -1;

	if (o != NULL && json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "metadata", &m) &&
	    json_object_object_get_ex(m, "headers", &h) &&
	    json_object_object_get_ex(h, "X-RateLimit-Reset", &v)) {
		if (json_object_is_type(v, json_type_string))
			out = header_number(json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		else if (json_object_is_type(v, json_type_int))
			out = json_object_get_int64(v);
		out = reset_ms_of(out);
	}
	json_object_put(o);
	return out;
}

long long
orcall_quota_wait(const struct orcall_call *c, int64_t now)
{
	long long reset = c->reset_ms >= 0 ? c->reset_ms : body_reset_ms(c);
	long long wait = 60;

	if (reset >= 0)
		wait = (reset - now + 999) / 1000;
	else if (c->retry_after_s >= 0)
		wait = c->retry_after_s;
	if (wait < 1)
		wait = 1;
	return wait > 86400 ? 86400 : wait;
}

void
orcall_error_message(const struct orcall_call *c, char *out, size_t outsz)
{
	struct json_object *o = body_json(c), *e, *m;

	out[0] = '\0';
	if (o != NULL && json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m) &&
	    json_object_is_type(m, json_type_string)) {
		snprintf(out, outsz, "%s", json_object_get_string(m));
		one_line(out);
	}
	json_object_put(o);
}
