/* test_paths.c — statistical and contract tests of the price-path generator (xmrisk/paths.h,
 * model.md §2).
 *
 * House rules for the statistical tests: a fixed seed; every tolerance is explicit, in standard
 * errors (SE), 5 SE unless a comment says otherwise; every expected value is a closed form whose
 * source is given next to it; the measured z-scores are printed. The seed can be changed at
 * build time (-DXM_PATHS_SEED=...) to rerun everything on other streams: the tolerances were
 * checked on several seeds, not tuned to one.
 *
 * Notation: tau = step in years, sigma = annual vol, mu = annual drift, S0 = start price,
 * nu = Student-t degrees of freedom, rho = correlation entry. "Increment" means the one-step
 * log-return ln S_k - ln S_{k-1} (gbm, student_t) or the price change (S_k - S_{k-1}) / S0
 * (bachelier, scaled by S0 so that all three processes share the same numbers).
 */
#include "xm_test.h"

#include "core/vexp.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "xmrisk/market.h"
#include "xmrisk/paths.h"
#include "xmrisk/rng.h"

#ifndef XM_PATHS_SEED
#define XM_PATHS_SEED UINT64_C(20261125)
#endif

#define ZTOL 5.0  /* default tolerance, in standard errors */

/* ---- small statistics kit --------------------------------------------------------------- */

/* Fail unless |est - expect| <= k se; print the z-score either way. */
static void check_z(const char *what, double est, double expect, double se, double k)
{
    double z = (est - expect) / se;
    printf("    %-44s %+.6e  expected %+.6e  se %.2e  z %+6.2f\n", what, est, expect, se, z);
    if (!(fabs(z) <= k))
        fail_msg("%s: %.9g, expected %.9g: z = %.2f beyond %.1f standard errors", what, est,
                 expect, z, k);
}

/* Running raw moments of d = x - c about a fixed centre c (the known mean), so that the sums
 * do not cancel. */
typedef struct {
    double c, n, s1, s2, s3, s4;
} acc1;

static void acc1_add(acc1 *a, double x)
{
    double d = x - a->c, d2 = d * d;
    a->n += 1.0;
    a->s1 += d;
    a->s2 += d2;
    a->s3 += d2 * d;
    a->s4 += d2 * d2;
}

static void acc1_merge(acc1 *into, const acc1 *from)
{
    into->n += from->n;
    into->s1 += from->s1;
    into->s2 += from->s2;
    into->s3 += from->s3;
    into->s4 += from->s4;
}

typedef struct {
    double n, mean, var, m4;  /* var: unbiased; m4: sample fourth central moment */
} moments;

static moments acc1_moments(const acc1 *a)
{
    double n = a->n, mu = a->s1 / n, e2 = a->s2 / n, e3 = a->s3 / n, e4 = a->s4 / n;
    double m2 = e2 - mu * mu;
    moments r;
    r.n = n;
    r.mean = a->c + mu;
    r.var = m2 * n / (n - 1.0);
    r.m4 = e4 - 4.0 * mu * e3 + 6.0 * mu * mu * e2 - 3.0 * mu * mu * mu * mu;
    return r;
}

/* Sample excess kurtosis m4 / m2^2 - 3. */
static double acc1_excess_kurtosis(const acc1 *a)
{
    double n = a->n, mu = a->s1 / n, e2 = a->s2 / n, e3 = a->s3 / n, e4 = a->s4 / n;
    double m2 = e2 - mu * mu;
    double m4 = e4 - 4.0 * mu * e3 + 6.0 * mu * mu * e2 - 3.0 * mu * mu * mu * mu;
    return m4 / (m2 * m2) - 3.0;
}

/* Mean and variance checks of a sample. SE of the mean: sd / sqrt(N). SE of the sample
 * variance: sqrt((mu4 - s^4) / N) (delta method), with mu4 the sample fourth central moment
 * unless the caller passes the true one (m4_true > 0; see the Student-t tests for why). */
static void check_mean_var(const char *label, const acc1 *a, double mean, double var,
                           double m4_true)
{
    moments s = acc1_moments(a);
    char what[96];
    snprintf(what, sizeof what, "%s mean", label);
    check_z(what, s.mean, mean, sqrt(s.var / s.n), ZTOL);
    double m4 = m4_true > 0.0 ? m4_true : s.m4;
    snprintf(what, sizeof what, "%s variance", label);
    check_z(what, s.var, var, sqrt((m4 - s.var * s.var) / s.n), ZTOL);
}

/* ---- markets ---------------------------------------------------------------------------- */

typedef struct {
    const char *symbol;
    double price, vol, drift, beta;
} asset_spec;

typedef struct {
    double rate, mean, stdev;
} jump_spec;

static void build_market(xm_market *m, size_t n, const asset_spec *spec, const double *corr,
                         xm_process process, double dof, const jump_spec *jumps)
{
    xm_error err;
    assert_int_equal(xm_market_init(m, n, &err), XM_OK);
    for (size_t i = 0; i < n; i++) {
        xm_asset *a = &m->assets[i];
        snprintf(a->symbol, sizeof a->symbol, "%s", spec[i].symbol);
        a->price = spec[i].price;
        a->vol = spec[i].vol;
        a->drift = spec[i].drift;
        a->jump_beta = spec[i].beta;
    }
    m->process = process;
    m->dof = dof;
    if (jumps != NULL) {
        m->jumps.enabled = 1;
        m->jumps.rate_per_year = jumps->rate;
        m->jumps.mean = jumps->mean;
        m->jumps.stdev = jumps->stdev;
    }
    if (corr != NULL)
        memcpy(m->corr, corr, n * n * sizeof *corr);
    if (xm_market_prepare(m, "test", &err) != XM_OK)
        fail_msg("market: %s", err.msg);
}

