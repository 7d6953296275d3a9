#include "fetch.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"

#define FETCH_MAX_REDIRECTS 3L
/* How long one curl_multi_poll() waits when nothing happens. */
#define FETCH_POLL_MS 1000

/* One transfer's handle and what must live as long as it. */
struct transfer {
	CURL *h;
	struct curl_slist *headers;
	struct fetch_result *r;
	long long max_bytes;
	char errbuf[CURL_ERROR_SIZE];
};

int
fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

void
fetch_result_free(struct fetch_result *r)
{
	if (r == NULL)
		return;
	if (r->body.data != NULL)
		buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

static void
result_init(struct fetch_result *r, long long max_bytes)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, (size_t)max_bytes);
	r->status = FETCH_SETUP;
}

int
fetch_protocols(const char *url, const char **protocols, const char **redirects)
{
	static const struct {
		const char *scheme, *protocols, *redirects;
	} table[] = {
		{ "https://", "https", "https" },
		/*
		 * Upgrading to https is fine (libcurl checks a redirect
		 * against both lists); a file: URL never is.
		 */
		{ "http://", "http,https", "http,https" },
		{ "file://", "file", "file" },
	};
	size_t i;

	for (i = 0; i < NELEM(table); i++)
		if (strncmp(url, table[i].scheme, strlen(table[i].scheme)) ==
		    0) {
			*protocols = table[i].protocols;
			*redirects = table[i].redirects;
			return 0;
		}
	*protocols = *redirects = NULL;
	return -1;
}

int
fetch_join(struct buf *b, const char *base, const char *path)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (buf_append(b, base, n) != 0)
		return -1;
	return buf_puts(b, path);
}

int
fetch_bearer(struct buf *line, const char *token)
{
	const char *p;

	buf_reset(line);
	if (*token == '\0')
		return -1;
	for (p = token; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p >= 0x7f)
			return -1;
	return buf_printf(line, "Authorization: Bearer %s", token) == 0 ? 0
	                                                                : -2;
}

static void
sleep_ms(long long ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
		(long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* curl's write callback: append to the capped buffer, or stop. */
static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (size != 0 && n > SIZE_MAX / size)
		return 0;
	/* A short count makes curl abort with CURLE_WRITE_ERROR. */
	if (buf_append(b, p, size * n) != 0)
		return 0;
	return size * n;
}

static void
add_header(struct transfer *t, const char *line)
{
	struct curl_slist *l = curl_slist_append(t->headers, line);

	if (l == NULL)
		abort(); /* out of memory, as xmalloc would */
	t->headers = l;
}

/* The options every transfer has. */
static const struct {
	CURLoption opt;
	const char *val;
} string_opts[] = {
	{ CURLOPT_USERAGENT, FETCH_USER_AGENT },
	/* Any encoding curl can undo; the write cap counts decoded bytes. */
	{ CURLOPT_ACCEPT_ENCODING, "" },
};

static const struct {
	CURLoption opt;
	long val;
} long_opts[] = {
	{ CURLOPT_FOLLOWLOCATION, 1L },
	{ CURLOPT_MAXREDIRS, FETCH_MAX_REDIRECTS },
	/* No SIGALRM for DNS timeouts: the API worker owns its signals. */
	{ CURLOPT_NOSIGNAL, 1L },
};

static int
set_fixed_options(CURL *h)
{
	size_t i;

	for (i = 0; i < NELEM(string_opts); i++)
		if (curl_easy_setopt(
		        h, string_opts[i].opt, string_opts[i].val) != CURLE_OK)
			return -1;
	for (i = 0; i < NELEM(long_opts); i++)
		if (curl_easy_setopt(h, long_opts[i].opt, long_opts[i].val) !=
		    CURLE_OK)
			return -1;
	return 0;
}

/* The options that come from the URL and the caller. */
static int
set_run_options(struct transfer *t, const char *url, const char *protocols,
    const char *redirects, const struct fetch_opts *o)
{
	CURL *h = t->h;

	/* A declared length over the cap fails before the body comes. */
	if (curl_easy_setopt(h, CURLOPT_URL, url) ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols) ||
	    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, redirects) ||
	    curl_easy_setopt(
	        h, CURLOPT_CONNECTTIMEOUT, (long)o->connect_timeout_s) ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)o->timeout_s) ||
	    curl_easy_setopt(
	        h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes) ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t->r->body) ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers) ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf) ||
	    curl_easy_setopt(h, CURLOPT_PRIVATE, t))
		return -1;
	if (o->ca_file != NULL &&
	    curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file) != CURLE_OK)
		return -1;
	return 0;
}

