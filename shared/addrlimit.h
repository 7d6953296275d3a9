/*
 * A per-process count of events per client address in a fixed window,
 * and the addresses that reached the limit: what makes a flood of
 * distinct bogus API keys from one address cheap (shared/keycheck.c).
 * A fixed table, no allocation: it lives in its owner.
 */
#ifndef FLR_ADDRLIMIT_H
#define FLR_ADDRLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ADDR_LIMIT_SETS 256
#define ADDR_LIMIT_WAYS 4 /* 1024 addresses in all */

/*
 * A client address as it is counted: an IPv4 address, or the /64 of an
 * IPv6 one (a single client usually holds a whole /64).  An IPv4 address
 * written as IPv6 (::ffff:192.0.2.1) is that IPv4 address.
 */
struct addr_key {
	unsigned char b[9]; /* b[0]: 4 or 6; then 4 or 8 bytes, zero padded */
};

/*
 * Read REMOTE_ADDR text (NULL allowed) into *out.  Returns 0, or -1
 * when it is not an IP address (nginx on a Unix socket says "unix:"):
 * such a client is not counted.
 */
int addr_key_parse(const char *text, struct addr_key *out) WUR;

struct addr_limit_entry {
	struct addr_key addr;
	int64_t window_end_ms; /* monotonic; 0: empty */
	long long count;
};

struct addr_limit {
	long long max; /* events per window; 0: never refuse */
	int64_t window_ms;
	struct addr_limit_entry set[ADDR_LIMIT_SETS][ADDR_LIMIT_WAYS];
};

/*
 * The set of the table whose ways a may take: FNV-1a of its bytes.  A
 * client holding many addresses can crowd a set; that pushes other
 * counts out early, it never refuses anyone.
 */
size_t addr_limit_set_of(const struct addr_key *a);

/* An empty table: max events per window_ms (max 0 turns it off). */
void addr_limit_init(struct addr_limit *l, long long max, int64_t window_ms);

/*
 * How long a is still refused at now_ms (monotonic): the ms until its
 * window ends once it has counted max events in it, else 0.
 */
int64_t addr_limit_wait(
    const struct addr_limit *l, const struct addr_key *a, int64_t now_ms);

/*
 * Count one event of a at now_ms.  Its window opens with its first
 * event and lasts window_ms.  A new address takes an empty or ended
 * entry of its set, else the one that counted least (an address being
 * refused is the last to go).  Returns 1 when this event is the max-th
 * of the window (a is refused from now on), else 0.
 */
int addr_limit_count(
    struct addr_limit *l, const struct addr_key *a, int64_t now_ms);

#endif
