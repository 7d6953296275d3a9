/*
 * An OpenAI chat-completions request as the router reads it: what the
 * caller asked for (a model, a list of models, or "auto"), what the
 * request needs of a model (tools, images, a context big enough for
 * its prompt), whether it streams, and the listing knobs of the "flr"
 * extension, read through the one parameter table.  Pure functions:
 * nothing here reads the database or the network, so every bad body
 * is refused before any work is done.  The body itself is forwarded
 * upstream with only "model" changed ("models" and "flr" removed).
 */
#ifndef FLR_CHAT_H
#define FLR_CHAT_H

#include <json-c/json.h>

#include "catalog.h"
#include "params.h"
#include "util.h"

#define CHAT_MODELS_MAX 10 /* ids in "models" */
#define CHAT_MODEL_ID_MAX 256 /* bytes */
#define CHAT_MESSAGES_MAX 10000
#define CHAT_JSON_DEPTH 64 /* tool schemas nest deeper than reports */

struct chat_request {
	struct json_object *body; /* the caller's; not owned */
	const char *model; /* an explicit id; NULL for "auto" or absent */
	const char *models[CHAT_MODELS_MAX]; /* "models", repeats dropped */
	int n_models;
	int stream;
	unsigned needs; /* FILTER_TOOLS, FILTER_VISION */
	long long prompt_tokens; /* an estimate: text bytes / 4 */
	long long max_tokens; /* max_tokens or max_completion_tokens; 0 */
	struct list_params p; /* the "flr" member over PR_ROUTER defaults */
};

/* A refused body: always a 400 naming the field. */
struct chat_error {
	const char *code; /* invalid_field, unknown_field */
	const char *field; /* "messages", "flr.sort", ... */
	char detail[200];
};

/*
 * Read body (a JSON object) into *out, model ids copied into arena a;
 * out->body is body, which must outlive out.  Returns 0, or -1 with
 * *err.
 */
int chat_read(struct json_object *body, struct arena *a,
    struct chat_request *out, struct chat_error *err) WUR;

/*
 * 1 when model m can take the request: its context (when known) holds
 * the estimated prompt and the completion asked for.
 */
int chat_fits(const struct chat_request *cr, const struct model *m);

/*
 * The explicit models of the request ("model", then "models"), each of
 * which must be an active model of catalogue c (the free catalogue:
 * anything else is never forwarded), into out (CHAT_MODELS_MAX + 1
 * entries).  Returns their number (0 when the request says "auto"),
 * or -1 with *err (code model_not_free, naming the field).
 */
int chat_explicit_models(const struct chat_request *cr, const struct catalog *c,
    const struct model **out, struct chat_error *err) WUR;

/*
 * The body to send upstream for model id: the caller's body with
 * "model" set to id and "models" and "flr" left out, appended to out.
 * Changes cr->body.  Returns 0, or -1 when out's cap is reached.
 */
int chat_upstream_body(
    struct chat_request *cr, const char *id, struct buf *out) WUR;

#endif
