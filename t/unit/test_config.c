/*
 * Configuration: the URLs that follow from OPENROUTER_BASE_URL and
 * OPENROUTER_MODELS_URL, the endpoint and upstream settings, the
 * unknown-key settings, and a table of malformed values, each refused
 * with the setting's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "util.h"

static const char *const managed[] = { "OPENROUTER_BASE_URL",
	"OPENROUTER_MODELS_URL", "FLR_ENDPOINT_FETCH_MAX",
	"FLR_ENDPOINT_CONCURRENCY", "FLR_UPSTREAM_URL", "OPENROUTER_API_KEY",
	"FLR_KEY_NEGATIVE_TTL", "FLR_KEY_UNKNOWN_LIMIT",
	"FLR_KEY_UNKNOWN_WINDOW" };

static void
reset_env(void)
{
	size_t i;

	for (i = 0; i < NELEM(managed); i++)
		unsetenv(managed[i]);
	setenv("DATABASE_URL", "postgresql:///flr", 1);
}

static void
load_ok(struct config *cfg)
{
	char err[256] = "";

	if (config_load(cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
}

static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	reset_env();
	load_ok(&cfg);
	assert_string_equal(
	    cfg.openrouter_models_url, "https://openrouter.ai/api/v1/models");
	assert_string_equal(
	    cfg.openrouter_base_url, "https://openrouter.ai/api/v1");
	assert_string_equal(
	    cfg.endpoint_base_url, "https://openrouter.ai/api/v1");
	assert_int_equal(cfg.endpoint_fetch_max, 100);
	assert_int_equal(cfg.endpoint_concurrency, 8);
	assert_null(cfg.upstream_url);
	assert_int_equal(cfg.key_negative_ttl, 5);
	assert_int_equal(cfg.key_unknown_limit, 20);
	assert_int_equal(cfg.key_unknown_window, 10);
}

struct url_case {
	const char *base; /* NULL: unset */
	const char *models;
	const char *want_models;
	const char *want_endpoints; /* NULL: no endpoint statistics */
};

static const struct url_case url_cases[] = {
	/* Only the base: the catalogue is {base}/models. */
	{ "http://127.0.0.1:9/api/v1", NULL, "http://127.0.0.1:9/api/v1/models",
	    "http://127.0.0.1:9/api/v1" },
	{ "http://127.0.0.1:9/api/v1/", NULL,
	    "http://127.0.0.1:9/api/v1/models", "http://127.0.0.1:9/api/v1/" },
	/* Only the catalogue elsewhere: nobody to ask for endpoints. */
	{ NULL, "http://127.0.0.1:9/models", "http://127.0.0.1:9/models",
	    NULL },
	{ NULL, "file:///srv/models.json", "file:///srv/models.json", NULL },
	/* The catalogue at OpenRouter's own address: its API too. */
	{ NULL, "https://openrouter.ai/api/v1/models",
	    "https://openrouter.ai/api/v1/models",
	    "https://openrouter.ai/api/v1" },
	/* Both: each as given. */
	{ "http://127.0.0.1:9/v1", "file:///srv/models.json",
	    "file:///srv/models.json", "http://127.0.0.1:9/v1" },
};

static void
test_urls(void **state)
{
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(url_cases); i++) {
		const struct url_case *c = &url_cases[i];

		reset_env();
		if (c->base != NULL)
			setenv("OPENROUTER_BASE_URL", c->base, 1);
		if (c->models != NULL)
			setenv("OPENROUTER_MODELS_URL", c->models, 1);
		load_ok(&cfg);
		assert_string_equal(cfg.openrouter_models_url, c->want_models);
		if (c->want_endpoints == NULL) {
			if (cfg.endpoint_base_url != NULL)
				fail_msg("case %zu: endpoints from %s", i,
				    cfg.endpoint_base_url);
		} else {
			assert_non_null(cfg.endpoint_base_url);
			assert_string_equal(
			    cfg.endpoint_base_url, c->want_endpoints);
		}
	}
}

