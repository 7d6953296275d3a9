#include "etag.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "listing.h"
#include "timeline.h"

/* Columns of DATA_VERSIONS (sql.c), from the first. */
enum {
	V_REPORTS,
	V_UPSTREAM,
	V_OLDEST,
	V_FIRST_DAY,
	V_ENDPOINTS,
	V_OLDEST_UPSTREAM,
	V__MAX
};

void
data_versions_params(long long window_s, char secs[24], const char *params[1])
{
	params[0] = NULL;
	if (window_s >= 0) {
		snprintf(secs, 24, "%lld", window_s);
		params[0] = secs;
	}
}

enum db_status
data_versions_parse(const PGresult *r, int at, struct data_versions *out)
{
	const char *day;

	memset(out, 0, sizeof(*out));
	if (PQntuples(r) != 1 || PQnfields(r) < at + V__MAX)
		return DB_ERROR;
	out->reports = db_get_ll(r, 0, at + V_REPORTS, 0);
	out->upstream = db_get_ll(r, 0, at + V_UPSTREAM, -1);
	out->oldest_us = db_get_ll(r, 0, at + V_OLDEST, -1);
	day = db_get_str(r, 0, at + V_FIRST_DAY);
	snprintf(out->first_day, sizeof(out->first_day), "%s", day ? day : "");
	out->endpoints_us = db_get_ll(r, 0, at + V_ENDPOINTS, -1);
	out->oldest_upstream_us = db_get_ll(r, 0, at + V_OLDEST_UPSTREAM, -1);
	return DB_OK;
}

enum db_status
data_versions_read(struct db *db, long long window_s, struct data_versions *out)
{
	char secs[24];
	const char *params[1];
	enum db_status st;
	PGresult *r;

	memset(out, 0, sizeof(*out));
	data_versions_params(window_s, secs, params);
	r = db_exec(db, STMT_DATA_VERSIONS, params, 1, &st);
	if (r == NULL)
		return st;
	st = data_versions_parse(r, 0, out);
	PQclear(r);
	return st;
}

/* The request's parameters, as the body reads them. */
static void
put_params(struct buf *b, const struct etag_input *in)
{
	const struct list_params *p = in->p;
	char rate[32] = "-", uptime[32] = "-";

	if (p->max_error_rate >= 0)
		format_number(p->max_error_rate, rate);
	if (p->min_uptime >= 0)
		format_number(p->min_uptime, uptime);
	buf_printf(b,
	    "f=%u s=%d n=%lld e=%s m=%lld r=%d me=%d d=%lld src=%d mu=%s\n",
	    p->filters, (int)p->sort, p->top_n, rate, p->min_reports,
	    (int)p->range, p->my_reports, p->days, (int)p->source, uptime);
	if (p->my_reports)
		buf_printf(b, "uid=%lld\n", in->uid);
}

/* What time does to the body of in's kind. */
static void
put_time(
    struct buf *b, const struct etag_input *in, const struct data_versions *v)
{
	struct timeline t;
	long long age;

	switch (in->kind) {
	case ETAG_IDS:
	case ETAG_FULL:
	case ETAG_DEMO:
		if (in->p->range != TR_ALL)
			buf_printf(b, "old=%lld\n", (long long)v->oldest_us);
		/* The markers, and _meta.ageSeconds, while stale. */
		if (listing_stale(
		        in->last_sync_ms, in->now_ms, in->stale_after, &age))
			buf_printf(b, "stale=%lld\n", age);
		break;
	case ETAG_HEALTH:
		buf_printf(b, "old=%lld\n", (long long)v->oldest_us);
		if (timeline_shape(in->p->range, in->now_ms, &t) == 0)
			buf_printf(b, "tl=%lld\n", (long long)t.first_ms);
		break;
	case ETAG_AVAILABILITY:
		/* The window's dates, and the days retention has left. */
		buf_printf(b, "day=%lld first=%s\n",
		    (long long)(in->now_ms / 86400000), v->first_day);
		break;
	case ETAG__MAX:
		break;
	}
}

void
etag_compose(const struct etag_input *in, const struct data_versions *v,
    char out[ETAG_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct buf b;
	size_t i;

	/* 50 exclusions of 256 bytes at most, and a little more. */
	buf_init(&b, 65536);
	buf_printf(&b, "flr-etag/1 k=%d\ncat=%lld sync=%lld\n", (int)in->kind,
	    in->catalog_version, (long long)in->last_sync_ms);
	/* Availability shows no report counts. */
	if (in->kind != ETAG_AVAILABILITY)
		buf_printf(&b, "rep=%lld up=%lld ep=%lld upold=%lld\n",
		    v->reports, v->upstream, (long long)v->endpoints_us,
		    (long long)v->oldest_upstream_us);
	put_params(&b, in);
	put_time(&b, in, v);
	for (i = 0; in->prefs != NULL && i < in->prefs->n_exclude; i++)
		buf_printf(&b, "x=%zu:%s\n", strlen(in->prefs->exclude[i]),
		    in->prefs->exclude[i]);
	SHA256((const unsigned char *)b.data, b.len, md);
	buf_free(&b);
	memcpy(out, "W/\"", 3);
	for (i = 0; i < 16; i++) {
		out[3 + 2 * i] = hex[md[i] >> 4];
		out[4 + 2 * i] = hex[md[i] & 15];
	}
	memcpy(out + 35, "\"", 2);
}

long long
etag_window(const struct etag_input *in)
{
	return in->kind == ETAG_AVAILABILITY ? -1
	                                     : time_range_seconds(in->p->range);
}

enum db_status
etag_compute(struct db *db, const struct etag_input *in,
    struct data_versions *v, char out[ETAG_SIZE])
{
	struct data_versions mine;
	enum db_status st = DB_OK;

	if (v == NULL)
		v = &mine;
	if (in->versions != NULL)
		*v = *in->versions;
	else
		st = data_versions_read(db, etag_window(in), v);
	if (st == DB_OK)
		etag_compose(in, v, out);
	return st;
}

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* RFC 9110 etagc: visible ASCII but the quote, and obs-text. */
static int
etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

int
etag_match(const char *h, const char *tag)
{
	const char *want = tag, *p;
	size_t wlen;
	int found = 0;

	if (h == NULL)
		return 0;
	if (strncmp(want, "W/", 2) == 0)
		want += 2;
	wlen = strlen(want);
	p = skip_ows(h);
	if (*p == '*')
		return *skip_ows(p + 1) == '\0';
	/* #entity-tag: empty list elements are allowed, none at all not. */
	for (;;) {
		const char *q;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return found;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return 0;
		for (q = p + 1; *q != '"' && *q != '\0'; q++)
			if (!etagc((unsigned char)*q))
				return 0;
		if (*q != '"')
			return 0;
		if ((size_t)(q + 1 - p) == wlen && memcmp(p, want, wlen) == 0)
			found = 1;
		p = skip_ows(q + 1);
		if (*p != ',' && *p != '\0')
			return 0;
	}
}
