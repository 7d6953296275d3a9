/*
 * Query strings and the typed values of the model-listing parameters
 * (SPEC.md §2, §4).  Pure functions: nothing here reads the database,
 * so every bad value is refused before any work is done.
 */
#ifndef FLR_PARAMS_H
#define FLR_PARAMS_H

#include "util.h"

#define QUERY_MAX_PAIRS 64

struct query_pair {
	const char *name;
	const char *value;
};

struct query {
	struct query_pair pairs[QUERY_MAX_PAIRS];
	int n;
};

enum param_id {
	P_FILTER,
	P_SORT,
	P_TOP_N,
	P_MAX_ERROR_RATE,
	P_MIN_REPORTS,
	P_TIME_RANGE,
	P_MY_REPORTS,
	P__MAX
};

enum sort_key {
	SORT_CONTEXT_LENGTH,
	SORT_MAX_OUTPUT,
	SORT_CAPABLE,
	SORT_LEAST_ISSUES,
	SORT_NEWEST,
	SORT_ISSUE_COUNT, /* /api/health's order when none is asked for */
	SORT__MAX
};

enum time_range {
	TR_15M,
	TR_30M,
	TR_1H,
	TR_6H,
	TR_24H,
	TR_7D,
	TR_30D,
	TR_ALL,
	TR__MAX
};

enum filter_bit {
	FILTER_CHAT = 1 << 0,
	FILTER_VISION = 1 << 1,
	FILTER_TOOLS = 1 << 2,
	FILTER_LONG_CONTEXT = 1 << 3,
	FILTER_REASONING = 1 << 4,
	FILTER__ALL = (1 << 5) - 1
};
#define FILTER__COUNT 5

struct list_params {
	int given[P__MAX]; /* 1 where the request named the parameter */
	unsigned filters; /* enum filter_bit, AND-combined */
	enum sort_key sort;
	int top_n; /* 0: no cap */
	double max_error_rate; /* < 0: none */
	long long min_reports;
	enum time_range range;
	int my_reports;
};

/* What a refused parameter gets: always a 400 in this module. */
struct param_error {
	const char *code; /* "invalid_parameter", "duplicate_parameter", ... */
	const char *param; /* the parameter's canonical name, or NULL */
	char detail[200];
};

/*
 * Split and percent-decode a query string (NULL or "" is empty) into
 * q; the strings live in arena a.  Returns 0, or -1 with *err filled
 * (malformed escapes, a NUL byte, more than QUERY_MAX_PAIRS pairs).
 */
int query_parse(const char *qs, struct arena *a, struct query *q,
    struct param_error *err) WUR;

/* Defaults of §2 (for_health: §4, where timeRange=all is refused). */
void list_params_defaults(struct list_params *p, int for_health);

/*
 * Read the listing parameters of q into p (which holds the defaults),
 * setting given[] for those present.  Unknown names are ignored.
 * Returns 0, or -1 with *err naming the first bad parameter.
 */
int list_params_parse(const struct query *q, struct list_params *p,
    int for_health, struct param_error *err) WUR;

/*
 * Validate one parameter's value by canonical name (also used for the
 * fields of saved preferences).  Returns 0 or -1 with *err.
 */
int list_param_set(enum param_id id, const char *value, struct list_params *p,
    int for_health, struct param_error *err) WUR;

const char *param_name(enum param_id id);
const char *sort_name(enum sort_key s);
const char *time_range_name(enum time_range r);
const char *filter_name(int bit_index);

/* The window in seconds; -1 for TR_ALL. */
long long time_range_seconds(enum time_range r);

#endif
