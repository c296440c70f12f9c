/* closed_form.c — see closed_form.h. No xmrisk code: libm and gsl_cdf_ugaussian_P only. */
#include "closed_form.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

double cf_bm_hit(double b, double nu, double sigma, double T)
{
    if (b > 0.0) {   /* up barrier: reflect X -> -X */
        b = -b;
        nu = -nu;
    }
    if (b == 0.0)
        return 1.0;
    double s = sigma * sqrt(T);
    return gsl_cdf_ugaussian_P((b - nu * T) / s) +
           exp(2.0 * nu * b / (sigma * sigma)) * gsl_cdf_ugaussian_P((b + nu * T) / s);
}

double cf_bm_hit_discrete(double b, double nu, double sigma, double T, double dt)
{
    if (dt > 0.0) {
        double shift = CF_BGK_BETA * sigma * sqrt(dt);
        b += b < 0.0 ? -shift : shift;   /* away from the start */
    }
    return cf_bm_hit(b, nu, sigma, T);
}

double cf_bm_hit_discrete_exact(double b, double nu, double sigma, double T, unsigned m,
                                int points_per_sd)
{
    if (b > 0.0) {   /* up barrier: reflect */
        b = -b;
        nu = -nu;
    }
    if (b == 0.0)
        return 1.0;
    if (points_per_sd < 1)
        points_per_sd = 20;
    const double dt = T / m, s = sigma * sqrt(dt), mu = nu * dt, h = s / points_per_sd;
    const double norm = 0.3989422804014327 / s;   /* 1 / (s sqrt(2 pi)) */
    /* Grid x_i = b + i h, i = 0 .. n-1 (the killed walk lives above b). */
    const double top = 12.0 * sigma * sqrt(T) + fabs(nu) * T;
    const size_t n = (size_t)ceil((top - b) / h) + 1;
    const long kw = (long)ceil(8.0 * s / h);
    double *f = malloc(n * sizeof *f), *g = malloc(n * sizeof *g);
    double *k = malloc((size_t)(2 * kw + 1) * sizeof *k);
    if (f == NULL || g == NULL || k == NULL) {
        free(f);
        free(g);
        free(k);
        return -1.0;
    }
    for (long j = -kw; j <= kw; j++) {   /* k[j + kw] = density of a step ending j h away */
        double z = ((double)j * h - mu) / s;
        k[j + kw] = norm * exp(-0.5 * z * z);
    }
    for (size_t i = 0; i < n; i++) {     /* after step 1, from X_0 = 0 */
        double z = (b + (double)i * h - mu) / s;
        f[i] = norm * exp(-0.5 * z * z);
    }
    for (unsigned step = 1; step < m; step++) {
        for (size_t i = 0; i < n; i++) {
            size_t lo = (long)i - kw < 0 ? 0 : i - (size_t)kw;
            size_t hi = i + (size_t)kw >= n ? n - 1 : i + (size_t)kw;
            double acc = 0.0;
            for (size_t j = lo; j <= hi; j++) {
                double w = (j == 0 || j == n - 1) ? 0.5 : 1.0;   /* trapezoid */
                acc += w * f[j] * k[(long)i - (long)j + kw];
            }
            g[i] = acc * h;
        }
        double *t = f;
        f = g;
        g = t;
    }
    double surv = 0.0;
    for (size_t i = 0; i < n; i++)
        surv += ((i == 0 || i == n - 1) ? 0.5 : 1.0) * f[i];
    free(f);
    free(g);
    free(k);
    return 1.0 - surv * h;
}

double cf_iso_barrier(double entry, double leverage, double mmr, int is_long)
{
    /* Long, q = N/e, M = N/L: M + q (B - e) = mmr q B  =>  B = e (1 - 1/L) / (1 - mmr).
     * Short, |q| = N/e:       M - |q| (B - e) = mmr |q| B  =>  B = e (1 + 1/L) / (1 + mmr). */
    return is_long ? entry * (1.0 - 1.0 / leverage) / (1.0 - mmr)
                   : entry * (1.0 + 1.0 / leverage) / (1.0 + mmr);
}

double cf_iso_gbm_liq(double leverage, double mmr, int is_long, double mu, double sigma,
                      double T, double dt)
{
    double b = log(cf_iso_barrier(1.0, leverage, mmr, is_long));
    return cf_bm_hit_discrete(b, mu - 0.5 * sigma * sigma, sigma, T, dt);
}

double cf_iso_gbm_liq_exact(double leverage, double mmr, int is_long, double mu, double sigma,
                            double T, unsigned m)
{
    double b = log(cf_iso_barrier(1.0, leverage, mmr, is_long));
    return cf_bm_hit_discrete_exact(b, mu - 0.5 * sigma * sigma, sigma, T, m, 20);
}

double cf_pair_h0(const cf_pair *p)
{
    return p->wallet - p->mmr * (p->qa * p->sa0 + p->qb * p->sb0);
}

double cf_pair_sigma_h(const cf_pair *p)
{
    double a = p->qa * (1.0 - p->mmr) * p->vol_a * p->sa0;   /* dH per unit dW_A */
    double b = p->qb * (1.0 + p->mmr) * p->vol_b * p->sb0;   /* -dH per unit dW_B */
    double v = a * a + b * b - 2.0 * p->rho * a * b;
    return sqrt(v > 0.0 ? v : 0.0);
}

double cf_pair_cross_liq(const cf_pair *p, double T, double dt)
{
    double h0 = cf_pair_h0(p), sh = cf_pair_sigma_h(p);
    if (h0 <= 0.0)
        return 1.0;
    if (dt > 0.0)
        h0 += CF_BGK_BETA * sh * sqrt(dt);
    return 2.0 * gsl_cdf_ugaussian_P(-h0 / (sh * sqrt(T)));
}

double cf_pair_cross_liq_exact(const cf_pair *p, double T, unsigned m)
{
    double h0 = cf_pair_h0(p);
    if (h0 <= 0.0)
        return 1.0;
    return cf_bm_hit_discrete_exact(-h0, 0.0, cf_pair_sigma_h(p), T, m, 20);
}

double cf_binom_se(double p, double n)
{
    return sqrt(p * (1.0 - p) / n);
}

void cf_wilson(double k, double n, double z, double *lo, double *hi)
{
    double ph = k / n, z2 = z * z;
    double den = 1.0 + z2 / n;
    double mid = (ph + z2 / (2.0 * n)) / den;
    double half = z * sqrt(ph * (1.0 - ph) / n + z2 / (4.0 * n * n)) / den;
    *lo = mid - half;
    *hi = mid + half;
}

double cf_ols_slope(const double *x, const double *y, int n)
{
    double mx = 0.0, my = 0.0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0.0, sxx = 0.0;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxy / sxx;
}
