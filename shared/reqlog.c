#include "reqlog.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

void
reqlog_init(struct reqlog *rl)
{
	memset(rl, 0, sizeof(*rl));
	buf_init(&rl->model_ids, 1 << 20);
}

void
reqlog_free(struct reqlog *rl)
{
	buf_free(&rl->model_ids);
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

void
reqlog_flush(struct reqlog *rl, struct db *db)
{
	char user[24], status[8], took[32];
	const char *params[7];
	enum db_status st;

	if (!rl->armed)
		return;
	rl->armed = 0;
	snprintf(user, sizeof(user), "%lld", rl->user_id);
	snprintf(status, sizeof(status), "%d", rl->status);
	snprintf(took, sizeof(took), "%.3f", rl->duration_ms);
	params[0] = rl->log_id;
	params[1] = user;
	params[2] = rl->key_id;
	params[3] = rl->endpoint;
	params[4] = status;
	params[5] = took;
	params[6] = rl->model_ids.len > 0 ? rl->model_ids.data : "{}";
	PQclear(db_exec(db, STMT_REQUEST_LOG, params, 7, &st));
	if (st != DB_OK)
		log_warn("request log not written");
}
