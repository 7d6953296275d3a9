/*
 * A worker's copies of its last large bodies, by ETag (etag.h): a body
 * whose tag has not changed is the same body, but for the members that
 * differ per request (generatedAt, lastUpdated).  A copy keeps the body
 * without them, cut where they go, and an answer puts this request's
 * values back in that place.  A tag stands for every input of its body
 * (etag.h), so a copy never outlives what it shows: a new report, sync
 * or passing bucket boundary makes a new tag, and the old copy is the
 * least recently used one soon enough.
 */
#ifndef FLR_BODYCACHE_H
#define FLR_BODYCACHE_H

#include <stddef.h>

#include "etag.h"

#define BODY_CACHE_SLOTS 4
/* Larger bodies are built every time: a copy costs RSS for good. */
#define BODY_CACHE_MAX (512 * 1024)

struct body_copy {
	char tag[ETAG_SIZE]; /* "" when the slot is empty */
	char *data; /* the head, then the tail */
	size_t head; /* bytes before the per-request members */
	size_t len; /* head and tail together */
	size_t size; /* allocated */
	unsigned long long used; /* for replacing the least recently used */
};

struct body_cache {
	struct body_copy slot[BODY_CACHE_SLOTS];
	unsigned long long clock;
};

void body_cache_init(struct body_cache *c);
void body_cache_free(struct body_cache *c);

/* The copy stored under tag, or NULL. */
const struct body_copy *body_cache_get(struct body_cache *c, const char *tag);

/*
 * Store body (len bytes) under tag without its bytes [cut, resume): the
 * per-request members.  A body over BODY_CACHE_MAX, one that does not
 * fit in memory, an empty tag or a cut outside the body is not stored
 * (nothing else changes).
 */
void body_cache_put(struct body_cache *c, const char *tag, const char *body,
    size_t len, size_t cut, size_t resume);

#endif
