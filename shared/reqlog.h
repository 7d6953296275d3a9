/*
 * The request log: one api_request_logs row per counted API call (its
 * id is the requestId clients echo in feedback), armed while the
 * request is handled and queued once the response has left, so the
 * client never waits on it.  Queued rows are written in batches, one
 * statement per batch: when max_rows are queued, when the oldest has
 * waited max_wait_ms, or when the worker has had nothing to do for
 * that long (see worker.c).  A row keeps the time its response left
 * (created_at is the database's clock at the write, less the row's
 * wait).  A failure to write is logged, never turned into an error:
 * the clients have their answers.  What a batch holds is lost if the
 * worker dies before writing it (the quota counts are not: they
 * commit in the request itself).
 */
#ifndef FLR_REQLOG_H
#define FLR_REQLOG_H

#include "auth.h"
#include "catalog.h"
#include "db.h"
#include "util.h"

struct reqlog {
	/* The row of the request in hand. */
	int armed;
	char log_id[UUID_LEN + 1];
	char key_id[UUID_LEN + 1];
	long long user_id;
	char endpoint[64];
	int status;
	double duration_ms;
	struct buf model_ids; /* a text[] literal: {"a","b"} */
	/* The batch: each column a PostgreSQL array literal, unclosed. */
	size_t queued;
	size_t max_rows;
	long long max_wait_ms;
	double *queued_at; /* mono_ms() of each queued row */
	struct buf col[8]; /* enum reqlog_column, in reqlog.c */
};

/*
 * An empty log that writes at max_rows rows (1: each row after its
 * response) or after max_wait_ms.  reqlog_free() releases it.
 */
void reqlog_init(struct reqlog *rl, size_t max_rows, long long max_wait_ms);
void reqlog_free(struct reqlog *rl);

/*
 * Arm the row of a counted call: its id, who made it, the endpoint, its
 * status and the ids it returned, in order (v may be NULL when n is 0).
 */
void reqlog_arm(struct reqlog *rl, const char *log_id, const char *key_id,
    long long user_id, const char *endpoint, int status, const struct ranked *v,
    size_t n);

/* When the response has left: how long it took. */
void reqlog_took(struct reqlog *rl, double duration_ms);

/* Move the armed row, if any, into the batch (at mono_ms() now). */
void reqlog_queue(struct reqlog *rl, double now);

/* 1 when the batch is to be written now: full, or waited long enough. */
int reqlog_due(const struct reqlog *rl, double now);

/* Write every queued row, if any, in one statement; empty the batch. */
void reqlog_flush(struct reqlog *rl, struct db *db, double now);

#endif
