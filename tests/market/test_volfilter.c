/* test_volfilter.c — EWMA and GJR-GARCH(1,1) filters, likelihood, simulator and fit
 * (xmrisk/volfilter.h). Expected values are hand computations shown here, an independent
 * scipy computation pasted below, or known parameters of simulated data. */
#include "xm_test.h"

#include <math.h>

#include "xmrisk/volfilter.h"

/* The 5-return series of the known-answer tests. */
static const double R5[5] = {0.01, -0.02, 0.015, -0.005, 0.03};

/* Reference values, computed independently with Debian's python3 (numpy 1.24.2, scipy 1.10.1):
 *
 *   import numpy as np
 *   from scipy import stats
 *   r = np.array([0.01, -0.02, 0.015, -0.005, 0.03])
 *   lam = 0.94
 *   s2 = [np.mean(r[:2]**2)]
 *   for t in range(1, 6): s2.append(lam*s2[-1] + (1-lam)*r[t-1]**2)
 *   print("ewma", ["%.17g" % v for v in s2])
 *   print("ewma z", ["%.17g" % v for v in r/np.sqrt(s2[:5])])
 *   mu, om, a, g, b = 0.001, 1e-5, 0.05, 0.10, 0.85
 *   e = r - mu
 *   h = [2e-4]
 *   for t in range(1, 6): h.append(om + (a + g*(e[t-1] < 0))*e[t-1]**2 + b*h[-1])
 *   h = np.array(h)
 *   print("gjr", ["%.17g" % v for v in h])
 *   print("gjr z", ["%.17g" % v for v in e/np.sqrt(h[:5])])
 *   nu = 5.0   # scipy's t has variance nu/(nu-2) at scale 1: scale sqrt(h (nu-2)/nu)
 *   sc = np.sqrt(h[:5]*(nu-2)/nu)
 *   print("ll_t  %.17g" % np.sum(stats.t.logpdf(e, df=nu, scale=sc)))
 *   print("ll_n  %.17g" % np.sum(stats.norm.logpdf(e, scale=np.sqrt(h[:5]))))
 *
 * Output:
 *   ewma ['0.00025000000000000001', '0.000241', '0.00025054', '0.00024900760000000002',
 *         '0.00023556714400000002', '0.00027543311536000004']
 *   ewma z ['0.63245553203367588', '-1.2883132528016619', '0.94766037692288385',
 *           '-0.31685728972604016', '1.9546270128885961']
 *   gjr ['0.00020000000000000001', '0.00018405', '0.00023259250000000001',
 *        '0.00021750362499999999', '0.00020027808124999997', '0.00022228636906249997']
 *   gjr z ['0.63639610306789285', '-1.5479302373039627', '0.917973580608755',
 *          '-0.40683471189734655', '2.049185560085208']
 *   ll_t  11.979454640003969
 *   ll_n  12.617496427588092
 */

static void assert_rel(double got, double want, double rel)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want, rel);
}

/* EWMA, lambda 0.94, initialised with the mean square of the first k = 2 returns. By hand:
 *   s2_1 = (0.01^2 + 0.02^2) / 2                 = 2.5e-4
 *   s2_2 = 0.94 * 2.5e-4      + 0.06 * 0.01^2     = 2.41e-4
 *   s2_3 = 0.94 * 2.41e-4     + 0.06 * 0.02^2     = 2.5054e-4
 *   s2_4 = 0.94 * 2.5054e-4   + 0.06 * 0.015^2    = 2.490076e-4
 *   s2_5 = 0.94 * 2.490076e-4 + 0.06 * 0.005^2    = 2.35567144e-4
 *   next = 0.94 * 2.35567144e-4 + 0.06 * 0.03^2   = 2.7543311536e-4
 *   z_t = r_t / sqrt(s2_t): 0.632455532, -1.288313253, 0.947660377, -0.316857290, 1.954627013 */
