#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum config_type {
	CONF_STRING,
	CONF_URL,
	CONF_INT,
	CONF_LOG_LEVEL,
	CONF_HEADER,
	CONF__MAX
};

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
	/* Off unless set: only an nginx that sets this header from its
	 * auth subrequest may be in front (nginx/flr-sso.conf). */
	{ "FLR_TRUSTED_EMAIL_HEADER", CONF_HEADER, OFF(trusted_email_header), 0,
	    NULL, 1, CONFIG_HEADER_MAX },
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
