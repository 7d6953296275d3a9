#include "reqlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The columns of a batch: the parameters of STMT_REQUEST_LOG, in order. */
enum reqlog_column {
	RC_ID,
	RC_USER,
	RC_KEY,
	RC_ENDPOINT,
	RC_STATUS,
	RC_DURATION,
	RC_MODELS,
	RC_AGE, /* filled when the batch is written */
	RC__MAX
};

/* A batch's model ids may grow this large before it is written early. */
#define MODELS_SOFT_MAX (256 * 1024)

void
reqlog_init(struct reqlog *rl, size_t max_rows, long long max_wait_ms)
{
	size_t i;

	memset(rl, 0, sizeof(*rl));
	buf_init(&rl->model_ids, 1 << 20);
	rl->max_rows = max_rows > 0 ? max_rows : 1;
	rl->max_wait_ms = max_wait_ms;
	rl->queued_at = xcalloc(rl->max_rows, sizeof(*rl->queued_at));
	/* One row's ids are at most 1 MiB, twice that escaped. */
	for (i = 0; i < RC__MAX; i++)
		buf_init(&rl->col[i], i == RC_MODELS ? 16 << 20 : 1 << 20);
}

void
reqlog_free(struct reqlog *rl)
{
	size_t i;

	buf_free(&rl->model_ids);
	for (i = 0; i < RC__MAX; i++)
		buf_free(&rl->col[i]);
	free(rl->queued_at);
	memset(rl, 0, sizeof(*rl));
}

/* Append s as an element of a PostgreSQL array literal. */
static void
array_elem(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

void
reqlog_arm(struct reqlog *rl, const char *log_id, const char *key_id,
    long long user_id, const char *endpoint, int status, const struct ranked *v,
    size_t n)
{
	size_t i;

	rl->armed = 1;
	snprintf(rl->log_id, sizeof(rl->log_id), "%s", log_id);
	snprintf(rl->key_id, sizeof(rl->key_id), "%s", key_id);
	rl->user_id = user_id;
	snprintf(rl->endpoint, sizeof(rl->endpoint), "%s", endpoint);
	rl->status = status;
	rl->duration_ms = 0;
	buf_reset(&rl->model_ids);
	buf_putc(&rl->model_ids, '{');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(&rl->model_ids, ',');
		array_elem(&rl->model_ids, v[i].m->id);
	}
	buf_putc(&rl->model_ids, '}');
}

void
reqlog_took(struct reqlog *rl, double duration_ms)
{
	rl->duration_ms = duration_ms;
}

/* The separator before the next element of column c. */
static struct buf *
column(struct reqlog *rl, enum reqlog_column c)
{
	struct buf *b = &rl->col[c];

	buf_putc(b, rl->queued == 0 ? '{' : ',');
	return b;
}

void
reqlog_queue(struct reqlog *rl, double now)
{
	if (!rl->armed)
		return;
	rl->armed = 0;
	array_elem(column(rl, RC_ID), rl->log_id);
	buf_printf(column(rl, RC_USER), "%lld", rl->user_id);
	array_elem(column(rl, RC_KEY), rl->key_id);
	array_elem(column(rl, RC_ENDPOINT), rl->endpoint);
	buf_printf(column(rl, RC_STATUS), "%d", rl->status);
	buf_printf(column(rl, RC_DURATION), "%.3f", rl->duration_ms);
	array_elem(column(rl, RC_MODELS),
	    rl->model_ids.len > 0 ? rl->model_ids.data : "{}");
	rl->queued_at[rl->queued++] = now;
}

int
reqlog_due(const struct reqlog *rl, double now)
{
	if (rl->queued == 0)
		return 0;
	return rl->queued >= rl->max_rows ||
	    now - rl->queued_at[0] >= (double)rl->max_wait_ms ||
	    rl->col[RC_MODELS].len >= MODELS_SOFT_MAX;
}

void
reqlog_flush(struct reqlog *rl, struct db *db, double now)
{
	const char *params[RC__MAX];
	enum db_status st;
	size_t i;

	if (rl->queued == 0)
		return;
	/* How long each row waited, so created_at is when it left. */
	buf_reset(&rl->col[RC_AGE]);
	for (i = 0; i < rl->queued; i++) {
		double us = (now - rl->queued_at[i]) * 1000.0;

		buf_printf(&rl->col[RC_AGE], "%c%lld", i == 0 ? '{' : ',',
		    us > 0 ? (long long)us : 0);
	}
	for (i = 0; i < RC__MAX; i++) {
		buf_putc(&rl->col[i], '}');
		params[i] = rl->col[i].data;
	}
	PQclear(db_exec(db, STMT_REQUEST_LOG, params, RC__MAX, &st));
	if (st != DB_OK)
		log_warn("request log not written (%zu rows)", rl->queued);
	for (i = 0; i < RC__MAX; i++)
		buf_reset(&rl->col[i]);
	rl->queued = 0;
}