static void test_ewma_five_steps(void **state)
{
    (void)state;
    const double s2[6] = {2.5e-4, 2.41e-4, 2.5054e-4, 2.490076e-4, 2.35567144e-4,
                          2.7543311536e-4};
    const double z[5] = {0.63245553203367588, -1.2883132528016619, 0.94766037692288385,
                         -0.31685728972604016, 1.9546270128885961};
    double got_s2[5], got_z[5], next;
    xm_error err;
    assert_int_equal(xm_vol_ewma(R5, 5, 0.94, 2, got_s2, got_z, &next, &err), XM_OK);
    for (int t = 0; t < 5; t++) {
        assert_rel(got_s2[t], s2[t], 1e-14);
        assert_rel(got_z[t], z[t], 1e-14);
    }
    assert_rel(next, s2[5], 1e-14);
}

/* The default decay keeps RiskMetrics' daily half-life: 0.94 a day, 0.94^(1/24) an hour. */
static void test_ewma_lambda_default(void **state)
{
    (void)state;
    assert_rel(xm_vol_ewma_lambda(86400.0), 0.94, 1e-15);
    assert_rel(xm_vol_ewma_lambda(3600.0), pow(0.94, 1.0 / 24.0), 1e-15);
    assert_rel(pow(xm_vol_ewma_lambda(4 * 3600.0), 6.0), 0.94, 1e-14);
}

static void test_ewma_refuses(void **state)
{
    (void)state;
    const double zero[3] = {0, 0, 0};
    xm_error err;
    assert_int_equal(xm_vol_ewma(R5, 0, 0.94, 2, NULL, NULL, NULL, &err), XM_EUSAGE);
    assert_int_equal(xm_vol_ewma(R5, 5, 1.0, 2, NULL, NULL, NULL, &err), XM_EUSAGE);
    assert_int_equal(xm_vol_ewma(R5, 5, 0.94, 0, NULL, NULL, NULL, &err), XM_EUSAGE);
    assert_int_equal(xm_vol_ewma(zero, 3, 0.94, 3, NULL, NULL, NULL, &err), XM_EUSAGE);
    assert_contains(err.msg, "initial variance");
}

/* GJR with mu 0.001, omega 1e-5, alpha 0.05, gamma 0.10, beta 0.85, sigma2_1 = 2e-4. By hand,
 * e = r - mu = 0.009, -0.021, 0.014, -0.006, 0.029:
 *   s2_2 = 1e-5 + 0.05 * 0.009^2 + 0.85 * 2e-4             = 1.8405e-4
 *   s2_3 = 1e-5 + 0.15 * 0.021^2 + 0.85 * 1.8405e-4        = 2.325925e-4      (e_2 < 0)
 *   s2_4 = 1e-5 + 0.05 * 0.014^2 + 0.85 * 2.325925e-4      = 2.17503625e-4
 *   s2_5 = 1e-5 + 0.15 * 0.006^2 + 0.85 * 2.17503625e-4    = 2.0027808125e-4  (e_4 < 0)
 *   next = 1e-5 + 0.05 * 0.029^2 + 0.85 * 2.0027808125e-4  = 2.222863690625e-4
 * and the log-likelihoods (t, nu = 5; Gaussian) from the scipy script above. */
static void test_gjr_five_steps(void **state)
{
    (void)state;
    const double s2[6] = {2e-4, 1.8405e-4, 2.325925e-4, 2.17503625e-4, 2.0027808125e-4,
                          2.222863690625e-4};
    const double z[5] = {0.63639610306789285, -1.5479302373039627, 0.917973580608755,
                         -0.40683471189734655, 2.049185560085208};
    xm_vol_gjr p = {.mu = 0.001, .omega = 1e-5, .alpha = 0.05, .gamma = 0.10, .beta = 0.85,
                    .nu = 5.0, .dist = XM_VOL_STUDENT_T};
    double got_s2[5], got_z[5], next, ll;
    xm_error err;
    assert_int_equal(xm_vol_gjr_filter(&p, R5, 5, 2e-4, got_s2, got_z, &next, &ll, &err), XM_OK);
    for (int t = 0; t < 5; t++) {
        assert_rel(got_s2[t], s2[t], 1e-14);
        assert_rel(got_z[t], z[t], 1e-13);
    }
    assert_rel(next, s2[5], 1e-14);
    assert_rel(ll, 11.979454640003969, 1e-13);
    p.dist = XM_VOL_NORMAL;
    assert_int_equal(xm_vol_gjr_filter(&p, R5, 5, 2e-4, NULL, NULL, NULL, &ll, &err), XM_OK);
    assert_rel(ll, 12.617496427588092, 1e-13);
    /* persistence alpha + gamma/2 + beta = 0.95; unconditional variance 1e-5 / 0.05 */
    assert_rel(xm_vol_gjr_persistence(&p), 0.95, 1e-15);
    assert_rel(xm_vol_gjr_uncond_var(&p), 2e-4, 1e-12);
    p.dist = XM_VOL_STUDENT_T, p.nu = 2.0;
    assert_int_equal(xm_vol_gjr_filter(&p, R5, 5, 2e-4, NULL, NULL, NULL, &ll, &err), XM_EUSAGE);
}

