/* test_mergestats.c — exact sums, fixed bins and binned run statistics (xmrisk/mergestats.h).
 *
 * Known answers: sums whose exact value is known by construction (cancellation, 0.1 ten times:
 * the exact sum of ten doubles 0.1 is 1.0000000000000000555..., which rounds to 1.0, while
 * left-to-right double addition gives 0.9999999999999999); quantiles against the exact
 * type-7 quantile of the same data (xm_stats_quantile_sorted) within the stated resolution;
 * moments against the two-pass formula (xm_stats_moments).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xm_test.h"

#include "xmrisk/mergestats.h"
#include "xmrisk/rng.h"
#include "xmrisk/estimators.h"

/* A reproducible uniform in [0, 1) (PCG64, fixed seed). */
static double unif(xm_pcg64 *r)
{
    return xm_pcg64_double(r);
}

static int same_sum(const xm_xsum *a, const xm_xsum *b)
{
    xm_xsum x = *a, y = *b;
    xm_xsum_normalize(&x);
    xm_xsum_normalize(&y);
    return memcmp(x.c, y.c, sizeof x.c) == 0;
}

static void test_xsum_known(void **state)
{
    (void)state;
    xm_xsum s;
    xm_xsum_init(&s);
    assert_true(xm_xsum_value(&s) == 0.0);
    xm_xsum_add(&s, 1e100);
    xm_xsum_add(&s, 1.0);
    xm_xsum_add(&s, -1e100);
    assert_true(xm_xsum_value(&s) == 1.0);           /* naive: 0 */

    xm_xsum_init(&s);
    double naive = 0.0;
    for (int k = 0; k < 10; k++) {
        xm_xsum_add(&s, 0.1);
        naive += 0.1;
    }
    assert_true(naive != 1.0);
    assert_true(xm_xsum_value(&s) == 1.0);

    /* The smallest subnormal and the largest double, and their negatives. */
    xm_xsum_init(&s);
    xm_xsum_add(&s, 0x1p-1074);
    xm_xsum_add(&s, 0x1p-1074);
    assert_true(xm_xsum_value(&s) == 0x1p-1073);
    xm_xsum_add(&s, 1.7976931348623157e308);
    xm_xsum_add(&s, -1.7976931348623157e308);
    xm_xsum_add(&s, -0x1p-1073);
    assert_true(xm_xsum_value(&s) == 0.0);
    /* Overflowing a double is no overflow of the sum: 4 x DBL_MAX - 3 x DBL_MAX. */
    xm_xsum_init(&s);
    for (int k = 0; k < 4; k++)
        xm_xsum_add(&s, 1.7976931348623157e308);
    for (int k = 0; k < 3; k++)
        xm_xsum_add(&s, -1.7976931348623157e308);
    assert_true(xm_xsum_value(&s) == 1.7976931348623157e308);
    /* Non-finite values are ignored (documented). */
    xm_xsum_add(&s, NAN);
    xm_xsum_add(&s, INFINITY);
    assert_true(xm_xsum_value(&s) == 1.7976931348623157e308);
    /* Negative totals. */
    xm_xsum_init(&s);
    xm_xsum_add(&s, -2.5);
    xm_xsum_add(&s, 0.25);
    assert_true(xm_xsum_value(&s) == -2.25);
}

/* The same values in three orders and cut into merged pieces: the same chunks. */
static void test_xsum_order_independent(void **state)
{
    (void)state;
    enum { N = 20000 };
    double *x = malloc(N * sizeof *x);
    assert_non_null(x);
    xm_pcg64 r;
    xm_pcg64_seed(&r, 20261125, 1);
    for (int k = 0; k < N; k++)
        x[k] = ldexp(unif(&r) - 0.5, (int)(unif(&r) * 200) - 100);
    xm_xsum fwd, back, parts[3], merged;
    xm_xsum_init(&fwd);
    xm_xsum_init(&back);
    for (int k = 0; k < N; k++) {
        xm_xsum_add(&fwd, x[k]);
        xm_xsum_add(&back, x[N - 1 - k]);
    }
    assert_true(same_sum(&fwd, &back));
    for (int j = 0; j < 3; j++)
        xm_xsum_init(&parts[j]);
    for (int k = 0; k < N; k++)
        xm_xsum_add(&parts[(k * 7) % 3], x[k]);
    xm_xsum_init(&merged);
    xm_xsum_merge(&merged, &parts[2]);
    xm_xsum_merge(&merged, &parts[0]);
    xm_xsum_merge(&merged, &parts[1]);
    assert_true(same_sum(&fwd, &merged));
    assert_true(xm_xsum_value(&fwd) == xm_xsum_value(&merged));
    /* The value agrees with a long double sum to its rounding. */
    long double ld = 0.0L;
    for (int k = 0; k < N; k++)
        ld += x[k];
    double mag = 0.0;
    for (int k = 0; k < N; k++)
        mag += fabs(x[k]);
    assert_true(fabs(xm_xsum_value(&fwd) - (double)ld) <= 1e-15 * mag);
    free(x);
}

