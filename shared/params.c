#include "params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *param_names[P__MAX] = {
	[P_FILTER] = "filter",
	[P_SORT] = "sort",
	[P_TOP_N] = "topN",
	[P_MAX_ERROR_RATE] = "maxErrorRate",
	[P_MIN_REPORTS] = "minReports",
	[P_TIME_RANGE] = "timeRange",
	[P_MY_REPORTS] = "myReports",
};

/* Every name a parameter answers to, aliases included. */
static const struct {
	const char *name;
	enum param_id id;
} param_aliases[] = {
	{ "filter", P_FILTER },
	{ "useCase", P_FILTER },
	{ "useCases", P_FILTER },
	{ "sort", P_SORT },
	{ "topN", P_TOP_N },
	{ "maxErrorRate", P_MAX_ERROR_RATE },
	{ "minReports", P_MIN_REPORTS },
	{ "timeRange", P_TIME_RANGE },
	{ "timeWindow", P_TIME_RANGE },
	{ "range", P_TIME_RANGE },
	{ "myReports", P_MY_REPORTS },
};

static const char *sort_names[SORT__MAX] = {
	[SORT_CONTEXT_LENGTH] = "contextLength",
	[SORT_MAX_OUTPUT] = "maxOutput",
	[SORT_CAPABLE] = "capable",
	[SORT_LEAST_ISSUES] = "leastIssues",
	[SORT_NEWEST] = "newest",
	[SORT_ISSUE_COUNT] = "issueCount",
};

static const struct {
	const char *name;
	long long seconds;
} ranges[TR__MAX] = {
	[TR_15M] = { "15m", 900 },
	[TR_30M] = { "30m", 1800 },
	[TR_1H] = { "1h", 3600 },
	[TR_6H] = { "6h", 21600 },
	[TR_24H] = { "24h", 86400 },
	[TR_7D] = { "7d", 604800 },
	[TR_30D] = { "30d", 2592000 },
	[TR_ALL] = { "all", -1 },
};

static const char *filter_names[FILTER__COUNT] = {
	"chat",
	"vision",
	"tools",
	"longContext",
	"reasoning",
};

const char *
param_name(enum param_id id)
{
	return param_names[id];
}

const char *
sort_name(enum sort_key s)
{
	return sort_names[s];
}

const char *
time_range_name(enum time_range r)
{
	return ranges[r].name;
}

const char *
filter_name(int bit_index)
{
	return filter_names[bit_index];
}

