/*
 * One request and its response inside a worker: what nginx passed over
 * FastCGI, and the single path that writes status, headers (content
 * type, request id, CORS, nosniff) and body back.
 */
#ifndef FLR_HTTP_H
#define FLR_HTTP_H

#include <fcgiapp.h>
#include <json-c/json.h>

#include "auth.h"
#include "params.h"
#include "util.h"

#define BODY_MAX 16384 /* request bodies (SPEC.md §0) */
#define LARGE_BODY_MAX 4194304 /* chat bodies, images included */

struct request {
	FCGX_Request *fcgx;
	struct arena *arena;
	const char *method;
	const char *path; /* without the query string */
	const char *query; /* "" when none */
	const char *content_type;
	const char *authorization;
	const char *client_addr; /* REMOTE_ADDR; NULL when nginx sent none */
	const char *path_arg; /* the {id} of a route like /keys/{id} */
	char *body; /* NUL-terminated; NULL when none */
	size_t body_len;
	char request_id[UUID_LEN + 1]; /* X-Request-Id */
	char log_id[UUID_LEN + 1]; /* requestId: the request-log row */
	double started_ms;
	int streamed; /* the handler wrote the response itself */
};

struct response {
	int status;
	const char *content_type;
	const char *code; /* a problem document's code, or NULL */
	char etag[48]; /* sent with a 200 or 304 only; "" for none */
	struct buf headers; /* extra "Name: value\r\n" lines */
	struct buf body;
	int head_only; /* HEAD: headers, no body */
};

/* The reusable buffers of a worker's response; reset per request. */
void response_init(struct response *res);
void response_reset(struct response *res);
void response_free(struct response *res);

/* Add a header line (name and a formatted value). */
void response_header(struct response *res, const char *name, const char *fmt,
    ...) PRINTF_LIKE(3, 4);

/*
 * Make res an RFC 9457 problem document with the legacy "error" field:
 * status, stable snake_case code, the offending parameter (or NULL)
 * and a detail sentence (cut at 511 bytes, between UTF-8 characters).
 * Replaces any body already written.
 */
void response_problem(struct response *res, int status, const char *code,
    const char *param, const char *fmt, ...) PRINTF_LIKE(5, 6);

/* 503 service_unavailable with Retry-After: the database is away. */
void response_unavailable(struct response *res);

/*
 * The conditional GET, in one place: tag becomes the answer's ETag and,
 * when the request's If-None-Match matches it (etag_match), res becomes
 * a 304 with that ETag and cache_control, and no body.  Returns 1 for
 * the 304 (the answer is complete), 0 when the full answer must be
 * built.
 */
int response_not_modified(const struct request *req, struct response *res,
    const char *tag, const char *cache_control);

/* 1 when a header line called name has been added to res. */
int response_has_header(const struct response *res, const char *name);

/*
 * Send res on req's stream: status line, headers, body.  A body or
 * headers that went over their cap (the buffer's over flag) are never
 * sent: response_enforce_caps() makes res a 500 first.
 */
void response_send(const struct request *req, struct response *res);

/*
 * If res's body or extra headers went over their cap, log it and make
 * res a 500 internal_error problem without those headers: returns 1.
 * Returns 0 (res untouched) when both fit.
 */
int response_enforce_caps(struct response *res);

/*
 * A streamed answer (server-sent events): send res's status line and
 * headers without a Content-Length, marking req as answered; then
 * response_stream_write() sends each piece at once.  Both return 0, or
 * -1 when the client is gone (nginx closed the connection); begin also
 * returns -1, sending nothing, when res's headers are over their cap
 * (res is then the 500 of response_enforce_caps(), for response_send()).
 */
int response_stream_begin(struct request *req, struct response *res) WUR;
int response_stream_write(struct request *req, const char *p, size_t n) WUR;

/*
 * Parse the request body as a JSON object (nesting at most
 * JSON_BODY_DEPTH deep, no member name twice).
 * Returns it (caller json_object_put()s it), or NULL with 400
 * invalid_json written to res.
 */
struct json_object *request_json(
    const struct request *req, struct response *res);

/*
 * The value of query parameter name, which may be given at most once:
 * 0 with *value (NULL when absent), or -1 with the 400 (a malformed
 * query string, or the name twice) written to res.  For routes that
 * take a parameter or two outside the listing set.
 */
int request_param(const struct request *req, struct response *res,
    const char *name, const char **value) WUR;

/*
 * 1 when the request asks for strict handling (Prefer: handling=strict,
 * RFC 7240); 0 for the lenient default.  A handling preference that was
 * honoured is answered with Preference-Applied on res.
 */
int request_strict(const struct request *req, struct response *res);

/*
 * Read the query parameters route r takes into p, in the mode the
 * request prefers: 0 (adjustments in adj, reported in X-FLR-Adjusted),
 * or -1 with the 400 written to res.
 */
int request_params(const struct request *req, struct response *res,
    enum param_route r, struct list_params *p,
    struct param_adjustments *adj) WUR;

/* Report adj (when not empty) in an X-FLR-Adjusted header. */
void response_adjusted(
    struct response *res, const struct param_adjustments *adj);

/* The reason phrase of an HTTP status we use ("Bad Request"). */
const char *http_status_title(int status);

#endif
