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

struct db {
	PGconn *conn;
	char *url;
	const char *app_name;
	long long statement_timeout_ms;
	int prepared;
};

/*
 * Remember how to connect and try once.  A failed first connection is
 * not fatal: db_ready() retries.  Call db_close() to release.
 * synchronous_commit_off is accepted but not applied: every commit is
 * as durable as the server's synchronous_commit makes it, because a
 * quota count lost in a crash lets its user past the quota.
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
 */
enum db_status db_command(struct db *db, const char *sql) WUR;

/* Helpers to read a result cell: NULL-safe with defaults. */
long long db_get_ll(const PGresult *r, int row, int col, long long def);
int db_get_bool(const PGresult *r, int row, int col, int def);
const char *db_get_str(const PGresult *r, int row, int col);

#endif