static xm_path_ws *alloc_ws(const xm_market *m, double tau)
{
    xm_error err;
    xm_path_ws *w = xm_path_ws_alloc(m, tau, &err);
    if (w == NULL)
        fail_msg("workspace: %s", err.msg);
    return w;
}

/* Three assets with different vols and drifts, and a correlation with positive, negative and
 * moderate entries (PD: leading minors 1, 0.4959, 0.2062). */
static const asset_spec three[3] = {
    {"BTC", 61234.57, 0.6137, 0.0823, 1.0},
    {"ETH", 2417.31, 0.8291, -0.1377, 1.0},
    {"SOL", 143.71, 1.1743, 0.2419, 1.0},
};
static const double corr3[9] = {1.0, 0.71, -0.23,
                                0.71, 1.0, 0.35,
                                -0.23, 0.35, 1.0};

/* Expected per-step increment mean (model.md §2): (mu - sigma^2/2) tau for the log-return of
 * gbm and student_t (the Student-t shock has mean 0 and unit variance, so Ito's term is the
 * same), mu tau for the bachelier increment scaled by S0. Variance sigma^2 tau for all three. */
static double step_mean(xm_process p, const asset_spec *a, double tau)
{
    return p == XM_PROCESS_BACHELIER ? a->drift * tau : (a->drift - 0.5 * a->vol * a->vol) * tau;
}

/* One increment of asset i between two states (see the notation at the top). */
static double increment(xm_process p, const xm_market *m, size_t i, const double *cur,
                        const double *prev)
{
    return p == XM_PROCESS_BACHELIER ? (cur[i] - prev[i]) / m->assets[i].price : cur[i] - prev[i];
}

static const double *state_of(xm_process p, const xm_path_ws *w)
{
    return p == XM_PROCESS_BACHELIER ? xm_path_prices(w) : xm_path_log_prices(w);
}

/* Two-sided tail probability P(|eps| > c) of the unit-variance shock: normal, or Student-t
 * scaled to unit variance (eps = T sqrt((nu - 2) / nu), T ~ t_nu). */
static double tail_prob(xm_process p, double nu, double c)
{
    if (p == XM_PROCESS_STUDENT_T)
        return 2.0 * gsl_cdf_tdist_Q(c * sqrt(nu / (nu - 2.0)), nu);
    return 2.0 * gsl_cdf_ugaussian_Q(c);
}

/* ---- 1. moments and correlation of increments, per process ------------------------------ */

/* Over P independent paths of K steps, each of the P K one-step increments is an independent
 * draw (every step has its own z and its own W), and each K-step total is a sum of K of them.
 *  - per-step mean (mu - sigma^2/2) tau (bachelier: mu tau) and variance sigma^2 tau;
 *  - K-step total: mean K times (the same data, so the same z), variance K times (steps are
 *    independent: no autocorrelation);
 *  - pairwise Pearson correlation of per-step increments = C_ij;
 *  - quadrant probability P(x_i > m_i, x_j > m_j) = 1/4 + asin(C_ij) / (2 pi), Sheppard's
 *    formula for the bivariate normal, which holds unchanged for every elliptical law centred
 *    at m (the sign of a positive scale mixture is that of the normal), so for the Student-t
 *    too; binomial SE sqrt(q (1 - q) / N);
 *  - tail probabilities P(|x - m| > c sd) at c = 0.8137, 2.437, 3.913 against the normal, or the
 *    unit-variance Student-t CDF (GSL gsl_cdf_tdist_Q): this tells the two laws apart
 *    directly, without fourth moments; binomial SE.
 * Student-t (nu = 4.5) specifics, justified:
 *  - variance SE: the sample fourth moment is a poor estimate when the 8th moment is infinite
 *    (nu < 8) and is typically low, so the SE uses the true mu4 = (3 + 6/(nu - 4)) (sigma^2 tau)^2
 *    (unit-variance t_nu, excess kurtosis 6/(nu - 4)); for the K-step sum the excess kurtosis
 *    is 6/(nu - 4)/K (cumulants of independent sums add).
 *  - Pearson correlation SE: for an elliptical law with kurtosis parameter kappa (excess
 *    kurtosis / 3 = 2/(nu - 4) for the t) the delta method gives the normal-theory asymptotic
 *    variance times (1 + kappa): (1 + kappa)(1 - rho^2)^2 / N (finite since nu > 4; see e.g.
 *    Muirhead, Aspects of Multivariate Statistical Theory, 1982, ch. 5), i.e. sqrt(5) times the
 *    normal SE at nu = 4.5. The quadrant test above needs no moments at all and backs it up. */
