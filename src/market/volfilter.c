/* volfilter.c — EWMA and GJR-GARCH(1,1) filters, simulation and maximum-likelihood fit
 * (see xmrisk/volfilter.h and docs/model.md, "Volatility filters").
 *
 * GSL's default error handler aborts. Nothing here reaches it: the objective given to the
 * Nelder-Mead minimizer is always finite (a non-finite likelihood is replaced by a large
 * penalty), and the Hessian is inverted through xm_corr_cholesky, which refuses a matrix that
 * is not positive definite before GSL would. (An allocation failure inside GSL's own
 * gsl_multimin_fminimizer_alloc would reach the handler; the command-line tool switches it
 * off at start.)
 */
#include "xmrisk/volfilter.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_math.h>  /* M_PI */
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>

#include "xmrisk/corr.h"

#define SECONDS_PER_DAY 86400.0
#define PENALTY 1e100         /* -loglik given to the minimizer where it is not finite */
#define NM_SIZE_TOL 1e-7      /* simplex size at convergence (transformed parameters) */
#define NM_STEP 0.5           /* initial simplex step in each transformed parameter */
#define NM_MAX_STARTS 8       /* Nelder-Mead runs at most (restarts from the optimum) */
#define NM_RESTART_TOL 1e-8   /* a restart improving -loglik by less: converged */
#define NM_MAX_ITER 2000      /* iterations per run unless the caller says */
#define HESS_REL_STEP 1e-3    /* central-difference step: 1e-3 max(|x|, HESS_MIN_SCALE) */
#define HESS_MIN_SCALE 1e-2
#define MAXP 6                /* omega, alpha, gamma, beta, nu, mu */

double xm_vol_ewma_lambda(double interval_seconds)
{
    return pow(XM_VOL_EWMA_LAMBDA_DAILY, interval_seconds / SECONDS_PER_DAY);
}

double xm_vol_gjr_persistence(const xm_vol_gjr *p)
{
    return p->alpha + 0.5 * p->gamma + p->beta;
}

double xm_vol_gjr_uncond_var(const xm_vol_gjr *p)
{
    double pers = xm_vol_gjr_persistence(p);
    return pers < 1.0 ? p->omega / (1.0 - pers) : INFINITY;
}

/* ---- the recursion: one copy for EWMA, GJR filter, likelihood and fit ---------------- */

/* Constant part of the standardized Student-t log density (Bollerslev 1987):
 * ln G((nu+1)/2) - ln G(nu/2) - (1/2) ln(pi (nu - 2)); Gaussian: -(1/2) ln(2 pi). */
static double density_const(const xm_vol_gjr *p)
{
    if (p->dist == XM_VOL_NORMAL)
        return -0.5 * log(2.0 * M_PI);
    return lgamma(0.5 * (p->nu + 1.0)) - lgamma(0.5 * p->nu) - 0.5 * log(M_PI * (p->nu - 2.0));
}

/* l_t without its constant part, for e = e_t and s2 = sigma2_t. */
static double density_var(const xm_vol_gjr *p, double e, double s2)
{
    if (p->dist == XM_VOL_NORMAL)
        return -0.5 * (log(s2) + e * e / s2);
    return -0.5 * log(s2) - 0.5 * (p->nu + 1.0) * log1p(e * e / ((p->nu - 2.0) * s2));
}

/* sigma2_{t+1} from e_t and sigma2_t (GJR 1993). */
static double gjr_next(const xm_vol_gjr *p, double e, double s2)
{
    double a = e < 0.0 ? p->alpha + p->gamma : p->alpha;
    return p->omega + a * e * e + p->beta * s2;
}

/* Runs the recursion from s2 = sigma2_1; optional outputs sigma2, z, *next. Returns the
 * log-likelihood (want_ll) or 0; NAN as soon as some sigma2_t is not > 0 and finite. */
static double gjr_run(const xm_vol_gjr *p, const double *r, size_t n, double s2, int want_ll,
                      double *sigma2, double *z, double *next)
{
    double ll = 0.0;
    for (size_t t = 0; t < n; t++) {
        if (!(s2 > 0.0 && s2 < INFINITY))
            return NAN;
        double e = r[t] - p->mu;
        if (sigma2 != NULL)
            sigma2[t] = s2;
        if (z != NULL)
            z[t] = e / sqrt(s2);
        if (want_ll)
            ll += density_var(p, e, s2);
        s2 = gjr_next(p, e, s2);
    }
    if (next != NULL)
        *next = s2;
    return want_ll ? ll + (double)n * density_const(p) : 0.0;
}

