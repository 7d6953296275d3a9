#include "quota.h"

int
quota_allowed(const struct quota *q)
{
	return q->count <= q->limit;
}

long long
quota_remaining(const struct quota *q)
{
	long long left = q->limit - q->count;

	return left > 0 ? left : 0;
}

static int64_t
reset_ms(const struct quota *q)
{
	return q->window_start_ms + (int64_t)q->window_seconds * 1000;
}

long long
quota_reset_at(const struct quota *q)
{
	return (long long)((reset_ms(q) + 999) / 1000);
}

long long
quota_seconds_to_reset(const struct quota *q)
{
	int64_t left = reset_ms(q) - q->now_ms;

	/* A client told 0 would retry at once into the same window. */
	if (left <= 0)
		return 1;
	return (long long)((left + 999) / 1000);
}
