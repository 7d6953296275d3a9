/*
 * The PostgreSQL connection: connect with timeouts and a fixed
 * search_path, prepare every statement of sql.h, reconnect (and
 * re-prepare) after the server went away.  Typed queries live beside
 * the modules that use them and go through db_exec().
 */
#ifndef FLR_DB_H
#define FLR_DB_H

#include <libpq-fe.h>

#include "sql.h"
#include "util.h"

enum db_status {
	DB_OK,
	DB_NOTFOUND,
	DB_CONFLICT,
	DB_ERROR, /* the statement failed; the connection is fine */
	DB_UNAVAILABLE, /* no usable connection: answer 503 */
	DB__MAX
};

struct metrics;

struct db {
	PGconn *conn;
	char *url;
	const char *app_name;
	long long statement_timeout_ms;
	int synchronous_commit_off;
	int prepared;
	int connected_once; /* a later connection is a reconnect */
	/* Where errors and reconnects are counted (NULL: nowhere). */
	struct metrics *metrics;
};

/*
 * Remember how to connect and try once.  A failed first connection is
 * not fatal: db_ready() retries.  Call db_close() to release.  Set
 * db->metrics afterwards to count errors and reconnects.
 */
void db_init(struct db *db, const char *url, const char *app_name,
    long long statement_timeout_ms, int synchronous_commit_off);

/*
 * Make sure the connection is up and every statement is prepared,
 * reconnecting when it is not.  Returns DB_OK or DB_UNAVAILABLE.
 */
enum db_status db_ready(struct db *db) WUR;

/* Close the connection and free what db_init() took. */
void db_close(struct db *db);

/*
 * Run prepared statement s with n text parameters (NULL entries are
 * SQL NULL).  On success returns the result, whose status is
 * PGRES_TUPLES_OK or PGRES_COMMAND_OK; the caller PQclear()s it.
 * On failure returns NULL and sets *st to DB_CONFLICT (unique
 * violation), DB_UNAVAILABLE (connection lost) or DB_ERROR; the
 * server's message goes to the log.
 */
PGresult *db_exec(struct db *db, enum stmt s, const char *const *params, int n,
    enum db_status *st) WUR;

/*
 * Run a plain command with no parameters and no result rows (BEGIN,
 * COMMIT, ROLLBACK).  Returns DB_OK, DB_ERROR or DB_UNAVAILABLE.
 * Transactions go through db_begin() and db_end().
 */
enum db_status db_command(struct db *db, const char *sql) WUR;

/* How db_end() ends a transaction. */
enum db_end_how { DB_ROLLBACK, DB_COMMIT };

/*
 * Open a transaction on db's connection (connecting first when it is
 * down).  Returns DB_OK, DB_ERROR or DB_UNAVAILABLE; after DB_OK the
 * caller ends it with db_end(), whatever happens in between.
 */
enum db_status db_begin(struct db *db) WUR;

/*
 * End the transaction db_begin() opened.  DB_COMMIT commits it and
 * returns DB_OK, or the commit's failure after rolling back whatever
 * is left.  DB_ROLLBACK rolls it back and returns how that went; when
 * the session that held the transaction is gone (the server rolled it
 * back when it went) there is nothing to do and DB_OK is returned
 * without reconnecting.  The server's message of a failure is logged.
 */
enum db_status db_end(struct db *db, enum db_end_how how) WUR;

/*
 * Inside a transaction, let each of its statements run for up to ms
 * milliseconds (STMT_XACT_STATEMENT_TIMEOUT); the connection's own
 * statement_timeout is back when it ends.  Returns DB_OK, DB_ERROR or
 * DB_UNAVAILABLE.
 */
enum db_status db_xact_statement_timeout(struct db *db, long long ms) WUR;

/*
 * Run STMT_PING: DB_OK when the database answers a query, else
 * DB_UNAVAILABLE or DB_ERROR.  Nothing to free.
 */
enum db_status db_ping(struct db *db) WUR;

/*
 * Helpers for the typed readers to read a result cell: NULL-safe with
 * defaults.  db_get_str() points into r; db_get_arena_str() copies the
 * cell into arena a (NULL for SQL NULL), so it outlives PQclear(r).
 */
long long db_get_ll(const PGresult *r, int row, int col, long long def);
int db_get_bool(const PGresult *r, int row, int col, int def);
const char *db_get_str(const PGresult *r, int row, int col);
const char *db_get_arena_str(
    const PGresult *r, int row, int col, struct arena *a);

#endif
