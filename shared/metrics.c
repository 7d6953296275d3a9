#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "json.h"
#include "log.h"
#include "report.h"

/*
 * Counters shared between processes must be lock-free: a lock-based
 * atomic would take a lock that lives in each process, not beside the
 * counter.  Lock-free atomics on x86-64 and arm64 are plain
 * instructions on the shared bytes.
 */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

/* The statuses the workers answer with; anything else is "other". */
static const int statuses[] = { 200, 201, 204, 304, 400, 401, 403, 404, 405,
	409, 413, 415, 422, 429, 500, 502, 503 };
#define N_STATUS (NELEM(statuses) + 1)

/* Latency buckets: upper bounds in us, and as the le label says them. */
static const long long bounds_us[] = { 500, 1000, 2500, 5000, 10000, 25000,
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	30000000, 120000000 };
static const char *const bounds_le[NELEM(bounds_us)] = { "0.0005", "0.001",
	"0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
	"2.5", "5", "10", "30", "120" };
#define N_BUCKET (NELEM(bounds_us) + 1)

static const char *const db_error_names[MDB__MAX] = {
	[MDB_CONNECT] = "connect",
	[MDB_LOST] = "lost",
	[MDB_STATEMENT] = "statement",
};

static const char *const outcome_names[MO__MAX] = {
	[MO_SUCCESS] = "success",
	[MO_RATE_LIMITED] = "rate_limited",
	[MO_UNAVAILABLE] = "unavailable",
	[MO_ERROR] = "error",
};

static const char *const read_names[MR__MAX] = {
	[MR_REPLICA] = "replica",
	[MR_PRIMARY] = "primary",
	[MR_FALLBACK] = "fallback",
};

static const char *const key_refusal_names[MKR__MAX] = {
	[MKR_MALFORMED] = "malformed",
	[MKR_CACHED] = "cached",
	[MKR_THROTTLED] = "throttled",
};

static const char *const body_copy_names[MBC__MAX] = {
	[MBC_HIT] = "hit",
	[MBC_BUILT] = "built",
};

/* The counters of one route (the last slot: requests no route took). */
struct route_slot {
	atomic_ullong status[N_STATUS];
	atomic_ullong bucket[N_BUCKET]; /* not cumulative: one per range */
	atomic_ullong sum_us;
	atomic_ullong unavailable;
	atomic_ullong quota_refused;
};

#define SEG_MAGIC 0x31474553524c46ULL /* "FLRSEG1" */

struct metrics_seg {
	uint64_t magic;
	uint64_t layout; /* layout_tag() of the build that made it */
	atomic_ullong worker_starts;
	atomic_ullong db_errors[MDB__MAX];
	atomic_ullong db_reconnects;
	atomic_ullong reports[MO__MAX];
	atomic_ullong key_lookups;
	atomic_ullong reads[MR__MAX];
	atomic_ullong key_refusals[MKR__MAX];
	atomic_ullong body_copies[MBC__MAX];
	struct route_slot slots[METRICS_ROUTES_MAX + 1];
};

/*
 * FNV-1a over the segment's size and the route table: a build with
 * other routes (or other counters) makes another tag, and replaces a
 * segment it cannot read.
 */
