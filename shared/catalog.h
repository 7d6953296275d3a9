/*
 * The model catalogue as a worker keeps it in memory: loaded from
 * free_models, reloaded when the catalogue version in sync_meta moves,
 * with each model's static JSON prebuilt.  Filters and sorts of
 * SPEC.md §2 run on it.
 */
#ifndef FLR_CATALOG_H
#define FLR_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "health.h"
#include "params.h"

struct model {
	char *id;
	char *name;
	long long context_length; /* -1: null */
	long long max_completion_tokens; /* -1: null */
	int64_t created_ms; /* OpenRouter's created; -1: null */
	int64_t first_seen_ms;
	unsigned caps; /* enum filter_bit this model satisfies */
	int n_params; /* supported parameters ("capable") */
	int is_active;
	/* {"id":…,…,"lastSeenAt":"…"  — the object without its end */
	char *json;
	size_t json_len;
};

struct catalog {
	struct model *models; /* sorted by id (strcmp) */
	size_t n;
	long long version; /* -1: never loaded */
	int64_t last_sync_ms;
};

/*
 * OpenRouter's statistics of a model's endpoints (model_endpoint_stats),
 * folded over its providers; negative where unknown.
 */
struct endpoint_stats {
	int known; /* a row exists */
	long long endpoints;
	double uptime_5m, uptime_30m, uptime_1d; /* percent */
	double latency_p50_ms;
	double throughput_p50;
	int64_t fetched_ms;
};

/* A model of one answer, with its health over the window. */
struct ranked {
	const struct model *m;
	struct health_counts h; /* the counts of the source asked for */
	struct health_counts local; /* this instance's reports */
	struct health_counts upstream; /* an upstream instance's */
	double upstream_rate; /* the hosted service's error rate; < 0: none */
	struct endpoint_stats ep;
	long long error_rate_x100;
	long long reports;
	double score; /* health_score(); -1: no evidence */
};

/* An empty catalogue that will load on first use. */
void catalog_init(struct catalog *c);
void catalog_free(struct catalog *c);

/*
 * Load the catalogue from the database when version or the time of the
 * last sync (which moves every model's lastSeenAt) differs from the
 * one held (pass -1 to force).  Returns DB_OK (loaded or already
 * current), DB_UNAVAILABLE or DB_ERROR; on failure the old copy stays.
 */
enum db_status catalog_refresh(struct catalog *c, struct db *db,
    long long version, int64_t last_sync_ms) WUR;

/* The model with this id, or NULL. */
const struct model *catalog_find(const struct catalog *c, const char *id);

/* 1 when m satisfies every filter bit in filters. */
int catalog_match(const struct model *m, unsigned filters);

/*
 * Compute the capability bits of a model from its fields: modality,
 * the JSON arrays of modalities and parameters, context length.
 */
unsigned catalog_caps(const char *modality, const char *input_json,
    const char *output_json, const char *params_json, long long context_length,
    int *n_params);

/* Sort v[0..n) by key with the deterministic ties of §2. */
void catalog_sort(struct ranked *v, size_t n, enum sort_key key);

/*
 * Read every health source of the window into the ranked entries
 * (sorted by model id), in one round trip: local counts (uid 0:
 * everybody's; else that user's alone, and then nothing upstream), the
 * upstream's counts and error rates, and OpenRouter's endpoint
 * statistics.  h becomes the counts of source.  Entries without data
 * stay zero (rates and statistics unknown).
 */
enum db_status catalog_load_health(struct db *db, enum time_range range,
    long long uid, enum source source, struct ranked *v, size_t n) WUR;

/*
 * The two halves of catalog_load_health(), for a caller that keeps the
 * rows: the one round trip (NULL with *st on failure; the caller
 * PQclear()s the result), and reading its rows into v.
 */
PGresult *catalog_health_read(struct db *db, enum time_range range,
    long long uid, enum db_status *st) WUR;
void catalog_health_apply(
    const PGresult *r, enum source source, struct ranked *v, size_t n);

/* The catalogue's version, the last sync and the database's clock. */
struct catalog_meta {
	long long version;
	int64_t last_sync_ms; /* -1: never synced */
	int64_t now_ms;
};

/* Read the meta row (STMT_META).  DB_OK, DB_UNAVAILABLE or DB_ERROR. */
enum db_status catalog_meta(struct db *db, struct catalog_meta *out) WUR;

/*
 * For routes without a counted key: read the meta row and bring c up to
 * date with it.  Returns what catalog_meta / catalog_refresh return.
 */
enum db_status catalog_current(
    struct catalog *c, struct db *db, struct catalog_meta *meta) WUR;

/*
 * Fill error_rate_x100, reports and the healthiest score from h (and,
 * for the score, the upstream rate when use_rate, and the uptime).
 */
void ranked_finish(struct ranked *r, int use_rate);

/* An entry for m: zero counts, unknown rates and statistics. */
void ranked_clear(struct ranked *r, const struct model *m);

#endif
