#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "etag.h"
#include "json.h"
#include "log.h"
#include "params.h"

static const struct {
	int status;
	const char *title;
} titles[] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 204, "No Content" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 413, "Payload Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Content" },
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
};

const char *
http_status_title(int status)
{
	size_t i;

	for (i = 0; i < NELEM(titles); i++)
		if (titles[i].status == status)
			return titles[i].title;
	return "Unknown";
}

/* Caps: headers are ours; bodies are bounded by the catalogue size. */
#define HEADERS_CAP 8192
#define RESPONSE_BODY_CAP (8u << 20)

void
response_init(struct response *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->headers, HEADERS_CAP);
	buf_init(&res->body, RESPONSE_BODY_CAP);
	response_reset(res);
}

void
response_reset(struct response *res)
{
	res->status = 200;
	res->content_type = "application/json";
	res->code = NULL;
	res->etag[0] = '\0';
	res->head_only = 0;
	buf_reset(&res->headers);
	buf_reset(&res->body);
}

void
response_free(struct response *res)
{
	buf_free(&res->headers);
	buf_free(&res->body);
}

void
response_header(struct response *res, const char *name, const char *fmt, ...)
{
	char value[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	buf_printf(&res->headers, "%s: %s\r\n", name, value);
}

void
response_problem(struct response *res, int status, const char *code,
    const char *param, const char *fmt, ...)
{
	char detail[512];
	struct jw w;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* A detail cut short must still be UTF-8: cut between characters. */
	if (n > 0 && (size_t)n >= sizeof(detail))
		detail[utf8_cut(detail, sizeof(detail) - 1)] = '\0';
	res->status = status;
	res->content_type = "application/problem+json";
	res->code = code;
	buf_reset(&res->body);
	jw_init(&w, &res->body);
	jw_obj_begin(&w);
	jw_key(&w, "type"), jw_str(&w, "about:blank");
	jw_key(&w, "title"), jw_str(&w, http_status_title(status));
	jw_key(&w, "status"), jw_int(&w, status);
	jw_key(&w, "detail"), jw_str(&w, detail);
	jw_key(&w, "error"), jw_str(&w, detail);
	jw_key(&w, "code"), jw_str(&w, code);
	if (param != NULL)
		jw_key(&w, "param"), jw_str(&w, param);
	jw_obj_end(&w);
}

void
response_unavailable(struct response *res)
{
	response_problem(res, 503, "service_unavailable", NULL,
	    "the database is unavailable; try again shortly");
	response_header(res, "Retry-After", "5");
}

int
response_enforce_caps(struct response *res)
{
	/* Cut short where the cap was reached: never sent as if whole. */
	if (!res->body.over && !res->headers.over)
		return 0;
	log_error("response %d not sent: its %s went over the %zu-byte cap",
	    res->status, res->body.over ? "body" : "headers",
	    res->body.over ? res->body.cap : res->headers.cap);
	buf_reset(&res->headers);
	response_problem(res, 500, "internal_error", NULL,
	    "the response was too large to send");
	return 1;
}

int
response_not_modified(const struct request *req, struct response *res,
    const char *tag, const char *cache_control)
{
	snprintf(res->etag, sizeof(res->etag), "%s", tag);
	if (!etag_match(
	        FCGX_GetParam("HTTP_IF_NONE_MATCH", req->fcgx->envp), tag))
		return 0;
	res->status = 304;
	buf_reset(&res->body);
	response_header(res, "Cache-Control", "%s", cache_control);
	return 1;
}

int
response_has_header(const struct response *res, const char *name)
{
	size_t n = strlen(name);
	const char *p = res->headers.data;

	/* Lines are "Name: value\r\n", one after another. */
	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return 1;
		p = strstr(p, "\r\n");
		p = p != NULL ? p + 2 : NULL;
	}
	return 0;
}

/* Status line and headers; a Content-Length unless streaming. */
static int
write_head(const struct request *req, const struct response *res, int stream)
{
	/* 204 and 304 have no content, so no content headers either. */
	int bodyless = res->status == 204 || res->status == 304;
	char head[1024];
	int n, rc = 0;

	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "X-Request-Id: %s\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Access-Control-Allow-Origin: *\r\n"
	    "Access-Control-Allow-Methods: GET, POST, PUT, DELETE, "
	    "OPTIONS\r\n"
	    "Access-Control-Allow-Headers: Content-Type, Authorization, "
	    "X-Request-Id, Prefer, Idempotency-Key, If-None-Match, "
	    "X-OpenRouter-Key\r\n"
	    "Access-Control-Expose-Headers: X-RateLimit-Limit, "
	    "X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit, "
	    "RateLimit-Policy, Retry-After, X-Data-Stale, "
	    "X-Data-Age-Seconds, X-Request-Id, X-FLR-Adjusted, "
	    "Preference-Applied, Idempotent-Replayed, ETag, X-FLR-Model, "
	    "X-FLR-Attempts\r\n",
	    res->status, http_status_title(res->status), req->request_id);
	rc |= FCGX_PutStr(head, n, req->fcgx->out) < 0;
	if (stream) {
		n = snprintf(head, sizeof(head), "Content-Type: %s\r\n",
		    res->content_type);
		rc |= FCGX_PutStr(head, n, req->fcgx->out) < 0;
	} else if (!bodyless) {
		n = snprintf(head, sizeof(head),
		    "Content-Type: %s\r\n"
		    "Content-Length: %zu\r\n",
		    res->content_type, res->body.len);
		rc |= FCGX_PutStr(head, n, req->fcgx->out) < 0;
	}
	if (res->etag[0] != '\0' &&
	    (res->status == 200 || res->status == 304)) {
		n = snprintf(head, sizeof(head), "ETag: %s\r\n", res->etag);
		rc |= FCGX_PutStr(head, n, req->fcgx->out) < 0;
	}
	if (res->headers.len > 0)
		rc |= FCGX_PutStr(res->headers.data, (int)res->headers.len,
		          req->fcgx->out) < 0;
	rc |= FCGX_PutStr("\r\n", 2, req->fcgx->out) < 0;
	return rc ? -1 : 0;
}

