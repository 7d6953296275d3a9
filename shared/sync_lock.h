/*
 * The one-sync-at-a-time lock (SPEC 7): PostgreSQL advisory lock
 * 7246002, held by a run's session from before its first fetch until
 * its end (STMT_SYNC_LOCK, STMT_SYNC_UNLOCK), and taken again at
 * transaction level by every transaction of a run that writes
 * (STMT_SYNC_XACT_LOCK), so that the write is covered even when the
 * connection was lost and remade while the run was fetching.
 */
#ifndef FLR_SYNC_LOCK_H
#define FLR_SYNC_LOCK_H

#include "db.h"
#include "util.h"

/*
 * Try to take the session lock: 1 taken, 0 held by another session,
 * -1 when the database failed (*st says how).
 */
int sync_lock_try(struct db *db, enum db_status *st) WUR;

/* Release the session lock; a failure is only logged. */
void sync_lock_release(struct db *db);

/*
 * Inside a transaction, take the lock until it ends: 1 taken, 0 held
 * by another session, -1 when the database failed (*st).
 */
int sync_lock_xact(struct db *db, enum db_status *st) WUR;

#endif
