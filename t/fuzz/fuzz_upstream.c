/*
 * libFuzzer: one input through both upstream parsers, an instance's
 * export and the hosted service's health answer; whatever they keep
 * must be within the bounds they promise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upstream.h"

/* 2026-12-01T12:00:00Z */
#define NOW_S 1796126400LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_export(const struct upstream_export *e)
{
	size_t i;

	if (e->n > UPSTREAM_MAX_ROWS || e->nids > UPSTREAM_MAX_MODELS ||
	    e->nids > e->n)
		abort();
	for (i = 0; i < e->n; i++) {
		const struct upstream_row *r = &e->rows[i];
		size_t len = strlen(r->model_id);

		if (r->grain != 60 && r->grain != 3600 && r->grain != 86400)
			abort();
		if (r->bucket_s % r->grain != 0 || r->bucket_s > NOW_S + 86400)
			abort();
		if (len == 0 || len > UPSTREAM_ID_MAX)
			abort();
		if (r->success < 0 || r->success > UPSTREAM_MAX_COUNT ||
		    r->rate_limited < 0 || r->unavailable < 0 || r->error < 0 ||
		    r->rate_limited > UPSTREAM_MAX_COUNT ||
		    r->unavailable > UPSTREAM_MAX_COUNT ||
		    r->error > UPSTREAM_MAX_COUNT)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upstream_export e;
	struct upstream_rates r;
	char err[256];
	size_t i;

	if (upstream_parse_export((const char *)data, size, NOW_S, &e, err,
	        sizeof(err)) == 0) {
		check_export(&e);
		upstream_export_free(&e);
	} else if (e.rows != NULL || e.ids != NULL || err[0] == '\0') {
		abort();
	}
	if (upstream_parse_health((const char *)data, size, "24h", &r, err,
	        sizeof(err)) == 0) {
		if (r.n > UPSTREAM_MAX_MODELS)
			abort();
		for (i = 0; i < r.n; i++)
			if (!(r.v[i].error_rate >= 0 && r.v[i].error_rate <= 100))
				abort();
		upstream_rates_free(&r);
	} else if (r.v != NULL || err[0] == '\0') {
		abort();
	}
	return 0;
}
