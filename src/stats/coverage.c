/* coverage.c — Kupiec, Christoffersen and the Basel traffic light for a backtest's exceedance
 * indicators (formulas and sources in xmrisk/coverage.h). */
#include "xmrisk/coverage.h"

#include <limits.h>
#include <math.h>

#include <gsl/gsl_cdf.h>

/* n ln(a / b) with the convention that a term with count n = 0 is 0 (0 ln 0 = 0): a and b
 * are only evaluated as a ratio when n > 0, where both are > 0. */
static double count_log_ratio(double n, double a, double b)
{
    return n == 0.0 ? 0.0 : n * log(a / b);
}

/* LR_uc = 2 [(T-x) ln((1 - x/T)/(1 - p)) + x ln((x/T)/p)]: Kupiec's statistic written as one
 * sum of log ratios (the same value as -2 ln L(p) + 2 ln L(x/T), with fewer cancellations).
 * Rounding can leave -1e-16 when x/T = p: clamped at 0, the statistic's lower bound. */
double xm_coverage_kupiec_lr(uint64_t x, uint64_t T, double p)
{
    double xd = (double)x, td = (double)T, rate = xd / td;
    double lr = 2.0 * (count_log_ratio(td - xd, 1.0 - rate, 1.0 - p)
                       + count_log_ratio(xd, rate, p));
    return lr > 0.0 ? lr : 0.0;
}

xm_coverage_transitions xm_coverage_count_transitions(const uint8_t *ind, size_t T)
{
    xm_coverage_transitions n = {0, 0, 0, 0};
    for (size_t t = 1; t < T; t++) {
        int prev = ind[t - 1] != 0, cur = ind[t] != 0;
        if (prev)
            cur ? n.n11++ : n.n10++;
        else
            cur ? n.n01++ : n.n00++;
    }
    return n;
}

/* LR_ind = 2 [n00 ln((1-pi01)/(1-pi)) + n01 ln(pi01/pi) + n10 ln((1-pi11)/(1-pi))
 *             + n11 ln(pi11/pi)]: Christoffersen's ratio of the first-order Markov
 * likelihood to the independent one, term by term. A rate with an empty row (n00+n01 = 0 or
 * n10+n11 = 0) is never evaluated: its terms have count 0. */
double xm_coverage_christoffersen_lr_ind(const xm_coverage_transitions *n)
{
    double n00 = (double)n->n00, n01 = (double)n->n01;
    double n10 = (double)n->n10, n11 = (double)n->n11;
    double row0 = n00 + n01, row1 = n10 + n11, all = row0 + row1;
    if (all == 0.0)
        return 0.0;
    double pi = (n01 + n11) / all;
    double pi01 = row0 > 0.0 ? n01 / row0 : 0.0, pi11 = row1 > 0.0 ? n11 / row1 : 0.0;
    double lr = 2.0 * (count_log_ratio(n00, 1.0 - pi01, 1.0 - pi)
                       + count_log_ratio(n01, pi01, pi)
                       + count_log_ratio(n10, 1.0 - pi11, 1.0 - pi)
                       + count_log_ratio(n11, pi11, pi));
    return lr > 0.0 ? lr : 0.0;
}

xm_coverage_zone xm_coverage_basel_zone(uint64_t x, uint64_t T, double p)
{
    double cdf = gsl_cdf_binomial_P((unsigned)x, p, (unsigned)T);
    if (cdf < XM_COVERAGE_YELLOW_CDF)
        return XM_COVERAGE_GREEN;
    return cdf < XM_COVERAGE_RED_CDF ? XM_COVERAGE_YELLOW : XM_COVERAGE_RED;
}

const char *xm_coverage_zone_name(xm_coverage_zone zone)
{
    switch (zone) {
    case XM_COVERAGE_GREEN: return "green";
    case XM_COVERAGE_YELLOW: return "yellow";
    case XM_COVERAGE_RED: return "red";
    }
    return "unknown";
}

static xm_status check_counts(uint64_t x, uint64_t T, double p, xm_error *err)
{
    if (T == 0 || T > UINT_MAX)
        return xm_error_set(err, XM_EUSAGE, "coverage: %llu observations (need 1 to %u)",
                            (unsigned long long)T, UINT_MAX);
    if (x > T)
        return xm_error_set(err, XM_EUSAGE, "coverage: %llu exceedances in %llu observations",
                            (unsigned long long)x, (unsigned long long)T);
    if (!(p > 0.0 && p < 1.0))
        return xm_error_set(err, XM_EUSAGE,
                            "coverage: exceedance probability %g (need 0 < p < 1)", p);
    return XM_OK;
}

xm_status xm_coverage_from_counts(uint64_t x, uint64_t T, double p, xm_coverage *out,
                                  xm_error *err)
{
    xm_status st = check_counts(x, T, p, err);
    if (st != XM_OK)
        return st;
    xm_coverage c = {0};
    c.x = x;
    c.T = T;
    c.rate = (double)x / (double)T;
    c.lr_uc = xm_coverage_kupiec_lr(x, T, p);
    c.p_uc = gsl_cdf_chisq_Q(c.lr_uc, 1.0);
    c.lr_ind = c.p_ind = c.lr_cc = c.p_cc = NAN;
    c.zone = xm_coverage_basel_zone(x, T, p);
    *out = c;
    return XM_OK;
}

xm_status xm_coverage_from_indicators(const uint8_t *ind, size_t T, double p, xm_coverage *out,
                                      xm_error *err)
{
    uint64_t x = 0;
    for (size_t t = 0; t < T; t++) {
        if (ind[t] > 1)
            return xm_error_set(err, XM_EUSAGE, "coverage: indicator %zu is %u (need 0 or 1)",
                                t, (unsigned)ind[t]);
        x += ind[t];
    }
    xm_coverage c;
    xm_status st = xm_coverage_from_counts(x, (uint64_t)T, p, &c, err);
    if (st != XM_OK)
        return st;
    c.trans = xm_coverage_count_transitions(ind, T);
    c.lr_ind = xm_coverage_christoffersen_lr_ind(&c.trans);
    c.p_ind = gsl_cdf_chisq_Q(c.lr_ind, 1.0);
    c.lr_cc = c.lr_uc + c.lr_ind;
    c.p_cc = gsl_cdf_chisq_Q(c.lr_cc, 2.0);
    *out = c;
    return XM_OK;
}