/* The simulator: same stream, same returns; the stream advances; the caller's state moves. */
static void test_simulate_reproducible(void **state)
{
    (void)state;
    xm_vol_gjr p = {.omega = 1e-5, .alpha = 0.05, .gamma = 0.08, .beta = 0.88, .nu = 6.0,
                    .dist = XM_VOL_STUDENT_T};
    double a[100], b[100], c[100];
    xm_pcg64 g1, g2;
    xm_error err;
    xm_pcg64_seed(&g1, 42, 7);
    xm_pcg64_seed(&g2, 42, 7);
    assert_int_equal(xm_vol_gjr_simulate(&p, &g1, 100, 0.0, a, NULL, &err), XM_OK);
    assert_int_equal(xm_vol_gjr_simulate(&p, &g2, 100, 0.0, b, NULL, &err), XM_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(xm_vol_gjr_simulate(&p, &g1, 100, 0.0, c, NULL, &err), XM_OK);
    assert_true(memcmp(a, c, sizeof a) != 0);
}

static void assert_within_se(const char *name, double est, double se, double truth, double k)
{
    print_message("  %-6s true %-10.4g est %-12.6g se %-10.4g (%+.2f se)\n", name, truth, est, se,
                  (est - truth) / se);
    if (!(isfinite(se) && fabs(est - truth) <= k * se))
        fail_msg("%s: estimate %g, standard error %g, true %g", name, est, se, truth);
}

/* The simulated series of the fit tests: n = 5000 returns from known parameters (daily-like
 * units: the unconditional volatility is sqrt(1e-5 / 0.03) = 1.83%), fixed seed, fitted. */
enum { NSIM = 5000 };
static const xm_vol_gjr TRUTH = {.mu = 5e-4, .omega = 1e-5, .alpha = 0.05, .gamma = 0.08,
                                 .beta = 0.88, .nu = 6.0, .dist = XM_VOL_STUDENT_T};

static void fit_simulated(double *r, xm_vol_fit *f)
{
    xm_pcg64 g;
    xm_error err;
    xm_pcg64_seed(&g, 20250101, 0);
    assert_int_equal(xm_vol_gjr_simulate(&TRUTH, &g, NSIM, 0.0, r, NULL, &err), XM_OK);
    xm_vol_fit_opts o = {.dist = XM_VOL_STUDENT_T, .fit_mean = 1};
    assert_int_equal(xm_vol_gjr_fit(r, NSIM, &o, f, &err), XM_OK);
}

/* Fit recovery: every estimate within 3.5 standard errors of the truth; the standard errors
 * in the range a 5000-point fit gives; the maximum above the likelihood of the truth. */
static void test_fit_recovers_parameters(void **state)
{
    (void)state;
    static double r[NSIM];
    xm_vol_fit f;
    fit_simulated(r, &f);
    print_message("  loglik %.6f, persistence %.4f, %d iterations\n", f.loglik, f.persistence,
                  f.iterations);
    assert_within_se("mu", f.p.mu, f.se.mu, TRUTH.mu, 3.5);
    assert_within_se("omega", f.p.omega, f.se.omega, TRUTH.omega, 3.5);
    assert_within_se("alpha", f.p.alpha, f.se.alpha, TRUTH.alpha, 3.5);
    assert_within_se("gamma", f.p.gamma, f.se.gamma, TRUTH.gamma, 3.5);
    assert_within_se("beta", f.p.beta, f.se.beta, TRUTH.beta, 3.5);
    assert_within_se("nu", f.p.nu, f.se.nu, TRUTH.nu, 3.5);
    assert_true(f.converged);
    assert_true(f.se.alpha > 0.003 && f.se.alpha < 0.03);
    assert_true(f.se.gamma > 0.005 && f.se.gamma < 0.05);
    assert_true(f.se.beta > 0.003 && f.se.beta < 0.04);
    assert_true(f.se.nu > 0.2 && f.se.nu < 2.0);
    double ll_true;
    xm_error err;
    assert_int_equal(xm_vol_gjr_filter(&TRUTH, r, NSIM, f.sigma2_init, NULL, NULL, NULL,
                                       &ll_true, &err), XM_OK);
    assert_true(f.loglik >= ll_true);
}

/* The fit of the simulated series against an independent fit. */
static void test_fit_matches_scipy(void **state)
{
    (void)state;
    static double r[NSIM];
    xm_vol_fit f;
    fit_simulated(r, &f);
    /* The same maximum as an independent fit of the same 5000 returns (written out with
     * "%.17g" by a scratch program calling xm_vol_gjr_simulate as above, to /tmp/sim.txt)
     * with scipy's Nelder-Mead on the untransformed likelihood, sigma2_1 = sample variance:
     *
     *   import numpy as np
     *   from scipy import optimize, special
     *   r = np.loadtxt('/tmp/sim.txt')
     *   s = np.sqrt(np.mean((r - r.mean())**2))
     *   def nll(x):
     *       mu, om, a, g, b, nu = x
     *       if om <= 0 or nu <= 2 or a < 0 or g < 0 or b < 0 or a + g/2 + b >= 1: return 1e10
     *       e = r - mu; h = np.empty_like(r); h[0] = s*s
     *       for t in range(1, len(r)):
     *           h[t] = om + (a + g*(e[t-1] < 0))*e[t-1]**2 + b*h[t-1]
     *       c = special.gammaln((nu+1)/2) - special.gammaln(nu/2) - 0.5*np.log(np.pi*(nu-2))
     *       return -np.sum(c - 0.5*np.log(h) - (nu+1)/2*np.log1p(e*e/((nu-2)*h)))
     *   x0 = [r.mean(), 1e-5, 0.05, 0.1, 0.85, 8]
     *   sc = np.array([1e-3, 1e-5, 0.1, 0.1, 1, 10])
     *   opts = dict(maxiter=20000, maxfev=20000, xatol=1e-9, fatol=1e-10)
     *   res = optimize.minimize(lambda u: nll(u*sc), np.array(x0)/sc, method='Nelder-Mead',
     *                           options=opts)
     *   res = optimize.minimize(lambda u: nll(u*sc), res.x, method='Nelder-Mead', options=opts)
     *   print(["%.9g" % v for v in res.x*sc], "%.12g" % -res.fun)
     *
     * Output: ['0.00088433346', '9.94830584e-06', '0.054223808', '0.0697049542',
     *          '0.878198831', '5.68641835'] 13855.5539607 */
    assert_rel(f.loglik, 13855.5539607, 1e-10);
    assert_rel(f.p.mu, 0.00088433346, 1e-4);
    assert_rel(f.p.omega, 9.94830584e-06, 1e-4);
    assert_rel(f.p.alpha, 0.054223808, 1e-4);
    assert_rel(f.p.gamma, 0.0697049542, 1e-4);
    assert_rel(f.p.beta, 0.878198831, 1e-5);
    assert_rel(f.p.nu, 5.68641835, 1e-4);
}

/* Log returns of the closes in data/btc_usdt_daily_binance.csv
 * (timestamp,open,high,low,close,volume). Returns the count; *out is malloc'd. */
static size_t read_btc_returns(double **out)
{
    FILE *fp = fopen(XM_MODELS_DIR "/../data/btc_usdt_daily_binance.csv", "r");
    assert_non_null(fp);
    size_t n = 0, cap = 4096;
    double *r = malloc(cap * sizeof *r), prev = NAN, close;
    char line[256];
    assert_non_null(r);
    assert_non_null(fgets(line, sizeof line, fp));  /* header */
    while (fgets(line, sizeof line, fp) != NULL) {
        assert_int_equal(sscanf(line, "%*[^,],%*f,%*f,%*f,%lf", &close), 1);
        if (!isnan(prev)) {
            assert_true(n < cap);
            r[n++] = log(close / prev);
        }
        prev = close;
    }
    fclose(fp);
    *out = r;
    return n;
}

static void print_fit(const char *what, size_t n, const xm_vol_fit *f)
{
    print_message("  %s, %zu returns: mu %.3g (%.2g) omega %.3g (%.2g) alpha %.4f (%.4f) "
                  "gamma %.4f (%.4f) beta %.4f (%.4f) nu %.3f (%.3f)\n"
                  "    loglik %.3f persistence %.6f uncond vol %.4g next vol %.4f\n",
                  what, n, f->p.mu, f->se.mu, f->p.omega, f->se.omega, f->p.alpha, f->se.alpha,
                  f->p.gamma, f->se.gamma, f->p.beta, f->se.beta, f->p.nu, f->se.nu, f->loglik,
                  f->persistence, sqrt(f->uncond_var), sqrt(f->sigma2_next));
}

/* The real series, its last 1461 daily returns (2022-01-06 .. 2026-01-06, the span of the
 * issue's backtest): stationary (persistence < 1), fat tails (nu in a plausible 2.5..10), a
 * Student-t likelihood above the Gaussian one. The whole history from 2017 is fitted and
 * printed too: there the likelihood rises all the way to persistence 1 (integrated GARCH:
 * the 2017-2019 regime), so only convergence and finiteness are checked. */
static void test_fit_btc_daily(void **state)
{
    (void)state;
    double *r;
    size_t n = read_btc_returns(&r), w = 1461;
    assert_true(n > 3000);
    xm_vol_fit_opts o = {.dist = XM_VOL_STUDENT_T, .fit_mean = 1};
    xm_vol_fit f, fn, fall;
    xm_error err;
    assert_int_equal(xm_vol_gjr_fit(r + n - w, w, &o, &f, &err), XM_OK);
    print_fit("BTC daily, last 4 years", w, &f);
    assert_true(f.converged);
    assert_true(f.persistence < 0.999 && f.persistence > 0.8);
    assert_true(f.p.nu > 2.5 && f.p.nu < 10.0);
    assert_true(isfinite(f.se.alpha) && isfinite(f.se.beta) && isfinite(f.se.nu));
    o.dist = XM_VOL_NORMAL;
    assert_int_equal(xm_vol_gjr_fit(r + n - w, w, &o, &fn, &err), XM_OK);
    print_fit("  Gaussian", w, &fn);
    assert_true(fn.loglik < f.loglik);
    assert_true(isnan(fn.p.nu) && isnan(fn.se.nu));
    o.dist = XM_VOL_STUDENT_T;
    assert_int_equal(xm_vol_gjr_fit(r, n, &o, &fall, &err), XM_OK);
    print_fit("BTC daily, all", n, &fall);
    assert_true(fall.converged && fall.persistence < 1.0 && isfinite(fall.loglik));
    free(r);
}

static void test_fit_refuses(void **state)
{
    (void)state;
    double flat[20] = {0};
    xm_vol_fit_opts o = {.dist = XM_VOL_STUDENT_T};
    xm_vol_fit f;
    xm_error err;
    assert_int_equal(xm_vol_gjr_fit(R5, 5, &o, &f, &err), XM_EUSAGE);
    assert_int_equal(xm_vol_gjr_fit(flat, 20, &o, &f, &err), XM_EUSAGE);
    assert_contains(err.msg, "constant");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ewma_five_steps),
        cmocka_unit_test(test_ewma_lambda_default),
        cmocka_unit_test(test_ewma_refuses),
        cmocka_unit_test(test_gjr_five_steps),
        cmocka_unit_test(test_simulate_reproducible),
        cmocka_unit_test(test_fit_recovers_parameters),
        cmocka_unit_test(test_fit_matches_scipy),
        cmocka_unit_test(test_fit_btc_daily),
        cmocka_unit_test(test_fit_refuses),
    };
    return xm_run_tests(tests, NULL, NULL);
}
