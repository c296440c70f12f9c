/* test_coverage.c — Kupiec, Christoffersen and the Basel traffic light (xmrisk/coverage.h).
 *
 * Known answers: the Basel 1996 zone table (250 days, 99%), Kupiec's 95% non-rejection
 * regions (Kupiec 1995; reproduced in P. Jorion, "Value at Risk", 3rd ed. 2007,
 * ch. 6), hand computations shown below with their digits (checked with python3/mpmath at
 * 30 digits: the script is at the end of this comment), and a statistical test of the Kupiec
 * rejection rate under the null against its exact binomial value.
 *
 *   import mpmath as m; m.mp.dps = 30; L = m.log
 *   I = [int(c) for c in "0001100000110000"]
 *   n = {(a, b): 0 for a in (0, 1) for b in (0, 1)}
 *   for a, b in zip(I, I[1:]): n[(a, b)] += 1
 *   n00, n01, n10, n11 = n[(0, 0)], n[(0, 1)], n[(1, 0)], n[(1, 1)]
 *   pi01 = m.mpf(n01) / (n00 + n01); pi11 = m.mpf(n11) / (n10 + n11)
 *   pi = m.mpf(n01 + n11) / (n00 + n01 + n10 + n11)
 *   l0 = (n00 + n10) * L(1 - pi) + (n01 + n11) * L(pi)
 *   l1 = n00 * L(1 - pi01) + n01 * L(pi01) + n10 * L(1 - pi11) + n11 * L(pi11)
 *   lind = 2 * (l1 - l0); x = sum(I); T = len(I); p = m.mpf('0.1'); r = m.mpf(x) / T
 *   luc = -2 * ((T - x) * L(1 - p) + x * L(p)) + 2 * ((T - x) * L(1 - r) + x * L(r))
 *   chi1 = lambda v: m.erfc(m.sqrt(v / 2)); chi2 = lambda v: m.exp(-v / 2)
 *   print(lind, luc, chi1(luc), chi1(lind), luc + lind, chi2(luc + lind))
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "xm_test.h"

#include "xmrisk/coverage.h"
#include "xmrisk/rng.h"

#define TOL 1e-12

/* Indicators from a string of '0' and '1' (at most 64). */
static size_t parse(const char *s, uint8_t *ind)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        ind[i] = (uint8_t)(s[i] == '1');
    return n;
}

/* Basel Committee (1996), the table of the zones for 250 observations at 99%: cumulative
 * probabilities P(X <= x) 0: 8.11%, 1: 28.58%, 2: 54.32%, 3: 75.81%, 4: 89.22% (green),
 * 5: 95.88%, 6: 98.63%, 7: 99.60%, 8: 99.89%, 9: 99.97% (yellow), 10: 99.99% and up (red).
 * Every x from 0 to 250 is checked, so every boundary is. */
static void test_basel_250(void **state)
{
    (void)state;
    for (uint64_t x = 0; x <= 250; x++) {
        xm_coverage_zone want = x <= 4 ? XM_COVERAGE_GREEN
                              : x <= 9 ? XM_COVERAGE_YELLOW : XM_COVERAGE_RED;
        assert_int_equal(xm_coverage_basel_zone(x, 250, 0.01), want);
    }
    assert_string_equal(xm_coverage_zone_name(XM_COVERAGE_GREEN), "green");
    assert_string_equal(xm_coverage_zone_name(XM_COVERAGE_YELLOW), "yellow");
    assert_string_equal(xm_coverage_zone_name(XM_COVERAGE_RED), "red");
}

/* Scaled to other T: 500 days at 99% (expected 5): P(X <= 8) = 0.9319, P(X <= 9) = 0.9682,
 * P(X <= 14) = 0.99979, P(X <= 15) = 0.99994 (python3: sum of math.comb(500, k) 0.01^k
 * 0.99^(500-k)), so green 0-8, yellow 9-14, red from 15. */
static void test_basel_scaled(void **state)
{
    (void)state;
    assert_int_equal(xm_coverage_basel_zone(8, 500, 0.01), XM_COVERAGE_GREEN);
    assert_int_equal(xm_coverage_basel_zone(9, 500, 0.01), XM_COVERAGE_YELLOW);
    assert_int_equal(xm_coverage_basel_zone(14, 500, 0.01), XM_COVERAGE_YELLOW);
    assert_int_equal(xm_coverage_basel_zone(15, 500, 0.01), XM_COVERAGE_RED);
}

