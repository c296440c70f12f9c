/* test_backtest.c — the rolling backtest of today's processes (xmrisk/backtest.h) on small
 * synthetic histories whose answers are known:
 *  - a constant price: the window's volatility is 0, so a gbm without jumps predicts
 *    min/open = max/open = 1 (to the rounding of exp(ln S0)), and a flat day exceeds neither;
 *  - daily returns alternating +a, -a (30 in the window, mean 0): the estimate is
 *    a sqrt(30/29) sqrt(365), chosen as 0.8, and the predicted quantiles of min/open and
 *    max/open of a gbm (drift 0) must have the probability the reflection principle gives
 *    them (tests/validation/closed_form.h, with the Broadie-Glasserman-Kou correction for
 *    288 steps), within Monte Carlo error;
 *  - the same results on 1 and 2 threads; the request checks; a stop.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xm_test.h"

#include "validation/closed_form.h"
#include "xmrisk/backtest.h"

#define DAY0 (19723 * (int64_t)86400)  /* 2024-01-01 */
#define WINDOW 31                      /* days: 31 candles, 30 returns */
#define TARGET_VOL 0.8

static char tmpdir[512];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/xmtest-backtest-XXXXXX", base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* WINDOW daily candles with close c_k = 100 exp(a (k mod 2)) (flat candles), then the tested
 * day WINDOW: open 100, high `hi`, low `lo`. Its path into out. */
static const char *write_history(const char *name, double a, double lo, double hi, char *out)
{
    snprintf(out, 700, "%s/%s", tmpdir, name);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs("timestamp,open,high,low,close\n", f);
    for (int k = 0; k <= WINDOW; k++) {
        char date[24];
        xm_history_format_time(DAY0 + (int64_t)k * 86400, date, sizeof date);
        double c = 100.0 * exp(a * (k % 2));
        if (k < WINDOW)
            fprintf(f, "%.10s,%.17g,%.17g,%.17g,%.17g\n", date, c, c, c, c);
        else
            fprintf(f, "%.10s,100,%.17g,%.17g,100\n", date, hi, lo);
    }
    fclose(f);
    return out;
}