static void check_process_moments(xm_process proc, double nu, uint64_t seed)
{
    const size_t n = 3;
    const uint64_t P = 250000;
    const int K = 4;
    const double tau = 37.3 / 365.0;  /* large steps make the Ito term -sigma^2 tau / 2 visible:
                                         ~100 SE or more for every asset */
    const double cuts[3] = {0.8137, 2.437, 3.913};
    xm_market m;
    build_market(&m, n, three, corr3, proc, nu, NULL);
    xm_path_ws *w = alloc_ws(&m, tau);
    if (proc == XM_PROCESS_STUDENT_T)
        printf("  %s (nu = %g)\n", xm_process_name(proc), nu);
    else
        printf("  %s\n", xm_process_name(proc));

    double mean[3], sd[3];
    acc1 step[3], total[3];
    double sxy[3] = {0}, quad[3] = {0}, tails[3][3] = {{0}};
    const size_t pi[3] = {0, 0, 1}, pj[3] = {1, 2, 2};
    for (size_t i = 0; i < n; i++) {
        mean[i] = step_mean(proc, &three[i], tau);
        sd[i] = three[i].vol * sqrt(tau);
        step[i] = (acc1){.c = mean[i]};
        total[i] = (acc1){.c = K * mean[i]};
    }
    double start[3], prev[3], x[3];
    for (uint64_t p = 0; p < P; p++) {
        xm_path_begin(w, seed, p);
        memcpy(start, state_of(proc, w), sizeof start);
        memcpy(prev, start, sizeof prev);
        for (int k = 0; k < K; k++) {
            xm_path_step(w);
            const double *cur = state_of(proc, w);
            for (size_t i = 0; i < n; i++) {
                x[i] = increment(proc, &m, i, cur, prev);
                acc1_add(&step[i], x[i]);
                for (int c = 0; c < 3; c++)
                    tails[i][c] += fabs(x[i] - mean[i]) > cuts[c] * sd[i];
            }
            for (int q = 0; q < 3; q++) {
                size_t a = pi[q], b = pj[q];
                sxy[q] += (x[a] - mean[a]) * (x[b] - mean[b]);
                quad[q] += x[a] > mean[a] && x[b] > mean[b];
            }
            memcpy(prev, cur, sizeof prev);
        }
        for (size_t i = 0; i < n; i++)
            acc1_add(&total[i], increment(proc, &m, i, prev, start));
    }

    const double N = (double)P * K;
    const double exk = proc == XM_PROCESS_STUDENT_T ? 6.0 / (nu - 4.0) : 0.0;
    char label[96];
    for (size_t i = 0; i < n; i++) {
        double v = sd[i] * sd[i];
        int t = proc == XM_PROCESS_STUDENT_T;
        snprintf(label, sizeof label, "%s step", three[i].symbol);
        check_mean_var(label, &step[i], mean[i], v, t ? (3.0 + exk) * v * v : 0.0);
        snprintf(label, sizeof label, "%s %d-step", three[i].symbol, K);
        check_mean_var(label, &total[i], K * mean[i], K * v,
                       t ? (3.0 + exk / K) * (K * v) * (K * v) : 0.0);
        for (int c = 0; c < 3; c++) {
            double q = tail_prob(proc, nu, cuts[c]);
            snprintf(label, sizeof label, "%s P(|eps| > %.4g)", three[i].symbol, cuts[c]);
            check_z(label, tails[i][c] / N, q, sqrt(q * (1.0 - q) / N), ZTOL);
        }
    }
    const double kappa = proc == XM_PROCESS_STUDENT_T ? 2.0 / (nu - 4.0) : 0.0;
    for (int q = 0; q < 3; q++) {
        size_t a = pi[q], b = pj[q];
        double rho = corr3[a * n + b];
        moments ma = acc1_moments(&step[a]), mb = acc1_moments(&step[b]);
        double mua = ma.mean - mean[a], mub = mb.mean - mean[b];
        double r = (sxy[q] / N - mua * mub) / sqrt(ma.var * mb.var * (N - 1.0) / N * (N - 1.0) / N);
        snprintf(label, sizeof label, "corr(%s, %s)", three[a].symbol, three[b].symbol);
        check_z(label, r, rho, sqrt(1.0 + kappa) * (1.0 - rho * rho) / sqrt(N), ZTOL);
        double qq = 0.25 + asin(rho) / (2.0 * acos(-1.0));
        snprintf(label, sizeof label, "P(%s > m, %s > m)", three[a].symbol, three[b].symbol);
        check_z(label, quad[q] / N, qq, sqrt(qq * (1.0 - qq) / N), ZTOL);
    }
    xm_path_ws_free(w);
    xm_market_clear(&m);
}

static void test_moments_gbm(void **state)
{
    (void)state;
    check_process_moments(XM_PROCESS_GBM, 0.0, XM_PATHS_SEED);
}

static void test_moments_student_t(void **state)
{
    (void)state;
    check_process_moments(XM_PROCESS_STUDENT_T, 4.5, XM_PATHS_SEED + 10);
}

static void test_moments_bachelier(void **state)
{
    (void)state;
    check_process_moments(XM_PROCESS_BACHELIER, 0.0, XM_PATHS_SEED + 20);
}

/* ---- 2. Student-t: unit variance and excess kurtosis 6/(nu - 4) ------------------------- */

/* The marginal of eps = L z sqrt((nu - 2)/W) is a unit-variance Student-t with nu dof, excess
 * kurtosis 6/(nu - 4) (standard t moments: E T^4 = 3 nu^2 / ((nu - 2)(nu - 4))).
 * nu = 10.61 (excess kurtosis 0.9077): the sample kurtosis has a finite variance only when the
 * 8th moment exists (nu > 8), and its convergence is poor close to 8, so nu ~ 8 itself would be
 * a bad choice. Its SE is taken as the larger of
 *  - the delta-method value for a symmetric law with standardised moments mu_k:
 *    Var(b2) ~ (mu8 - mu4^2 - 4 mu4 mu6 + 4 mu4^3) / N (24/N for the normal), with the
 *    unit-variance t moments mu_2k = (nu - 2)^k prod_{j<=k} (2j - 1)/(nu - 2j);
 *  - the empirical SE from 40 batches (sd of the batch kurtoses / sqrt(40)),
 * and the tolerance is 5 of those. With N = 4e6, SE ~ 0.011: the test sees a kurtosis error of
 * ~6% and rejects the normal (excess 0) by ~80 SE. */
