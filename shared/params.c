#include "params.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sort_names[SORT__MAX] = {
	[SORT_CONTEXT_LENGTH] = "contextLength",
	[SORT_MAX_OUTPUT] = "maxOutput",
	[SORT_CAPABLE] = "capable",
	[SORT_LEAST_ISSUES] = "leastIssues",
	[SORT_NEWEST] = "newest",
	[SORT_HEALTHIEST] = "healthiest",
	[SORT_UPTIME] = "uptime",
	[SORT_LATENCY] = "latency",
	[SORT_ISSUE_COUNT] = "issueCount",
	[SORT_ID] = "id",
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

static const char *range_names[TR__MAX] = { "15m", "30m", "1h", "6h", "24h",
	"7d", "30d", "all" };

static const char *source_names[SOURCE__MAX] = {
	[SOURCE_ALL] = "all",
	[SOURCE_LOCAL] = "local",
	[SOURCE_UPSTREAM] = "upstream",
};

static const char *filter_names[FILTER__COUNT] = {
	"chat",
	"vision",
	"tools",
	"longContext",
	"reasoning",
};

static const char *rule_names[RULE__MAX] = {
	[RULE_EMPTY] = "empty",
	[RULE_CLAMPED] = "clamped",
	[RULE_TRUNCATED] = "truncated",
	[RULE_DROPPED] = "dropped",
	[RULE_DEFAULT] = "default",
	[RULE_CUT] = "cut",
};

enum param_type {
	PT_FLAGS, /* a comma list of words, bits of an unsigned */
	PT_WORD, /* one word of a list, its index */
	PT_INT, /* a long long in [min, max] */
	PT_DECIMAL, /* a double in [min, max] */
	PT_BOOL, /* true or false */
};

/* What a lenient read may do to a parameter's value. */
enum {
	L_EMPTY = 1 << RULE_EMPTY,
	L_CLAMP = 1 << RULE_CLAMPED,
	L_TRUNCATE = 1 << RULE_TRUNCATED,
	L_DROP = 1 << RULE_DROPPED,
	L_DEFAULT = 1 << RULE_DEFAULT,
};

#define OFF(f) offsetof(struct list_params, f)

/*
 * Every parameter: its name and aliases, type, words or bounds, where
 * its value goes, its default as the documentation says it, and what
 * a lenient read may do to it.  The 400s are made from this table.
 */
static const struct param_spec {
	const char *name;
	const char *aliases[3]; /* other names it answers to */
	enum param_type type;
	const char *const *words; /* PT_FLAGS, PT_WORD */
	int nwords;
	double min, max; /* PT_INT, PT_DECIMAL */
	size_t offset; /* in struct list_params (not PT_WORD) */
	unsigned lenient;
} specs[P__MAX] = {
	[P_FILTER] = { "filter", { "useCase", "useCases" }, PT_FLAGS,
	    filter_names, FILTER__COUNT, 0, 0, OFF(filters), L_EMPTY | L_DROP },
	[P_SORT] = { "sort", { 0 }, PT_WORD, sort_names, SORT__PUBLIC, 0, 0, 0,
	    L_EMPTY },
	[P_TOP_N] = { "topN", { 0 }, PT_INT, NULL, 0, 1, 100, OFF(top_n),
	    L_EMPTY | L_CLAMP | L_TRUNCATE },
	[P_MAX_ERROR_RATE] = { "maxErrorRate", { 0 }, PT_DECIMAL, NULL, 0, 0,
	    100, OFF(max_error_rate), L_EMPTY | L_CLAMP },
	[P_MIN_REPORTS] = { "minReports", { 0 }, PT_INT, NULL, 0, 0, 1000000,
	    OFF(min_reports), L_EMPTY | L_CLAMP | L_TRUNCATE },
	[P_TIME_RANGE] = { "timeRange", { "timeWindow", "range" }, PT_WORD,
	    range_names, TR__MAX, 0, 0, 0, L_EMPTY | L_DEFAULT },
	[P_MY_REPORTS] = { "myReports", { 0 }, PT_BOOL, NULL, 0, 0, 0,
	    OFF(my_reports), L_EMPTY | L_DROP },
	[P_PAGE] = { "page", { 0 }, PT_INT, NULL, 0, 1, 10000, OFF(page),
	    L_EMPTY | L_CLAMP | L_TRUNCATE },
	[P_PAGE_SIZE] = { "pageSize", { 0 }, PT_INT, NULL, 0, 1, 100,
	    OFF(page_size), L_EMPTY | L_CLAMP | L_TRUNCATE },
	[P_DAYS] = { "days", { 0 }, PT_INT, NULL, 0, 1, 90, OFF(days),
	    L_EMPTY | L_CLAMP | L_TRUNCATE },
	[P_SOURCE] = { "source", { 0 }, PT_WORD, source_names, SOURCE__MAX, 0,
	    0, 0, L_EMPTY },
	[P_MIN_UPTIME] = { "minUptime", { 0 }, PT_DECIMAL, NULL, 0, 0, 100,
	    OFF(min_uptime), L_EMPTY | L_CLAMP },
	/* A chat body's fields are read strictly: no lenient rule. */
	[P_MAX_ATTEMPTS] = { "maxAttempts", { 0 }, PT_INT, NULL, 0, 1, 5,
	    OFF(max_attempts), 0 },
};