xm_status xm_vol_ewma(const double *r, size_t n, double lambda, size_t k_init, double *sigma2,
                      double *z, double *sigma2_next, xm_error *err)
{
    if (n == 0 || k_init == 0 || !(lambda > 0.0 && lambda < 1.0))
        return xm_error_set(err, XM_EUSAGE,
                            "ewma: need n >= 1, k_init >= 1 and lambda in (0, 1) (got %zu, %zu, %g)",
                            n, k_init, lambda);
    size_t k = k_init < n ? k_init : n;
    double s2 = 0.0;
    for (size_t t = 0; t < k; t++)
        s2 += r[t] * r[t];
    s2 /= (double)k;
    if (!(s2 > 0.0 && s2 < INFINITY))
        return xm_error_set(err, XM_EUSAGE, "ewma: initial variance %g is not > 0 and finite", s2);
    /* EWMA is the GJR recursion with mu = omega = gamma = 0, alpha = 1 - lambda, beta = lambda. */
    xm_vol_gjr p = {.alpha = 1.0 - lambda, .beta = lambda, .dist = XM_VOL_NORMAL};
    if (isnan(gjr_run(&p, r, n, s2, 0, sigma2, z, sigma2_next)))
        return xm_error_set(err, XM_ENUMERIC, "ewma: a variance is not finite");
    return XM_OK;
}

static xm_status check_gjr_input(const xm_vol_gjr *p, size_t n, double sigma2_init,
                                 xm_error *err)
{
    if (n == 0 || !(sigma2_init > 0.0 && sigma2_init < INFINITY))
        return xm_error_set(err, XM_EUSAGE,
                            "gjr-garch: need n >= 1 and an initial variance > 0 (got %zu, %g)", n,
                            sigma2_init);
    if (p->dist == XM_VOL_STUDENT_T && !(p->nu > 2.0))
        return xm_error_set(err, XM_EUSAGE, "gjr-garch: Student-t needs nu > 2 (got %g)", p->nu);
    return XM_OK;
}

xm_status xm_vol_gjr_filter(const xm_vol_gjr *p, const double *r, size_t n, double sigma2_init,
                            double *sigma2, double *z, double *sigma2_next, double *loglik,
                            xm_error *err)
{
    xm_status st = check_gjr_input(p, n, sigma2_init, err);
    if (st != XM_OK)
        return st;
    double ll = gjr_run(p, r, n, sigma2_init, 1, sigma2, z, sigma2_next);
    if (isnan(ll))
        return xm_error_set(err, XM_ENUMERIC, "gjr-garch: a conditional variance is not > 0");
    if (loglik != NULL)
        *loglik = ll;
    return XM_OK;
}

/* ---- simulation --------------------------------------------------------------------- */

/* Unit-variance innovation: N(0,1), times sqrt((nu - 2) / W), W ~ chi2_nu, for Student-t. */
static double draw_innovation(const xm_vol_gjr *p, gsl_rng *rng)
{
    double z = gsl_ran_gaussian_ziggurat(rng, 1.0);
    if (p->dist == XM_VOL_STUDENT_T)
        z *= sqrt((p->nu - 2.0) / gsl_ran_chisq(rng, p->nu));
    return z;
}

xm_status xm_vol_gjr_simulate(const xm_vol_gjr *p, xm_pcg64 *g, size_t n, double sigma2_init,
                              double *r, double *sigma2, xm_error *err)
{
    double s2 = sigma2_init > 0.0 ? sigma2_init : xm_vol_gjr_uncond_var(p);
    xm_status st = check_gjr_input(p, n, s2, err);
    if (st != XM_OK)
        return st;
    gsl_rng *rng = gsl_rng_alloc(xm_gsl_rng_pcg64);
    if (rng == NULL)
        return xm_error_set(err, XM_ENOMEM, "gjr-garch: out of memory for a generator");
    *xm_gsl_pcg64_state(rng) = *g;  /* draw from the caller's stream, then hand it back */
    for (size_t t = 0; t < n; t++) {
        if (sigma2 != NULL)
            sigma2[t] = s2;
        double e = sqrt(s2) * draw_innovation(p, rng);
        r[t] = p->mu + e;
        s2 = gjr_next(p, e, s2);
    }
    *g = *xm_gsl_pcg64_state(rng);
    gsl_rng_free(rng);
    return XM_OK;
}