/* Past 2^30 additions the carries are propagated: no int64 overflow (UBSan would say). */
static void test_xsum_many_adds(void **state)
{
    (void)state;
    xm_xsum s;
    xm_xsum_init(&s);
    uint64_t n = (1ull << 30) + 1000;
    double big = 0x1.8p+31;          /* 3 x 2^30: chunk addends near 2^32; the product exact */
    for (uint64_t k = 0; k < n; k++)
        xm_xsum_add(&s, big);
    assert_true(xm_xsum_value(&s) == big * (double)n);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_bins_index(void **state)
{
    (void)state;
    int above = 0;
    assert_int_equal(xm_bins_index(0.0, &above), XM_BINS_ZERO);
    assert_int_equal(xm_bins_index(-0.0, &above), XM_BINS_ZERO);
    assert_int_equal(above, 0);
    /* 1.0 is the first bin of exponent 0; 1 + 1/256 the next. */
    uint32_t one = xm_bins_index(1.0, NULL);
    assert_int_equal(one, XM_BINS_ZERO + 1 + ((0 - XM_BINS_EXP_MIN) << XM_BINS_MANT_BITS));
    assert_int_equal(xm_bins_index(1.0 + 1.0 / 256, NULL), one + 1);
    assert_int_equal(xm_bins_index(nextafter(1.0 + 1.0 / 256, 0), NULL), one);
    assert_int_equal(xm_bins_index(-1.0, NULL), XM_BINS_ZERO - (one - XM_BINS_ZERO));
    double lo, hi;
    xm_bins_edges(one, &lo, &hi);
    assert_true(lo == 1.0 && hi == 1.0 + 1.0 / 256);
    xm_bins_edges(xm_bins_index(-1.0, NULL), &lo, &hi);
    assert_true(lo == -(1.0 + 1.0 / 256) && hi == -1.0);
    /* Out of range: tiny and subnormal to the lowest bin, huge to the highest, counted. */
    assert_int_equal(xm_bins_index(1e-300, &above), XM_BINS_ZERO + 1);
    assert_int_equal(xm_bins_index(0x1p-1074, &above), XM_BINS_ZERO + 1);
    assert_int_equal(above, 0);
    assert_int_equal(xm_bins_index(1e30, &above), XM_BINS_COUNT - 1);
    assert_int_equal(above, 1);
    above = 0;
    assert_int_equal(xm_bins_index(-1e30, &above), 0);
    assert_int_equal(above, 1);

    /* Random values of both signs over the whole range, sorted: bins monotone, every value
     * inside its bin ([lo, hi) for positive values, (lo, hi] for negative ones), the
     * representative within the resolution. */
    enum { N = 200000 };
    double *x = malloc(N * sizeof *x);
    assert_non_null(x);
    xm_pcg64 r;
    xm_pcg64_seed(&r, 20261125, 2);
    for (int k = 0; k < N; k++)
        x[k] = (unif(&r) < 0.5 ? -1.0 : 1.0) *
               ldexp(1.0 + unif(&r), XM_BINS_EXP_MIN + (int)(unif(&r) * (XM_BINS_EXP_MAX - XM_BINS_EXP_MIN)));
    qsort(x, N, sizeof *x, cmp_dbl);
    uint32_t prev_b = 0;
    for (int k = 0; k < N; k++) {
        uint32_t b = xm_bins_index(x[k], NULL);
        assert_true(b >= prev_b);
        xm_bins_edges(b, &lo, &hi);
        if (x[k] > 0)
            assert_true(lo <= x[k] && x[k] < hi);
        else
            assert_true(lo < x[k] && x[k] <= hi);
        assert_true(fabs(xm_bins_value(b) - x[k]) <= XM_BINS_RESOLUTION * fabs(x[k]));
        prev_b = b;
    }
    free(x);
}

/* Quantiles of a heavy-tailed sample with many zeros (a loss distribution's shape) against
 * the exact ones, at every level the report prints and more. */
static void test_bincol_quantiles(void **state)
{
    (void)state;
    enum { N = 50001 };
    xm_mergestats *ps = xm_mergestats_alloc(1, 0.0, NULL);
    assert_non_null(ps);
    xm_bincol *c = &ps->metric[XM_PM_BAD_DEBT];
    double *x = malloc(N * sizeof *x);
    assert_non_null(x);
    xm_pcg64 r;
    xm_pcg64_seed(&r, 20261125, 3);
    for (int k = 0; k < N; k++) {
        double u = unif(&r);
        x[k] = u < 0.6 ? 0.0 : exp(8.0 + 3.0 * sqrt(-2.0 * log(unif(&r) + 1e-300)) *
                                             cos(6.283185307179586 * unif(&r)));
        c->mom.n++;
        c->bins[xm_bins_index(x[k], NULL)]++;
    }
    qsort(x, N, sizeof *x, cmp_dbl);
    static const double levels[] = {0, 0.001, 0.01, 0.1, 0.5, 0.6, 0.61, 0.9, 0.95, 0.99,
                                    0.999, 0.9999, 1};
    for (size_t j = 0; j < sizeof levels / sizeof *levels; j++) {
        double exact = xm_stats_quantile_sorted(x, N, levels[j]);
        double got = xm_bincol_quantile(c, levels[j]);
        assert_true(fabs(got - exact) <= XM_BINS_RESOLUTION * fabs(exact));
    }
    /* Integers below 256 are exact in an integer column. */
    xm_bincol *ic = &ps->metric[XM_PM_ACCOUNTS_LIQ];
    assert_true(ic->integer);
    for (int k = 0; k < 1000; k++) {
        x[k] = (double)(k % 200);
        ic->mom.n++;
        ic->bins[xm_bins_index(x[k], NULL)]++;
    }
    qsort(x, 1000, sizeof *x, cmp_dbl);
    for (size_t j = 0; j < sizeof levels / sizeof *levels; j++)
        assert_true(xm_bincol_quantile(ic, levels[j]) ==
                    xm_stats_quantile_sorted(x, 1000, levels[j]));
    xm_bincol empty = {0};
    assert_true(xm_bincol_quantile(&empty, 0.5) == 0.0);
    free(x);
    xm_mergestats_free(ps);
}

/* Synthetic paths: every column filled, some paths with liquidations, one asset ratio near 1. */
static void fill_path(xm_pcg64 *r, xm_path_metrics *pm, double *mr, double *im, double fund)
{
    memset(pm, 0, sizeof *pm);
    if (unif(r) < 0.3) {
        pm->liq_events = 1 + (uint64_t)(unif(r) * 50);
        pm->accounts_liquidated = pm->liq_events - pm->liq_events / 3;
        pm->liquidated_notional = 1e4 * exp(4.0 * unif(r));
        pm->largest_cascade_usd = pm->liquidated_notional * unif(r);
        pm->cascade_rounds_max = 1 + (uint32_t)(unif(r) * 6);
        pm->first_liq_step = 1 + (uint32_t)(unif(r) * 287);
        if (unif(r) < 0.2) {
            pm->bad_debt_usd = 1e3 * unif(r);
            pm->fund_paid_usd = pm->bad_debt_usd;
        }
    }
    pm->fund_min_usd = fund - pm->fund_paid_usd;
    for (int i = 0; i < 2; i++) {
        mr[i] = 1.0 - 0.2 * unif(r) * unif(r);
        im[i] = -0.01 * unif(r);
    }
}

static void test_pathstats_moments_merge_codec(void **state)
{
    (void)state;
    enum { N = 3000 };
    const double fund = 5e7;
    xm_mergestats *all = xm_mergestats_alloc(2, fund, NULL), *a = xm_mergestats_alloc(2, fund, NULL),
                 *b = xm_mergestats_alloc(2, fund, NULL), *dec = xm_mergestats_alloc(2, fund, NULL);
    assert_true(all && a && b && dec);
    xm_path_metrics *pm = calloc(N, sizeof *pm);
    double *mr = calloc(2 * N, sizeof *mr), *im = calloc(2 * N, sizeof *im), *col = malloc(N * 8);
    assert_true(pm && mr && im && col);
    xm_pcg64 r;
    xm_pcg64_seed(&r, 20261125, 4);
    for (int k = 0; k < N; k++) {
        fill_path(&r, &pm[k], &mr[2 * k], &im[2 * k], fund);
        xm_mergestats_add(all, &pm[k], &mr[2 * k], &im[2 * k]);
        xm_mergestats_add(k % 5 == 2 ? a : b, &pm[k], &mr[2 * k], &im[2 * k]);
    }
    /* Moments against the two-pass formula. */
    for (int m = 0; m < XM_PM_COUNT; m++) {
        for (int k = 0; k < N; k++)
            col[k] = xm_pm_value(&pm[k], m);
        xm_moments ref = xm_stats_moments(col, N);
        double mean, sd, se;
        xm_xmoments_get(&all->metric[m].mom, &mean, &sd, &se);
        assert_true(fabs(mean - ref.mean) <= 1e-12 * (fabs(ref.mean) + ref.sd) + 1e-300);
        assert_true(fabs(sd - ref.sd) <= 1e-9 * ref.sd + 1e-300);
        assert_true(fabs(se - ref.stderr_) <= 1e-9 * ref.stderr_ + 1e-300);
    }
    /* fund_min is constant but for a few paths: the shift keeps its tiny variance. */
    double mean, sd, se;
    xm_xmoments_get(&all->metric[XM_PM_FUND_MIN].mom, &mean, &sd, &se);
    assert_true(sd > 0 && sd < 1e3);
    /* Merge equals one pass, in either order; the encoding round-trips. */
    xm_mergestats_merge(b, a);
    size_t len = xm_mergestats_encoded_size(all);
    assert_int_equal(len, xm_mergestats_encoded_size(b));
    unsigned char *e1 = malloc(len), *e2 = malloc(len);
    assert_true(e1 && e2);
    xm_mergestats_encode(all, e1);
    xm_mergestats_encode(b, e2);
    assert_memory_equal(e1, e2, len);
    assert_int_equal(xm_mergestats_decode(dec, e1, len), 0);
    xm_mergestats_encode(dec, e2);
    assert_memory_equal(e1, e2, len);
    assert_true(dec->paths == N && dec->events[XM_PE_ANY_LIQ] == all->events[XM_PE_ANY_LIQ]);
    /* Malformed encodings are refused: truncated, trailing, every byte of the head changed,
     * a bin count changed. */
    assert_int_equal(xm_mergestats_decode(dec, e1, len - 1), -1);
    assert_int_equal(xm_mergestats_decode(dec, e1, 0), -1);
    for (size_t k = 0; k < 16; k++) {
        memcpy(e2, e1, len);
        e2[k] ^= 0x40;
        assert_int_equal(xm_mergestats_decode(dec, e2, len), -1);
    }
    memcpy(e2, e1, len);
    e2[len - 1] ^= 1;  /* the last moment's top chunk: accepted (any value is a sum) */
    assert_int_equal(xm_mergestats_decode(dec, e2, len), 0);
    /* Another fund: the shift differs, refused. */
    xm_mergestats *other = xm_mergestats_alloc(2, 1.0, NULL);
    assert_int_equal(xm_mergestats_decode(other, e1, len), -1);
    xm_mergestats *three = xm_mergestats_alloc(3, fund, NULL);
    assert_int_equal(xm_mergestats_decode(three, e1, len), -1);
    xm_mergestats_free(other);
    xm_mergestats_free(three);
    free(e1);
    free(e2);
    free(pm);
    free(mr);
    free(im);
    free(col);
    xm_mergestats_free(all);
    xm_mergestats_free(a);
    xm_mergestats_free(b);
    xm_mergestats_free(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xsum_known),
        cmocka_unit_test(test_xsum_order_independent),
        cmocka_unit_test(test_xsum_many_adds),
        cmocka_unit_test(test_bins_index),
        cmocka_unit_test(test_bincol_quantiles),
        cmocka_unit_test(test_pathstats_moments_merge_codec),
    };
    return xm_run_tests(tests, NULL, NULL);
}
