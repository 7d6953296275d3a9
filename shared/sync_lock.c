#include "sync_lock.h"

#include "log.h"

/*
 * Columns of STMT_SYNC_LOCK, STMT_SYNC_UNLOCK and STMT_SYNC_XACT_LOCK,
 * one row of one boolean each, so one reader serves the three.
 */
enum { L_LOCKED };

/*
 * Run lock statement s: 1 or 0 as its boolean says, or -1 with *st
 * when the database failed.
 */
static int
exec_lock(struct db *db, enum stmt s, enum db_status *st)
{
	PGresult *r = db_exec(db, s, NULL, 0, st);
	int v;

	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		*st = DB_ERROR;
		return -1;
	}
	v = db_get_bool(r, 0, L_LOCKED, 0);
	PQclear(r);
	return v;
}

int
sync_lock_try(struct db *db, enum db_status *st)
{
	return exec_lock(db, STMT_SYNC_LOCK, st);
}

void
sync_lock_release(struct db *db)
{
	enum db_status st;

	/* A lost session took its lock with it: nothing to do then. */
	if (exec_lock(db, STMT_SYNC_UNLOCK, &st) < 0)
		log_warn("sync: unlock: database %s",
		    st == DB_UNAVAILABLE ? "unavailable" : "error");
}

int
sync_lock_xact(struct db *db, enum db_status *st)
{
	return exec_lock(db, STMT_SYNC_XACT_LOCK, st);
}