/* ---- fit ---------------------------------------------------------------------------- */

/* The fit works on y = r / s (s^2 the sample variance, or mean square when mu = 0), so that
 * sigma2_1 = 1 and every parameter is of order 1; omega and mu are scaled back at the end,
 * and loglik(r) = loglik(y) - n ln s. */
typedef struct {
    const double *y;
    size_t n;
    xm_vol_dist dist;
    int fit_mean;
    size_t np;          /* number of free parameters: 4 + (t) + (mean) */
} fit_problem;

static double logistic(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Transformed theta -> natural parameters (scaled units):
 *   omega = exp(th0);  P = logistic(th1);  (w_a, w_g, w_b) = softmax(0, th2, th3);
 *   alpha = P w_a,  gamma = 2 P w_g,  beta = P w_b   (so alpha + gamma/2 + beta = P < 1);
 *   nu = 2 + exp(th4) (Student-t);  mu = th_last (fit_mean). */
static xm_vol_gjr from_theta(const fit_problem *f, const double *th)
{
    xm_vol_gjr p = {.dist = f->dist, .nu = INFINITY};
    double pers = logistic(th[1]);
    double eg = exp(th[2]), eb = exp(th[3]), sum = 1.0 + eg + eb;
    p.omega = exp(th[0]);
    p.alpha = pers / sum;
    p.gamma = 2.0 * pers * eg / sum;
    p.beta = pers * eb / sum;
    size_t k = 4;
    if (f->dist == XM_VOL_STUDENT_T)
        p.nu = 2.0 + exp(th[k++]);
    p.mu = f->fit_mean ? th[k] : 0.0;
    return p;
}

/* Start: alpha 0.05, gamma 0.10, beta 0.85 (P = 0.95), omega = 1 - P (unconditional variance
 * 1 = sample variance), nu 8, mu the sample mean. */
static void start_theta(const fit_problem *f, double ybar, double *th)
{
    const double a = 0.05, g2 = 0.05, b = 0.85, pers = a + g2 + b;
    th[0] = log(1.0 - pers);
    th[1] = log(pers / (1.0 - pers));
    th[2] = log(g2 / a);
    th[3] = log(b / a);
    size_t k = 4;
    if (f->dist == XM_VOL_STUDENT_T)
        th[k++] = log(8.0 - 2.0);
    if (f->fit_mean)
        th[k] = ybar;
}

static double nll_theta(const gsl_vector *v, void *params)
{
    const fit_problem *f = params;
    xm_vol_gjr p = from_theta(f, v->data);
    double ll = gjr_run(&p, f->y, f->n, 1.0, 1, NULL, NULL, NULL);
    return isfinite(ll) ? -ll : PENALTY;
}

/* One Nelder-Mead run from th (updated in place) until the simplex size is below
 * NM_SIZE_TOL or max_iter iterations; returns the minimum, adds to *iters. */
static double nm_run(const fit_problem *f, gsl_multimin_fminimizer *s, double *th, int max_iter,
                     int *iters)
{
    gsl_multimin_function fn = {.f = nll_theta, .n = f->np, .params = (void *)f};
    gsl_vector_view x = gsl_vector_view_array(th, f->np);
    double step[MAXP];
    for (size_t i = 0; i < f->np; i++)
        step[i] = NM_STEP;
    gsl_vector_view sv = gsl_vector_view_array(step, f->np);
    gsl_multimin_fminimizer_set(s, &fn, &x.vector, &sv.vector);
    int it = 0, status = GSL_CONTINUE;
    while (status == GSL_CONTINUE && it < max_iter) {
        it++;
        if (gsl_multimin_fminimizer_iterate(s) != GSL_SUCCESS)
            break;
        status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), NM_SIZE_TOL);
    }
    *iters += it;
    memcpy(th, gsl_multimin_fminimizer_x(s)->data, f->np * sizeof *th);
    return gsl_multimin_fminimizer_minimum(s);
}

/* Nelder-Mead restarted from its own optimum with a fresh simplex (Press et al., Numerical
 * Recipes, 3rd ed. 2007, §10.5: "restart at the claimed minimum") until a restart improves
 * -loglik by less than NM_RESTART_TOL: that is the convergence test (a flat ridge, e.g. the
 * persistence running to its bound 1, stalls a single simplex above any size tolerance). */