static uint64_t
layout_tag(const struct metrics_route *routes, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char head[64];
	size_t i;

	snprintf(head, sizeof(head), "%zu %zu %zu\n",
	    sizeof(struct metrics_seg), N_STATUS, N_BUCKET);
	for (const char *p = head; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (i = 0; i < n; i++) {
		const char *parts[2] = { routes[i].method, routes[i].path };

		for (int k = 0; k < 2; k++) {
			for (const char *p = parts[k]; *p != '\0'; p++)
				h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
			h = (h ^ (unsigned char)'\n') * 0x100000001b3ULL;
		}
	}
	return h;
}

static void
set_err(char *err, size_t errsz, const char *what, const char *path)
{
	snprintf(err, errsz, "%s %s: %s", what, path, strerror(errno));
}

/* Map fd (already sized) as the segment, or NULL. */
static struct metrics_seg *
map_seg(int fd)
{
	void *p = mmap(NULL, sizeof(struct metrics_seg), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * A new, zeroed segment file at path, made beside it and renamed into
 * place, so a process still mapping the old file keeps valid memory.
 * Called with the old file's lock held.  Returns the mapping or NULL.
 */
static struct metrics_seg *
replace_seg(const char *path, uint64_t tag, char *err, size_t errsz)
{
	char tmp[4096];
	struct metrics_seg *seg = NULL;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld", path,
	        (long)getpid()) >= sizeof(tmp)) {
		snprintf(err, errsz, "metrics file name too long: %s", path);
		return NULL;
	}
	fd = open(
	    tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_err(err, errsz, "create", tmp);
		return NULL;
	}
	if (ftruncate(fd, (off_t)sizeof(struct metrics_seg)) != 0 ||
	    (seg = map_seg(fd)) == NULL) {
		set_err(err, errsz, "size and map", tmp);
		goto out;
	}
	seg->layout = tag;
	seg->magic = SEG_MAGIC;
	if (rename(tmp, path) != 0) {
		set_err(err, errsz, "rename to", path);
		munmap(seg, sizeof(*seg));
		seg = NULL;
	}
out:
	if (seg == NULL)
		unlink(tmp);
	close(fd);
	return seg;
}

/*
 * Under the file's lock: map it when it is this build's segment, make
 * it one when it is empty (new), replace it when it is another's.
 * *again is set when the path names another file than fd by now (a
 * worker replaced it meanwhile): open the path again.
 */
static struct metrics_seg *
attach_locked(
    int fd, const char *path, uint64_t tag, int *again, char *err, size_t errsz)
{
	struct stat fs, ps;
	struct metrics_seg *seg;

	*again = 0;
	if (fstat(fd, &fs) != 0 || stat(path, &ps) != 0) {
		set_err(err, errsz, "stat", path);
		return NULL;
	}
	if (fs.st_ino != ps.st_ino || fs.st_dev != ps.st_dev) {
		*again = 1;
		return NULL;
	}
	if (fs.st_size == 0) {
		if (ftruncate(fd, (off_t)sizeof(struct metrics_seg)) != 0 ||
		    (seg = map_seg(fd)) == NULL) {
			set_err(err, errsz, "size and map", path);
			return NULL;
		}
		seg->layout = tag;
		seg->magic = SEG_MAGIC;
		return seg;
	}
	if (fs.st_size == (off_t)sizeof(struct metrics_seg) &&
	    (seg = map_seg(fd)) != NULL) {
		if (seg->magic == SEG_MAGIC && seg->layout == tag)
			return seg;
		munmap(seg, sizeof(*seg));
	}
	log_warn("metrics: %s is of another layout; starting a new one", path);
	return replace_seg(path, tag, err, errsz);
}

int
metrics_open(struct metrics *m, const char *path,
    const struct metrics_route *routes, size_t n, char *err, size_t errsz)
{
	uint64_t tag = layout_tag(routes, n);
	int tries, again = 0;

	memset(m, 0, sizeof(*m));
	if (n > METRICS_ROUTES_MAX) {
		snprintf(err, errsz, "metrics: %zu routes, at most %d", n,
		    METRICS_ROUTES_MAX);
		return -1;
	}
	snprintf(err, errsz, "metrics: %s keeps being replaced", path);
	for (tries = 0; tries < 4 && m->seg == NULL; tries++) {
		int fd =
		    open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd < 0) {
			set_err(err, errsz, "open", path);
			return -1;
		}
		if (flock(fd, LOCK_EX) != 0) {
			set_err(err, errsz, "lock", path);
			close(fd);
			return -1;
		}
		m->seg = attach_locked(fd, path, tag, &again, err, errsz);
		/*
		 * The mapping holds the open file, and with it the lock:
		 * unlock before closing.  The mapping stays.
		 */
		flock(fd, LOCK_UN);
		close(fd);
		if (m->seg == NULL && !again)
			return -1;
	}
	if (m->seg == NULL)
		return -1;
	m->routes = routes;
	m->n_routes = n;
	atomic_fetch_add_explicit(
	    &m->seg->worker_starts, 1, memory_order_relaxed);
	return 0;
}

void
metrics_close(struct metrics *m)
{
	if (m->seg != NULL)
		munmap(m->seg, sizeof(*m->seg));
	memset(m, 0, sizeof(*m));
}

