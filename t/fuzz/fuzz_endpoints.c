/*
 * libFuzzer: OpenRouter endpoint answers through the endpoints parser;
 * whatever it keeps must be within the bounds it promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_figure(double v, double max)
{
	if (v != -1 && !(v >= 0 && v <= max))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct endpoint_stats s;
	char err[256];
	size_t i;

	if (endpoints_parse((const char *)data, size, &s, err, sizeof(err)) !=
	    0) {
		if (s.providers != NULL || s.nproviders != 0 || err[0] == '\0')
			abort();
		return 0;
	}
	check_figure(s.uptime_5m, 100);
	check_figure(s.uptime_30m, 100);
	check_figure(s.uptime_1d, 100);
	check_figure(s.latency_p50_ms, ENDPOINTS_LATENCY_MAX_MS);
	check_figure(s.throughput_p50, ENDPOINTS_THROUGHPUT_MAX);
	if (s.endpoints < 0 || s.endpoints > ENDPOINTS_MAX ||
	    s.nproviders > (size_t)s.endpoints)
		abort();
	for (i = 0; i < s.nproviders; i++) {
		size_t n = strlen(s.providers[i]);

		if (n == 0 || n > ENDPOINTS_NAME_MAX)
			abort();
	}
	endpoints_free(&s);
	return 0;
}
