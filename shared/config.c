#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

enum config_type {
	CONF_STRING,
	CONF_URL, /* https, http or file */
	CONF_BASE_URL, /* https or http, routes are appended to it */
	CONF_INT,
	CONF_LOG_LEVEL,
	CONF_HEADER, /* a request header name */
	CONF__MAX
};

#define DEFAULT_BASE_URL "https://openrouter.ai/api/v1"
#define MODELS_PATH "/models"
/* Longest base URL: routes are appended, and it goes into logs. */
#define BASE_URL_MAX 2000

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	int required;
	const char *def;
	long long min, max; /* CONF_INT bounds; CONF_STRING min length;
	                       CONF_HEADER max length */
};

#define OFF(f) offsetof(struct config, f)

static const struct config_key keys[] = {
	{ "DATABASE_URL", CONF_STRING, OFF(database_url), 1, NULL, 1, 0 },
	{ "DATABASE_READ_URL", CONF_STRING, OFF(database_read_url), 0, NULL, 1,
	    0 },
	{ "FLR_READ_MAX_LAG_MS", CONF_INT, OFF(read_max_lag_ms), 0, "1000", 0,
	    3600000 },
	/* A short admin secret is guessable: ask for a real one. */
	{ "ADMIN_SECRET", CONF_STRING, OFF(admin_secret), 0, NULL, 16, 0 },
	/* Unset: {OPENROUTER_BASE_URL}/models (see derive_urls). */
	{ "OPENROUTER_MODELS_URL", CONF_URL, OFF(openrouter_models_url), 0,
	    NULL, 0, 0 },
	{ "OPENROUTER_API_KEY", CONF_STRING, OFF(openrouter_api_key), 0, NULL,
	    1, 0 },
	{ "OPENROUTER_BASE_URL", CONF_BASE_URL, OFF(openrouter_base_url), 0,
	    DEFAULT_BASE_URL, 0, 0 },
	{ "FLR_STALE_AFTER", CONF_INT, OFF(stale_after), 0, "3600", 1,
	    31536000 },
	{ "FLR_STATEMENT_TIMEOUT_MS", CONF_INT, OFF(statement_timeout_ms), 0,
	    "5000", 100, 600000 },
	{ "FLR_LOG_LEVEL", CONF_LOG_LEVEL, OFF(log_level), 0, "info", 0, 0 },
	{ "FLR_FEEDBACK_RETENTION_DAYS", CONF_INT, OFF(feedback_retention_days),
	    0, "90", 1, 36500 },
	{ "FLR_REQUEST_LOG_RETENTION_DAYS", CONF_INT,
	    OFF(request_log_retention_days), 0, "30", 1, 36500 },
	/* 1: each row on its own, just after its response. */
	{ "FLR_REQUEST_LOG_BATCH", CONF_INT, OFF(request_log_batch), 0, "64", 1,
	    1000 },
	{ "FLR_REQUEST_LOG_FLUSH_MS", CONF_INT, OFF(request_log_flush_ms), 0,
	    "10", 1, 60000 },
	{ "FLR_AVAILABILITY_RETENTION_DAYS", CONF_INT,
	    OFF(availability_retention_days), 0, "90", 1, 36500 },
	{ "FLR_SYNC_CONNECT_TIMEOUT_S", CONF_INT, OFF(sync_connect_timeout_s),
	    0, "10", 1, 300 },
	{ "FLR_SYNC_TIMEOUT_S", CONF_INT, OFF(sync_timeout_s), 0, "30", 1,
	    3600 },
	{ "FLR_SYNC_RETRY_DELAY_MS", CONF_INT, OFF(sync_retry_delay_ms), 0,
	    "1000", 0, 60000 },
	/* 32 MiB by default; the catalogue is about 1 MiB today. */
	{ "FLR_SYNC_MAX_BYTES", CONF_INT, OFF(sync_max_bytes), 0, "33554432",
	    1024, 268435456 },
	/* flr-api.service's RuntimeDirectory: gone when the pool stops. */
	{ "FLR_METRICS_FILE", CONF_STRING, OFF(metrics_file), 0,
	    "/run/flr/metrics", 1, 0 },
	{ "FLR_ENDPOINT_FETCH_MAX", CONF_INT, OFF(endpoint_fetch_max), 0, "100",
	    0, 10000 },
	{ "FLR_ENDPOINT_CONCURRENCY", CONF_INT, OFF(endpoint_concurrency), 0,
	    "8", 1, 64 },
	{ "FLR_UPSTREAM_URL", CONF_BASE_URL, OFF(upstream_url), 0, NULL, 0, 0 },
	/* A catalogue mirror behind a private certificate authority. */
	{ "FLR_SYNC_CA_FILE", CONF_STRING, OFF(sync_ca_file), 0, NULL, 1, 0 },
	/* Off unless set: only an nginx that sets this header from its
	 * auth subrequest may be in front (nginx/flr-sso.conf). */
	{ "FLR_TRUSTED_EMAIL_HEADER", CONF_HEADER, OFF(trusted_email_header), 0,
	    NULL, 1, CONFIG_HEADER_MAX },
	/*
	 * flr-router: chat calls go to {OPENROUTER_BASE_URL}/chat/completions;
	 * its metrics segment is in flr-router.service's RuntimeDirectory.
	 */
	{ "FLR_ROUTER_METRICS_FILE", CONF_STRING, OFF(router_metrics_file), 0,
	    "/run/flr-router/metrics", 1, 0 },
	{ "FLR_ROUTER_PER_USER", CONF_INT, OFF(router_per_user), 0, "4", 1,
	    64 },
	{ "FLR_ROUTER_CONNECT_TIMEOUT_S", CONF_INT,
	    OFF(router_connect_timeout_s), 0, "10", 1, 120 },
	{ "FLR_ROUTER_FIRST_BYTE_S", CONF_INT, OFF(router_first_byte_s), 0,
	    "30", 1, 600 },
	{ "FLR_ROUTER_TIMEOUT_S", CONF_INT, OFF(router_timeout_s), 0, "300", 1,
	    3600 },
	{ "FLR_ROUTER_BUDGET_S", CONF_INT, OFF(router_budget_s), 0, "60", 1,
	    3600 },
	/* An answer is held in the response buffer (8 MiB) when not streamed. */
	{ "FLR_ROUTER_MAX_BYTES", CONF_INT, OFF(router_max_bytes), 0, "4194304",
	    1024, 8000000 },
	/* A key made within the TTL after it was tried waits that long. */
	{ "FLR_KEY_NEGATIVE_TTL", CONF_INT, OFF(key_negative_ttl), 0, "5", 0,
	    300 },
	{ "FLR_KEY_UNKNOWN_LIMIT", CONF_INT, OFF(key_unknown_limit), 0, "20", 0,
	    1000000 },
	{ "FLR_KEY_UNKNOWN_WINDOW", CONF_INT, OFF(key_unknown_window), 0, "10",
	    1, 3600 },
};