static void
add(atomic_ullong *c, unsigned long long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static unsigned long long
get(const atomic_ullong *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static size_t
status_index(int status)
{
	size_t i;

	for (i = 0; i < NELEM(statuses); i++)
		if (statuses[i] == status)
			return i;
	return NELEM(statuses);
}

void
metrics_request(struct metrics *m, const struct metrics_request *r)
{
	struct route_slot *s;
	long long us;
	size_t b;

	if (m->seg == NULL)
		return;
	s = &m->seg->slots[r->route >= 0 && (size_t)r->route < m->n_routes
	        ? (size_t)r->route
	        : m->n_routes];
	us = r->seconds > 0 ? (long long)(r->seconds * 1e6 + 0.5) : 0;
	for (b = 0; b < NELEM(bounds_us) && us > bounds_us[b]; b++)
		;
	add(&s->status[status_index(r->status)], 1);
	add(&s->bucket[b], 1);
	add(&s->sum_us, (unsigned long long)us);
	if (r->status == 503 && r->code != NULL &&
	    strcmp(r->code, "service_unavailable") == 0)
		add(&s->unavailable, 1);
	if (r->status == 429 && r->code != NULL &&
	    strcmp(r->code, "rate_limited") == 0)
		add(&s->quota_refused, 1);
	if (r->outcome >= 0 && r->outcome < MO__MAX)
		add(&m->seg->reports[r->outcome], 1);
}

void
metrics_db_error(struct metrics *m, enum metrics_db_error e)
{
	if (m != NULL && m->seg != NULL && e < MDB__MAX)
		add(&m->seg->db_errors[e], 1);
}

void
metrics_db_reconnect(struct metrics *m)
{
	if (m != NULL && m->seg != NULL)
		add(&m->seg->db_reconnects, 1);
}

void
metrics_read(struct metrics *m, enum metrics_read r)
{
	if (m != NULL && m->seg != NULL && r < MR__MAX)
		add(&m->seg->reads[r], 1);
}

void
metrics_key_lookup(struct metrics *m)
{
	if (m != NULL && m->seg != NULL)
		add(&m->seg->key_lookups, 1);
}

void
metrics_body_copy(struct metrics *m, enum metrics_body_copy b)
{
	if (m != NULL && m->seg != NULL && b < MBC__MAX)
		add(&m->seg->body_copies[b], 1);
}

void
metrics_key_refusal(struct metrics *m, enum metrics_key_refusal r)
{
	if (m != NULL && m->seg != NULL && r < MKR__MAX)
		add(&m->seg->key_refusals[r], 1);
}

int
metrics_report_outcome(const char *body, size_t len, struct arena *a)
{
	struct param_adjustments adj = { .n = 0 };
	struct json_object *obj;
	struct report_error re;
	struct report rep;
	char err[128];
	int i, out = -1;

	if (body == NULL || len == 0)
		return -1;
	obj = json_parse(body, len, 16, err, sizeof(err));
	if (obj == NULL)
		return -1;
	if (json_object_is_type(obj, json_type_object) &&
	    report_read(obj, 0, a, &rep, &adj, &re) == 0 && !rep.dry_run)
		for (i = 0; i < MO__MAX; i++)
			if (strcmp(rep.outcome, outcome_names[i]) == 0)
				out = i;
	json_object_put(obj);
	return out;
}

/* Columns of STMT_METRICS_GAUGES. */
enum { G_ACTIVE, G_SYNC_AGE, G_UPSTREAM_AGE };

enum db_status
metrics_gauges_read(struct db *db, struct metrics_gauges *g)
{
	enum db_status st;
	PGresult *r;

	memset(g, 0, sizeof(*g));
	g->sync_age_ms = g->upstream_age_ms = -1;
	r = db_exec(db, STMT_METRICS_GAUGES, NULL, 0, &st);
	if (r == NULL)
		return st;
	if (PQntuples(r) == 1) {
		g->db_up = 1;
		g->active_models = db_get_ll(r, 0, G_ACTIVE, 0);
		g->sync_age_ms = db_get_ll(r, 0, G_SYNC_AGE, -1);
		g->upstream_age_ms = db_get_ll(r, 0, G_UPSTREAM_AGE, -1);
		/* A clock that went back makes an age of "just now". */
		if (PQgetisnull(r, 0, G_SYNC_AGE) == 0 && g->sync_age_ms < 0)
			g->sync_age_ms = 0;
		if (PQgetisnull(r, 0, G_UPSTREAM_AGE) == 0 &&
		    g->upstream_age_ms < 0)
			g->upstream_age_ms = 0;
	} else {
		st = DB_ERROR;
	}
	PQclear(r);
	return st;
}

/* "# HELP" and "# TYPE" of one metric family. */
static void
family(struct buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * The labels of route slot i.  Patterns and methods come from the
 * route table, so they hold no quote, backslash or newline to escape.
 */
static void
route_labels(const struct metrics *m, size_t i, char *out, size_t outsz)
{
	if (i < m->n_routes)
		snprintf(out, outsz, "method=\"%s\",route=\"%s\"",
		    m->routes[i].method, m->routes[i].path);
	else
		snprintf(out, outsz, "method=\"other\",route=\"unmatched\"");
}

static void
write_requests(const struct metrics *m, struct buf *out)
{
	char labels[512];
	size_t i, k;

	family(out, "flr_http_requests_total", "counter",
	    "Requests answered by the workers, by route (the route table's "
	    "method and pattern; unmatched: no route) and status.");
	for (i = 0; i <= m->n_routes; i++) {
		const struct route_slot *s = &m->seg->slots[i];

		route_labels(m, i, labels, sizeof(labels));
		for (k = 0; k < N_STATUS; k++) {
			unsigned long long v = get(&s->status[k]);

			if (v == 0)
				continue;
			if (k < NELEM(statuses))
				buf_printf(out,
				    "flr_http_requests_total{%s,status=\"%d\"} "
				    "%llu\n",
				    labels, statuses[k], v);
			else
				buf_printf(out,
				    "flr_http_requests_total{%s,status="
				    "\"other\"}"
				    " %llu\n",
				    labels, v);
		}
	}
}

static void
write_histogram(const struct route_slot *s, const char *labels, struct buf *out)
{
	unsigned long long cum = 0, sum;
	size_t b;

	for (b = 0; b < N_BUCKET; b++) {
		cum += get(&s->bucket[b]);
		buf_printf(out,
		    "flr_http_request_duration_seconds_bucket{%s,le=\"%s\"} "
		    "%llu\n",
		    labels, b < NELEM(bounds_le) ? bounds_le[b] : "+Inf", cum);
	}
	sum = get(&s->sum_us);
	buf_printf(out,
	    "flr_http_request_duration_seconds_sum{%s} %llu.%06llu\n"
	    "flr_http_request_duration_seconds_count{%s} %llu\n",
	    labels, sum / 1000000, sum % 1000000, labels, cum);
}

/* The per-route counters besides requests and latency. */
enum per_route { PER_UNAVAILABLE, PER_QUOTA };

/* One counter per route slot, for the slots that counted anything. */
static void
write_per_route(const struct metrics *m, const char *name, enum per_route which,
    struct buf *out)
{
	char labels[512];
	size_t i;

	for (i = 0; i <= m->n_routes; i++) {
		const struct route_slot *s = &m->seg->slots[i];
		unsigned long long v = get(
		    which == PER_QUOTA ? &s->quota_refused : &s->unavailable);

		if (v == 0)
			continue;
		route_labels(m, i, labels, sizeof(labels));
		buf_printf(out, "%s{%s} %llu\n", name, labels, v);
	}
}

static void
write_latency(const struct metrics *m, struct buf *out)
{
	char labels[512];
	size_t i, b;

	family(out, "flr_http_request_duration_seconds", "histogram",
	    "Time from a request's arrival at a worker to its response "
	    "written, by route.");
	for (i = 0; i <= m->n_routes; i++) {
		const struct route_slot *s = &m->seg->slots[i];
		unsigned long long n = 0;

		for (b = 0; b < N_BUCKET; b++)
			n += get(&s->bucket[b]);
		if (n == 0)
			continue;
		route_labels(m, i, labels, sizeof(labels));
		write_histogram(s, labels, out);
	}
}

/* Seconds from ms, exactly ("12.345"); "" when age_ms < 0. */
static void
gauge_seconds(struct buf *out, const char *name, int64_t age_ms)
{
	if (age_ms >= 0)
		buf_printf(out, "%s %lld.%03lld\n", name,
		    (long long)(age_ms / 1000), (long long)(age_ms % 1000));
}

/* A counter family with one label: a series for each of its n values. */
static void
counter_by(struct buf *out, const char *name, const char *help,
    const char *label, const char *const *values, const atomic_ullong *c, int n)
{
	int i;

	family(out, name, "counter", help);
	for (i = 0; i < n; i++)
		buf_printf(out, "%s{%s=\"%s\"} %llu\n", name, label, values[i],
		    get(&c[i]));
}

/* A counter family of one series. */
static void
counter(
    struct buf *out, const char *name, const char *help, const atomic_ullong *c)
{
	family(out, name, "counter", help);
	buf_printf(out, "%s %llu\n", name, get(c));
}

static void
write_pool(const struct metrics *m, struct buf *out)
{
	const struct metrics_seg *seg = m->seg;

	counter_by(out, "flr_reports_stored_total",
	    "Feedback reports stored, by outcome.", "outcome", outcome_names,
	    seg->reports, MO__MAX);
	counter_by(out, "flr_db_errors_total",
	    "Database errors met by the workers, by kind: connect (a "
	    "connection attempt failed), lost (the connection broke under a "
	    "statement), statement (a statement failed).",
	    "kind", db_error_names, seg->db_errors, MDB__MAX);
	counter(out, "flr_db_reconnects_total",
	    "Database connections made again after one was lost.",
	    &seg->db_reconnects);
	counter(out, "flr_key_lookups_total",
	    "API key lookups the database answered (one round trip each).",
	    &seg->key_lookups);
	counter_by(out, "flr_key_refusals_total",
	    "API keys refused without a database lookup, by reason: "
	    "malformed (not shaped like a key), cached (the database lately "
	    "had no such key), throttled (429 too_many_invalid_keys).",
	    "reason", key_refusal_names, seg->key_refusals, MKR__MAX);
	counter_by(out, "flr_body_copies_total",
	    "Large bodies (health) by whether the worker's copy under the "
	    "same ETag served them (hit) or they were built (built).",
	    "result", body_copy_names, seg->body_copies, MBC__MAX);
	counter_by(out, "flr_db_reads_total",
	    "Answers of the read-only routes, by server: replica, primary, "
	    "fallback (the replica failed under it and the primary answered "
	    "again; also counted as primary).",
	    "server", read_names, seg->reads, MR__MAX);
	counter(out, "flr_worker_starts_total",
	    "Worker processes started on this segment (a replaced worker "
	    "counts again).",
	    &seg->worker_starts);
}

static void
write_gauges(const struct metrics_gauges *g, struct buf *out)
{
	family(out, "flr_db_up", "gauge",
	    "1 when this scrape could read the database's gauges, else 0.");
	buf_printf(out, "flr_db_up %d\n", g->db_up ? 1 : 0);
	family(out, "flr_catalog_active_models", "gauge",
	    "Models of the catalogue offered now.");
	if (g->db_up)
		buf_printf(
		    out, "flr_catalog_active_models %lld\n", g->active_models);
	family(out, "flr_catalog_sync_age_seconds", "gauge",
	    "Seconds since the last successful catalogue sync; no sample "
	    "before the first.");
	if (g->db_up)
		gauge_seconds(
		    out, "flr_catalog_sync_age_seconds", g->sync_age_ms);
	family(out, "flr_upstream_import_age_seconds", "gauge",
	    "Seconds since the last successful import from the upstream "
	    "instance; no sample before the first.");
	if (g->db_up)
		gauge_seconds(
		    out, "flr_upstream_import_age_seconds", g->upstream_age_ms);
}

int
metrics_write(
    const struct metrics *m, const struct metrics_gauges *g, struct buf *out)
{
	if (m->seg == NULL)
		return -1;
	write_requests(m, out);
	write_latency(m, out);
	family(out, "flr_http_unavailable_total", "counter",
	    "503 service_unavailable answers (the database could not be "
	    "reached), by route.");
	write_per_route(m, "flr_http_unavailable_total", PER_UNAVAILABLE, out);
	family(out, "flr_quota_refusals_total", "counter",
	    "Counted requests refused over quota (429 rate_limited), by "
	    "route.");
	write_per_route(m, "flr_quota_refusals_total", PER_QUOTA, out);
	write_pool(m, out);
	write_gauges(g, out);
	return out->over ? -1 : 0;
}
