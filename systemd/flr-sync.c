/*
 * flr-sync: the program flr-sync.timer runs.  It loads the free models
 * from OpenRouter into the catalogue, then OpenRouter's endpoint
 * statistics and the upstream's health (shared/sync.c does the work),
 * and prints one line about it; then deletes what is older than the
 * retention periods (shared/retention.c) and, when that deleted
 * anything, prints a second line about it.  Only the catalogue decides
 * the exit status.
 *
 * Exit status:
 *   0  the sync and the retention cleanup succeeded
 *   1  the sync failed (fetch, payload or database; the reason is on
 *      stderr and in sync_runs), or the cleanup after it did
 *   2  bad configuration or usage
 *   3  another sync is running; nothing was done
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "retention.h"
#include "sync.h"

enum { EXIT_SYNCED = 0, EXIT_SYNC_FAILED = 1, EXIT_CONFIG = 2, EXIT_BUSY = 3 };

static const char usage[] =
    "usage: flr-sync [--help | --check-config]\n"
    "\n"
    "Load the free models from OpenRouter's model list into the Free LLM\n"
    "Router catalogue, in one transaction; then OpenRouter's statistics of\n"
    "their endpoints, and the health an upstream instance has seen; print\n"
    "a one-line summary; then delete reports, request logs, availability\n"
    "days and endpoint history older than their retention periods, in\n"
    "small batches.\n"
    "\n"
    "--check-config reads the settings (the same ones flr-api reads) and\n"
    "exits 0, or 2 naming the bad one; it connects to nothing.\n"
    "\n"
    "Environment:\n"
    "  DATABASE_URL                PostgreSQL URI or conninfo (required)\n"
    "  OPENROUTER_BASE_URL         OpenRouter's API, https or http URL\n"
    "                              (https://openrouter.ai/api/v1)\n"
    "  OPENROUTER_MODELS_URL       the catalogue: https, http or file URL\n"
    "                              ({OPENROUTER_BASE_URL}/models)\n"
    "  OPENROUTER_API_KEY          sent as a Bearer token when set\n"
    "  FLR_ENDPOINT_FETCH_MAX      models asked for endpoint statistics\n"
    "                              per run, 0 for none (100)\n"
    "  FLR_ENDPOINT_CONCURRENCY    endpoint requests at once (8)\n"
    "  FLR_UPSTREAM_URL            another instance to import health from\n"
    "                              (unset: none)\n"
    "  FLR_SYNC_CONNECT_TIMEOUT_S  connect timeout, seconds (10)\n"
    "  FLR_SYNC_TIMEOUT_S          whole transfer, seconds, per try (30)\n"
    "  FLR_SYNC_RETRY_DELAY_MS     wait before the 2nd try, doubled\n"
    "                              before the 3rd (1000)\n"
    "  FLR_SYNC_MAX_BYTES          response body cap (33554432)\n"
    "  FLR_SYNC_CA_FILE            PEM file of the certificate authorities\n"
    "                              to check an https server against\n"
    "                              (the system's)\n"
    "  FLR_STATEMENT_TIMEOUT_MS    per SQL statement (5000)\n"
    "  FLR_FEEDBACK_RETENTION_DAYS     reports kept, days (90)\n"
    "  FLR_REQUEST_LOG_RETENTION_DAYS  request logs kept, days (30)\n"
    "  FLR_AVAILABILITY_RETENTION_DAYS availability and endpoint\n"
    "                              history kept, days (90)\n"
    "  FLR_LOG_LEVEL               debug, info, warn or error (info)\n"
    "\n"
    "Exit status: 0 synced; 1 sync failed (reason on stderr); 2 bad\n"
    "configuration or usage; 3 another sync is running.\n";

/*
 * Returns -1 to go on, or the exit status to leave with; *check_only
 * is set for --check-config.
 */
static int
parse_args(int argc, char **argv, int *check_only)
{
	*check_only = 0;
	if (argc == 1)
		return -1;
	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return EXIT_SYNCED;
	}
	if (argc == 2 && strcmp(argv[1], "--check-config") == 0) {
		*check_only = 1;
		return -1;
	}
	fprintf(stderr,
	    "flr-sync: unexpected argument \"%s\" (see "
	    "flr-sync --help)\n",
	    argv[1]);
	return EXIT_CONFIG;
}

