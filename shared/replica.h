/*
 * The read replica (DATABASE_READ_URL): a second connection, to a
 * streaming replica, for the read-only routes' queries, and the one
 * choice of which connection serves a read.  The replica serves while
 * it is usable: connected, in recovery, its WAL receiver running and
 * its replay no further behind than FLR_READ_MAX_LAG_MS.  That is
 * checked at most once a second per worker, not per request; between
 * checks a replica that fails under a request is dropped at once, and
 * the request runs again on the primary.
 */
#ifndef FLR_REPLICA_H
#define FLR_REPLICA_H

#include "db.h"

/* What STMT_REPLICA_STATUS reads. */
struct replica_status {
	int in_recovery; /* a standby, not a primary */
	int streaming; /* a WAL receiver is running */
	long long lag_ms; /* replay's lag; -1: unknown */
};

struct replica {
	struct db db;
	int configured; /* DATABASE_READ_URL is set */
	int usable; /* the last check passed, and nothing failed since */
	int verdict; /* the last check's (replica.c), logged when it moves */
	long long max_lag_ms;
	double next_check_ms; /* mono_ms() of the next check */
};

/*
 * Remember the replica at url (NULL: none, and replica_pick() always
 * answers the primary) and try to connect once; a replica that is down
 * is not fatal.  Release with replica_close().
 */
void replica_init(struct replica *r, const char *url, const char *app_name,
    long long statement_timeout_ms, long long max_lag_ms);

/* Close the connection (nothing to do when none was configured). */
void replica_close(struct replica *r);

/*
 * The connection a read-only query should use at now_ms (mono_ms()):
 * the replica's while it is usable, else primary.  Checks the replica
 * first when its last check is older than a second (five after it
 * could not be reached).  Never NULL; nothing to free.
 */
struct db *replica_pick(struct replica *r, struct db *primary, double now_ms);

/*
 * A read on the replica failed: it serves nothing more until the next
 * check, a second from now_ms.
 */
void replica_failed(struct replica *r, double now_ms);

/* 1 when s describes a replica fit to serve reads (pure). */
int replica_status_usable(const struct replica_status *s, long long max_lag_ms);

/*
 * Run STMT_REPLICA_STATUS on db (connecting first when it is down).
 * Returns DB_OK with *out, or DB_UNAVAILABLE / DB_ERROR.
 */
enum db_status replica_status_read(
    struct db *db, struct replica_status *out) WUR;

#endif
