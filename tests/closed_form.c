/* closed_form.c — see closed_form.h. No xmrisk code: libm and gsl_cdf_ugaussian_P only. */
#include "closed_form.h"

#include <math.h>

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
