#include "health.h"

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