long long
time_range_seconds(enum time_range r)
{
	return ranges[r].seconds;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode n bytes of s ('+' is a space); NULL on a bad escape or NUL. */
static char *
decode(const char *s, size_t n, struct arena *a)
{
	char *out = arena_alloc(a, n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return NULL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

int
query_parse(
    const char *qs, struct arena *a, struct query *q, struct param_error *err)
{
	const char *p = qs ? qs : "";

	q->n = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		char *name, *value;

		if (len == 0) { /* "a=1&&b=2": skip the empty piece */
			p++;
			continue;
		}
		name = decode(p, nlen, a);
		value = eq ? decode(eq + 1, len - nlen - 1, a)
		           : arena_strdup(a, "");
		if (name == NULL || value == NULL) {
			err->code = "invalid_query";
			err->param = NULL;
			snprintf(err->detail, sizeof(err->detail),
			    "the query string has a malformed %%-escape");
			return -1;
		}
		if (q->n == QUERY_MAX_PAIRS) {
			err->code = "invalid_query";
			err->param = NULL;
			snprintf(err->detail, sizeof(err->detail),
			    "the query string has more than %d parameters",
			    QUERY_MAX_PAIRS);
			return -1;
		}
		q->pairs[q->n].name = name;
		q->pairs[q->n].value = value;
		q->n++;
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

void
list_params_defaults(struct list_params *p, int for_health)
{
	memset(p, 0, sizeof(*p));
	p->sort = for_health ? SORT_ISSUE_COUNT : SORT_CONTEXT_LENGTH;
	p->max_error_rate = -1;
	p->range = TR_24H;
}

static int bad(struct param_error *err, enum param_id id, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static int
bad(struct param_error *err, enum param_id id, const char *fmt, ...)
{
	va_list ap;

	err->code = "invalid_parameter";
	err->param = param_names[id];
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -1;
}

static int
set_filter(const char *v, struct list_params *p, struct param_error *err)
{
	unsigned bits = 0;
	const char *s = v;

	for (;;) {
		size_t len = strcspn(s, ",");
		int i, found = 0;

		for (i = 0; i < FILTER__COUNT; i++)
			if (strlen(filter_names[i]) == len &&
			    strncmp(s, filter_names[i], len) == 0) {
				bits |= 1u << i;
				found = 1;
			}
		if (!found)
			return bad(err, P_FILTER,
			    "filter must be a comma list "
			    "of: chat, vision, tools, longContext, reasoning");
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	p->filters = bits;
	return 0;
}

int
list_param_set(enum param_id id, const char *v, struct list_params *p,
    int for_health, struct param_error *err)
{
	long long n;
	int i;

	switch (id) {
	case P_FILTER:
		return set_filter(v, p, err);
	case P_SORT:
		for (i = 0; i < SORT_ISSUE_COUNT; i++)
			if (strcmp(v, sort_names[i]) == 0) {
				p->sort = (enum sort_key)i;
				return 0;
			}
		return bad(err, id,
		    "sort must be one of: contextLength, "
		    "maxOutput, capable, leastIssues, newest");
	case P_TOP_N:
		if (parse_int(v, 1, 100, &n) != 0)
			return bad(err, id,
			    "topN must be an integer from 1 "
			    "to 100");
		p->top_n = (int)n;
		return 0;
	case P_MAX_ERROR_RATE:
		if (parse_decimal(v, 0, 100, &p->max_error_rate) != 0)
			return bad(err, id,
			    "maxErrorRate must be a number "
			    "from 0 to 100");
		return 0;
	case P_MIN_REPORTS:
		if (parse_int(v, 0, 1000000, &p->min_reports) != 0)
			return bad(err, id,
			    "minReports must be an integer "
			    "from 0 to 1000000");
		return 0;
	case P_TIME_RANGE:
		for (i = 0; i < TR__MAX; i++)
			if (strcmp(v, ranges[i].name) == 0 &&
			    !(for_health && i == TR_ALL)) {
				p->range = (enum time_range)i;
				return 0;
			}
		return bad(err, id,
		    "timeRange must be one of: 15m, 30m, 1h, "
		    "6h, 24h, 7d, 30d%s",
		    for_health ? "" : ", all");
	case P_MY_REPORTS:
		if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
			p->my_reports = v[0] == 't';
			return 0;
		}
		return bad(err, id, "myReports must be true or false");
	case P__MAX:
		break;
	}
	return bad(err, P_FILTER, "unknown parameter");
}

int
list_params_parse(const struct query *q, struct list_params *p, int for_health,
    struct param_error *err)
{
	const char *seen_as[P__MAX] = { 0 };
	int at[P__MAX];
	enum param_id id;
	int i;
	size_t k;

	/* Duplicates first: a repeat is the error, whatever its values. */
	for (i = 0; i < q->n; i++) {
		for (k = 0; k < NELEM(param_aliases); k++)
			if (strcmp(q->pairs[i].name, param_aliases[k].name) ==
			    0)
				break;
		if (k == NELEM(param_aliases))
			continue; /* unknown parameters are ignored */
		id = param_aliases[k].id;
		if (seen_as[id] != NULL) {
			err->code = "duplicate_parameter";
			err->param = param_names[id];
			snprintf(err->detail, sizeof(err->detail),
			    "%s is given more than once (as %s and %s)",
			    param_names[id], seen_as[id], q->pairs[i].name);
			return -1;
		}
		seen_as[id] = param_aliases[k].name;
		at[id] = i;
	}
	/* Then the values, in the order the request gave them. */
	for (i = 0; i < q->n; i++)
		for (id = 0; id < P__MAX; id++)
			if (seen_as[id] != NULL && at[id] == i) {
				if (list_param_set(id, q->pairs[i].value, p,
				        for_health, err) != 0)
					return -1;
				p->given[id] = 1;
			}
	return 0;
}
