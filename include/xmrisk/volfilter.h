/* xmrisk/volfilter.h — volatility filters on a return series: EWMA and GJR-GARCH(1,1).
 *
 * Returns r_1..r_n are log returns of one asset at a fixed data interval (any unit; the
 * variances come out in the square of that unit). Nothing here is used by a process yet.
 *
 * EWMA (J.P. Morgan/Reuters, "RiskMetrics — Technical Document", 4th ed. 1996, §5.2.1, eq.
 * 5.3, zero mean):
 *   sigma2_1 = (1/k) sum_{t=1..k} r_t^2           (mean square of the first k returns)
 *   sigma2_t = lambda sigma2_{t-1} + (1 - lambda) r_{t-1}^2,   t = 2..n+1
 *   z_t = r_t / sigma_t
 * lambda = 0.94 is RiskMetrics' daily value. For another interval h (seconds) the default keeps
 * the same memory in calendar time: lambda_h = 0.94^(h / 86400), so the half-life stays
 * ln 0.5 / ln 0.94 = 11.2 days (hourly 0.99743, 4-hourly 0.98974). Re-using 0.94 per hourly
 * step would forget a day-old shock within 11 hours, far shorter than the clustering in daily
 * data.
 *
 * GJR-GARCH(1,1) (L. R. Glosten, R. Jagannathan, D. E. Runkle, "On the relation between the
 * expected value and the volatility of the nominal excess return on stocks", J. Finance 48
 * (1993) 1779-1801), constant mean mu (estimated, or fixed at 0):
 *   e_t = r_t - mu,   e_t = sigma_t z_t,   z_t i.i.d., mean 0, variance 1
 *   sigma2_t = omega + (alpha + gamma 1[e_{t-1} < 0]) e_{t-1}^2 + beta sigma2_{t-1}
 *   sigma2_1 = given (the fit uses the sample variance of the returns: see xm_vol_gjr_fit)
 * z_t is standard normal or Student-t with nu > 2 degrees of freedom scaled to unit variance,
 * whose log density (T. Bollerslev, "A conditionally heteroskedastic time series model for
 * speculative prices and rates of return", Rev. Econ. Stat. 69 (1987) 542-547) is
 *   l_t = ln G((nu+1)/2) - ln G(nu/2) - (1/2) ln(pi (nu-2)) - (1/2) ln sigma2_t
 *         - ((nu+1)/2) ln(1 + e_t^2 / ((nu-2) sigma2_t))
 * (Gaussian: l_t = -(1/2)(ln 2 pi + ln sigma2_t + e_t^2 / sigma2_t)).
 * For innovations symmetric about 0, P(z < 0) = 1/2, so the persistence is
 *   P = alpha + gamma/2 + beta,  the unconditional variance omega / (1 - P)  (P < 1),
 * and the one-step-ahead variance after the last return is the recursion at t = n+1.
 */
#ifndef XMRISK_VOLFILTER_H
#define XMRISK_VOLFILTER_H

#include <stddef.h>

#include "xmrisk/error.h"
#include "xmrisk/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RiskMetrics' daily decay factor. */
#define XM_VOL_EWMA_LAMBDA_DAILY 0.94

/* Default decay for data at `interval_seconds`: 0.94^(interval_seconds / 86400) (same
 * half-life in days as RiskMetrics' daily 0.94). */
double xm_vol_ewma_lambda(double interval_seconds);

/* EWMA filter (formulas above) with lambda in (0, 1), initialised with the mean square of
 * the first k_init returns (1 <= k_init; more than n means all n). Writes sigma2[0..n-1]
 * (variance of r_t given r_1..r_{t-1}), z[0..n-1] (standardized residuals) and *sigma2_next
 * (variance of the next, unseen return); each output may be NULL. XM_EUSAGE on n == 0,
 * lambda outside (0, 1), k_init == 0, or an initial variance that is not > 0. */
xm_status xm_vol_ewma(const double *r, size_t n, double lambda, size_t k_init, double *sigma2,
                      double *z, double *sigma2_next, xm_error *err) XM_MUST_CHECK;

typedef enum { XM_VOL_NORMAL = 0, XM_VOL_STUDENT_T = 1 } xm_vol_dist;

