/* stats/ — estimators with Monte Carlo errors, and statistics that merge exactly. */
/* estimators.c — mean/SE, type-7 quantiles, Wilson intervals (see xmrisk/estimators.h). */
#include "xmrisk/estimators.h"

#include <math.h>
#include <stdlib.h>

xm_moments xm_stats_moments(const double *x, size_t n)
{
    xm_moments m = {0.0, 0.0, 0.0};
    if (n == 0)
        return m;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    m.mean = sum / (double)n;
    if (n < 2)
        return m;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m.mean) * (x[i] - m.mean);
    m.sd = sqrt(ss / (double)(n - 1));
    m.stderr_ = m.sd / sqrt((double)n);
    return m;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (x < y) return -1;
    if (x > y) return 1;
    if (isnan(x)) return isnan(y) ? 0 : 1;
    return isnan(y) ? -1 : 0;
}

void xm_stats_sort(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
}

double xm_stats_quantile_sorted(const double *sorted, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    p = fmin(fmax(p, 0.0), 1.0);
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

void xm_stats_wilson(uint64_t k, uint64_t n, double z, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0.0;
        *hi = 1.0;
        return;
    }
    /* centre = (p + z^2/2n) / (1 + z^2/n); half = z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n) */
    double nn = (double)n, p = (double)k / nn, z2 = z * z;
    double denom = 1.0 + z2 / nn;
    double centre = (p + z2 / (2.0 * nn)) / denom;
    double half = z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
    /* The closed form gives 0 and 1 at k = 0 and k = n; say so exactly, not to rounding. */
    *lo = k == 0 ? 0.0 : fmax(0.0, centre - half);
    *hi = k == n ? 1.0 : fmin(1.0, centre + half);
}