static int
valid_url(const char *s)
{
	static const char *schemes[] = { "https://", "http://", "file://" };
	size_t i;

	for (i = 0; i < NELEM(schemes); i++)
		if (strncmp(s, schemes[i], strlen(schemes[i])) == 0 &&
		    s[strlen(schemes[i])] != '\0')
			return 1;
	return 0;
}

/*
 * A base URL: https:// or http://, a host, printable ASCII without
 * spaces, no query or fragment (routes are appended to it).  NULL when
 * it is fine, else what is wrong.
 */
static const char *
base_url_problem(const char *s)
{
	size_t i, len = strlen(s);

	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return "must be an https:// or http:// URL";
	if (s[strcspn(s, ":") + 3] == '\0' || s[strcspn(s, ":") + 3] == '/')
		return "must name a host";
	if (len > BASE_URL_MAX)
		return "must be at most 2000 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return "must not contain spaces or control characters";
	if (strpbrk(s, "?#") != NULL)
		return "must not have a query or a fragment";
	return NULL;
}

/* A header name as nginx passes it on: letters, digits and hyphens. */
static int
valid_header(const char *s, long long max)
{
	size_t i, n = strlen(s);

	if (n == 0 || (long long)n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

static int
set_key(struct config *cfg, const struct config_key *k, const char *v,
    char *err, size_t errsz)
{
	char *field = (char *)cfg + k->offset;
	long long n;

	switch (k->type) {
	case CONF_STRING:
		if ((long long)strlen(v) < k->min) {
			snprintf(err, errsz,
			    "%s: must be at least %lld "
			    "characters",
			    k->name, k->min);
			return -1;
		}
		memcpy(field, &v, sizeof(v));
		return 0;
	case CONF_URL:
		if (!valid_url(v)) {
			snprintf(err, errsz,
			    "%s: must be an https://, "
			    "http:// or file:// URL",
			    k->name);
			return -1;
		}
		memcpy(field, &v, sizeof(v));
		return 0;
	case CONF_BASE_URL: {
		const char *why = base_url_problem(v);

		if (why != NULL) {
			snprintf(err, errsz, "%s: %s", k->name, why);
			return -1;
		}
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	case CONF_INT:
		if (parse_int(v, k->min, k->max, &n) != 0) {
			snprintf(err, errsz,
			    "%s: must be an integer from "
			    "%lld to %lld",
			    k->name, k->min, k->max);
			return -1;
		}
		memcpy(field, &n, sizeof(n));
		return 0;
	case CONF_HEADER:
		if (!valid_header(v, k->max)) {
			snprintf(err, errsz,
			    "%s: must be a header name (letters, digits "
			    "and hyphens, at most %lld)",
			    k->name, k->max);
			return -1;
		}
		memcpy(field, &v, sizeof(v));
		return 0;
	case CONF_LOG_LEVEL: {
		enum log_level l;

		if (log_parse_level(v, &l) != 0) {
			snprintf(err, errsz,
			    "%s: must be one of debug, info, "
			    "warn, error",
			    k->name);
			return -1;
		}
		memcpy(field, &l, sizeof(l));
		return 0;
	}
	case CONF__MAX:
		break;
	}
	snprintf(err, errsz, "%s: unknown type", k->name);
	return -1;
}

/* 1 when the environment sets name (an empty value is unset). */
static int
is_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0';
}

/*
 * The URLs that follow from others.  The catalogue is
 * {OPENROUTER_BASE_URL}/models unless OPENROUTER_MODELS_URL says
 * otherwise.  The endpoint statistics come from the base URL, unless
 * the catalogue comes from somewhere else (a mirror, a file) and no
 * base URL was set: then there is no OpenRouter API to ask.
 */
static void
derive_urls(struct config *cfg)
{
	static char models[BASE_URL_MAX + sizeof(MODELS_PATH)];
	struct buf b;

	if (cfg->openrouter_models_url == NULL) {
		buf_init(&b, sizeof(models) - 1);
		if (fetch_join(&b, cfg->openrouter_base_url, MODELS_PATH) != 0)
			abort(); /* BASE_URL_MAX leaves room for it */
		memcpy(models, b.data, b.len + 1);
		buf_free(&b);
		cfg->openrouter_models_url = models;
	}
	if (is_set("OPENROUTER_BASE_URL") || !is_set("OPENROUTER_MODELS_URL") ||
	    strcmp(cfg->openrouter_models_url, DEFAULT_BASE_URL MODELS_PATH) ==
	        0)
		cfg->endpoint_base_url = cfg->openrouter_base_url;
}

int
config_load(struct config *cfg, char *err, size_t errsz)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NELEM(keys); i++) {
		const char *v = getenv(keys[i].name);

		/* An empty value means unset, as in an EnvironmentFile. */
		if (v != NULL && *v == '\0')
			v = NULL;
		if (v == NULL && keys[i].required) {
			snprintf(err, errsz, "%s: not set", keys[i].name);
			return -1;
		}
		if (v == NULL)
			v = keys[i].def;
		if (v != NULL && set_key(cfg, &keys[i], v, err, errsz) != 0)
			return -1;
	}
	derive_urls(cfg);
	return 0;
}
