#include "db.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/*
 * The length of a libpq message to log: at most 400 bytes, without the
 * newline libpq ends it with (log_msg() escapes the rest).
 */
static int
msg_len(const char *s)
{
	size_t n = strnlen(s, 400);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return (int)n;
}

/* Server notices (a FATAL before a shutdown, say) go to our log. */
static void
db_notice(void *arg, const char *message)
{
	(void)arg;
	log_warn("database: %.*s", msg_len(message), message);
}

static void
db_connect(struct db *db)
{
	char options[128];
	const char *kw[6], *val[6];
	int i = 0;

	/*
	 * The URL comes first and the keywords after it override it, so
	 * timeouts and search_path are always ours.  synchronous_commit is
	 * the server's (on unless a DBA chose otherwise): a quota count
	 * committed asynchronously can be lost in a crash after its 200 has
	 * left, letting its user past rate_limit_max (t/77).
	 */
	snprintf(options, sizeof(options),
	    "-c statement_timeout=%lld -c search_path=public",
	    db->statement_timeout_ms);
	kw[i] = "dbname", val[i++] = db->url;
	kw[i] = "application_name", val[i++] = db->app_name;
	kw[i] = "connect_timeout", val[i++] = "3";
	kw[i] = "options", val[i++] = options;
	kw[i] = "client_encoding", val[i++] = "UTF8";
	kw[i] = NULL, val[i] = NULL;
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = PQconnectdbParams(kw, val, 1);
	db->prepared = 0;
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(db->conn);

		log_warn("database connection failed: %.*s", msg_len(m), m);
	}
}

static int
db_prepare_all(struct db *db)
{
	int i;

	for (i = 0; i < STMT__MAX; i++) {
		const struct stmt_def *d = &sql_stmts[i];
		PGresult *r;
		int ok;

		if (d->name == NULL)
			continue;
		r = PQprepare(db->conn, d->name, d->sql, d->nparams, NULL);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			log_error("prepare %s: %.*s", d->name,
			    msg_len(PQresultErrorMessage(r)),
			    PQresultErrorMessage(r));
		PQclear(r);
		if (!ok)
			return -1;
	}
	db->prepared = 1;
	return 0;
}

void
db_init(struct db *db, const char *url, const char *app_name,
    long long statement_timeout_ms, int synchronous_commit_off)
{
	memset(db, 0, sizeof(*db));
	db->url = xstrdup(url);
	db->app_name = app_name;
	db->statement_timeout_ms = statement_timeout_ms;
	/* Not applied: see db_connect(). */
	(void)synchronous_commit_off;
	db_connect(db);
}

/*
 * 1 when the connection is known to be dead.  A server that restarted
 * has closed our socket; reading what is pending (without blocking)
 * tells us so before a statement is sent into the void, so a request
 * after a quiet restart is served rather than failed.
 */
static int
db_dead(struct db *db)
{
	struct pollfd pfd;
	PGnotify *n;
	int i;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return 1;
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN;
	/*
	 * Idle, the server sends nothing but notifications, or its last
	 * words and then EOF; a few reads reach the EOF if it is there.
	 */
	for (i = 0; i < 4 && poll(&pfd, 1, 0) > 0; i++) {
		if (PQconsumeInput(db->conn) == 0)
			return 1;
		while ((n = PQnotifies(db->conn)) != NULL)
			PQfreemem(n);
	}
	return PQstatus(db->conn) != CONNECTION_OK;
}

enum db_status
db_ready(struct db *db)
{
	if (db_dead(db)) {
		db_connect(db);
		if (PQstatus(db->conn) != CONNECTION_OK)
			return DB_UNAVAILABLE;
		log_info("database connection established");
	}
	/* Prepared statements belong to the session: redo them. */
	if (!db->prepared && db_prepare_all(db) != 0)
		return DB_UNAVAILABLE;
	return DB_OK;
}

void
db_close(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->url);
	memset(db, 0, sizeof(*db));
}

static enum db_status
classify(struct db *db, PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg;

	if (PQstatus(db->conn) != CONNECTION_OK) {
		msg = PQerrorMessage(db->conn);
		log_error("%s: connection lost: %.*s", what, msg_len(msg), msg);
		db->prepared = 0;
		return DB_UNAVAILABLE;
	}
	if (state != NULL && strcmp(state, "23505") == 0)
		return DB_CONFLICT;
	msg = r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn);
	log_error("%s: %.*s", what, msg_len(msg), msg);
	/* Class 08 (connection) and 57P (shutdown) mean: reconnect. */
	if (state != NULL &&
	    (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)) {
		PQfinish(db->conn);
		db->conn = NULL;
		db->prepared = 0;
		return DB_UNAVAILABLE;
	}
	return DB_ERROR;
}

PGresult *
db_exec(struct db *db, enum stmt s, const char *const *params, int n,
    enum db_status *st)
{
	PGresult *r;
	ExecStatusType rs;

	if (db_ready(db) != DB_OK) {
		*st = DB_UNAVAILABLE;
		return NULL;
	}
	r = PQexecPrepared(
	    db->conn, sql_stmts[s].name, n, params, NULL, NULL, 0);
	rs = PQresultStatus(r);
	if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK) {
		*st = DB_OK;
		return r;
	}
	*st = classify(db, r, sql_stmts[s].name);
	PQclear(r);
	return NULL;
}

enum db_status
db_command(struct db *db, const char *sql)
{
	PGresult *r;
	enum db_status st = DB_OK;

	if (db_ready(db) != DB_OK)
		return DB_UNAVAILABLE;
	r = PQexec(db->conn, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		st = classify(db, r, sql);
	PQclear(r);
	return st;
}

long long
db_get_ll(const PGresult *r, int row, int col, long long def)
{
	if (PQgetisnull(r, row, col))
		return def;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int
db_get_bool(const PGresult *r, int row, int col, int def)
{
	if (PQgetisnull(r, row, col))
		return def;
	return PQgetvalue(r, row, col)[0] == 't';
}

const char *
db_get_str(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return PQgetvalue(r, row, col);
}
