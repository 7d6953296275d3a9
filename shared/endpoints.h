/*
 * OpenRouter's statistics of one model's endpoints (the providers that
 * serve it), GET {base}/models/{author}/{slug}/endpoints: the path of a
 * model, a strict parser of the answer, and the rule that folds the
 * endpoints into the one row model_endpoint_stats keeps per model.
 *
 * The path keeps a variant suffix: "openai/gpt-oss-20b:free" is asked
 * as /models/openai/gpt-oss-20b:free/endpoints.  OpenRouter lists a
 * catalogue variant such as :free as a model of its own, whose
 * endpoints (and so their uptime, latency and throughput) are that
 * variant's, not the paid model's; the free endpoints are the ones a
 * caller of the free model reaches.
 *
 * The answer is {"data": {..., "endpoints": [ {...}, ... ]}}.  Of each
 * endpoint these members are checked (each may be null or absent):
 *   provider_name                    string, 1 to 256 bytes, no
 *                                    control characters
 *   status                           integer or string (an open enum)
 *   uptime_last_5m, uptime_last_30m,
 *   uptime_last_1d                   number, percent, 0 to 100
 *   latency_last_30m                 object of p50, p75, p90, p99:
 *                                    numbers, milliseconds (time to
 *                                    first token), 0 to 3 600 000
 *   throughput_last_30m              object of p50, p75, p90, p99:
 *                                    numbers, tokens per second, 0 to
 *                                    1 000 000
 * OpenRouter documents latency_last_30m in milliseconds (and sends it
 * only to callers with an API key; null otherwise), so it is stored as
 * it comes.  An answer that breaks any rule is refused whole with a
 * one-line reason naming the endpoint by its index ("endpoint 2:
 * uptime_last_30m is out of range"), and the model keeps its last row.
 *
 * The fold, over the endpoints that give a figure: the best uptime of
 * each window (a request goes to a provider that is up), the lowest
 * median latency, the highest median throughput; the number of
 * endpoints and their distinct provider names, in answer order.  An
 * answer with no endpoints is valid: OpenRouter has none to route to.
 */
#ifndef FLR_ENDPOINTS_H
#define FLR_ENDPOINTS_H

#include <stddef.h>

#include "util.h"

#define ENDPOINTS_MAX 1000 /* endpoints in one answer */
#define ENDPOINTS_NAME_MAX 256 /* bytes of a provider name */
#define ENDPOINTS_MAX_DEPTH 32
#define ENDPOINTS_LATENCY_MAX_MS 3600000.0
#define ENDPOINTS_THROUGHPUT_MAX 1000000.0

/* One model's folded statistics; figures are -1 when none was given. */
struct endpoint_stats {
	long long endpoints;
	double uptime_5m, uptime_30m, uptime_1d; /* percent, best */
	double latency_p50_ms; /* lowest */
	double throughput_p50; /* tokens per second, highest */
	char **providers; /* distinct provider names; NULL when none */
	size_t nproviders;
};

/*
 * Parse len bytes of body (no NUL needed) as an endpoints answer and
 * fold it into *out.  Returns 0 (the caller frees *out with
 * endpoints_free), or -1 with a one-line reason in err (errsz bytes)
 * and *out empty.
 */
int endpoints_parse(const char *body, size_t len, struct endpoint_stats *out,
    char *err, size_t errsz) WUR;

/* Free what endpoints_parse() kept; NULL-safe, leaves *s empty. */
void endpoints_free(struct endpoint_stats *s);

/*
 * Append the path of model_id's endpoints to b:
 * "/models/{author}/{slug}/endpoints", each part percent-encoded but
 * for letters, digits, "-._~" and ":" (the variant's colon).  Returns
 * 0; -1 when the id is not "author/slug" (one slash, neither part
 * empty, ".", or ".."), -2 when b's cap is reached.
 */
int endpoints_path(struct buf *b, const char *model_id) WUR;

#endif
