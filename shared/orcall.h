/*
 * One chat call to OpenRouter (or whatever OPENROUTER_BASE_URL names)
 * over libcurl, and what its answer means for the router.  Every
 * transfer has a connect timeout, a first-byte timeout, a total
 * timeout and a size cap; only https is spoken unless the configured
 * base URL itself is http (a test stand-in).  Redirects are not
 * followed.  The handle lives as long as the worker so connections to
 * OpenRouter are reused.
 */
#ifndef FLR_ORCALL_H
#define FLR_ORCALL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct orcall; /* one libcurl handle per worker */

/* Returns the handle (never NULL: allocation failure aborts). */
struct orcall *orcall_new(void);
void orcall_free(struct orcall *up);

/* How a transfer ended, before its HTTP status is looked at. */
enum orcall_fail {
	ORC_OK, /* a whole response came */
	ORC_CONNECT, /* no connection to the upstream (DNS, TCP, TLS) */
	ORC_FIRST_BYTE, /* connected, but no answer within the timeout */
	ORC_TIMEOUT, /* the answer did not end within the total timeout */
	ORC_TOO_BIG, /* the answer passed the size cap */
	ORC_DROPPED, /* the connection broke off mid-answer */
	ORC_CLIENT_GONE, /* the sink refused data: our client went away */
	ORC_OTHER,
	ORC__MAX
};

/*
 * Where a successful (2xx) answer's bytes go as they arrive when
 * streaming: return 0 to go on, -1 to stop the transfer (the client is
 * gone).  Non-2xx answers are always collected in body instead, so
 * the router can still try another model.
 */
typedef int orcall_sink(void *arg, const char *p, size_t n);

struct orcall_call {
	/* in */
	const char *url;
	const char *key; /* sent as Authorization: Bearer; never logged */
	const char *payload; /* the request body */
	size_t payload_len;
	int allow_http; /* the base URL is http:// (tests) */
	int stream; /* ask for text/event-stream */
	long long connect_timeout_ms;
	long long first_byte_ms;
	long long total_ms;
	size_t max_bytes;
	orcall_sink *sink; /* NULL: collect the whole answer in body */
	void *sink_arg;
	/*
	 * Set by the sink once it relays: for a stream the first-byte clock
	 * runs until then (comments before the first event do not stop it).
	 */
	int started;
	/* out */
	enum orcall_fail fail;
	long status; /* 0: none came */
	struct buf body; /* the answer (or an error answer), capped */
	size_t relayed; /* bytes given to the sink */
	long long retry_after_s; /* Retry-After; -1: none */
	long long reset_ms; /* X-RateLimit-Reset (ms since epoch); -1 */
	char error[256]; /* curl's reason, one line of ASCII */
};

/*
 * Run call on up.  Fills the out fields (call->body is initialised
 * here; release it with buf_free).  Returns 0 when a transfer was
 * tried, -1 when libcurl refused an option.
 */
int orcall_run(struct orcall *up, struct orcall_call *call) WUR;

/*
 * Read one header line of an answer, n bytes as libcurl hands it over
 * (not NUL-terminated, CRLF included), into call: Retry-After into
 * retry_after_s, X-RateLimit-Reset into reset_ms (-1 when the value is
 * not a plain number); a status line (after a 100 Continue) forgets
 * what the last response said.  orcall_run() calls it for every line;
 * it is public so the fuzzer can reach the upstream's headers.
 */
void orcall_header(struct orcall_call *call, const char *line, size_t n);

/* What one attempt says about the model and about going on. */
enum attempt_outcome {
	ATTEMPT_SUCCESS, /* a chat completion: report success */
	ATTEMPT_RATE_LIMITED, /* 429 of the model: report, next model */
	ATTEMPT_ACCOUNT_QUOTA, /* 429 free-models-per-*: stop, no report */
	ATTEMPT_UNAVAILABLE, /* 502, 503, 404: report, next model */
	ATTEMPT_ERROR, /* any other failure: report error, next model */
	ATTEMPT_UNREACHABLE, /* no connection: next model, no report */
	ATTEMPT_REFUSED, /* the request or key was refused: stop */
	ATTEMPT_CLIENT_GONE, /* our caller left: stop, no report */
	ATTEMPT__MAX
};

/*
 * Classify a finished call (pure: status, fail and body only).  A
 * streamed answer that broke off after bytes were relayed is an
 * ATTEMPT_ERROR like any other failure.
 */
enum attempt_outcome orcall_classify(const struct orcall_call *call);

/* The outcome as a report's outcome ("rate_limited"...), or NULL. */
const char *attempt_report_outcome(enum attempt_outcome o);

/* A short name of the outcome for logs and details ("unavailable"). */
const char *attempt_name(enum attempt_outcome o);

/*
 * Seconds a caller should wait after OpenRouter's account quota
 * (X-RateLimit-Reset, in the headers or the error body's metadata,
 * else Retry-After, else 60), at least 1; now_ms is the clock.
 */
long long orcall_quota_wait(const struct orcall_call *call, int64_t now_ms);

/*
 * The upstream error's message ("error":{"message":…}) as one line of
 * printable ASCII, at most outsz - 1 bytes; "" when there is none.
 */
void orcall_error_message(
    const struct orcall_call *call, char *out, size_t outsz);

#endif