static void test_student_t_kurtosis(void **state)
{
    (void)state;
    const double nu = 10.61, tau = 0.73 / 365.0;
    const asset_spec two[2] = {
        {"ETH", 2417.31, 0.7391, 0.0517, 1.0},
        {"AVAX", 27.93, 0.4518, -0.0833, 1.0},
    };
    const double corr2[4] = {1.0, 0.4637, 0.4637, 1.0};
    enum { B = 40 };
    const uint64_t paths_per_batch = 12500;
    const int K = 8;
    xm_market m;
    build_market(&m, 2, two, corr2, XM_PROCESS_STUDENT_T, nu, NULL);
    xm_path_ws *w = alloc_ws(&m, tau);

    double mean[2];
    acc1 all[2], batch[2][B];
    for (int i = 0; i < 2; i++) {
        mean[i] = (two[i].drift - 0.5 * two[i].vol * two[i].vol) * tau;
        all[i] = (acc1){.c = mean[i]};
        for (int b = 0; b < B; b++)
            batch[i][b] = (acc1){.c = mean[i]};
    }
    for (int b = 0; b < B; b++) {
        for (uint64_t p = (uint64_t)b * paths_per_batch; p < (uint64_t)(b + 1) * paths_per_batch; p++) {
            xm_path_begin(w, XM_PATHS_SEED + 1, p);
            double prev[2];
            memcpy(prev, xm_path_log_prices(w), sizeof prev);
            for (int k = 0; k < K; k++) {
                xm_path_step(w);
                const double *cur = xm_path_log_prices(w);
                for (int i = 0; i < 2; i++)
                    acc1_add(&batch[i][b], cur[i] - prev[i]);
                memcpy(prev, cur, sizeof prev);
            }
        }
        for (int i = 0; i < 2; i++)
            acc1_merge(&all[i], &batch[i][b]);
    }

    const double mu4 = 3.0 * (nu - 2.0) / (nu - 4.0);
    const double mu6 = 15.0 * (nu - 2.0) * (nu - 2.0) / ((nu - 4.0) * (nu - 6.0));
    const double mu8 = 105.0 * pow(nu - 2.0, 3) / ((nu - 4.0) * (nu - 6.0) * (nu - 8.0));
    const double N = all[0].n;
    const double se_theory = sqrt((mu8 - mu4 * mu4 - 4.0 * mu4 * mu6 + 4.0 * mu4 * mu4 * mu4) / N);
    printf("  student_t (nu = %.4g), N = %.0f\n", nu, N);
    for (int i = 0; i < 2; i++) {
        double v = two[i].vol * two[i].vol * tau;
        char label[96];
        snprintf(label, sizeof label, "%s step", two[i].symbol);
        check_mean_var(label, &all[i], mean[i], v, 0.0);  /* nu > 8: sample mu4 is fine */
        double kb[B], s = 0.0, ss = 0.0;
        for (int b = 0; b < B; b++) {
            kb[b] = acc1_excess_kurtosis(&batch[i][b]);
            s += kb[b];
        }
        for (int b = 0; b < B; b++)
            ss += (kb[b] - s / B) * (kb[b] - s / B);
        double se_batch = sqrt(ss / (B - 1)) / sqrt((double)B);
        printf("    %s kurtosis SE: delta method %.4f, batches %.4f\n", two[i].symbol, se_theory,
               se_batch);
        snprintf(label, sizeof label, "%s excess kurtosis", two[i].symbol);
        check_z(label, acc1_excess_kurtosis(&all[i]), 6.0 / (nu - 4.0), fmax(se_theory, se_batch),
                ZTOL);
        /* And far from the normal's 0. */
        assert_true(acc1_excess_kurtosis(&all[i]) > 40.0 * fmax(se_theory, se_batch));
    }
    xm_path_ws_free(w);
    xm_market_clear(&m);
}

/* ---- 3. tail dependence through the shared W --------------------------------------------- */

/* Two assets with rho = 0. Under gbm their shocks are independent: the sample correlation of
 * the squared (centred) increments has SE 1/sqrt(N) about 0 (exact asymptotics for independent
 * variables with finite variance), and so has the plain correlation.
 * Under student_t with one W per step, X = z1 s and Y = z2 s with s^2 = (nu - 2)/W: still
 * uncorrelated, but corr(X^2, Y^2) = 1/(nu - 1), from E s^4 = (nu - 2)/(nu - 4) (E W^-2 =
 * 1/((nu - 2)(nu - 4))), so Cov = 2/(nu - 4) and Var X^2 = 2(nu - 1)/(nu - 4). nu = 10.61 gives
 * 0.1041, ~100 null SEs above 0 at N = 1e6; its own SE (it needs 8th moments, finite for
 * nu > 8) is estimated from 40 batches; 5 of those. The plain correlation of X and Y is 0 with
 * SE sqrt(E[X^2 Y^2] / N) = sqrt((nu - 2)/(nu - 4) / N). */
typedef struct {
    double n, sx, sy, sxx, syy, sxy;
} acc2;

static void acc2_add(acc2 *a, double x, double y)
{
    a->n += 1.0;
    a->sx += x;
    a->sy += y;
    a->sxx += x * x;
    a->syy += y * y;
    a->sxy += x * y;
}

static double acc2_corr(const acc2 *a)
{
    double n = a->n, mx = a->sx / n, my = a->sy / n;
    return (a->sxy / n - mx * my) / sqrt((a->sxx / n - mx * mx) * (a->syy / n - my * my));
}