static void
test_values(void **state)
{
	struct config cfg;

	(void)state;
	reset_env();
	setenv("FLR_ENDPOINT_FETCH_MAX", "0", 1);
	setenv("FLR_ENDPOINT_CONCURRENCY", "64", 1);
	setenv("FLR_UPSTREAM_URL", "https://a.example.org/", 1);
	load_ok(&cfg);
	assert_int_equal(cfg.endpoint_fetch_max, 0);
	assert_int_equal(cfg.endpoint_concurrency, 64);
	assert_string_equal(cfg.upstream_url, "https://a.example.org/");
	/* 0 turns the unknown-key memory and limit off. */
	setenv("FLR_KEY_NEGATIVE_TTL", "0", 1);
	setenv("FLR_KEY_UNKNOWN_LIMIT", "0", 1);
	setenv("FLR_KEY_UNKNOWN_WINDOW", "3600", 1);
	load_ok(&cfg);
	assert_int_equal(cfg.key_negative_ttl, 0);
	assert_int_equal(cfg.key_unknown_limit, 0);
	assert_int_equal(cfg.key_unknown_window, 3600);
	/* Empty is unset, as in an EnvironmentFile. */
	setenv("FLR_UPSTREAM_URL", "", 1);
	load_ok(&cfg);
	assert_null(cfg.upstream_url);
}

struct bad_case {
	const char *name, *value;
};

static const struct bad_case bad_cases[] = {
	{ "OPENROUTER_BASE_URL", "ftp://openrouter.ai/api/v1" },
	{ "OPENROUTER_BASE_URL", "file:///srv/api" },
	{ "OPENROUTER_BASE_URL", "openrouter.ai/api/v1" },
	{ "OPENROUTER_BASE_URL", "https://" },
	{ "OPENROUTER_BASE_URL", "https:///api" },
	{ "OPENROUTER_BASE_URL", "https://openrouter.ai/api?x=1" },
	{ "OPENROUTER_BASE_URL", "https://openrouter.ai/api#v1" },
	{ "OPENROUTER_BASE_URL", "https://openrouter.ai/a b" },
	{ "OPENROUTER_BASE_URL", "https://openrouter.ai/\x01" },
	{ "OPENROUTER_BASE_URL", "https://openrouter.ai/caf\xc3\xa9" },
	{ "FLR_UPSTREAM_URL", "file:///etc/passwd" },
	{ "FLR_UPSTREAM_URL", "a.example.org" },
	{ "FLR_UPSTREAM_URL", "https://a.example.org/?q" },
	{ "FLR_ENDPOINT_FETCH_MAX", "-1" },
	{ "FLR_ENDPOINT_FETCH_MAX", "10001" },
	{ "FLR_ENDPOINT_FETCH_MAX", "ten" },
	{ "FLR_ENDPOINT_FETCH_MAX", "1e2" },
	{ "FLR_ENDPOINT_CONCURRENCY", "0" },
	{ "FLR_ENDPOINT_CONCURRENCY", "65" },
	{ "FLR_ENDPOINT_CONCURRENCY", " 8" },
	{ "OPENROUTER_MODELS_URL", "ftp://example.org/models" },
	{ "FLR_KEY_NEGATIVE_TTL", "-1" },
	{ "FLR_KEY_NEGATIVE_TTL", "301" },
	{ "FLR_KEY_NEGATIVE_TTL", "5s" },
	{ "FLR_KEY_UNKNOWN_LIMIT", "-1" },
	{ "FLR_KEY_UNKNOWN_LIMIT", "1000001" },
	{ "FLR_KEY_UNKNOWN_WINDOW", "0" },
	{ "FLR_KEY_UNKNOWN_WINDOW", "3601" },
	{ "FLR_KEY_UNKNOWN_WINDOW", "1.5" },
};

static void
test_bad_values(void **state)
{
	struct config cfg;
	char err[256], want[64], *longurl;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad_cases); i++) {
		reset_env();
		setenv(bad_cases[i].name, bad_cases[i].value, 1);
		err[0] = '\0';
		if (config_load(&cfg, err, sizeof(err)) != -1)
			fail_msg("%s=%s accepted", bad_cases[i].name,
			    bad_cases[i].value);
		snprintf(want, sizeof(want), "%s: ", bad_cases[i].name);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("%s: reason \"%s\"", bad_cases[i].name, err);
	}
	longurl = xmalloc(2100);
	memset(longurl, 'a', 2099);
	memcpy(longurl, "https://", 8);
	longurl[2099] = '\0';
	reset_env();
	setenv("OPENROUTER_BASE_URL", longurl, 1);
	assert_int_equal(config_load(&cfg, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "OPENROUTER_BASE_URL: must be at most 2000 bytes");
	longurl[2000] = '\0';
	setenv("OPENROUTER_BASE_URL", longurl, 1);
	load_ok(&cfg);
	assert_int_equal(strlen(cfg.openrouter_models_url), 2000 + 7);
	free(longurl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad_values),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