static void
transfer_cleanup(struct transfer *t)
{
	curl_easy_cleanup(t->h);
	curl_slist_free_all(t->headers);
	t->h = NULL;
	t->headers = NULL;
}

/*
 * A handle for url with every option set, into *t (which must outlive
 * the transfer).  Returns 0, or -1 with r->status FETCH_SETUP and the
 * reason in r->err.
 */
static int
transfer_setup(struct transfer *t, const char *url, const struct fetch_opts *o,
    struct fetch_result *r)
{
	const char *protocols, *redirects;

	memset(t, 0, sizeof(*t));
	t->r = r;
	t->max_bytes = o->max_bytes;
	r->status = FETCH_SETUP;
	if (fetch_protocols(url, &protocols, &redirects) != 0) {
		snprintf(
		    r->err, sizeof(r->err), "not an https, http or file URL");
		return -1;
	}
	t->h = curl_easy_init();
	if (t->h == NULL) {
		snprintf(r->err, sizeof(r->err), "libcurl did not start");
		return -1;
	}
	if (o->auth != NULL)
		add_header(t, o->auth);
	add_header(t, "Accept: application/json");
	if (set_fixed_options(t->h) != 0 ||
	    set_run_options(t, url, protocols, redirects, o) != 0) {
		snprintf(r->err, sizeof(r->err),
		    "libcurl refused an option "
		    "(libcurl 7.85 or newer is needed)");
		transfer_cleanup(t);
		return -1;
	}
	return 0;
}

/* Errors where the same request may well work a moment later. */
static int
retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/*
 * How a finished transfer went, into its result; 1 when another try
 * may do better (a network error or a 5xx), else 0.
 */
static int
classify(struct transfer *t, CURLcode rc)
{
	struct fetch_result *r = t->r;
	long status = 0;

	if (r->body.over || rc == CURLE_FILESIZE_EXCEEDED) {
		r->status = FETCH_TOO_BIG;
		snprintf(r->err, sizeof(r->err),
		    "response body larger than %lld bytes", t->max_bytes);
		return 0;
	}
	if (rc != CURLE_OK) {
		r->status = FETCH_NETWORK;
		snprintf(r->err, sizeof(r->err), "%s",
		    t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(rc));
		text_one_line(r->err);
		return retryable(rc);
	}
	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	r->http_status = status;
	/* 0: no HTTP status at all, as for a file:// URL. */
	if (status == 0 || (status >= 200 && status <= 299)) {
		r->status = FETCH_OK;
		r->err[0] = '\0';
		return 0;
	}
	r->status = FETCH_HTTP;
	snprintf(r->err, sizeof(r->err), "HTTP %ld", status);
	return status >= 500 && status <= 599;
}

/* Ready a result for another try of the same transfer. */
static void
result_retry(struct transfer *t)
{
	buf_reset(&t->r->body);
	t->r->body.over = 0;
	t->r->http_status = 0;
	t->errbuf[0] = '\0';
}

enum fetch_status
fetch_one(const char *url, const struct fetch_opts *o, struct fetch_result *r)
{
	struct transfer t;
	long long delay = o->retry_delay_ms;
	int tries = o->tries < 1 ? 1 : o->tries, again;

	if (tries > FETCH_MAX_TRIES)
		tries = FETCH_MAX_TRIES;
	result_init(r, o->max_bytes);
	if (transfer_setup(&t, url, o, r) != 0)
		return r->status;
	for (r->tries = 1;; r->tries++) {
		result_retry(&t);
		again = classify(&t, curl_easy_perform(t.h));
		if (!again || r->tries == tries)
			break;
		if (o->what != NULL)
			log_warn("%s try %d of %d failed: %s; next in %lld ms",
			    o->what, r->tries, tries, r->err, delay);
		sleep_ms(delay);
		delay *= 2;
	}
	transfer_cleanup(&t);
	return r->status;
}