static void test_tail_dependence(void **state)
{
    (void)state;
    const double nu = 10.61, tau = 0.73 / 365.0;
    const asset_spec two[2] = {
        {"BTC", 61234.57, 0.6137, 0.0823, 1.0},
        {"XMR", 163.29, 0.9127, -0.0311, 1.0},
    };
    enum { B = 40 };
    const uint64_t paths_per_batch = 3125;
    const int K = 8;
    const xm_process procs[2] = {XM_PROCESS_GBM, XM_PROCESS_STUDENT_T};
    for (int pr = 0; pr < 2; pr++) {
        xm_market m;
        build_market(&m, 2, two, NULL, procs[pr], nu, NULL);  /* identity correlation */
        xm_path_ws *w = alloc_ws(&m, tau);
        double mean[2];
        for (int i = 0; i < 2; i++)
            mean[i] = (two[i].drift - 0.5 * two[i].vol * two[i].vol) * tau;
        acc2 sq = {0}, lin = {0}, sqb[B];
        memset(sqb, 0, sizeof sqb);
        for (int b = 0; b < B; b++)
            for (uint64_t p = (uint64_t)b * paths_per_batch; p < (uint64_t)(b + 1) * paths_per_batch;
                 p++) {
                xm_path_begin(w, XM_PATHS_SEED + 2, p);
                double prev[2];
                memcpy(prev, xm_path_log_prices(w), sizeof prev);
                for (int k = 0; k < K; k++) {
                    xm_path_step(w);
                    const double *cur = xm_path_log_prices(w);
                    double x = cur[0] - prev[0] - mean[0], y = cur[1] - prev[1] - mean[1];
                    acc2_add(&sq, x * x, y * y);
                    acc2_add(&sqb[b], x * x, y * y);
                    acc2_add(&lin, x, y);
                    memcpy(prev, cur, sizeof prev);
                }
            }
        const double N = sq.n;
        double r2 = acc2_corr(&sq), r1 = acc2_corr(&lin);
        printf("  %s, rho = 0, N = %.0f\n", xm_process_name(procs[pr]), N);
        if (procs[pr] == XM_PROCESS_GBM) {
            check_z("corr(x^2, y^2)", r2, 0.0, 1.0 / sqrt(N), ZTOL);
            check_z("corr(x, y)", r1, 0.0, 1.0 / sqrt(N), ZTOL);
        } else {
            double s = 0.0, ss = 0.0, rb[B];
            for (int b = 0; b < B; b++)
                s += rb[b] = acc2_corr(&sqb[b]);
            for (int b = 0; b < B; b++)
                ss += (rb[b] - s / B) * (rb[b] - s / B);
            double se_batch = sqrt(ss / (B - 1)) / sqrt((double)B);
            /* Far above what independence allows (null SE 1/sqrt(N))... */
            double z_null = r2 * sqrt(N);
            printf("    corr(x^2, y^2) = %.4f is %.1f null SEs above 0\n", r2, z_null);
            assert_true(z_null > 50.0);
            /* ...and at its closed form. */
            check_z("corr(x^2, y^2)", r2, 1.0 / (nu - 1.0), se_batch, ZTOL);
            check_z("corr(x, y)", r1, 0.0, sqrt((nu - 2.0) / (nu - 4.0) / N), ZTOL);
        }
        xm_path_ws_free(w);
        xm_market_clear(&m);
    }
}

/* ---- 4. jumps ----------------------------------------------------------------------------- */

/* lambda = 113.7 / year with daily steps: lambda tau = 0.3115 jumps per step. */
static const jump_spec jumps_spec = {113.7, -0.0412, 0.0734};
static const double jump_betas[3] = {1.0, 0.4373, -1.8291};

/* Pure-jump market (vol 0, drift 0): over K steps,
 *  - the jump count is Poisson(K lambda tau): mean = variance = K lambda tau (SEs: sd/sqrt(P)
 *    and sqrt((m4 - s^4)/P) with the sample m4);
 *  - ln S_i - ln S0_i = beta_i J with one common J (to rounding): J = 0 exactly when no jump;
 *  - J given the count k is N(k mu_J, k s_J^2): the standardised (J - k mu_J)/(s_J sqrt(k)) has
 *    mean 0 and variance 1 over the paths with k > 0;
 *  - E[beta_i J] = K lambda tau mu_J beta_i and Var = K lambda tau (mu_J^2 + s_J^2) beta_i^2
 *    (compound Poisson: mean lambda t E Y, variance lambda t E Y^2). */