/* T = 250, p = 0.01 by hand (30 digits, mpmath):
 *   x = 0: LR = -2 * 250 ln 0.99 = 5.02516792675072059177, p = erfc(sqrt(LR/2))
 *          = 0.02498150305344977018;
 *   x = 1: -2 (249 ln 0.99 + ln 0.01) + 2 (249 ln 0.996 + ln 0.004) = 1.17649113532107604134;
 *   x = 4: -2 ln L(0.01) = 41.7861267278274400066, -2 ln L(4/250) = 41.0169883634415917569,
 *          LR = 0.769138364385848249701, p = 0.380483738238953246799;
 *   x = 8: 78.5470855289041594214 - 70.8135348044096253478 = 7.73355072449453407359,
 *          p = 0.00542040519412775401843;
 *   x = 10: 96.9275649294425191288 - 83.9720738670864771702 = 12.9554910623560419586,
 *          p = 0.000318984508213379602601;
 *   x = T = 250: -2 * 250 ln 0.01 = 2302.58509299404568402. */
static void test_kupiec_hand(void **state)
{
    (void)state;
    assert_near(xm_coverage_kupiec_lr(0, 250, 0.01), 5.02516792675072059177, TOL);
    assert_near(xm_coverage_kupiec_lr(1, 250, 0.01), 1.17649113532107604134, TOL);
    assert_near(xm_coverage_kupiec_lr(4, 250, 0.01), 0.769138364385848249701, TOL);
    assert_near(xm_coverage_kupiec_lr(8, 250, 0.01), 7.73355072449453407359, TOL);
    assert_near(xm_coverage_kupiec_lr(10, 250, 0.01), 12.9554910623560419586, TOL);
    assert_near(xm_coverage_kupiec_lr(250, 250, 0.01), 2302.58509299404568402, 1e-9);
    assert_true(xm_coverage_kupiec_lr(5, 500, 0.01) == 0.0);   /* x/T = p exactly */

    xm_coverage c;
    assert_int_equal(xm_coverage_from_counts(0, 250, 0.01, &c, NULL), XM_OK);
    assert_near(c.p_uc, 0.02498150305344977018, TOL);
    assert_int_equal(xm_coverage_from_counts(4, 250, 0.01, &c, NULL), XM_OK);
    assert_near(c.p_uc, 0.380483738238953246799, TOL);
    assert_int_equal(xm_coverage_from_counts(8, 250, 0.01, &c, NULL), XM_OK);
    assert_near(c.p_uc, 0.00542040519412775401843, 1e-14);
    assert_int_equal(c.zone, XM_COVERAGE_YELLOW);
    assert_int_equal(xm_coverage_from_counts(10, 250, 0.01, &c, NULL), XM_OK);
    assert_near(c.p_uc, 0.000318984508213379602601, 1e-15);
    assert_int_equal(c.zone, XM_COVERAGE_RED);
    assert_true(c.x == 10 && c.T == 250 && c.rate == 0.04);
    assert_true(isnan(c.lr_ind) && isnan(c.p_ind) && isnan(c.lr_cc) && isnan(c.p_cc));
}

/* Kupiec (1995), as tabulated in Jorion (2007) ch. 6: the 95% non-rejection regions a < x < b
 * (LR_uc <= 3.841459) for T = 255, 510, 1000. One exception: the table prints "N < 7" for
 * p = 1%, T = 255, but x = 0 gives LR = -510 ln 0.99 = 5.126 > 3.84, rejected; the region of
 * the statistic is 1 <= x <= 6 there. */
static void test_kupiec_table(void **state)
{
    (void)state;
    static const struct { double p; uint64_t T, lo, hi; } rows[] = {
        {0.01, 255, 1, 6},    {0.01, 510, 2, 10},   {0.01, 1000, 5, 16},
        {0.025, 255, 3, 11},  {0.025, 510, 7, 20},  {0.025, 1000, 16, 35},
        {0.05, 255, 7, 20},   {0.05, 510, 17, 35},  {0.05, 1000, 38, 64},
        {0.075, 255, 12, 27}, {0.075, 510, 28, 50}, {0.075, 1000, 60, 91},
        {0.10, 255, 17, 35},  {0.10, 510, 39, 64},  {0.10, 1000, 82, 119},
    };
    const double crit = 3.841458820694124;  /* chi2(1) 95% quantile */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (uint64_t x = 0; x <= rows[i].hi + 5; x++) {
            int accept = xm_coverage_kupiec_lr(x, rows[i].T, rows[i].p) <= crit;
            if (accept != (x >= rows[i].lo && x <= rows[i].hi))
                fail_msg("p %g T %llu x %llu", rows[i].p, (unsigned long long)rows[i].T,
                         (unsigned long long)x);
        }
    }
}

