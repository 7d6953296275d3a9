#include <stdlib.h>
#include <string.h>

#include "bodycache.h"

void
body_cache_init(struct body_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void
body_cache_free(struct body_cache *c)
{
	size_t i;

	for (i = 0; i < BODY_CACHE_SLOTS; i++)
		free(c->slot[i].data);
	body_cache_init(c);
}

const struct body_copy *
body_cache_get(struct body_cache *c, const char *tag)
{
	size_t i;

	for (i = 0; i < BODY_CACHE_SLOTS; i++) {
		struct body_copy *s = &c->slot[i];

		if (s->tag[0] != '\0' && strcmp(s->tag, tag) == 0) {
			s->used = ++c->clock;
			return s;
		}
	}
	return NULL;
}

/* The slot to fill: the empty one or the least recently used. */
static struct body_copy *
victim(struct body_cache *c)
{
	struct body_copy *v = &c->slot[0];
	size_t i;

	for (i = 1; i < BODY_CACHE_SLOTS; i++)
		if (c->slot[i].used < v->used)
			v = &c->slot[i];
	return v;
}

void
body_cache_put(struct body_cache *c, const char *tag, const char *body,
    size_t len, size_t cut, size_t resume)
{
	size_t n = len - (resume - cut);
	struct body_copy *s;

	if (cut > resume || resume > len || n > BODY_CACHE_MAX ||
	    tag[0] == '\0' || strlen(tag) >= sizeof(s->tag))
		return;
	s = victim(c);
	if (s->size < n) {
		char *p = realloc(s->data, n);

		if (p == NULL)
			return;
		s->data = p;
		s->size = n;
	}
	memcpy(s->data, body, cut);
	memcpy(s->data + cut, body + resume, len - resume);
	memcpy(s->tag, tag, strlen(tag) + 1);
	s->head = cut;
	s->len = n;
	s->used = ++c->clock;
}