#define BIT(p) (1u << (p))
#define LISTING_SET                                                            \
	(BIT(P_FILTER) | BIT(P_SORT) | BIT(P_TOP_N) | BIT(P_MAX_ERROR_RATE) |  \
	    BIT(P_MIN_REPORTS) | BIT(P_TIME_RANGE) | BIT(P_MY_REPORTS) |       \
	    BIT(P_SOURCE) | BIT(P_MIN_UPTIME))

/*
 * What each route takes.  "refuses" are parameters a client may send
 * out of habit (the listing's) that this route does not offer: dropped
 * when lenient, a 400 when strict.
 */
static const struct route_params {
	unsigned takes;
	unsigned refuses;
	int no_all; /* timeRange=all is not offered */
	enum sort_key sort; /* the order when none is asked for */
} route_sets[PR__MAX] = {
	[PR_LISTING] = { LISTING_SET, 0, 0, SORT_CONTEXT_LENGTH },
	[PR_HEALTH] = { LISTING_SET, 0, 1, SORT_ISSUE_COUNT },
	[PR_DEMO] = { LISTING_SET & ~BIT(P_MY_REPORTS), BIT(P_MY_REPORTS), 0,
	    SORT_CONTEXT_LENGTH },
	[PR_AVAILABILITY] = { BIT(P_FILTER) | BIT(P_SORT) | BIT(P_DAYS), 0, 0,
	    SORT_ID },
	[PR_USAGE] = { BIT(P_PAGE) | BIT(P_PAGE_SIZE), 0, 0,
	    SORT_CONTEXT_LENGTH },
	/* The router ranks by health unless the flr member says otherwise. */
	[PR_ROUTER] = { (LISTING_SET & ~(BIT(P_TOP_N) | BIT(P_MY_REPORTS))) |
	        BIT(P_MAX_ATTEMPTS),
	    0, 0, SORT_HEALTHIEST },
};

