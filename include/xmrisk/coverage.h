/* xmrisk/coverage.h — the statistics of a VaR-style backtest: given exceedance indicators
 * I_t in {0, 1}, t = 1..T (1 when the realized value fell beyond the predicted quantile) and
 * the nominal exceedance probability p (0.01 for a 99% quantile), test whether exceedances
 * occur with probability p and independently of each other.
 *
 * x = sum I_t exceedances in T observations; rate = x / T.
 *
 * Kupiec's proportion-of-failures test (P. H. Kupiec, "Techniques for verifying the accuracy
 * of risk measurement models", Journal of Derivatives 3(2) (1995) 73-84):
 *   LR_uc = -2 ln[(1-p)^(T-x) p^x] + 2 ln[(1-x/T)^(T-x) (x/T)^x],  p_uc = P(chi2(1) > LR_uc).
 *
 * Christoffersen's independence and conditional coverage tests (P. F. Christoffersen,
 * "Evaluating interval forecasts", International Economic Review 39(4) (1998) 841-862):
 * n_ij counts the t = 2..T with I_{t-1} = i and I_t = j (T - 1 transitions);
 *   pi01 = n01/(n00+n01), pi11 = n11/(n10+n11), pi = (n01+n11)/(n00+n01+n10+n11),
 *   LR_ind = -2 ln[(1-pi)^(n00+n10) pi^(n01+n11)]
 *            + 2 ln[(1-pi01)^n00 pi01^n01 (1-pi11)^n10 pi11^n11],  p_ind from chi2(1);
 *   LR_cc = LR_uc + LR_ind,  p_cc = P(chi2(2) > LR_cc).
 *
 * Degenerate cases: every term n ln q with n = 0 is 0 (the convention 0 ln 0 = 0, i.e. the
 * likelihoods above evaluated with 0^0 = 1, as written as products in Christoffersen 1998
 * and Kupiec 1995). A rate whose counts are all zero (pi01 when n00+n01 = 0, pi11 when
 * n10+n11 = 0) then never enters. Hence: x = 0 gives LR_uc = -2T ln(1-p) and x = T gives
 * LR_uc = -2T ln p; no exceedance among I_1..I_{T-1} (n10+n11 = 0), all ones, or T = 1 give
 * LR_ind = 0 (the alternative cannot fit better than the null), so LR_cc = LR_uc.
 *
 * Basel traffic light (Basel Committee on Banking Supervision, "Supervisory framework for the
 * use of 'backtesting' in conjunction with the internal models approach to market risk
 * capital requirements", January 1996, the table of the three zones), scaled to any T and p:
 * with F = P(X <= x), X ~ Binomial(T, p): green when F < 0.95, yellow when F < 0.9999,
 * red otherwise. For T = 250, p = 0.01: green 0-4, yellow 5-9, red 10 or more.
 *
 * Pure functions of their arguments (no allocation, no state); GSL's chi-square and binomial
 * distribution functions give the p-values and F.
 */
#ifndef XMRISK_COVERAGE_H
#define XMRISK_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Basel zone thresholds on F = P(X <= x; T, p). */
#define XM_COVERAGE_YELLOW_CDF 0.95
#define XM_COVERAGE_RED_CDF    0.9999

typedef enum {
    XM_COVERAGE_GREEN = 0,
    XM_COVERAGE_YELLOW = 1,
    XM_COVERAGE_RED = 2
} xm_coverage_zone;

/* First-order transition counts of an indicator sequence: nij = #{t >= 2: I_{t-1} = i,
 * I_t = j}; n00 + n01 + n10 + n11 = T - 1 (0 when T <= 1). */
typedef struct {
    uint64_t n00, n01, n10, n11;
} xm_coverage_transitions;

typedef struct {
    uint64_t x;                     /* exceedances */
    uint64_t T;                     /* observations */
    double rate;                    /* x / T */
    double lr_uc, p_uc;             /* Kupiec, chi2(1) */
    double lr_ind, p_ind;           /* Christoffersen independence, chi2(1); NaN from counts */
    double lr_cc, p_cc;             /* conditional coverage, chi2(2); NaN from counts */
    xm_coverage_transitions trans;  /* all zero from counts */
    xm_coverage_zone zone;          /* Basel traffic light */
} xm_coverage;

/* Kupiec's LR_uc for x exceedances in T >= 1 observations (x <= T, 0 < p < 1); >= 0. */
double xm_coverage_kupiec_lr(uint64_t x, uint64_t T, double p);

/* Transition counts of ind[0..T) (each 0 or 1; other values count as 1). */
xm_coverage_transitions xm_coverage_count_transitions(const uint8_t *ind, size_t T);

/* Christoffersen's LR_ind from transition counts; >= 0, and 0 in the degenerate cases above. */
double xm_coverage_christoffersen_lr_ind(const xm_coverage_transitions *n);

/* The Basel zone of x exceedances in T observations at exceedance probability p
 * (1 <= T <= UINT_MAX, x <= T, 0 < p < 1). */
xm_coverage_zone xm_coverage_basel_zone(uint64_t x, uint64_t T, double p);

/* "green", "yellow" or "red" (static strings; "unknown" for any other value). */
const char *xm_coverage_zone_name(xm_coverage_zone zone);

/* Everything but the independence test from counts: lr_ind, p_ind, lr_cc, p_cc are NaN and
 * trans is zero. XM_EUSAGE (message in err) unless 1 <= T <= UINT_MAX, x <= T and
 * 0 < p < 1; *out is untouched then. */
xm_status xm_coverage_from_counts(uint64_t x, uint64_t T, double p, xm_coverage *out,
                                  xm_error *err) XM_MUST_CHECK;

/* Everything from the indicators ind[0..T) (I_1..I_T in time order). XM_EUSAGE (message in
 * err, naming the first bad index) when an indicator is neither 0 nor 1, or for the
 * conditions of xm_coverage_from_counts; *out is untouched then. */
xm_status xm_coverage_from_indicators(const uint8_t *ind, size_t T, double p, xm_coverage *out,
                                      xm_error *err) XM_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_COVERAGE_H */
