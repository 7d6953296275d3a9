/*
 * POST /api/admin/sync-models[?force=true] (SPEC.md §6): the OpenRouter
 * sync of flr-sync (shared/sync.c), run now.  Skipped while the
 * catalogue is fresh (its last successful sync is younger than
 * FLR_STALE_AFTER, one hour by default) unless forced; one sync at a
 * time across every host (the sync's advisory lock), so a second caller
 * gets 409.  The worker is busy for as long as the fetch takes.
 *
 * The sync itself runs in a child process with a database connection of
 * its own: parsing a catalogue of tens of MiB takes hundreds of MB that
 * malloc would keep in a long-lived worker, and go back to the system
 * when the child exits.  The child sends its result back over a pipe.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "json.h"
#include "log.h"
#include "sync.h"

/* What the child writes back: one struct, well under PIPE_BUF. */
struct sync_report {
	enum sync_status status;
	struct sync_result result;
	char err[512];
};

/* ?force=true|false: 0 with *force, or -1 with the 400 on res. */
static int
read_force(struct request *req, struct response *res, int *force)
{
	const char *v;

	*force = 0;
	if (request_param(req, res, "force", &v) != 0)
		return -1;
	if (v == NULL)
		return 0;
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		response_problem(res, 400, "invalid_parameter", "force",
		    "force must be true or false");
		return -1;
	}
	*force = v[0] == 't';
	return 0;
}

/*
 * 1 when the catalogue is fresh: the answer (200 skipped) is written.
 * 0 when a sync is due; -1 with a 503 when the database is away.
 */
static int
skip_if_fresh(struct app *app, struct response *res)
{
	struct catalog_meta meta;
	long long age;

	if (catalog_meta(&app->db, &meta) != DB_OK) {
		response_unavailable(res);
		return -1;
	}
	age = (meta.now_ms - meta.last_sync_ms) / 1000;
	if (meta.last_sync_ms < 0 || age >= app->cfg.stale_after)
		return 0;
	buf_printf(&res->body,
	    "{\"success\":true,\"skipped\":true,"
	    "\"reason\":\"data_fresh\",\"ageSeconds\":%lld,"
	    "\"staleAfterSeconds\":%lld}",
	    age < 0 ? 0 : age, app->cfg.stale_after);
	return 1;
}

static void
write_result(struct response *res, const struct sync_result *sr)
{
	struct jw w;

	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "success"), jw_bool(&w, 1);
	jw_key(&w, "skipped"), jw_bool(&w, 0);
	jw_key(&w, "runId"), jw_int(&w, sr->run_id);
	jw_key(&w, "modelsTotal"), jw_int(&w, sr->total);
	jw_key(&w, "modelsFree"), jw_int(&w, sr->free_models);
	jw_key(&w, "inserted"), jw_int(&w, sr->inserted);
	jw_key(&w, "updated"), jw_int(&w, sr->updated);
	jw_key(&w, "deactivated"), jw_int(&w, sr->deactivated);
	jw_key(&w, "deactivationSkipped"),
	    jw_bool(&w, sr->deactivation_skipped);
	jw_key(&w, "catalogVersion"), jw_int(&w, sr->catalog_version);
	jw_key(&w, "tries"), jw_int(&w, sr->tries);
	jw_key(&w, "durationMs"), jw_int(&w, (long long)sr->duration_ms);
	jw_obj_end(&w);
}

/*
 * The child: the parent's descriptors that are not its to use are
 * closed first (the FastCGI sockets, so the client's connection ends
 * with the parent; the parent's PostgreSQL socket, so that nothing can
 * ever be sent on its session), then the sync runs on a connection of
 * its own.  Never returns.
 */
static void
child_run(const struct app *app, const struct request *req, int out)
{
	struct sync_report rep;
	const char *p = (const char *)&rep;
	size_t left = sizeof(rep);
	struct db db;

	if (req->fcgx->ipcFd >= 0)
		close(req->fcgx->ipcFd);
	if (req->fcgx->listen_sock >= 0)
		close(req->fcgx->listen_sock);
	if (app->db.conn != NULL && PQsocket(app->db.conn) >= 0)
		close(PQsocket(app->db.conn));
	memset(&rep, 0, sizeof(rep));
	db_init(&db, app->cfg.database_url, "flr-api sync",
	    app->cfg.statement_timeout_ms, 0);
	rep.status =
	    sync_run(&db, &app->cfg, &rep.result, rep.err, sizeof(rep.err));
	db_close(&db);
	while (left > 0) {
		ssize_t n = write(out, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		p += n;
		left -= (size_t)n;
	}
	/* No exit handlers: they belong to the worker, not to this copy. */
	_exit(0);
}

/* Read the whole report from fd: 0, or -1 if the child sent less. */
static int
read_report(int fd, struct sync_report *rep)
{
	char *p = (char *)rep;
	size_t got = 0;

	while (got < sizeof(*rep)) {
		ssize_t n = read(fd, p + got, sizeof(*rep) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	rep->err[sizeof(rep->err) - 1] = '\0';
	return 0;
}

/*
 * Run sync_run() in a child process and wait for it.  Returns 0 with
 * *rep filled, or -1 (logged) when the child could not be started or
 * ended without a report.
 */
static int
sync_in_child(
    struct app *app, const struct request *req, struct sync_report *rep)
{
	int fds[2] = { -1, -1 }, status = 0, rc = -1;
	pid_t pid = -1;

	if (pipe(fds) != 0) {
		log_error("sync: pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		log_error("sync: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		child_run(app, req, fds[1]);
	}
	close(fds[1]);
	fds[1] = -1;
	rc = read_report(fds[0], rep);
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && rc != 0)
		log_error("sync: the sync process ended without a result "
		          "(wait status %d)",
		    status);
	return rc;
}

void
route_admin_sync(struct app *app, struct request *req, struct response *res)
{
	struct sync_report rep;
	const struct sync_result *sr = &rep.result;
	const char *err = rep.err;
	int force;

	response_header(res, "Cache-Control", "no-store");
	if (guard_admin(app, req, res) != 0 ||
	    read_force(req, res, &force) != 0)
		return;
	if (!force && skip_if_fresh(app, res) != 0)
		return;
	if (sync_in_child(app, req, &rep) != 0) {
		response_problem(res, 500, "internal_error", NULL,
		    "the sync could not be run");
		return;
	}
	switch (rep.status) {
	case SYNC_OK:
		write_result(res, sr);
		return;
	case SYNC_BUSY:
		response_problem(res, 409, "sync_running", NULL,
		    "another sync is running; try again when it is done");
		return;
	case SYNC_UPSTREAM:
		/* An operator's route: the reason is what they need. */
		response_problem(res, 502, "sync_failed", NULL,
		    "the sync failed (run %lld): %s", sr->run_id, err);
		return;
	case SYNC_DB:
	case SYNC__MAX:
		break;
	}
	response_unavailable(res);
}
