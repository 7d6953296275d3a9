/*
 * Health arithmetic of one model over one window: counts, issues,
 * reports and the error rate, rounded exactly (integer maths, half up
 * to two decimals) so 3 issues in 153 reports is 1.96, never 1.9607.
 */
#ifndef FLR_HEALTH_H
#define FLR_HEALTH_H

struct health_counts {
	long long success;
	long long rate_limited;
	long long unavailable;
	long long error;
};

long long health_issues(const struct health_counts *c);
long long health_reports(const struct health_counts *c);

/* 100 × issues / reports in hundredths, half up; 0 with no reports. */
long long health_error_rate_x100(const struct health_counts *c);

/* The same as a number: 1.96, 33.33, 100, 0. */
double health_error_rate(const struct health_counts *c);

#endif