static void
print_summary(const struct sync_result *r)
{
	printf("flr-sync: synced %lld models, %lld free: %lld inserted, "
	       "%lld updated, %lld deactivated, catalog version %lld",
	    r->total, r->free_models, r->inserted, r->updated, r->deactivated,
	    r->catalog_version);
	if (r->deactivation_skipped)
		printf("; kept %lld missing models active (only %lld free "
		       "for %lld active)",
		    r->missing, r->free_models, r->active_before);
	if (r->endpoints_ran)
		printf("; endpoint stats: %lld fetched, %lld failed",
		    r->endpoints_fetched, r->endpoints_failed);
	if (r->upstream_ran && r->upstream_ok)
		printf("; upstream (%s): %lld %s of %lld models",
		    upstream_kind_name(r->upstream_kind), r->upstream_rows,
		    r->upstream_kind == UPSTREAM_HOSTED ? "rates" : "rows",
		    r->upstream_models);
	else if (r->upstream_ran)
		printf("; upstream failed: %s", r->upstream_error);
	printf(" (run %lld, %d %s, %.0f ms)\n", r->run_id, r->tries,
	    r->tries == 1 ? "try" : "tries", r->duration_ms);
}

/* The sync step: its exit status; *ss says how the sync ended. */
static int
step_sync(struct db *db, const struct config *cfg, enum sync_status *ss)
{
	struct sync_result res;
	char err[1024];

	switch ((*ss = sync_run(db, cfg, &res, err, sizeof(err)))) {
	case SYNC_OK:
		print_summary(&res);
		return EXIT_SYNCED;
	case SYNC_BUSY:
		fprintf(stderr, "flr-sync: %s\n", err);
		return EXIT_BUSY;
	case SYNC_UPSTREAM:
	case SYNC_DB:
	case SYNC__MAX:
		break;
	}
	fprintf(stderr, "flr-sync: %s\n", err);
	return EXIT_SYNC_FAILED;
}

/*
 * The retention step, run to the end: 0, or -1 with the reason on
 * stderr.  Silent when there was nothing to delete, so that a timer
 * that finds nothing old adds nothing to the journal.
 */
static int
step_retention(struct db *db, const struct config *cfg)
{
	struct retention_result r;
	char err[256];

	if (retention_run(db, cfg, 0, &r, err, sizeof(err)) != DB_OK) {
		fprintf(stderr, "flr-sync: retention: %s\n", err);
		return -1;
	}
	if (r.feedback + r.rollup + r.request_logs + r.availability == 0 &&
	    r.endpoint_history == 0)
		return 0;
	printf("flr-sync: retention deleted %lld reports (and %lld "
	       "rollup rows), %lld request logs, %lld availability days",
	    r.feedback, r.rollup, r.request_logs, r.availability);
	if (r.endpoint_history > 0)
		printf(", %lld endpoint history rows", r.endpoint_history);
	printf(" (%.0f ms)\n", r.duration_ms);
	return 0;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct db db;
	enum sync_status ss;
	char err[512];
	int check_only;
	int code = parse_args(argc, argv, &check_only);

	if (code >= 0)
		return code;
	if (config_load(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "flr-sync: %s\n", err);
		return EXIT_CONFIG;
	}
	/*
	 * flr-api.service runs this first: a bad setting then fails the
	 * unit at once, instead of every worker exiting at start-up and
	 * being started again, over and over, by multiwatch.
	 */
	if (check_only)
		return EXIT_SYNCED;
	log_setup("flr-sync", cfg.log_level);
	if (sync_global_init() != 0) {
		fputs("flr-sync: libcurl failed to start\n", stderr);
		return EXIT_SYNC_FAILED;
	}
	db_init(&db, cfg.database_url, "flr-sync", cfg.statement_timeout_ms, 0);
	code = step_sync(&db, &cfg, &ss);
	/*
	 * Retention (SPEC 7) is its own step, so that a sync that failed
	 * upstream still lets old rows expire; a busy sync means another
	 * flr-sync will do it, and a database that failed the sync would
	 * fail this too.
	 */
	if ((ss == SYNC_OK || ss == SYNC_UPSTREAM) &&
	    step_retention(&db, &cfg) != 0 && code == EXIT_SYNCED)
		code = EXIT_SYNC_FAILED;
	db_close(&db);
	sync_global_cleanup();
	return code;
}