/* GJR-GARCH(1,1) parameters; returns' units (omega in units^2, mu in units). */
typedef struct {
    double mu, omega, alpha, gamma, beta;
    double nu;         /* Student-t degrees of freedom (> 2); unused for XM_VOL_NORMAL */
    xm_vol_dist dist;
} xm_vol_gjr;

/* alpha + gamma/2 + beta (symmetric innovations). */
double xm_vol_gjr_persistence(const xm_vol_gjr *p);
/* omega / (1 - persistence); +INFINITY when the persistence is 1 or more. */
double xm_vol_gjr_uncond_var(const xm_vol_gjr *p);

/* Run the recursion from sigma2_1 = `sigma2_init` (> 0) over r[0..n-1]: sigma2[0..n-1],
 * z[0..n-1] = e_t / sigma_t, *sigma2_next (one step ahead) and *loglik = sum of l_t; each
 * output may be NULL. The parameters are used as given (no constraint check beyond the
 * following): XM_EUSAGE when n == 0, sigma2_init is not > 0, or nu <= 2 for Student-t;
 * XM_ENUMERIC when some sigma2_t is not > 0 or not finite. */
xm_status xm_vol_gjr_filter(const xm_vol_gjr *p, const double *r, size_t n, double sigma2_init,
                            double *sigma2, double *z, double *sigma2_next, double *loglik,
                            xm_error *err) XM_MUST_CHECK;

/* Simulate n returns r[0..n-1] of the model from sigma2_1 = sigma2_init (<= 0: the
 * unconditional variance, which then must be finite), drawing from the caller's stream `g`
 * (advanced by the draws). Per step, in this order: z0 ~ N(0,1) (GSL ziggurat), then for
 * Student-t W ~ chi2_nu and z = z0 sqrt((nu - 2) / W) (unit variance, as paths.c);
 * r_t = mu + sigma_t z. sigma2 (may be NULL) receives the variances. XM_ENOMEM, XM_EUSAGE as
 * above. */
xm_status xm_vol_gjr_simulate(const xm_vol_gjr *p, xm_pcg64 *g, size_t n, double sigma2_init,
                              double *r, double *sigma2, xm_error *err) XM_MUST_CHECK;

typedef struct {
    xm_vol_dist dist;  /* innovations */
    int fit_mean;      /* 1: estimate mu; 0: mu = 0 */
    int max_iter;      /* Nelder-Mead iterations per run; 0: 2000 */
} xm_vol_fit_opts;

typedef struct {
    xm_vol_gjr p;        /* estimates */
    xm_vol_gjr se;       /* standard errors (se.dist = p.dist); NaN when the Hessian is not
                          * positive definite, or for a parameter not estimated */
    double loglik;       /* maximised log-likelihood, returns' units */
    double persistence;  /* alpha + gamma/2 + beta */
    double uncond_var;   /* omega / (1 - persistence) */
    double sigma2_init;  /* sigma2_1 used: sample variance of r (mean square when mu = 0) */
    double sigma2_next;  /* one-step-ahead variance after r_n */
    int iterations;      /* Nelder-Mead iterations, all starts */
    int converged;       /* 1 when a restart from the optimum improved -loglik by < 1e-8 */
} xm_vol_fit;

/* Maximum-likelihood fit of GJR-GARCH(1,1) to r[0..n-1] (n >= 10), by GSL's Nelder-Mead
 * (gsl_multimin_fminimizer_nmsimplex2) on transformed parameters, restarted from its optimum
 * until the log-likelihood stops improving (at most 8 runs); standard errors from the inverse of the
 * central-difference Hessian of -loglik in the natural parameters (docs/model.md, "Volatility
 * filters"). XM_EUSAGE on bad input (n < 10, non-finite or constant returns), XM_ENOMEM,
 * XM_ENUMERIC when no finite likelihood is reached. The constraint P < 1 is open: where the
 * likelihood keeps rising towards P = 1 (integrated GARCH, e.g. BTC daily 2017-2026) the
 * estimate ends within ~1e-9 of it and uncond_var is huge; check persistence. */
xm_status xm_vol_gjr_fit(const double *r, size_t n, const xm_vol_fit_opts *opts, xm_vol_fit *out,
                         xm_error *err) XM_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_VOLFILTER_H */
