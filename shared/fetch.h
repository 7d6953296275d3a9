/*
 * HTTP GETs for flr-sync, through libcurl: one transfer at a time with
 * retries (fetch_one, the easy interface), or a batch of transfers run
 * concurrently (fetch_batch, the multi interface).  Every transfer has
 * a connect timeout, a total timeout and a body cap, and speaks only
 * the protocol of its own URL: an https:// URL stays on https (a
 * redirect to http:// or anywhere else fails), an http:// URL may be
 * redirected to https:// or http://, and a file:// URL reads a file
 * (the bundled catalogue snapshot) and is never redirected.
 *
 * Reasons are one line of printable ASCII: they end up on a terminal,
 * in the journal and in text columns, and upstream bytes (a redirect's
 * host name in a curl message) may be anything.
 */
#ifndef FLR_FETCH_H
#define FLR_FETCH_H

#include <stddef.h>

#include "util.h"

/* The most tries fetch_one() makes (SPEC 7: up to 3). */
#define FETCH_MAX_TRIES 3
#define FETCH_USER_AGENT "flr-sync/0.1"
#define FETCH_ERR_LEN 320

enum fetch_status {
	FETCH_OK, /* a 2xx answer (or a file read): the body is complete */
	FETCH_HTTP, /* an HTTP status other than 2xx: see http_status */
	FETCH_TOO_BIG, /* the body would have gone over max_bytes */
	FETCH_NETWORK, /* connect, DNS, TLS, timeout, redirect, protocol */
	FETCH_SETUP, /* bad URL or header, libcurl refused an option */
	FETCH__MAX
};

/* How to fetch; the same for every transfer of a call. */
struct fetch_opts {
	long long connect_timeout_s;
	long long timeout_s; /* the whole transfer, per try */
	long long max_bytes; /* body cap, after decoding */
	long long retry_delay_ms; /* fetch_one: before try 2, doubled after */
	int tries; /* fetch_one: 1 to FETCH_MAX_TRIES */
	const char *auth; /* a whole header line ("Authorization: …") or NULL */
	const char *what; /* fetch_one: names the retry warnings; NULL: none */
	const char *ca_file; /* PEM of the authorities to trust; NULL: system */
};

/*
 * The outcome of one transfer.  body holds what arrived (complete only
 * with FETCH_OK); err says why otherwise ("HTTP 500", "response body
 * larger than 1024 bytes", curl's message).  Release with
 * fetch_result_free().
 */
struct fetch_result {
	enum fetch_status status;
	long http_status; /* 0 when there was no HTTP answer */
	int tries;
	struct buf body;
	char err[FETCH_ERR_LEN];
};

/* One transfer of a batch: the URL (the caller's) and its outcome. */
struct fetch_job {
	const char *url;
	struct fetch_result res;
};

/*
 * Start and stop libcurl for the process: fetch_global_init() once at
 * start-up, before any thread exists (0, or -1 when libcurl cannot
 * start), fetch_global_cleanup() at exit.
 */
int fetch_global_init(void) WUR;
void fetch_global_cleanup(void);

/*
 * GET url into r (initialised here; the caller calls fetch_result_free
 * even on failure).  Network errors and 5xx answers are tried again up
 * to o->tries times in all, after o->retry_delay_ms, doubling; each
 * failed try but the last is logged as a warning when o->what is set.
 * Returns r->status.
 */
enum fetch_status fetch_one(
    const char *url, const struct fetch_opts *o, struct fetch_result *r) WUR;

/*
 * GET every job's URL, at most concurrency (>= 1) at a time, one try
 * each, into each job's res (initialised here; the caller frees each
 * with fetch_result_free).  One job's failure is that job's outcome
 * only.  Returns 0, or -1 when libcurl's multi interface did not start
 * (every job then fails with FETCH_SETUP).
 */
int fetch_batch(struct fetch_job *jobs, size_t n, size_t concurrency,
    const struct fetch_opts *o) WUR;

/* Free what a fetch put in r; NULL-safe, r can be fetched into again. */
void fetch_result_free(struct fetch_result *r);

/*
 * The protocols a transfer of url may use (*protocols) and be
 * redirected to (*redirects), as libcurl's comma lists; NULL for both
 * (and -1) when url is not https://, http:// or file://.  Exposed for
 * the unit tests; returns 0 or -1.
 */
int fetch_protocols(
    const char *url, const char **protocols, const char **redirects) WUR;

/*
 * The header line "Authorization: Bearer <token>" into line (reset
 * first).  Returns 0; -1 when token is empty or holds a space or
 * control character (it would break the header), -2 when line's cap
 * is too small for it.
 */
int fetch_bearer(struct buf *line, const char *token) WUR;

/*
 * Append base (without its trailing slashes) and then path to b, the
 * way every configured base URL is joined to a route.  Returns 0, or
 * -1 when b's cap is reached.
 */
int fetch_join(struct buf *b, const char *base, const char *path) WUR;

#endif
