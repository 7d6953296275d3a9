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

/*
 * Everything known about a model's health, for sort=healthiest: exact
 * counts (our own reports and an upstream instance's), an upstream error
 * rate without counts (the hosted service's public figure), and
 * OpenRouter's uptime of its endpoints.
 */
struct health_evidence {
	long long success; /* reports, local and imported */
	long long failure;
	double upstream_error_rate; /* 0..100; < 0: unknown */
	double uptime; /* 0..1 (OpenRouter, 30 minutes); < 0: unknown */
};

/* Pseudo-reports that a prior stands for (see health_score). */
#define HEALTH_UPTIME_WEIGHT 10
#define HEALTH_UPSTREAM_RATE_WEIGHT 20

/*
 * The healthiest score, in [0, 1]: the Wilson lower bound (95 %) of the
 * success rate over the reports plus pseudo-reports from the priors —
 * uptime u counts as HEALTH_UPTIME_WEIGHT reports of which a fraction u
 * succeeded, an upstream error rate r as HEALTH_UPSTREAM_RATE_WEIGHT of
 * which (100 - r) % did.  More evidence raises the bound towards the
 * rate, so a thousand successes outrank three and ten failures still
 * outrank nothing.  Returns -1 when there is no evidence at all: such a
 * model ranks after every model with some.
 */
double health_score(const struct health_evidence *e);

#endif
