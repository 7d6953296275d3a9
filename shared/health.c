#include "health.h"

#include <math.h>

long long
health_issues(const struct health_counts *c)
{
	return c->rate_limited + c->unavailable + c->error;
}

long long
health_reports(const struct health_counts *c)
{
	return health_issues(c) + c->success;
}

long long
health_error_rate_x100(const struct health_counts *c)
{
	long long reports = health_reports(c);

	if (reports <= 0)
		return 0;
	/* round(10000 × issues / reports) with halves going up. */
	return (health_issues(c) * 20000 + reports) / (2 * reports);
}

double
health_error_rate(const struct health_counts *c)
{
	return (double)health_error_rate_x100(c) / 100.0;
}

double
health_score(const struct health_evidence *e)
{
	const double z = 1.959963984540054; /* 95 %, two-sided */
	double good = (double)e->success;
	double n = (double)(e->success + e->failure);
	double p, z2n, centre, spread;

	if (e->uptime >= 0 && e->uptime <= 1) {
		good += HEALTH_UPTIME_WEIGHT * e->uptime;
		n += HEALTH_UPTIME_WEIGHT;
	}
	if (e->upstream_error_rate >= 0 && e->upstream_error_rate <= 100) {
		good += HEALTH_UPSTREAM_RATE_WEIGHT *
		    (1 - e->upstream_error_rate / 100);
		n += HEALTH_UPSTREAM_RATE_WEIGHT;
	}
	if (n <= 0)
		return -1;
	p = good / n;
	z2n = z * z / n;
	centre = p + z2n / 2;
	spread = z * sqrt(p * (1 - p) / n + z2n / (4 * n));
	p = (centre - spread) / (1 + z2n);
	return p < 0 ? 0 : p;
}
