/*
 * The request log: one api_request_logs row per counted API call (its
 * id is the requestId clients echo in feedback), armed while the
 * request is handled and written once the response has left, so the
 * client never waits on it.  A failure to write is logged, never
 * turned into an error: the client has its answer.
 */
#ifndef FLR_REQLOG_H
#define FLR_REQLOG_H

#include "auth.h"
#include "catalog.h"
#include "db.h"
#include "util.h"

struct reqlog {
	int armed;
	char log_id[UUID_LEN + 1];
	char key_id[UUID_LEN + 1];
	long long user_id;
	char endpoint[64];
	int status;
	double duration_ms;
	struct buf model_ids; /* a text[] literal: {"a","b"} */
};

void reqlog_init(struct reqlog *rl);
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

/* Write the armed row, if any, and disarm. */
void reqlog_flush(struct reqlog *rl, struct db *db);

#endif