/* A model of `process` over the given history files (one or two assets). */
static xm_model *model_with(const char *market_head, const char *files, unsigned steps)
{
    char text[2048];
    snprintf(text, sizeof text,
             "seed: 7\nhorizon_days: 1\nsteps: %u\nmarket:\n%s\n"
             "  history: {window_days: %d, files: {%s}}\n",
             steps, market_head, WINDOW, files);
    xm_error err;
    xm_model *m = xm_model_load_string(text, strlen(text), "bt.yaml", &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    return m;
}

static xm_backtest_opts one_day(double level, uint64_t paths)
{
    int64_t d = DAY0 + (int64_t)WINDOW * 86400;
    return (xm_backtest_opts){.from = d, .to = d, .level = level, .paths = paths, .seed = 11,
                              .threads = 2};
}

static void test_constant_price(void **state)
{
    (void)state;
    char path[700], files[800];
    snprintf(files, sizeof files, "AAA: %s", write_history("flat.csv", 0.0, 100, 100, path));
    xm_model *m = model_with("  process: gbm\n  assets: [{symbol: AAA, price: 1, vol: 0.5}]",
                             files, 288);
    xm_backtest_opts o = one_day(0.99, 500);
    xm_backtest_result r;
    xm_error err;
    assert_int_equal(xm_backtest_run(m, &o, &r, &err), XM_OK);
    assert_int_equal(r.n_days, 1);
    /* 1 up to the rounding of exp(ln S0) along the path */
    assert_near(r.rows[0].pred_low, 1.0, 1e-14);
    assert_near(r.rows[0].pred_high, 1.0, 1e-14);
    assert_true(r.rows[0].low == 1.0 && r.rows[0].high == 1.0);
    assert_int_equal(r.rows[0].exceeded_low + r.rows[0].exceeded_high, 0);
    assert_int_equal(r.cov[0].x, 0);
    xm_backtest_result_clear(&r);
    xm_model_free(m);
}

/* The predicted quantiles against the closed form of a GBM's running min and max. */
static void test_gbm_closed_form(void **state)
{
    (void)state;
    char path[700], files[800];
    double a = TARGET_VOL / sqrt(365.0 * 30.0 / 29.0);
    snprintf(files, sizeof files, "AAA: %s", write_history("alt.csv", a, 50, 104, path));
    xm_model *m = model_with("  process: gbm\n  assets: [{symbol: AAA, price: 1, vol: 0.1}]",
                             files, 288);
    const double level = 0.95;
    const uint64_t n = 20000;
    xm_backtest_opts o = one_day(level, n);
    xm_backtest_result r;
    xm_error err;
    assert_int_equal(xm_backtest_run(m, &o, &r, &err), XM_OK);
    double s = TARGET_VOL, T = 1.0 / 365.0, dt = T / 288.0;
    double p_lo = cf_bm_hit_discrete(log(r.rows[0].pred_low), -0.5 * s * s, s, T, dt);
    double p_hi = cf_bm_hit_discrete(log(r.rows[0].pred_high), -0.5 * s * s, s, T, dt);
    /* the empirical quantile's probability has sd sqrt(p (1 - p) / n) = 0.0015 */
    double tol = 4.0 * sqrt(0.05 * 0.95 / (double)n) + 0.002;
    assert_near(p_lo, 1.0 - level, tol);
    assert_near(p_hi, 1.0 - level, tol);
    assert_int_equal(r.rows[0].exceeded_low, 1);   /* low 50: far below */
    assert_int_equal(r.rows[0].exceeded_high, 0);  /* high 104: within */
    assert_int_equal(r.cov[0].x, 1);
    assert_int_equal(r.cov[1].x, 0);
    xm_backtest_result_clear(&r);
    xm_model_free(m);
}

static xm_model *two_assets(void)
{
    char p1[700], p2[700], files[1600];
    write_history("a.csv", 0.03, 90, 103, p1);
    write_history("b.csv", 0.05, 97, 120, p2);
    snprintf(files, sizeof files, "AAA: %s, BBB: %s", p1, p2);
    return model_with("  process: student_t\n  dof: 4\n"
                      "  jumps: {rate_per_year: 40, mean: -0.05, stdev: 0.03}\n"
                      "  assets: [{symbol: AAA, price: 1, vol: 0.5}, "
                      "{symbol: BBB, price: 1, vol: 0.5, jump_beta: 2}]\n"
                      "  correlation: [[1, 0.5], [0.5, 1]]",
                      files, 48);
}

static void test_threads(void **state)
{
    (void)state;
    xm_model *m = two_assets();
    xm_backtest_opts o = one_day(0.99, 3000);
    xm_backtest_result r1, r2;
    xm_error err;
    o.threads = 1;
    assert_int_equal(xm_backtest_run(m, &o, &r1, &err), XM_OK);
    o.threads = 2;
    assert_int_equal(xm_backtest_run(m, &o, &r2, &err), XM_OK);
    assert_int_equal(r1.n_days * r1.n_assets, 2);
    for (size_t k = 0; k < 2; k++) {  /* field by field: the struct has padding */
        const xm_backtest_row *a = &r1.rows[k], *b = &r2.rows[k];
        assert_memory_equal(&a->pred_low, &b->pred_low, sizeof a->pred_low);
        assert_memory_equal(&a->pred_high, &b->pred_high, sizeof a->pred_high);
        assert_true(a->low == b->low && a->high == b->high && a->asset == b->asset);
        assert_true(a->exceeded_low == b->exceeded_low && a->exceeded_high == b->exceeded_high);
    }
    assert_true(r1.rows[0].pred_low < 1.0 && r1.rows[1].pred_high > 1.0);
    xm_backtest_result_clear(&r1);
    xm_backtest_result_clear(&r2);
    xm_model_free(m);
}

static void expect_error(const xm_model *m, xm_backtest_opts o, xm_status want,
                         const char *text)
{
    xm_error err;
    assert_int_equal(xm_backtest_check(m, &o, &err), want);
    assert_contains(err.msg, text);
}

static void test_checks(void **state)
{
    (void)state;
    xm_model *m = two_assets();
    xm_backtest_opts o = one_day(0.99, 100);
    expect_error(m, (xm_backtest_opts){o.from, o.from - 86400, 0.99, 100, 1, 1, NULL},
                 XM_EUSAGE, "is after --to");
    expect_error(m, (xm_backtest_opts){o.from - 86400, o.to, 0.99, 100, 1, 1, NULL}, XM_EUSAGE,
                 "outside the history");
    expect_error(m, (xm_backtest_opts){o.from, o.to + 86400, 0.99, 100, 1, 1, NULL}, XM_EUSAGE,
                 "outside the history");
    expect_error(m, (xm_backtest_opts){o.from, o.to, 0.4, 100, 1, 1, NULL}, XM_EUSAGE,
                 "--level");
    m->steps = 100;
    m->horizon_days = 3.0;
    expect_error(m, o, XM_EMODEL, "whole number of steps per day");
    xm_model_free(m);
    const char text[] = "horizon_days: 1\nsteps: 4\nmarket:\n  process: gbm\n"
                        "  assets: [{symbol: A, price: 1, vol: 0.1}]\n";
    xm_error err;
    m = xm_model_load_string(text, sizeof text - 1, "nohist.yaml", &err);
    assert_non_null(m);
    expect_error(m, o, XM_EMODEL, "backtest needs market.history");
    xm_model_free(m);
}

static void test_stop(void **state)
{
    (void)state;
    xm_model *m = two_assets();
    volatile sig_atomic_t stop = 1;
    xm_backtest_opts o = one_day(0.99, 100);
    o.stop = &stop;
    xm_backtest_result r;
    xm_error err;
    assert_int_equal(xm_backtest_run(m, &o, &r, &err), XM_EINTR);
    assert_null(r.rows);
    xm_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_price), cmocka_unit_test(test_gbm_closed_form),
        cmocka_unit_test(test_threads),        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_stop),
    };
    return xm_run_tests(tests, setup, teardown);
}