void
response_send(const struct request *req, struct response *res)
{
	int bodyless;

	(void)response_enforce_caps(res);
	bodyless = res->status == 204 || res->status == 304;
	(void)write_head(req, res, 0);
	if (!bodyless && !res->head_only && res->body.len > 0)
		FCGX_PutStr(res->body.data, (int)res->body.len, req->fcgx->out);
}

int
response_stream_begin(struct request *req, struct response *res)
{
	/*
	 * A head over its cap never goes out: res is then the 500 problem,
	 * which the worker sends in place of the stream (req not streamed).
	 */
	if (response_enforce_caps(res))
		return -1;
	req->streamed = 1;
	if (write_head(req, res, 1) != 0 || FCGX_FFlush(req->fcgx->out) != 0)
		return -1;
	return 0;
}

int
response_stream_write(struct request *req, const char *p, size_t n)
{
	while (n > 0) {
		int chunk = n > 65536 ? 65536 : (int)n;

		if (FCGX_PutStr(p, chunk, req->fcgx->out) != chunk)
			return -1;
		p += chunk;
		n -= (size_t)chunk;
	}
	/* Each piece goes out as it came: nginx does not buffer it. */
	return FCGX_FFlush(req->fcgx->out) != 0 ? -1 : 0;
}

struct json_object *
request_json(const struct request *req, struct response *res)
{
	struct json_object *obj;
	char err[128];

	if (req->body_len == 0) {
		response_problem(res, 400, "invalid_json", NULL,
		    "the request body must be a JSON object");
		return NULL;
	}
	obj = json_parse(
	    req->body, req->body_len, JSON_BODY_DEPTH, err, sizeof(err));
	if (obj == NULL) {
		response_problem(res, 400, "invalid_json", NULL,
		    "the request body is not valid JSON: %s", err);
		return NULL;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		response_problem(res, 400, "invalid_json", NULL,
		    "the request body must be a JSON object");
		return NULL;
	}
	return obj;
}

int
request_param(const struct request *req, struct response *res, const char *name,
    const char **value)
{
	struct param_error pe;
	struct query q;
	int i;

	*value = NULL;
	if (query_parse(req->query, req->arena, &q, &pe) != 0) {
		response_problem(res, 400, pe.code, NULL, "%s", pe.detail);
		return -1;
	}
	for (i = 0; i < q.n; i++) {
		if (strcmp(q.pairs[i].name, name) != 0)
			continue;
		if (*value != NULL) {
			response_problem(res, 400, "duplicate_parameter", name,
			    "%s is given more than once", name);
			return -1;
		}
		*value = q.pairs[i].value;
	}
	return 0;
}

/* The value of the "handling" preference in a Prefer header, or NULL. */
static const char *
prefer_handling(const char *h, char *out, size_t outsz)
{
	while (h != NULL && *h != '\0') {
		size_t len = strcspn(h, ",");
		const char *p = h, *end = h + len;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) > 9 &&
		    strncasecmp(p, "handling", 8) == 0) {
			const char *v = p + 8;
			size_t n;

			while (v < end && *v == ' ')
				v++;
			if (v < end && *v == '=') {
				v++;
				while (v < end && (*v == ' ' || *v == '"'))
					v++;
				n = strcspn(v, "\"; ,");
				if (v + n > end)
					n = (size_t)(end - v);
				if (n < outsz) {
					memcpy(out, v, n);
					out[n] = '\0';
					return out;
				}
			}
		}
		h = *end == ',' ? end + 1 : end;
	}
	return NULL;
}

int
request_strict(const struct request *req, struct response *res)
{
	const char *h = FCGX_GetParam("HTTP_PREFER", req->fcgx->envp);
	char v[16];
	const char *handling = prefer_handling(h, v, sizeof(v));

	if (handling == NULL)
		return 0;
	if (strcasecmp(handling, "strict") == 0) {
		response_header(res, "Preference-Applied", "handling=strict");
		return 1;
	}
	if (strcasecmp(handling, "lenient") == 0)
		response_header(res, "Preference-Applied", "handling=lenient");
	return 0;
}

void
response_adjusted(struct response *res, const struct param_adjustments *adj)
{
	struct buf v;

	if (adj == NULL || adj->n == 0)
		return;
	buf_init(&v, 4096);
	param_adjustments_format(adj, &v);
	if (!v.over)
		buf_printf(&res->headers, "X-FLR-Adjusted: %s\r\n", v.data);
	buf_free(&v);
}

int
request_params(const struct request *req, struct response *res,
    enum param_route r, struct list_params *p, struct param_adjustments *adj)
{
	int strict = request_strict(req, res);
	struct param_error pe;
	struct query q;

	list_params_defaults(p, r);
	adj->n = 0;
	if (query_parse(req->query, req->arena, &q, &pe) != 0 ||
	    params_read(&q, r, strict, req->arena, p, adj, &pe) != 0) {
		response_problem(res, 400, pe.code, pe.param, "%s", pe.detail);
		return -1;
	}
	response_adjusted(res, adj);
	return 0;
}
