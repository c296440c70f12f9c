/* xmrisk/estimators.h — the few estimators every report uses: mean with standard error,
 * quantiles, binomial intervals. All are deterministic functions of their input order. */
#ifndef XMRISK_ESTIMATORS_H
#define XMRISK_ESTIMATORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double mean;     /* sample mean */
    double stderr_;  /* standard error of the mean: s / sqrt(n), s with n - 1; 0 when n < 2 */
    double sd;       /* sample standard deviation (n - 1) */
} xm_moments;

/* Mean, standard deviation and standard error of x[0..n) by two passes in index order.
 * n == 0 gives NaN-free zeros. */
xm_moments xm_stats_moments(const double *x, size_t n);

/* Sort ascending in place (total order; NaN is not expected and sorts last). */
void xm_stats_sort(double *x, size_t n);

/* Quantile p in [0, 1] of sorted data by linear interpolation between order statistics,
 * Hyndman & Fan (1996) type 7 (R's and NumPy's default): h = (n - 1) p,
 * Q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]). n == 0 gives 0. */
double xm_stats_quantile_sorted(const double *sorted, size_t n, double p);

/* Wilson score interval for k successes in n trials at normal quantile z (1.959964 for
 * 95%): E. B. Wilson, JASA 22 (1927) 209-212. n == 0 gives [0, 1]. */
void xm_stats_wilson(uint64_t k, uint64_t n, double z, double *lo, double *hi);

#define XM_Z95 1.959963984540054  /* Phi^{-1}(0.975) */

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_ESTIMATORS_H */
