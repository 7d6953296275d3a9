/*
 * Configuration from the environment (systemd reads it from an
 * EnvironmentFile), read once at start-up from one table of keys with
 * type, default and bounds.  A bad value is reported by name.
 */
#ifndef FLR_CONFIG_H
#define FLR_CONFIG_H

#include "log.h"
#include "util.h"

#define CONFIG_HEADER_MAX 64 /* bytes of a header name setting */

struct config {
	const char *database_url;
	const char *database_read_url; /* NULL: the primary serves reads */
	/* A replica whose replay trails by more serves no reads. */
	long long read_max_lag_ms;
	const char *admin_secret; /* NULL: admin routes disabled */
	const char *openrouter_models_url; /* the catalogue */
	const char *openrouter_api_key; /* NULL: no Authorization header */
	const char *openrouter_base_url; /* OpenRouter's API */
	long long stale_after; /* seconds */
	long long statement_timeout_ms;
	enum log_level log_level;
	long long feedback_retention_days;
	long long request_log_retention_days;
	/* Request-log rows are written in batches of at most this many,
	 * each at most this long after the first row's response left. */
	long long request_log_batch;
	long long request_log_flush_ms;
	long long availability_retention_days;
	/* OpenRouter fetch limits (SPEC 7); tests shorten them. */
	long long sync_connect_timeout_s;
	long long sync_timeout_s; /* whole transfer, per try */
	long long sync_retry_delay_ms; /* before try 2; doubles after */
	long long sync_max_bytes; /* response body cap */
	/* The worker pool's shared metrics segment (shared/metrics.h). */
	const char *metrics_file;
	/*
	 * OpenRouter's endpoint statistics: where they come from (NULL:
	 * not fetched, because the catalogue comes from somewhere else
	 * and OPENROUTER_BASE_URL is not set), how many models a run
	 * asks about (0: none) and how many transfers run at once.
	 */
	const char *endpoint_base_url;
	long long endpoint_fetch_max;
	long long endpoint_concurrency;
	const char *upstream_url; /* another instance; NULL: no federation */
	const char *sync_ca_file; /* NULL: the system's CA bundle */
	/* Single sign-on: the request header in which the authenticating
	 * proxy names the signed-in email; NULL: off. */
	const char *trusted_email_header;
	/* flr-router: its limits (chat calls go to openrouter_base_url). */
	const char *router_metrics_file; /* the router pool's segment */
	long long router_per_user; /* concurrent calls per user */
	long long router_connect_timeout_s;
	long long router_first_byte_s; /* no byte by then: next model */
	long long router_timeout_s; /* one attempt, start to end */
	long long router_budget_s; /* no attempt starts after this */
	long long router_max_bytes; /* one answer, streamed or not */
	/*
	 * Bogus API keys (shared/keycheck.h): seconds a worker remembers a
	 * hash the database did not have (0: never), and the unknown keys
	 * one client address may have looked up per window (0: no limit).
	 */
	long long key_negative_ttl;
	long long key_unknown_limit;
	long long key_unknown_window;
};

/*
 * Fill *cfg from the environment.  On a missing or malformed setting,
 * write "NAME: reason" into err (errsz bytes) and return -1; 0 on
 * success.  Strings point into the environment, or (the catalogue URL
 * made from OPENROUTER_BASE_URL) into storage of this module that the
 * next call reuses: do not free them.
 */
int config_load(struct config *cfg, char *err, size_t errsz) WUR;

#endif