static void test_jumps_pure(void **state)
{
    (void)state;
    const asset_spec spec[3] = {
        {"A", 100.0, 0.0, 0.0, jump_betas[0]},
        {"B", 50.0, 0.0, 0.0, jump_betas[1]},
        {"C", 20.0, 0.0, 0.0, jump_betas[2]},
    };
    const double tau = 1.0 / 365.0;
    const uint64_t P = 200000;
    const int K = 8;
    xm_market m;
    build_market(&m, 3, spec, corr3, XM_PROCESS_GBM, 0.0, &jumps_spec);
    xm_path_ws *w = alloc_ws(&m, tau);
    const double lt = K * jumps_spec.rate * tau;  /* expected jumps per path */

    acc1 count = {.c = lt}, ret[3], zstd = {0};
    for (int i = 0; i < 3; i++)
        ret[i] = (acc1){.c = lt * jumps_spec.mean * jump_betas[i]};
    double ln0[3];
    for (int i = 0; i < 3; i++)
        ln0[i] = log(spec[i].price);
    double worst_ratio = 0.0;
    for (uint64_t p = 0; p < P; p++) {
        xm_path_begin(w, XM_PATHS_SEED + 3, p);
        assert_true(xm_path_jump_count(w) == 0);
        for (int k = 0; k < K; k++)
            xm_path_step(w);
        const double *lp = xm_path_log_prices(w), *s = xm_path_prices(w);
        uint64_t jc = xm_path_jump_count(w);
        acc1_add(&count, (double)jc);
        double j0 = lp[0] - ln0[0];
        for (int i = 0; i < 3; i++) {
            double r = lp[i] - ln0[i];
            acc1_add(&ret[i], r);
            worst_ratio = fmax(worst_ratio, fabs(r - jump_betas[i] * j0));
            assert_true(s[i] == xm_vexp(lp[i]));  /* the step's own exp (src/core/vexp.h) */
            if (jc == 0)
                assert_true(lp[i] == ln0[i]);  /* no jump, no vol, no drift: no move at all */
        }
        if (jc > 0)
            acc1_add(&zstd, (j0 - (double)jc * jumps_spec.mean) / (jumps_spec.stdev * sqrt((double)jc)));
    }
    printf("  pure jumps, lambda tau = %.4f per step, %d steps, %llu paths\n",
           jumps_spec.rate * tau, K, (unsigned long long)P);
    printf("    max |r_i - beta_i r_0| = %.2e\n", worst_ratio);
    /* Common jump: rounding only (ln S is accumulated from ln S0 ~ 4.6 in K additions). */
    assert_true(worst_ratio <= 1e-12);
    check_mean_var("jump count", &count, lt, lt, 0.0);
    check_mean_var("standardised J | k", &zstd, 0.0, 1.0, 0.0);
    for (int i = 0; i < 3; i++) {
        char label[96];
        snprintf(label, sizeof label, "%s log-return (beta %.4g)", spec[i].symbol, jump_betas[i]);
        double ey2 = jumps_spec.mean * jumps_spec.mean + jumps_spec.stdev * jumps_spec.stdev;
        check_mean_var(label, &ret[i], lt * jumps_spec.mean * jump_betas[i],
                       lt * ey2 * jump_betas[i] * jump_betas[i], 0.0);
    }
    xm_path_ws_free(w);
    xm_market_clear(&m);
}

/* Jumps on top of diffusion (gbm, and student_t with nu = 10.61, whose shock has unit
 * variance): the K-step log-return has mean K [(mu - sigma^2/2) tau + lambda tau mu_J beta]
 * and variance K [sigma^2 tau + lambda tau (mu_J^2 + s_J^2) beta^2] (independent diffusion and
 * compound-Poisson parts). */
static void test_jumps_with_diffusion(void **state)
{
    (void)state;
    asset_spec spec[3];
    for (int i = 0; i < 3; i++) {
        spec[i] = three[i];
        spec[i].beta = jump_betas[i];
    }
    const double tau = 1.0 / 365.0;
    const uint64_t P = 200000;
    const int K = 8;
    const xm_process procs[2] = {XM_PROCESS_GBM, XM_PROCESS_STUDENT_T};
    for (int pr = 0; pr < 2; pr++) {
        xm_market m;
        build_market(&m, 3, spec, corr3, procs[pr], 10.61, &jumps_spec);
        xm_path_ws *w = alloc_ws(&m, tau);
        const double lt = jumps_spec.rate * tau;
        const double ey2 = jumps_spec.mean * jumps_spec.mean + jumps_spec.stdev * jumps_spec.stdev;
        double mean[3], var[3];
        acc1 ret[3];
        for (int i = 0; i < 3; i++) {
            mean[i] = K * ((spec[i].drift - 0.5 * spec[i].vol * spec[i].vol) * tau +
                           lt * jumps_spec.mean * spec[i].beta);
            var[i] = K * (spec[i].vol * spec[i].vol * tau + lt * ey2 * spec[i].beta * spec[i].beta);
            ret[i] = (acc1){.c = mean[i]};
        }
        for (uint64_t p = 0; p < P; p++) {
            xm_path_begin(w, XM_PATHS_SEED + 4, p);
            double ln0[3];
            memcpy(ln0, xm_path_log_prices(w), sizeof ln0);
            for (int k = 0; k < K; k++)
                xm_path_step(w);
            for (int i = 0; i < 3; i++)
                acc1_add(&ret[i], xm_path_log_prices(w)[i] - ln0[i]);
        }
        printf("  %s + jumps, %d daily steps\n", xm_process_name(procs[pr]), K);
        for (int i = 0; i < 3; i++) {
            char label[96];
            snprintf(label, sizeof label, "%s %d-step log-return", spec[i].symbol, K);
            check_mean_var(label, &ret[i], mean[i], var[i], 0.0);
        }
        xm_path_ws_free(w);
        xm_market_clear(&m);
    }
}

/* ---- 5. reproducibility and the documented draw order ------------------------------------ */

typedef struct {
    double s[3], ls[3];
    uint64_t jumps;
} snapshot;

static snapshot snap(const xm_path_ws *w)
{
    snapshot r;
    memcpy(r.s, xm_path_prices(w), sizeof r.s);
    memcpy(r.ls, xm_path_log_prices(w), sizeof r.ls);
    r.jumps = xm_path_jump_count(w);
    return r;
}

static snapshot run_path(xm_path_ws *w, uint64_t seed, uint64_t path, int steps)
{
    xm_path_begin(w, seed, path);
    for (int k = 0; k < steps; k++)
        xm_path_step(w);
    return snap(w);
}

static int same_bits(const snapshot *a, const snapshot *b)
{
    return memcmp(a->s, b->s, sizeof a->s) == 0 && memcmp(a->ls, b->ls, sizeof a->ls) == 0 &&
           a->jumps == b->jumps;
}

/* Every asset differs (a different stream gives different prices, not just one). */
static int all_differ(const snapshot *a, const snapshot *b)
{
    for (int i = 0; i < 3; i++)
        if (a->s[i] == b->s[i])
            return 0;
    return 1;
}

/* Same (seed, path): bit-identical after 1000 steps, whatever ran before or alongside, on the
 * same workspace or another one. Different path or seed: different prices. For each process
 * (gbm and student_t with jumps, so that every kind of draw is exercised; bachelier). */
