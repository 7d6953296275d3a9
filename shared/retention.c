#include "retention.h"

#include <stdio.h>
#include <string.h>

/* The cutoffs as the database wrote them, passed back unchanged. */
struct cutoffs {
	char feedback[64];
	char request_logs[64];
	char availability[64];
};

/* One table's batches: the statement, its cutoff and where to count. */
struct step {
	const char *what;
	enum stmt stmt;
	const char *cutoff;
	const char *grain; /* the rollup's grain; NULL for the others */
	long long *count;
};

/* Columns of STMT_RETENTION_CUTOFFS: each cutoff as text, then in ms. */
enum {
	CUT_FEEDBACK,
	CUT_FEEDBACK_MS,
	CUT_REQUEST_LOGS,
	CUT_REQUEST_LOGS_MS,
	CUT_AVAILABILITY,
	CUT_AVAILABILITY_MS
};

/*
 * Run STMT_RETENTION_CUTOFFS for cfg's periods: the cutoffs as text
 * into *c (to pass back unchanged), in ms into res.  Returns DB_OK,
 * DB_ERROR or DB_UNAVAILABLE.
 */
static enum db_status
read_cutoffs(struct db *db, const struct config *cfg, struct cutoffs *c,
    struct retention_result *res)
{
	char days[3][24];
	const char *params[3] = { days[0], days[1], days[2] };
	enum db_status st;
	PGresult *r;

	snprintf(
	    days[0], sizeof(days[0]), "%lld", cfg->feedback_retention_days);
	snprintf(
	    days[1], sizeof(days[1]), "%lld", cfg->request_log_retention_days);
	snprintf(
	    days[2], sizeof(days[2]), "%lld", cfg->availability_retention_days);
	r = db_exec(db, STMT_RETENTION_CUTOFFS, params, 3, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return DB_ERROR;
	}
	snprintf(c->feedback, sizeof(c->feedback), "%s",
	    PQgetvalue(r, 0, CUT_FEEDBACK));
	res->feedback_cutoff_ms = db_get_ll(r, 0, CUT_FEEDBACK_MS, 0);
	snprintf(c->request_logs, sizeof(c->request_logs), "%s",
	    PQgetvalue(r, 0, CUT_REQUEST_LOGS));
	res->request_log_cutoff_ms = db_get_ll(r, 0, CUT_REQUEST_LOGS_MS, 0);
	snprintf(c->availability, sizeof(c->availability), "%s",
	    PQgetvalue(r, 0, CUT_AVAILABILITY));
	res->availability_cutoff_ms = db_get_ll(r, 0, CUT_AVAILABILITY_MS, 0);
	PQclear(r);
	return DB_OK;
}

/*
 * Columns of the batch deletes: STMT_RETENTION_FEEDBACK (deleted,
 * corrected: the rollup rows it took the reports out of, not needed
 * here), STMT_RETENTION_ROLLUP, STMT_RETENTION_REQUEST_LOGS and
 * STMT_RETENTION_AVAILABILITY and STMT_RETENTION_ENDPOINT_HISTORY
 * (deleted).  All begin with the rows the batch deleted, so one reader
 * serves the five.
 */
enum { BATCH_DELETED, BATCH_CORRECTED };

/*
 * Run one batch of step s (its statement with np parameters): the rows
 * it deleted to *deleted.  Returns DB_OK, DB_ERROR or DB_UNAVAILABLE.
 */
static enum db_status
delete_batch(struct db *db, const struct step *s, const char *const *params,
    int np, long long *deleted)
{
	enum db_status st;
	PGresult *r = db_exec(db, s->stmt, params, np, &st);

	*deleted = 0;
	if (r == NULL)
		return st;
	if (PQntuples(r) == 1)
		*deleted = db_get_ll(r, 0, BATCH_DELETED, 0);
	else
		st = DB_ERROR;
	PQclear(r);
	return st;
}

/*
 * Run one step's statement until a batch comes back short (*done 1)
 * or the deadline passes between batches (*done 0).  Each statement
 * is its own transaction: nothing is held from one batch to the next.
 */
static enum db_status
drain(struct db *db, const struct step *s, double deadline, int *done)
{
	char limit[16];
	const char *params[3];
	enum db_status st;
	long long n;
	int np = 0;

	snprintf(limit, sizeof(limit), "%d", RETENTION_BATCH);
	params[np++] = s->cutoff;
	if (s->grain != NULL)
		params[np++] = s->grain;
	params[np++] = limit;
	*done = 0;
	for (;;) {
		st = delete_batch(db, s, params, np, &n);
		if (st != DB_OK)
			return st;
		*s->count += n;
		if (n < RETENTION_BATCH) {
			*done = 1;
			return DB_OK;
		}
		if (deadline > 0 && mono_ms() >= deadline)
			return DB_OK;
	}
}

enum db_status
retention_run(struct db *db, const struct config *cfg, long long budget_ms,
    struct retention_result *res, char *err, size_t errsz)
{
	double t0 = mono_ms();
	double deadline = budget_ms > 0 ? t0 + (double)budget_ms : 0;
	struct cutoffs c;
	enum db_status st;
	size_t i;
	int done = 1;

	memset(res, 0, sizeof(*res));
	if (errsz > 0)
		err[0] = '\0';
	st = read_cutoffs(db, cfg, &c, res);
	if (st != DB_OK) {
		snprintf(err, errsz, "database %s: cannot read the cutoffs",
		    st == DB_UNAVAILABLE ? "unavailable" : "error");
		return st;
	}
	{
		/*
		 * Reports first, then the rollup buckets they leave empty
		 * (fine grains first: they are the most numerous), then the
		 * tables nothing else depends on.
		 */
		const struct step steps[] = {
			{ "reports", STMT_RETENTION_FEEDBACK, c.feedback, NULL,
			    &res->feedback },
			{ "minute rollup", STMT_RETENTION_ROLLUP, c.feedback,
			    "60", &res->rollup },
			{ "hour rollup", STMT_RETENTION_ROLLUP, c.feedback,
			    "3600", &res->rollup },
			{ "day rollup", STMT_RETENTION_ROLLUP, c.feedback,
			    "86400", &res->rollup },
			{ "request logs", STMT_RETENTION_REQUEST_LOGS,
			    c.request_logs, NULL, &res->request_logs },
			{ "availability", STMT_RETENTION_AVAILABILITY,
			    c.availability, NULL, &res->availability },
			{ "endpoint history", STMT_RETENTION_ENDPOINT_HISTORY,
			    c.availability, NULL, &res->endpoint_history },
		};

		for (i = 0; i < NELEM(steps) && done; i++) {
			st = drain(db, &steps[i], deadline, &done);
			if (st != DB_OK) {
				snprintf(err, errsz,
				    "database %s: cannot "
				    "delete old %s",
				    st == DB_UNAVAILABLE ? "unavailable"
				                         : "error",
				    steps[i].what);
				break;
			}
		}
	}
	res->complete = st == DB_OK && done;
	res->duration_ms = mono_ms() - t0;
	return st;
}
