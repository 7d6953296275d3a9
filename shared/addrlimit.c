#include "addrlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

int
addr_key_parse(const char *text, struct addr_key *out)
{
	unsigned char v6[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return -1;
	if (inet_pton(AF_INET, text, out->b + 1) == 1) {
		out->b[0] = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, v6) != 1)
		return -1;
	if (memcmp(v6, mapped, sizeof(mapped)) == 0) {
		out->b[0] = 4;
		memcpy(out->b + 1, v6 + 12, 4);
	} else {
		out->b[0] = 6;
		memcpy(out->b + 1, v6, 8);
	}
	return 0;
}

void
addr_limit_init(struct addr_limit *l, long long max, int64_t window_ms)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
	l->window_ms = window_ms;
}

size_t
addr_limit_set_of(const struct addr_key *a)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(a->b); i++)
		h = (h ^ a->b[i]) * 16777619u;
	return h % ADDR_LIMIT_SETS;
}

/* The way of set whose window for a is still open, or -1. */
static int
way_of(const struct addr_limit_entry *set, const struct addr_key *a,
    int64_t now_ms)
{
	int w;

	for (w = 0; w < ADDR_LIMIT_WAYS; w++)
		if (now_ms < set[w].window_end_ms &&
		    memcmp(set[w].addr.b, a->b, sizeof(a->b)) == 0)
			return w;
	return -1;
}

int64_t
addr_limit_wait(
    const struct addr_limit *l, const struct addr_key *a, int64_t now_ms)
{
	const struct addr_limit_entry *set = l->set[addr_limit_set_of(a)];
	int w = way_of(set, a, now_ms);

	if (l->max <= 0 || w < 0 || set[w].count < l->max)
		return 0;
	return set[w].window_end_ms - now_ms;
}

/* The entry a new address takes in its set: see addr_limit_count(). */
static struct addr_limit_entry *
victim(struct addr_limit_entry *set, int64_t now_ms)
{
	struct addr_limit_entry *v = &set[0];
	size_t w;

	for (w = 0; w < ADDR_LIMIT_WAYS; w++) {
		if (now_ms >= set[w].window_end_ms)
			return &set[w];
		if (set[w].count < v->count ||
		    (set[w].count == v->count &&
		        set[w].window_end_ms < v->window_end_ms))
			v = &set[w];
	}
	return v;
}

int
addr_limit_count(struct addr_limit *l, const struct addr_key *a, int64_t now_ms)
{
	struct addr_limit_entry *set = l->set[addr_limit_set_of(a)], *e;
	int w;

	if (l->max <= 0)
		return 0;
	w = way_of(set, a, now_ms);
	if (w >= 0) {
		e = &set[w];
	} else {
		e = victim(set, now_ms);
		e->addr = *a;
		e->window_end_ms = now_ms + l->window_ms;
		e->count = 0;
	}
	/* Past the limit the count stops: it only has to stay refused. */
	if (e->count >= l->max)
		return 0;
	return ++e->count == l->max;
}