static xm_status minimize(const fit_problem *f, double *th, int max_iter, xm_vol_fit *out,
                          xm_error *err)
{
    gsl_multimin_fminimizer *s =
        gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, f->np);
    if (s == NULL)
        return xm_error_set(err, XM_ENOMEM, "gjr-garch fit: out of memory for the minimizer");
    double best = INFINITY;
    for (int k = 0; k < NM_MAX_STARTS && !out->converged; k++) {
        double v = nm_run(f, s, th, max_iter, &out->iterations);
        if (!(v < PENALTY)) {
            gsl_multimin_fminimizer_free(s);
            return xm_error_set(err, XM_ENUMERIC, "gjr-garch fit: no finite likelihood");
        }
        out->converged = best - v < NM_RESTART_TOL;
        best = fmin(best, v);
    }
    gsl_multimin_fminimizer_free(s);
    return XM_OK;
}

/* ---- standard errors ---------------------------------------------------------------- */

/* Natural parameter vector x[0..np-1] = (omega, alpha, gamma, beta, [nu], [mu]). */
static void to_vec(const fit_problem *f, const xm_vol_gjr *p, double *x)
{
    x[0] = p->omega, x[1] = p->alpha, x[2] = p->gamma, x[3] = p->beta;
    size_t k = 4;
    if (f->dist == XM_VOL_STUDENT_T)
        x[k++] = p->nu;
    if (f->fit_mean)
        x[k] = p->mu;
}

static xm_vol_gjr from_vec(const fit_problem *f, const double *x)
{
    xm_vol_gjr p = {.omega = x[0], .alpha = x[1], .gamma = x[2], .beta = x[3],
                    .dist = f->dist, .nu = INFINITY};
    size_t k = 4;
    if (f->dist == XM_VOL_STUDENT_T)
        p.nu = x[k++];
    p.mu = f->fit_mean ? x[k] : 0.0;
    return p;
}

/* -loglik at natural parameters x (no constraints; NaN where it is not defined). */
static double nll_vec(const fit_problem *f, const double *x)
{
    xm_vol_gjr p = from_vec(f, x);
    if (p.dist == XM_VOL_STUDENT_T && !(p.nu > 2.0))
        return NAN;
    return -gjr_run(&p, f->y, f->n, 1.0, 1, NULL, NULL, NULL);
}

static double nll_shift(const fit_problem *f, const double *x, size_t i, double di, size_t j,
                        double dj)
{
    double xs[MAXP];
    memcpy(xs, x, f->np * sizeof *x);
    xs[i] += di;
    xs[j] += dj;
    return nll_vec(f, xs);
}

/* Central differences, h_i = 1e-3 max(|x_i|, 1e-2):
 *   H_ii = (f(x + h_i) - 2 f(x) + f(x - h_i)) / h_i^2
 *   H_ij = (f(++) - f(+-) - f(-+) + f(--)) / (4 h_i h_j). */
static void hessian(const fit_problem *f, const double *x, double *h)
{
    size_t np = f->np;
    double step[MAXP], f0 = nll_vec(f, x);
    for (size_t i = 0; i < np; i++)
        step[i] = HESS_REL_STEP * fmax(fabs(x[i]), HESS_MIN_SCALE);
    for (size_t i = 0; i < np; i++) {
        double hi = step[i];
        h[i * np + i] = (nll_shift(f, x, i, hi, i, 0.0) - 2.0 * f0 +
                         nll_shift(f, x, i, -hi, i, 0.0)) / (hi * hi);
        for (size_t j = 0; j < i; j++) {
            double hj = step[j];
            double v = nll_shift(f, x, i, hi, j, hj) - nll_shift(f, x, i, hi, j, -hj) -
                       nll_shift(f, x, i, -hi, j, hj) + nll_shift(f, x, i, -hi, j, -hj);
            h[i * np + j] = h[j * np + i] = v / (4.0 * hi * hj);
        }
    }
}

/* Standard errors sqrt(diag(H^-1)) into se[0..np-1]; all NaN unless H is positive definite.
 * H is first scaled to unit diagonal (D H D, D = diag(H_ii^-1/2)) so that the positive
 * definiteness test of xm_corr_cholesky is relative. */