/* I = 0001100000110000 (T = 16, x = 4, p = 0.1). Transitions t = 2..16:
 * 00 00 01 11 10 00 00 00 00 01 11 10 00 00 00 -> n00 = 9, n01 = 2, n10 = 2, n11 = 2.
 * pi01 = 2/11, pi11 = 2/4 = 1/2, pi = 4/15.
 * ln L0 = 11 ln(11/15) + 4 ln(4/15) = -8.69872757127151252992
 * ln L1 = 9 ln(9/11) + 2 ln(2/11) + 2 ln(1/2) + 2 ln(1/2) = -7.98812116587599215840
 * LR_ind = 2 (ln L1 - ln L0) = 1.42121281079104074304, p_ind = 0.233203883505139005223
 * LR_uc = -2 (12 ln 0.9 + 4 ln 0.1) + 2 (12 ln 0.75 + 4 ln 0.25) = 2.95460849193832949239,
 * p_uc = 0.0856330440117171105813
 * LR_cc = 4.37582130272937023543, p_cc = exp(-LR_cc/2) = 0.112150826172979021889 */
static void test_christoffersen_hand(void **state)
{
    (void)state;
    uint8_t ind[64];
    size_t T = parse("0001100000110000", ind);
    xm_coverage c;
    assert_int_equal(xm_coverage_from_indicators(ind, T, 0.1, &c, NULL), XM_OK);
    assert_true(c.trans.n00 == 9 && c.trans.n01 == 2 && c.trans.n10 == 2 && c.trans.n11 == 2);
    assert_true(c.x == 4 && c.T == 16 && c.rate == 0.25);
    assert_near(c.lr_ind, 1.42121281079104074304, TOL);
    assert_near(c.p_ind, 0.233203883505139005223, TOL);
    assert_near(c.lr_uc, 2.95460849193832949239, TOL);
    assert_near(c.p_uc, 0.0856330440117171105813, TOL);
    assert_near(c.lr_cc, 4.37582130272937023543, TOL);
    assert_near(c.p_cc, 0.112150826172979021889, TOL);
}

/* Edge cases (0 ln 0 = 0; header "Degenerate cases"). */
static void test_edges(void **state)
{
    (void)state;
    uint8_t ind[64];
    xm_coverage c;

    /* No exceedance: LR_ind = 0, LR_cc = LR_uc = -2T ln(1-p) = -40 ln 0.9 (T = 20). */
    size_t T = parse("00000000000000000000", ind);
    assert_int_equal(xm_coverage_from_indicators(ind, T, 0.1, &c, NULL), XM_OK);
    assert_true(c.x == 0 && c.lr_ind == 0.0 && c.p_ind == 1.0);
    assert_near(c.lr_uc, -40.0 * log(0.9), TOL);
    assert_true(c.lr_cc == c.lr_uc);

    /* All exceedances: x = T, LR_uc = -2T ln p, n11 = T - 1 only, LR_ind = 0. */
    T = parse("1111111111", ind);
    assert_int_equal(xm_coverage_from_indicators(ind, T, 0.1, &c, NULL), XM_OK);
    assert_true(c.x == 10 && c.trans.n11 == 9 && c.lr_ind == 0.0);
    assert_near(c.lr_uc, -20.0 * log(0.1), TOL);

    /* One exceedance, the last: n01 = 1, n10 + n11 = 0 (pi11 undefined, never used), so
     * pi01 = pi = 1/9 and LR_ind = 0. LR_uc = -2 (9 ln 0.9 + ln 0.1) + 2 (9 ln 0.9 + ln 0.1)
     * = 0 at p = 0.1. */
    T = parse("0000000001", ind);
    assert_int_equal(xm_coverage_from_indicators(ind, T, 0.1, &c, NULL), XM_OK);
    assert_true(c.trans.n00 == 8 && c.trans.n01 == 1 && c.trans.n10 + c.trans.n11 == 0);
    assert_true(c.lr_ind == 0.0 && c.lr_uc == 0.0 && c.p_cc == 1.0);

    /* Alternating 1010101010: n10 = 5, n01 = 4, n00 = n11 = 0: pi01 = 1, pi11 = 0, pi = 4/9;
     * ln L1 = 0, LR_ind = -2 (5 ln(5/9) + 4 ln(4/9)) = 12.3653083787518201935; x/T = 1/2
     * = p, so LR_uc = 0. Its mirror 0101010101 has the same statistics. */
    const char *alt[2] = {"1010101010", "0101010101"};
    for (int k = 0; k < 2; k++) {
        T = parse(alt[k], ind);
        assert_int_equal(xm_coverage_from_indicators(ind, T, 0.5, &c, NULL), XM_OK);
        assert_true(c.trans.n00 == 0 && c.trans.n11 == 0 && c.trans.n01 + c.trans.n10 == 9);
        assert_near(c.lr_ind, 12.3653083787518201935, TOL);
        assert_true(c.lr_uc == 0.0);
        assert_near(c.p_cc, exp(-12.3653083787518201935 / 2.0), TOL);
    }

    /* Symmetry: swapping 0 and 1 and p with 1 - p leaves every statistic unchanged. */
    xm_coverage a, b;
    T = parse("0010011000010000", ind);
    assert_int_equal(xm_coverage_from_indicators(ind, T, 0.2, &a, NULL), XM_OK);
    T = parse("1101100111101111", ind);
    assert_int_equal(xm_coverage_from_indicators(ind, T, 0.8, &b, NULL), XM_OK);
    assert_near(a.lr_uc, b.lr_uc, TOL);
    assert_near(a.lr_ind, b.lr_ind, TOL);
    assert_true(a.lr_ind > 0.0);

    /* T = 1: no transitions. */
    ind[0] = 1;
    assert_int_equal(xm_coverage_from_indicators(ind, 1, 0.01, &c, NULL), XM_OK);
    assert_true(c.lr_ind == 0.0 && c.zone == XM_COVERAGE_RED);
    assert_near(c.lr_uc, -2.0 * log(0.01), TOL);
}

