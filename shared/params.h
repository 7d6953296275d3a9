/*
 * Query strings and the typed values of every parameter a route reads
 * from its query (the listing set of SPEC.md §2, /api/health,
 * /api/availability, usage paging) and that saved preferences hold.
 * One table describes each parameter (name, aliases, type, bounds,
 * default, lenient rule) and generates its error message; the parser
 * reads a query against it in one of two modes:
 *
 * - lenient (the default, as the hosted service behaves): an empty
 *   value is an absent parameter, a number out of range is clamped, a
 *   fraction where an integer belongs is truncated, unknown words of a
 *   list are dropped, a value the route does not offer falls back to
 *   the default — and each such adjustment is recorded, to be reported
 *   to the client (X-FLR-Adjusted);
 * - strict (Prefer: handling=strict): every one of those is a 400.
 *
 * Garbage that is not the parameter's type at all (topN=abc,
 * sort=bogus), a parameter given twice and a malformed query string
 * are a 400 in both modes.  Pure functions: nothing here reads the
 * database, so every bad value is refused before any work is done.
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
	P_PAGE,
	P_PAGE_SIZE,
	P_DAYS,
	P_SOURCE,
	P_MIN_UPTIME,
	P_MAX_ATTEMPTS, /* the router's flr extension */
	P__MAX
};

/*
 * Which route reads the query: each takes its own set of parameters
 * with its own defaults.  PR_LISTING and PR_HEALTH are 0 and 1 so the
 * older calls that passed a for_health flag read the same.
 */
enum param_route {
	PR_LISTING, /* /api/v1/models/ids and /full */
	PR_HEALTH, /* /api/health: no timeRange=all, issueCount order */
	PR_DEMO, /* /api/demo/models: the listing, but no myReports */
	PR_AVAILABILITY, /* /api/availability: days, filter, sort */
	PR_USAGE, /* /api/v1/usage: page, pageSize */
	PR_ROUTER, /* the flr member of a chat body: the listing's knobs */
	PR__MAX
};

enum sort_key {
	SORT_CONTEXT_LENGTH,
	SORT_MAX_OUTPUT,
	SORT_CAPABLE,
	SORT_LEAST_ISSUES,
	SORT_NEWEST,
	SORT_HEALTHIEST, /* health_score(): all the evidence there is */
	SORT_UPTIME, /* OpenRouter's 30-minute uptime, highest first */
	SORT_LATENCY, /* OpenRouter's median latency, lowest first */
	SORT_ISSUE_COUNT, /* /api/health's order when none is asked for */
	SORT_ID, /* /api/availability's order when none is asked for */
	SORT__MAX
};
#define SORT__PUBLIC SORT_ISSUE_COUNT /* the sorts a client may name */

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

/* Whose reports count: this instance's, an upstream's, or both. */
enum source { SOURCE_ALL, SOURCE_LOCAL, SOURCE_UPSTREAM, SOURCE__MAX };

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
	int given[P__MAX]; /* 1 where the request set the parameter */
	unsigned filters; /* enum filter_bit, AND-combined */
	enum sort_key sort;
	long long top_n; /* 0: no cap */
	double max_error_rate; /* < 0: none */
	long long min_reports;
	enum time_range range;
	int my_reports;
	long long page; /* usage paging, from 1 */
	long long page_size;
	long long days; /* availability window */
	enum source source;
	double min_uptime; /* percent; < 0: none */
	long long max_attempts; /* models a chat call may try */
};

/* How a lenient read changed what the client sent. */
enum param_rule {
	RULE_EMPTY, /* an empty value: treated as absent */
	RULE_CLAMPED, /* a number outside the bounds: the nearest bound */
	RULE_TRUNCATED, /* a fraction where an integer belongs */
	RULE_DROPPED, /* unknown list words, or a parameter not taken here */
	RULE_DEFAULT, /* a value this route does not offer: the default */
	RULE_CUT, /* a text over its length, cut (feedback details) */
	RULE__MAX
};

struct param_adjustment {
	const char *name; /* as the client named it */
	const char *was; /* what it sent */
	const char *now; /* what was used; NULL when nothing was */
	enum param_rule rule;
};

#define PARAM_ADJUST_MAX 16

struct param_adjustments {
	struct param_adjustment v[PARAM_ADJUST_MAX];
	int n;
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

/* The defaults of route r's parameters. */
void list_params_defaults(struct list_params *p, enum param_route r);

/*
 * Read the parameters route r takes from q into p (which holds the
 * defaults), setting given[] for those that were set.  Names the
 * route does not take are ignored.  In lenient mode (strict 0) each
 * adjustment is appended to adj (which may be NULL; its strings live
 * in arena a).  Returns 0, or -1 with *err naming the first bad
 * parameter.
 */
int params_read(const struct query *q, enum param_route r, int strict,
    struct arena *a, struct list_params *p, struct param_adjustments *adj,
    struct param_error *err) WUR;

/* params_read in strict mode. */
int list_params_parse(const struct query *q, struct list_params *p,
    enum param_route r, struct param_error *err) WUR;

/*
 * Validate one value of parameter id, strictly, for route r (also used
 * for the fields of saved preferences).  Returns 0 or -1 with *err.
 */
int list_param_set(enum param_id id, const char *value, struct list_params *p,
    enum param_route r, struct param_error *err) WUR;

/*
 * What parameter id accepts on route r, as its 400 says it ("topN must
 * be an integer from 1 to 100"), into out (outsz bytes).
 */
void param_rule_text(
    enum param_id id, enum param_route r, char *out, size_t outsz);

/* Record one adjustment (a full list keeps its first entries). */
void param_adjust(struct param_adjustments *adj, const char *name,
    const char *was, const char *now, enum param_rule rule);

/*
 * Write adj as the value of X-FLR-Adjusted, an RFC 8941 List:
 * topN;was="101";now="100";rule=clamped, ... (values that are not
 * printable ASCII go as RFC 9651 display strings, %"…").  Appends to
 * out; nothing when adj is empty.
 */
void param_adjustments_format(
    const struct param_adjustments *adj, struct buf *out);

const char *param_name(enum param_id id);
const char *sort_name(enum sort_key s);
const char *time_range_name(enum time_range r);
const char *filter_name(int bit_index);
const char *param_rule_name(enum param_rule r);
const char *source_name(enum source s);

/* The window in seconds; -1 for TR_ALL. */
long long time_range_seconds(enum time_range r);

#endif