static void test_reproducible(void **state)
{
    (void)state;
    const double tau = (1.0 / 24.0) / 365.0;  /* hourly steps: 1000 steps ~ 42 days */
    const uint64_t seed = XM_PATHS_SEED + 5;
    const int steps = 1000;
    asset_spec spec[3];
    for (int i = 0; i < 3; i++) {
        spec[i] = three[i];
        spec[i].beta = jump_betas[i];
    }
    const jump_spec hourly_jumps = {365.0 * 24.0 * 0.05, -0.0412, 0.0734};  /* 0.05 per step */
    const xm_process procs[3] = {XM_PROCESS_GBM, XM_PROCESS_STUDENT_T, XM_PROCESS_BACHELIER};
    for (int pr = 0; pr < 3; pr++) {
        xm_market m;
        build_market(&m, 3, spec, corr3, procs[pr], 4.5,
                     procs[pr] == XM_PROCESS_BACHELIER ? NULL : &hourly_jumps);
        xm_path_ws *a = alloc_ws(&m, tau), *b = alloc_ws(&m, tau);

        snapshot ref = run_path(a, seed, 7, steps);
        if (procs[pr] != XM_PROCESS_BACHELIER)
            assert_true(ref.jumps > 0);  /* ~50 expected: the jump draws are exercised */
        for (int i = 0; i < 3; i++)
            assert_true(isfinite(ref.s[i]) && ref.s[i] != m.assets[i].price);

        /* Same workspace, after another path left half-way. */
        (void)run_path(a, seed, 8, steps / 2);
        snapshot again = run_path(a, seed, 7, steps);
        assert_true(same_bits(&ref, &again));

        /* Another workspace, stepping in lockstep with other paths on the first one. */
        xm_path_begin(b, seed, 7);
        xm_path_begin(a, seed, 3);
        for (int k = 0; k < steps; k++) {
            xm_path_step(a);
            xm_path_step(b);
            if (k == steps / 2)
                xm_path_begin(a, seed + 1, 7);  /* same path index, other seed, midway */
        }
        snapshot other_ws = snap(b);
        assert_true(same_bits(&ref, &other_ws));

        /* Different path, different seed: different prices (all three assets). */
        snapshot p8 = run_path(a, seed, 8, steps);
        snapshot s2 = run_path(b, seed + 1, 7, steps);
        assert_true(all_differ(&ref, &p8));
        assert_true(all_differ(&ref, &s2));
        assert_true(all_differ(&p8, &s2));

        /* begin() resets everything: prices to S0, logs to ln S0, no jumps. */
        xm_path_begin(a, seed, 7);
        for (int i = 0; i < 3; i++) {
            assert_true(xm_path_prices(a)[i] == m.assets[i].price);
            assert_true(xm_path_log_prices(a)[i] == log(m.assets[i].price));
        }
        assert_true(xm_path_jump_count(a) == 0);

        xm_path_ws_free(a);
        xm_path_ws_free(b);
        xm_market_clear(&m);
    }
}

/* The step is the documented formula with the documented draw order (paths.h): from the
 * path's own stream xm_pcg64_seed_path(seed, p): z_1..z_n (ziggurat), then W ~ chi2_nu
 * (student_t), then K ~ Poisson(lambda tau), then one N(0,1) for the jump sum when K > 0.
 * Replayed independently here with GSL samplers on a fresh PCG64 for 300 steps; equal to
 * rounding (1e-12 absolute on ln S ~ 11, relative on bachelier prices, allowing for a
 * compiler that contracts a*b+c into an FMA in one build and not the other). */
