/*
 * The fixed quota window as seen after the atomic check-and-increment
 * in the database (see STMT_AUTH_COUNTED): what the headers say.
 */
#ifndef FLR_QUOTA_H
#define FLR_QUOTA_H

#include <stdint.h>

struct quota {
	long long limit; /* rate_limit_max */
	long long count; /* window_count after this request */
	long long window_seconds; /* rate_limit_window_seconds */
	int64_t window_start_ms;
	int64_t now_ms; /* the database's clock, same as window_start */
};

/* 1 when this request fits in the window, 0 when it is refused. */
int quota_allowed(const struct quota *q);

/* Requests left in the window after this one (never negative). */
long long quota_remaining(const struct quota *q);

/* Unix seconds at which the window ends (rounded up). */
long long quota_reset_at(const struct quota *q);

/* Whole seconds until the window ends, at least 1 while it is open. */
long long quota_seconds_to_reset(const struct quota *q);

#endif