static void test_bad_input(void **state)
{
    (void)state;
    uint8_t ind[4] = {0, 1, 2, 0};
    xm_coverage c = {0};
    xm_error err;
    xm_error_clear(&err);
    assert_int_equal(xm_coverage_from_indicators(ind, 4, 0.01, &c, &err), XM_EUSAGE);
    assert_contains(err.msg, "indicator 2 is 2");
    assert_int_equal(xm_coverage_from_indicators(ind, 0, 0.01, &c, &err), XM_EUSAGE);
    assert_contains(err.msg, "0 observations");
    assert_int_equal(xm_coverage_from_counts(5, 4, 0.01, &c, &err), XM_EUSAGE);
    assert_contains(err.msg, "5 exceedances in 4");
    assert_int_equal(xm_coverage_from_counts(1, 4, 0.0, &c, &err), XM_EUSAGE);
    assert_int_equal(xm_coverage_from_counts(1, 4, 1.0, &c, &err), XM_EUSAGE);
    assert_int_equal(xm_coverage_from_counts(1, 4, NAN, &c, &err), XM_EUSAGE);
    assert_contains(err.msg, "need 0 < p < 1");
    assert_true(c.T == 0);  /* untouched */
}

/* Under the null (I_t i.i.d. Bernoulli(p), PCG64 with a fixed seed), the rate at which
 * Kupiec's test rejects at 5% (p_uc < 0.05) over R replications of T days. The test is
 * discrete, so the exact rate is r = sum of Binomial(T, p) probabilities of the x it rejects:
 * for T = 250, p = 0.01 it rejects x = 0 and x >= 7, r = 0.0947599640173849 (python3:
 * sum(comb(250, x) 0.01^x 0.99^(250-x) for x rejected)); for T = 1000, p = 0.01, x <= 4 and
 * x >= 17, r = 0.0550774354086122. The observed rate must lie within 4 standard errors
 * sqrt(r (1 - r) / R) of r. */
static double exact_rejection_rate(uint64_t T, double p)
{
    double r = 0.0;
    for (uint64_t x = 0; x <= T; x++) {
        xm_coverage c;
        if (xm_coverage_from_counts(x, T, p, &c, NULL) == XM_OK && c.p_uc < 0.05)
            r += gsl_ran_binomial_pdf((unsigned)x, p, (unsigned)T);
    }
    return r;
}

static void check_null_rate(uint64_t seed, size_t T, double p, size_t R, double want_r)
{
    double r = exact_rejection_rate(T, p);
    assert_near(r, want_r, 1e-12);
    uint8_t *ind = malloc(T);
    assert_non_null(ind);
    xm_pcg64 g;
    xm_pcg64_seed(&g, seed, 1);
    size_t rejected = 0;
    for (size_t k = 0; k < R; k++) {
        for (size_t t = 0; t < T; t++)
            ind[t] = (uint8_t)(xm_pcg64_double(&g) < p);
        xm_coverage c;
        assert_int_equal(xm_coverage_from_indicators(ind, T, p, &c, NULL), XM_OK);
        rejected += c.p_uc < 0.05;
    }
    free(ind);
    double se = sqrt(r * (1.0 - r) / (double)R), got = (double)rejected / (double)R;
    print_message("T %zu p %g: rejection rate %.5f, exact %.5f, se %.5f (%.2f se)\n", T, p,
                  got, r, se, (got - r) / se);
    assert_near(got, r, 4.0 * se);
}

static void test_kupiec_null_rate(void **state)
{
    (void)state;
    check_null_rate(20240915, 250, 0.01, 20000, 0.0947599640173849);
    check_null_rate(20240916, 1000, 0.01, 5000, 0.0550774354086122);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basel_250),
        cmocka_unit_test(test_basel_scaled),
        cmocka_unit_test(test_kupiec_hand),
        cmocka_unit_test(test_kupiec_table),
        cmocka_unit_test(test_christoffersen_hand),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_kupiec_null_rate),
    };
    return xm_run_tests(tests, NULL, NULL);
}