const char *
param_name(enum param_id id)
{
	return specs[id].name;
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

const char *
source_name(enum source s)
{
	return source_names[s];
}

const char *
param_rule_name(enum param_rule r)
{
	return rule_names[r];
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

static int
query_error(struct param_error *err, const char *detail)
{
	err->code = "invalid_query";
	err->param = NULL;
	snprintf(err->detail, sizeof(err->detail), "%s", detail);
	return -1;
}

int
query_parse(
    const char *qs, struct arena *a, struct query *q, struct param_error *err)
{
	const char *p = qs ? qs : "";
	char detail[64];

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
		if (name == NULL || value == NULL)
			return query_error(
			    err, "the query string has a malformed %-escape");
		if (q->n == QUERY_MAX_PAIRS) {
			snprintf(detail, sizeof(detail),
			    "the query string has more than %d parameters",
			    QUERY_MAX_PAIRS);
			return query_error(err, detail);
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
list_params_defaults(struct list_params *p, enum param_route r)
{
	memset(p, 0, sizeof(*p));
	p->sort = route_sets[r].sort;
	p->max_error_rate = -1;
	p->min_uptime = -1;
	p->range = TR_24H;
	p->page = 1;
	p->page_size = 20;
	p->days = 30;
	p->max_attempts = 3;
}

/* The words parameter id offers on route r (timeRange may lack all). */
static int
words_offered(enum param_id id, enum param_route r)
{
	if (id == P_TIME_RANGE && route_sets[r].no_all)
		return TR_ALL;
	return specs[id].nwords;
}

/* "a, b, c" of the first n words. */
static void
word_list(const char *const *words, int n, char *out, size_t outsz)
{
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < n && used < outsz; i++)
		used += (size_t)snprintf(out + used, outsz - used, "%s%s",
		    i > 0 ? ", " : "", words[i]);
}

void
param_rule_text(enum param_id id, enum param_route r, char *out, size_t outsz)
{
	const struct param_spec *s = &specs[id];
	char words[160];

	switch (s->type) {
	case PT_FLAGS:
		word_list(s->words, s->nwords, words, sizeof(words));
		snprintf(out, outsz, "%s must be a comma list of: %s", s->name,
		    words);
		return;
	case PT_WORD:
		word_list(s->words, words_offered(id, r), words, sizeof(words));
		snprintf(out, outsz, "%s must be one of: %s", s->name, words);
		return;
	case PT_INT:
		snprintf(out, outsz, "%s must be an integer from %.0f to %.0f",
		    s->name, s->min, s->max);
		return;
	case PT_DECIMAL:
		snprintf(out, outsz, "%s must be a number from %g to %g",
		    s->name, s->min, s->max);
		return;
	case PT_BOOL:
		snprintf(out, outsz, "%s must be true or false", s->name);
		return;
	}
	snprintf(out, outsz, "%s is not valid", s->name);
}

static int
bad(struct param_error *err, enum param_id id, enum param_route r)
{
	err->code = "invalid_parameter";
	err->param = specs[id].name;
	param_rule_text(id, r, err->detail, sizeof(err->detail));
	return -1;
}

void
param_adjust(struct param_adjustments *adj, const char *name, const char *was,
    const char *now, enum param_rule rule)
{
	struct param_adjustment *a;

	if (adj == NULL || adj->n == PARAM_ADJUST_MAX)
		return;
	a = &adj->v[adj->n++];
	a->name = name;
	a->was = was;
	a->now = now;
	a->rule = rule;
}

/*
 * A number as a lenient read takes it: an optional minus, digits, and
 * an optional fraction ("-1", "2.5", "99999999999999999999").  No
 * exponent, no plus, no spaces, no "nan": those are not numbers here.
 */
static int
read_number(const char *s, double *out)
{
	const char *p = s;
	size_t digits = 0, frac = 0;

	if (*p == '-')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			frac++;
	if (*p != '\0' || digits == 0 || p[-1] == '.' || digits + frac > 64)
		return -1;
	errno = 0;
	*out = strtod(s, NULL);
	return errno == 0 || isinf(*out) ? 0 : -1;
}

/* The state of one read, for the adjustment it may record. */
struct reading {
	const char *name; /* as the client named it */
	const char *value;
	enum param_route route;
	int strict;
	struct arena *a;
	struct param_adjustments *adj;
	struct param_error *err;
};

static char *arena_printf(struct arena *a, const char *fmt, ...)
    PRINTF_LIKE(2, 3);

static char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return arena_strdup(a, tmp);
}

/* PT_INT and PT_DECIMAL: exact, else (lenient) truncated and clamped. */
static int
read_numeric(const struct reading *rd, enum param_id id, struct list_params *p)
{
	const struct param_spec *s = &specs[id];
	char *field = (char *)p + s->offset;
	double v, kept;
	long long n;
	char num[32];

	if (s->type == PT_INT &&
	    parse_int(rd->value, (long long)s->min, (long long)s->max, &n) ==
	        0) {
		memcpy(field, &n, sizeof(n));
		return 0;
	}
	if (s->type == PT_DECIMAL &&
	    parse_decimal(rd->value, s->min, s->max, &v) == 0) {
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	if (rd->strict || read_number(rd->value, &v) != 0)
		return bad(rd->err, id, rd->route);
	kept = s->type == PT_INT ? trunc(v) : v;
	kept = kept < s->min ? s->min : kept > s->max ? s->max : kept;
	if (kept == 0)
		kept = 0; /* no "-0" */
	if (s->type == PT_DECIMAL) {
		memcpy(field, &kept, sizeof(kept));
		format_number(kept, num);
		param_adjust(rd->adj, rd->name, rd->value,
		    arena_strdup(rd->a, num), RULE_CLAMPED);
		return 0;
	}
	n = (long long)kept;
	memcpy(field, &n, sizeof(n));
	param_adjust(rd->adj, rd->name, rd->value,
	    arena_printf(rd->a, "%lld", n),
	    kept != trunc(v) ? RULE_CLAMPED : RULE_TRUNCATED);
	return 0;
}

/* The index of the n bytes at s among words[0..count), or -1. */
static int
word_index(const char *const *words, int count, const char *s, size_t n)
{
	int i;

	for (i = 0; i < count; i++)
		if (strlen(words[i]) == n && strncmp(s, words[i], n) == 0)
			return i;
	return -1;
}

/* PT_FLAGS: every word known, else (lenient) the unknown ones dropped. */
static int
read_flags(const struct reading *rd, enum param_id id, struct list_params *p)
{
	const struct param_spec *s = &specs[id];
	const char *w = rd->value;
	unsigned bits = 0;
	int dropped = 0, b;
	struct buf now;

	for (;;) {
		size_t len = strcspn(w, ",");
		int i = word_index(s->words, s->nwords, w, len);

		if (i < 0 && rd->strict)
			return bad(rd->err, id, rd->route);
		if (i < 0)
			dropped = 1;
		else
			bits |= 1u << i;
		if (w[len] == '\0')
			break;
		w += len + 1;
	}
	memcpy((char *)p + s->offset, &bits, sizeof(bits));
	if (!dropped)
		return 0;
	buf_init(&now, 256);
	for (b = 0; b < s->nwords; b++)
		if (bits & (1u << b))
			buf_printf(
			    &now, "%s%s", now.len > 0 ? "," : "", s->words[b]);
	param_adjust(rd->adj, rd->name, rd->value,
	    arena_strdup(rd->a, now.data), RULE_DROPPED);
	buf_free(&now);
	return 0;
}

static void
store_word(enum param_id id, int i, struct list_params *p)
{
	if (id == P_SORT)
		p->sort = (enum sort_key)i;
	else if (id == P_SOURCE)
		p->source = (enum source)i;
	else
		p->range = (enum time_range)i;
}

/* PT_WORD: one offered word; one the route lacks is (leniently) the
 * default. */
static int
read_word(const struct reading *rd, enum param_id id, struct list_params *p)
{
	const struct param_spec *s = &specs[id];
	int offered = words_offered(id, rd->route);
	int i = word_index(s->words, s->nwords, rd->value, strlen(rd->value));
	struct list_params def;

	if (i >= 0 && i < offered) {
		store_word(id, i, p);
		return 0;
	}
	if (i < 0 || rd->strict || !(s->lenient & L_DEFAULT))
		return bad(rd->err, id, rd->route);
	list_params_defaults(&def, rd->route);
	i = id == P_SORT     ? (int)def.sort
	    : id == P_SOURCE ? (int)def.source
	                     : (int)def.range;
	store_word(id, i, p);
	param_adjust(rd->adj, rd->name, rd->value, s->words[i], RULE_DEFAULT);
	return 0;
}

/*
 * One value of one parameter.  Returns 1 when it was set, 0 when a
 * lenient read left it unset (empty, or not offered here), -1 with
 * *err on a refusal.
 */
static int
read_param(const struct reading *rd, enum param_id id, struct list_params *p)
{
	const struct param_spec *s = &specs[id];
	int rc = -1, b;

	if (route_sets[rd->route].refuses & BIT(id)) {
		if (rd->strict) {
			rd->err->code = "invalid_parameter";
			rd->err->param = s->name;
			snprintf(rd->err->detail, sizeof(rd->err->detail),
			    "%s is not available on this route", s->name);
			return -1;
		}
		param_adjust(rd->adj, rd->name, rd->value, NULL, RULE_DROPPED);
		return 0;
	}
	if (rd->value[0] == '\0') {
		if (rd->strict)
			return bad(rd->err, id, rd->route);
		param_adjust(rd->adj, rd->name, rd->value, NULL, RULE_EMPTY);
		return 0;
	}
	switch (s->type) {
	case PT_FLAGS:
		rc = read_flags(rd, id, p);
		break;
	case PT_WORD:
		rc = read_word(rd, id, p);
		break;
	case PT_INT:
	case PT_DECIMAL:
		rc = read_numeric(rd, id, p);
		break;
	case PT_BOOL:
		if (strcmp(rd->value, "true") != 0 &&
		    strcmp(rd->value, "false") != 0)
			return bad(rd->err, id, rd->route);
		b = rd->value[0] == 't';
		memcpy((char *)p + s->offset, &b, sizeof(b));
		rc = 0;
		break;
	}
	return rc == 0 ? 1 : -1;
}

int
list_param_set(enum param_id id, const char *v, struct list_params *p,
    enum param_route r, struct param_error *err)
{
	struct reading rd = { specs[id].name, v, r, 1, NULL, NULL, err };

	return read_param(&rd, id, p) == 1 ? 0 : -1;
}

/* The parameter that name stands for on route r, or -1. */
static int
param_of(const char *name, enum param_route r)
{
	unsigned known = route_sets[r].takes | route_sets[r].refuses;
	int id, k;

	for (id = 0; id < P__MAX; id++) {
		if (!(known & BIT(id)))
			continue;
		if (strcmp(name, specs[id].name) == 0)
			return id;
		for (k = 0; k < 3 && specs[id].aliases[k] != NULL; k++)
			if (strcmp(name, specs[id].aliases[k]) == 0)
				return id;
	}
	return -1;
}

int
params_read(const struct query *q, enum param_route r, int strict,
    struct arena *a, struct list_params *p, struct param_adjustments *adj,
    struct param_error *err)
{
	const char *seen_as[P__MAX] = { 0 };
	int at[P__MAX], id, i, rc;

	/* Duplicates first: a repeat is the error, whatever its values. */
	for (i = 0; i < q->n; i++) {
		id = param_of(q->pairs[i].name, r);
		if (id < 0)
			continue; /* unknown parameters are ignored */
		if (seen_as[id] != NULL) {
			err->code = "duplicate_parameter";
			err->param = specs[id].name;
			snprintf(err->detail, sizeof(err->detail),
			    "%s is given more than once (as %s and %s)",
			    specs[id].name, seen_as[id], q->pairs[i].name);
			return -1;
		}
		seen_as[id] = q->pairs[i].name;
		at[id] = i;
	}
	/* Then the values, in the order the request gave them. */
	for (i = 0; i < q->n; i++)
		for (id = 0; id < P__MAX; id++) {
			struct reading rd = { seen_as[id], q->pairs[i].value, r,
				strict, a, adj, err };

			if (seen_as[id] == NULL || at[id] != i)
				continue;
			rc = read_param(&rd, (enum param_id)id, p);
			if (rc < 0)
				return -1;
			if (rc == 1)
				p->given[id] = 1;
		}
	return 0;
}

int
list_params_parse(const struct query *q, struct list_params *p,
    enum param_route r, struct param_error *err)
{
	return params_read(q, r, 1, NULL, p, NULL, err);
}

/* Bytes of the UTF-8 sequence that starts s, or 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || s[0] > 0xf4)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

#define SF_VALUE_MAX 100 /* bytes of a client's value echoed back */

/*
 * s as an RFC 8941 String when it is printable ASCII, else as an RFC
 * 9651 Display String when it is UTF-8; -1 when it is neither.  Long
 * values are cut (at a character boundary) to SF_VALUE_MAX bytes.
 */
static int
sf_string(struct buf *out, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n, len = strlen(s);
	int ascii = 1;

	for (i = 0; i < len; i += n) {
		n = utf8_seq(u + i);
		if (n == 0)
			return -1;
		if (n > 1 || u[i] < 0x20 || u[i] > 0x7e)
			ascii = 0;
		if (i + n > SF_VALUE_MAX) {
			len = i;
			break;
		}
	}
	buf_puts(out, ascii ? "\"" : "%\"");
	for (i = 0; i < len; i++) {
		if (ascii && (u[i] == '"' || u[i] == '\\'))
			buf_putc(out, '\\');
		if (!ascii &&
		    (u[i] < 0x20 || u[i] > 0x7e || u[i] == '%' || u[i] == '"'))
			buf_printf(out, "%%%02x", u[i]);
		else
			buf_putc(out, (char)u[i]);
	}
	buf_putc(out, '"');
	return 0;
}

void
param_adjustments_format(const struct param_adjustments *adj, struct buf *out)
{
	int i;

	for (i = 0; adj != NULL && i < adj->n; i++) {
		const struct param_adjustment *a = &adj->v[i];
		size_t mark;

		buf_printf(out, "%s%s", i > 0 ? ", " : "", a->name);
		mark = out->len;
		buf_puts(out, ";was=");
		if (a->was == NULL || sf_string(out, a->was) != 0) {
			out->len = mark; /* not text: leave it out */
			out->data[mark] = '\0';
		}
		mark = out->len;
		if (a->now != NULL) {
			buf_puts(out, ";now=");
			if (sf_string(out, a->now) != 0) {
				out->len = mark;
				out->data[mark] = '\0';
			}
		}
		buf_printf(out, ";rule=%s", rule_names[a->rule]);
	}
}
