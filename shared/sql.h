/*
 * Every SQL statement the programs run, in one enum-indexed table.
 * Each is prepared once per connection (and again after a reconnect)
 * and run with $n parameters; no SQL text is assembled at run time.
 */
#ifndef FLR_SQL_H
#define FLR_SQL_H

enum stmt {
	STMT_PING,
	STMT_AUTH_COUNTED,
	STMT_AUTH_COUNTED_VERSIONS,
	STMT_AUTH_KEY,
	STMT_CATALOG_LOAD,
	STMT_HEALTH_SOURCES,
	STMT_UPSTREAM_META,
	STMT_FEDERATION_EXPORT,
	STMT_REQUEST_LOG,
	STMT_FEEDBACK_INSERT,
	STMT_HEALTH_TIMELINE,
	STMT_AVAILABILITY,
	STMT_META,
	STMT_DATA_VERSIONS,
	STMT_METRICS_GAUGES,
	STMT_REPLICA_STATUS, /* run on the read replica */
	/* accounts and operations */
	STMT_KEY_LIST,
	STMT_ADMIN_KEY_LIST,
	STMT_USER_LOCK,
	STMT_USER_UPSERT,
	STMT_USER_SET_LIMIT,
	STMT_KEY_CREATE,
	STMT_KEY_DELETE,
	STMT_PREFS_UPDATE,
	STMT_USAGE,
	STMT_USAGE_HISTORY,
	STMT_RETENTION_CUTOFFS,
	STMT_RETENTION_FEEDBACK,
	STMT_RETENTION_ROLLUP,
	STMT_RETENTION_REQUEST_LOGS,
	STMT_RETENTION_AVAILABILITY,
	/* the router */
	STMT_ROUTER_SLOT_TAKE,
	STMT_ROUTER_SLOT_RELEASE,
	STMT_ROUTER_REPORT,
	STMT_ROUTER_COOLDOWNS,
	/* sync statements */
	STMT_SYNC_LOCK,
	STMT_SYNC_UNLOCK,
	STMT_SYNC_XACT_LOCK,
	STMT_SYNC_RUN_START,
	STMT_SYNC_APPLY,
	STMT_SYNC_RUN_FINISH,
	/* OpenRouter's endpoint statistics (flr-sync) */
	STMT_ENDPOINT_DUE,
	STMT_ENDPOINT_APPLY,
	STMT_RETENTION_ENDPOINT_HISTORY,
	/* the upstream's import (flr-sync) */
	STMT_XACT_STATEMENT_TIMEOUT,
	STMT_UPSTREAM_CLEAR,
	STMT_UPSTREAM_PUT_COUNTS,
	STMT_UPSTREAM_PUT_RATES,
	STMT_UPSTREAM_FAILED,
	STMT__MAX
};

/*
 * A statement and, for those that return rows, the names of its result
 * columns in order ("id,user_id,enabled"): the typed function that
 * reads the rows indexes them by an enum in the same order, and
 * db_ready() refuses a statement whose described columns differ, so
 * the SQL and its readers cannot drift apart unnoticed.
 */
struct stmt_def {
	const char *name; /* the prepared statement's name */
	const char *sql;
	int nparams;
	const char *columns; /* NULL: not checked (no rows, or not yet) */
};

extern const struct stmt_def sql_stmts[STMT__MAX];

#endif
