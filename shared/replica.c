#include "replica.h"

#include <string.h>

#include "log.h"

/* How often a worker looks at its replica, and after a failed look. */
#define CHECK_MS 1000.0
#define RETRY_MS 5000.0

void
replica_init(struct replica *r, const char *url, const char *app_name,
    long long statement_timeout_ms, long long max_lag_ms)
{
	memset(r, 0, sizeof(*r));
	r->max_lag_ms = max_lag_ms;
	if (url == NULL)
		return;
	r->configured = 1;
	/*
	 * A standby writes nothing, and the primary's counters never go
	 * through this connection: no synchronous_commit to relax.  Its
	 * errors are not counted with the primary's (db.metrics NULL).
	 */
	db_init(&r->db, url, app_name, statement_timeout_ms, 0);
}

void
replica_close(struct replica *r)
{
	if (r->configured)
		db_close(&r->db);
	memset(r, 0, sizeof(*r));
}

int
replica_status_usable(const struct replica_status *s, long long max_lag_ms)
{
	return s->in_recovery && s->streaming && s->lag_ms >= 0 &&
	    s->lag_ms <= max_lag_ms;
}

/* Columns of STMT_REPLICA_STATUS. */
enum { RS_IN_RECOVERY, RS_STREAMING, RS_LAG_MS };

enum db_status
replica_status_read(struct db *db, struct replica_status *out)
{
	enum db_status st;
	PGresult *r = db_exec(db, STMT_REPLICA_STATUS, NULL, 0, &st);

	memset(out, 0, sizeof(*out));
	out->lag_ms = -1;
	if (r == NULL)
		return st;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return DB_ERROR;
	}
	out->in_recovery = db_get_bool(r, 0, RS_IN_RECOVERY, 0);
	out->streaming = db_get_bool(r, 0, RS_STREAMING, 0);
	out->lag_ms = db_get_ll(r, 0, RS_LAG_MS, -1);
	PQclear(r);
	return DB_OK;
}

/* What a check found: each change is logged, the first one too. */
enum verdict { V_UNCHECKED, V_USABLE, V_UNREACHABLE, V_UNFIT };

static void
log_verdict(
    const struct replica *r, enum verdict v, const struct replica_status *s)
{
	if (v == V_USABLE)
		log_info("read replica in use (replay lag %lld ms)", s->lag_ms);
	else if (v == V_UNREACHABLE)
		log_warn("read replica unreachable: the primary serves reads");
	else
		log_warn("read replica not used: in recovery %d, streaming %d, "
		         "replay lag %lld ms (bound %lld): the primary serves "
		         "reads",
		    s->in_recovery, s->streaming, s->lag_ms, r->max_lag_ms);
}

static void
replica_check(struct replica *r, double now_ms)
{
	struct replica_status s;
	enum db_status st = replica_status_read(&r->db, &s);
	enum verdict v;

	r->usable = st == DB_OK && replica_status_usable(&s, r->max_lag_ms);
	v = r->usable ? V_USABLE : st == DB_OK ? V_UNFIT : V_UNREACHABLE;
	r->next_check_ms =
	    now_ms + (st == DB_UNAVAILABLE ? RETRY_MS : CHECK_MS);
	if (r->verdict != (int)v)
		log_verdict(r, v, &s);
	r->verdict = (int)v;
}

struct db *
replica_pick(struct replica *r, struct db *primary, double now_ms)
{
	if (!r->configured)
		return primary;
	if (now_ms >= r->next_check_ms)
		replica_check(r, now_ms);
	return r->usable ? &r->db : primary;
}

void
replica_failed(struct replica *r, double now_ms)
{
	if (r->usable)
		log_warn("read replica failed under a request: the primary "
		         "serves reads until the next check");
	r->usable = 0;
	r->next_check_ms = now_ms + CHECK_MS;
}