static void std_errors(const fit_problem *f, const double *x, double *se)
{
    size_t np = f->np;
    double h[MAXP * MAXP], l[MAXP * MAXP], d[MAXP];
    hessian(f, x, h);
    for (size_t i = 0; i < np; i++) {
        se[i] = NAN;
        if (!(h[i * np + i] > 0.0 && isfinite(h[i * np + i])))
            return;
        d[i] = 1.0 / sqrt(h[i * np + i]);
    }
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np; j++)
            h[i * np + j] *= d[i] * d[j];
    if (xm_corr_cholesky(h, np, l, NULL) != XM_OK)
        return;
    for (size_t i = 0; i < np; i++)  /* GSL's layout: L below the diagonal, L^T above */
        for (size_t j = i + 1; j < np; j++)
            l[i * np + j] = l[j * np + i];
    gsl_matrix_view lv = gsl_matrix_view_array(l, np, np);
    gsl_linalg_cholesky_invert(&lv.matrix);
    for (size_t i = 0; i < np; i++)
        se[i] = d[i] * sqrt(l[i * np + i]);
}

/* ---- driver ------------------------------------------------------------------------- */

static xm_status scale_returns(const double *r, size_t n, int fit_mean, double *y, double *s,
                               double *ybar, xm_error *err)
{
    double mean = 0.0, ss = 0.0;
    for (size_t t = 0; t < n; t++)
        mean += r[t];
    mean = fit_mean ? mean / (double)n : 0.0;
    for (size_t t = 0; t < n; t++)
        ss += (r[t] - mean) * (r[t] - mean);
    *s = sqrt(ss / (double)n);
    if (!(*s > 0.0 && *s < INFINITY))
        return xm_error_set(err, XM_EUSAGE,
                            "gjr-garch fit: returns are constant or not finite (scale %g)", *s);
    for (size_t t = 0; t < n; t++)
        y[t] = r[t] / *s;
    *ybar = mean / *s;
    return XM_OK;
}

/* Natural parameters and SEs back to returns' units: omega * s^2, mu * s. */
static void unscale(const fit_problem *f, const double *x, const double *se, double s,
                    xm_vol_fit *out)
{
    double xs[MAXP] = {0}, ses[MAXP];
    memcpy(xs, x, f->np * sizeof *x);
    memcpy(ses, se, f->np * sizeof *se);
    out->p = from_vec(f, xs);
    out->se = from_vec(f, ses);
    out->p.omega *= s * s, out->se.omega *= s * s;
    out->p.mu *= s, out->se.mu *= s;
    if (!f->fit_mean)
        out->se.mu = NAN;
    if (f->dist == XM_VOL_NORMAL)
        out->p.nu = out->se.nu = NAN;
}

xm_status xm_vol_gjr_fit(const double *r, size_t n, const xm_vol_fit_opts *opts, xm_vol_fit *out,
                         xm_error *err)
{
    memset(out, 0, sizeof *out);
    if (n < 10)
        return xm_error_set(err, XM_EUSAGE, "gjr-garch fit: need at least 10 returns (got %zu)", n);
    fit_problem f = {.n = n, .dist = opts->dist, .fit_mean = opts->fit_mean != 0};
    f.np = 4 + (f.dist == XM_VOL_STUDENT_T) + (size_t)f.fit_mean;
    double *y = malloc(n * sizeof *y), s = 1.0, ybar = 0.0, th[MAXP], x[MAXP], se[MAXP];
    if (y == NULL)
        return xm_error_set(err, XM_ENOMEM, "gjr-garch fit: out of memory for %zu returns", n);
    f.y = y;
    xm_status st = scale_returns(r, n, f.fit_mean, y, &s, &ybar, err);
    if (st == XM_OK) {
        start_theta(&f, ybar, th);
        st = minimize(&f, th, opts->max_iter > 0 ? opts->max_iter : NM_MAX_ITER, out, err);
    }
    if (st == XM_OK) {
        xm_vol_gjr p = from_theta(&f, th);
        to_vec(&f, &p, x);
        std_errors(&f, x, se);
        unscale(&f, x, se, s, out);
        out->sigma2_init = s * s;
        out->persistence = xm_vol_gjr_persistence(&out->p);
        out->uncond_var = xm_vol_gjr_uncond_var(&out->p);
        st = xm_vol_gjr_filter(&out->p, r, n, out->sigma2_init, NULL, NULL, &out->sigma2_next,
                               &out->loglik, err);
    }
    free(y);
    return st;
}