static void test_step_formula_and_draw_order(void **state)
{
    (void)state;
    const double tau = 1.0 / 365.0, nu = 4.5;
    const uint64_t seed = XM_PATHS_SEED + 6, path = 12345;
    asset_spec spec[3];
    for (int i = 0; i < 3; i++) {
        spec[i] = three[i];
        spec[i].beta = jump_betas[i];
    }
    const xm_process procs[3] = {XM_PROCESS_GBM, XM_PROCESS_STUDENT_T, XM_PROCESS_BACHELIER};
    for (int pr = 0; pr < 3; pr++) {
        xm_process proc = procs[pr];
        int with_jumps = proc != XM_PROCESS_BACHELIER;
        xm_market m;
        build_market(&m, 3, spec, corr3, proc, nu, with_jumps ? &jumps_spec : NULL);
        xm_path_ws *w = alloc_ws(&m, tau);
        xm_path_begin(w, seed, path);

        /* The workspace's generator is the path's stream, freshly seeded. */
        xm_pcg64 expect_state;
        xm_pcg64_seed_path(&expect_state, seed, path);
        xm_pcg64 *ws_state = xm_gsl_pcg64_state(xm_path_rng(w));
        assert_non_null(ws_state);
        assert_true(ws_state->state == expect_state.state && ws_state->inc == expect_state.inc);

        gsl_rng *r = gsl_rng_alloc(xm_gsl_rng_pcg64);
        assert_non_null(r);
        xm_pcg64_seed_path(xm_gsl_pcg64_state(r), seed, path);
        double s[3], ls[3];
        for (int i = 0; i < 3; i++) {
            s[i] = spec[i].price;
            ls[i] = log(s[i]);
        }
        uint64_t njumps = 0;
        for (int step = 0; step < 300; step++) {
            double z[3], eps[3];
            for (int i = 0; i < 3; i++)
                z[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
            for (int i = 0; i < 3; i++) {
                eps[i] = 0.0;
                for (int j = 0; j <= i; j++)
                    eps[i] += m.chol[i * 3 + j] * z[j];
            }
            if (proc == XM_PROCESS_BACHELIER) {
                for (int i = 0; i < 3; i++) {
                    s[i] += spec[i].drift * spec[i].price * tau +
                            spec[i].vol * spec[i].price * sqrt(tau) * eps[i];
                    ls[i] = s[i] > 0.0 ? log(s[i]) : -INFINITY;
                }
            } else {
                double scale = proc == XM_PROCESS_STUDENT_T
                                   ? sqrt((nu - 2.0) / gsl_ran_chisq(r, nu)) : 1.0;
                unsigned int kj = gsl_ran_poisson(r, jumps_spec.rate * tau);
                double jump = 0.0;
                if (kj > 0) {
                    njumps += kj;
                    jump = kj * jumps_spec.mean +
                           jumps_spec.stdev * sqrt((double)kj) * gsl_ran_gaussian_ziggurat(r, 1.0);
                }
                for (int i = 0; i < 3; i++) {
                    ls[i] += (spec[i].drift - 0.5 * spec[i].vol * spec[i].vol) * tau +
                             spec[i].vol * sqrt(tau) * scale * eps[i] + spec[i].beta * jump;
                    s[i] = exp(ls[i]);
                }
            }
            xm_path_step(w);
            for (int i = 0; i < 3; i++) {
                if (proc == XM_PROCESS_BACHELIER)
                    assert_near(xm_path_prices(w)[i], s[i], 1e-12 * spec[i].price);
                else
                    assert_near(xm_path_log_prices(w)[i], ls[i], 1e-12);
            }
            assert_true(xm_path_jump_count(w) == njumps);
        }
        if (with_jumps)
            assert_true(njumps > 0);
        gsl_rng_free(r);
        xm_path_ws_free(w);
        xm_market_clear(&m);
    }
}

/* ---- 6. bachelier below zero ------------------------------------------------------------- */

/* Arithmetic prices are not floored: with sigma = 25 (2500%/year) and daily steps the step
 * sd is 1.31 S0, so paths cross zero at once and keep moving (they are not absorbed).
 * Prices stay finite; ln S is -INFINITY whenever S <= 0, and log(S) otherwise. */
static void test_bachelier_negative_prices(void **state)
{
    (void)state;
    const asset_spec spec[2] = {
        {"WILD", 1.7391, 25.0, 0.0, 1.0},
        {"CALM", 100.0, 0.2137, 0.0, 1.0},
    };
    const double corr2[4] = {1.0, 0.3, 0.3, 1.0};
    xm_market m;
    build_market(&m, 2, spec, corr2, XM_PROCESS_BACHELIER, 0.0, NULL);
    xm_path_ws *w = alloc_ws(&m, 1.0 / 365.0);
    int negative = 0, recovered = 0, zero_or_less_seen = 0;
    for (uint64_t p = 0; p < 200; p++) {
        xm_path_begin(w, XM_PATHS_SEED + 7, p);
        int was_negative = 0;
        for (int k = 0; k < 50; k++) {
            xm_path_step(w);
            const double *s = xm_path_prices(w), *ls = xm_path_log_prices(w);
            for (int i = 0; i < 2; i++) {
                assert_true(isfinite(s[i]));
                if (s[i] <= 0.0) {
                    assert_true(isinf(ls[i]) && ls[i] < 0.0);
                    zero_or_less_seen++;
                } else {
                    assert_true(ls[i] == log(s[i]));
                }
            }
            if (s[0] < 0.0) {
                negative++;
                was_negative = 1;
            } else if (was_negative) {
                recovered++;
                was_negative = 0;
            }
        }
    }
    printf("  bachelier: %d negative WILD prices in 10000 steps, %d recoveries above 0\n",
           negative, recovered);
    assert_true(negative > 1000);  /* about half of all states, by symmetry */
    assert_true(recovered > 100);
    assert_true(zero_or_less_seen >= negative);
    xm_path_ws_free(w);
    xm_market_clear(&m);
}

/* The vectorisable exp of the step (src/core/vexp.h) against libm: within 2 ulp over the whole
 * clamped domain and densely over the range log-returns live in; exact at 0. */
static void test_vexp_accuracy(void **state)
{
    (void)state;
    xm_pcg64 g;
    xm_pcg64_seed(&g, 2385, 4);
    double worst = 0.0;
    for (int i = 0; i < 2000000; i++) {
        double u = xm_pcg64_double(&g);
        double x = (i & 1) ? -708.0 + u * 1417.0 : -30.0 + 60.0 * u;
        double want = exp(x), got = xm_vexp(x);
        double ulp = nextafter(want, INFINITY) - want;
        worst = fmax(worst, fabs(got - want) / ulp);
    }
    assert_true(worst <= 2.0);
    assert_true(xm_vexp(0.0) == 1.0);
    assert_near(xm_vexp(1.0), 2.718281828459045, 4.5e-16 * 2.718281828459045);  /* e */
    /* Clamped outside [-708, 709]: finite, never NaN. */
    assert_true(isfinite(xm_vexp(1e308)) && xm_vexp(-1e308) > 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vexp_accuracy),
        cmocka_unit_test(test_moments_gbm),
        cmocka_unit_test(test_moments_student_t),
        cmocka_unit_test(test_moments_bachelier),
        cmocka_unit_test(test_student_t_kurtosis),
        cmocka_unit_test(test_tail_dependence),
        cmocka_unit_test(test_jumps_pure),
        cmocka_unit_test(test_jumps_with_diffusion),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_step_formula_and_draw_order),
        cmocka_unit_test(test_bachelier_negative_prices),
    };
    return xm_run_tests(tests, NULL, NULL);
}
