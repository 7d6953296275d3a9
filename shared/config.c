#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum config_type {
	CONF_STRING,
	CONF_URL,
	CONF_HTTP_URL, /* https:// or http:// only */
	CONF_INT,
	CONF_LOG_LEVEL,
	CONF__MAX
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	int required;
	const char *def;
	long long min, max; /* CONF_INT bounds; CONF_STRING min length */
};

#define OFF(f) offsetof(struct config, f)

static const struct config_key keys[] = {
	{ "DATABASE_URL", CONF_STRING, OFF(database_url), 1, NULL, 1, 0 },
	{ "DATABASE_READ_URL", CONF_STRING, OFF(database_read_url), 0, NULL, 1,
	    0 },
	/* A short admin secret is guessable: ask for a real one. */
	{ "ADMIN_SECRET", CONF_STRING, OFF(admin_secret), 0, NULL, 16, 0 },
	{ "OPENROUTER_MODELS_URL", CONF_URL, OFF(openrouter_models_url), 0,
	    "https://openrouter.ai/api/v1/models", 0, 0 },
	{ "OPENROUTER_API_KEY", CONF_STRING, OFF(openrouter_api_key), 0, NULL,
	    1, 0 },
	{ "FLR_STALE_AFTER", CONF_INT, OFF(stale_after), 0, "3600", 1,
	    31536000 },
	{ "FLR_STATEMENT_TIMEOUT_MS", CONF_INT, OFF(statement_timeout_ms), 0,
	    "5000", 100, 600000 },
	{ "FLR_LOG_LEVEL", CONF_LOG_LEVEL, OFF(log_level), 0, "info", 0, 0 },
	{ "FLR_FEEDBACK_RETENTION_DAYS", CONF_INT, OFF(feedback_retention_days),
	    0, "90", 1, 36500 },
	{ "FLR_REQUEST_LOG_RETENTION_DAYS", CONF_INT,
	    OFF(request_log_retention_days), 0, "30", 1, 36500 },
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
	/* The router's upstream: OpenRouter's OpenAI-compatible API. */
	{ "OPENROUTER_BASE_URL", CONF_HTTP_URL, OFF(openrouter_base_url), 0,
	    "https://openrouter.ai/api/v1", 0, 0 },
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
};

static int
valid_url(const char *s, int http_only)
{
	static const char *schemes[] = { "https://", "http://", "file://" };
	size_t i;

	for (i = 0; i < (http_only ? 2 : NELEM(schemes)); i++)
		if (strncmp(s, schemes[i], strlen(schemes[i])) == 0 &&
		    s[strlen(schemes[i])] != '\0')
			return 1;
	return 0;
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
	case CONF_HTTP_URL:
		if (!valid_url(v, k->type == CONF_HTTP_URL)) {
			snprintf(err, errsz, "%s: must be an %s URL", k->name,
			    k->type == CONF_HTTP_URL
			        ? "https:// or http://"
			        : "https://, http:// or file://");
			return -1;
		}
		memcpy(field, &v, sizeof(v));
		return 0;
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
	return 0;
}