/* Start job i of a batch: 0 when it runs, -1 when it failed at once. */
static int
batch_start(CURLM *m, struct fetch_job *job, struct transfer *t,
    const struct fetch_opts *o)
{
	result_init(&job->res, o->max_bytes);
	job->res.tries = 1;
	if (transfer_setup(t, job->url, o, &job->res) != 0)
		return -1;
	if (curl_multi_add_handle(m, t->h) != CURLM_OK) {
		snprintf(job->res.err, sizeof(job->res.err),
		    "libcurl refused a transfer");
		transfer_cleanup(t);
		return -1;
	}
	return 0;
}

/* Collect the transfers that ended; the number of them. */
static size_t
batch_collect(CURLM *m)
{
	CURLMsg *msg;
	size_t done = 0;
	int left;

	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		struct transfer *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
		if (t == NULL)
			continue;
		classify(t, msg->data.result);
		curl_multi_remove_handle(m, t->h);
		transfer_cleanup(t);
		done++;
	}
	return done;
}

/* After a failure of the multi interface: end what still runs. */
static void
batch_abort(CURLM *m, struct transfer *ts, size_t n, const char *why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ts[i].h == NULL)
			continue;
		curl_multi_remove_handle(m, ts[i].h);
		ts[i].r->status = FETCH_NETWORK;
		snprintf(
		    ts[i].r->err, sizeof(ts[i].r->err), "libcurl: %s", why);
		transfer_cleanup(&ts[i]);
	}
}

/* Mark jobs [from, n) as never started. */
static void
batch_skip(struct fetch_job *jobs, size_t from, size_t n,
    const struct fetch_opts *o, const char *why)
{
	size_t i;

	for (i = from; i < n; i++) {
		result_init(&jobs[i].res, o->max_bytes);
		snprintf(jobs[i].res.err, sizeof(jobs[i].res.err), "%s", why);
	}
}

/* The batch's loop: start jobs as slots free up, until all ended. */
static int
batch_run(CURLM *m, struct fetch_job *jobs, struct transfer *ts, size_t n,
    size_t concurrency, const struct fetch_opts *o)
{
	size_t next = 0, running = 0;
	CURLMcode mc = CURLM_OK;
	int still;

	while (next < n || running > 0) {
		while (running < concurrency && next < n) {
			if (batch_start(m, &jobs[next], &ts[next], o) == 0)
				running++;
			next++;
		}
		mc = curl_multi_perform(m, &still);
		if (mc == CURLM_OK)
			running -= batch_collect(m);
		if (mc == CURLM_OK && running > 0)
			mc = curl_multi_poll(m, NULL, 0, FETCH_POLL_MS, NULL);
		if (mc != CURLM_OK)
			break;
	}
	if (mc == CURLM_OK)
		return 0;
	batch_abort(m, ts, next, curl_multi_strerror(mc));
	batch_skip(jobs, next, n, o, "not started: libcurl failed");
	return -1;
}

int
fetch_batch(struct fetch_job *jobs, size_t n, size_t concurrency,
    const struct fetch_opts *o)
{
	struct transfer *ts;
	CURLM *m;
	int rc;

	if (n == 0)
		return 0;
	m = curl_multi_init();
	if (m == NULL) {
		batch_skip(jobs, 0, n, o, "libcurl multi did not start");
		return -1;
	}
	ts = xcalloc(n, sizeof(*ts));
	rc = batch_run(m, jobs, ts, n, concurrency < 1 ? 1 : concurrency, o);
	free(ts);
	curl_multi_cleanup(m);
	return rc;
}
