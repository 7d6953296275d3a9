/*
 * The router's work once a chat call is admitted: try its candidate
 * models in order until one answers (fallback on 429, 5xx, 404, a
 * connection failure or a late first byte, up to maxAttempts and a
 * time budget), report every attempt's outcome as a report of the
 * calling user marked as the router's own, and keep the per-user cap
 * on concurrent calls (advisory locks in PostgreSQL, so it holds
 * across workers and hosts, and a dead worker's slot is freed with its
 * connection).
 */
#ifndef FLR_RELAY_H
#define FLR_RELAY_H

#include "catalog.h"
#include "chat.h"
#include "config.h"
#include "db.h"
#include "orcall.h"
#include "util.h"

#define RELAY_ATTEMPTS_MAX 5 /* the bound of maxAttempts */
#define RELAY_SSE_LINE_MAX 65536 /* a line we look into; longer ones pass */

/*
 * Take one of the `slots` concurrent-call slots of user uid: DB_OK with
 * *slot (-1 when all are held), or DB_UNAVAILABLE / DB_ERROR.
 */
enum db_status relay_slot_take(
    struct db *db, long long uid, long long slots, int *slot) WUR;

/* Give slot back (a no-op for -1); a failure is only logged. */
void relay_slot_release(struct db *db, long long uid, int slot);

/*
 * Put the models that asked to wait (a 429 with Retry-After that has
 * not run out) after the others, keeping the order within each group.
 * Returns DB_OK, or the failure to read them (v is then unchanged).
 */
enum db_status relay_order(struct db *db, const struct model **v, int n) WUR;

/* What one attempt did, for the answer and the logs. */
struct relay_attempt {
	const struct model *m;
	enum attempt_outcome outcome;
	long status; /* HTTP status; 0: none */
	enum orcall_fail fail;
};

struct relay {
	/* in */
	const struct config *cfg;
	struct db *db;
	struct orcall *up;
	const char *key; /* the OpenRouter key to use */
	struct chat_request *cr;
	const struct model *const *cand; /* in the order to try */
	int n_cand;
	long long user_id;
	const char *key_id;
	const char *request_id; /* the call's request-log id */
	/*
	 * Streaming (cr->stream): begin() is called once, at the first
	 * event of an answer, with the model and the attempt's number, to
	 * send the response head; write() then gets every byte as it comes.
	 * Each returns 0, or -1 when the client is gone.
	 */
	int (*begin)(void *arg, const struct model *m, int attempt);
	int (*write)(void *arg, const char *p, size_t n);
	void *arg;
	/* out */
	struct relay_attempt tried[RELAY_ATTEMPTS_MAX];
	int attempts;
	enum attempt_outcome outcome; /* of the last attempt */
	struct orcall_call call; /* the last attempt's, answer included */
	long long retry_after; /* the least Retry-After of a 429; -1 */
	int started; /* streaming: the answer's head has gone out */
	/* the stream filter's state */
	struct buf pending; /* before the first event: the line so far */
	struct buf line; /* after it: the current line, for what ends it */
	int done_seen; /* data: [DONE] */
	int error_seen; /* an event with finish_reason "error" */
	int bad_stream; /* a line over the cap before any event */
	const struct model *streaming; /* the model being tried */
};

/*
 * Try r->cand in order.  On return r->outcome says how it ended
 * (ATTEMPT_SUCCESS: r->call.body holds the answer, r->tried of the
 * last attempt names the model).  Release r->call.body with buf_free.
 */
void relay_run(struct relay *r);

/*
 * The stream filter relay_run() puts between a streamed answer and the
 * client, public for the tests and the fuzzer, which feed it any bytes.
 * relay_stream_init() readies r's filter for one answer: the flags and
 * started cleared, its buffers capped at line_max bytes a line
 * (relay_run() uses RELAY_SSE_LINE_MAX); relay_stream_free() releases
 * them.  relay_stream_sink() is the orcall_sink, with r as its arg, fed
 * each chunk as it arrives; it calls r's begin and write (with
 * r->streaming and r->attempts + 1) and sets started, call.started and
 * the flags.  Returns 0, or -1 to stop the transfer (the client is gone,
 * or bad_stream).
 */
void relay_stream_init(struct relay *r, size_t line_max);
void relay_stream_free(struct relay *r);
int relay_stream_sink(void *arg, const char *p, size_t n) WUR;

/*
 * The event that ends a stream that broke off after it began (the
 * OpenAI SDKs raise it as an error), into out.
 */
void relay_stream_error(const struct relay *r, struct buf *out);

/*
 * The attempts as one line for a problem's detail:
 * "a/b:free: unavailable (HTTP 503); c/d:free: error (no first byte)".
 */
void relay_summary(const struct relay *r, char *out, size_t outsz);

#endif
