/* test_market_run.c — whole runs: determinism across thread counts, stopping, statistics and
 * result files. */
#include "xm_test.h"

#include <math.h>
#include <sys/stat.h>

#include "xmrisk/model.h"
#include "xmrisk/outfile.h"
#include "xmrisk/market_report.h"
#include "xmrisk/market_run.h"
#include "xmrisk/estimators.h"

/* A 3-asset student_t + jumps model built in code (the loader has its own tests). */
static xm_model *make_model(void)
{
    xm_model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    xm_error err;
    assert_int_equal(xm_market_init(&m->market, 3, &err), XM_OK);
    const char *sym[] = {"BTC", "ETH", "SOL"};
    const double price[] = {93859.71, 3224.99, 137.9}, vol[] = {0.4713, 0.6938, 0.8377};
    for (int i = 0; i < 3; i++) {
        strcpy(m->market.assets[i].symbol, sym[i]);
        m->market.assets[i].price = price[i];
        m->market.assets[i].vol = vol[i];
        m->market.assets[i].jump_beta = 1.0 + 0.3 * i;
    }
    const double c[9] = {1, 0.794, 0.765, 0.794, 1, 0.754, 0.765, 0.754, 1};
    memcpy(m->market.corr, c, sizeof c);
    m->market.process = XM_PROCESS_STUDENT_T;
    m->market.dof = 4.0;
    m->market.jumps = (xm_jumps){1, 40.0, -0.06, 0.04};
    assert_int_equal(xm_market_prepare(&m->market, "test", &err), XM_OK);
    m->name = strdup("simtest");
    m->path = strdup("<code>");
    m->seed = 20261125;
    m->paths = 3000;
    m->horizon_days = 1.0;
    m->steps = 288;
    return m;
}

static xm_market_result *run(const xm_model *m, int threads, uint64_t paths)
{
    xm_run_opts o = {.paths = paths, .seed = m->seed, .threads = threads};
    xm_market_result *r = NULL;
    xm_error err;
    assert_int_equal(xm_market_run(m, &o, &r, &err), XM_OK);
    assert_int_equal(r->paths_done, paths);
    return r;
}

/* model.md §2: results depend on model, seed and path count only. */
static void test_bit_identical_across_threads(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_market_result *a = run(m, 1, m->paths), *b = run(m, 2, m->paths), *c = run(m, 3, m->paths);
    size_t cells = m->paths * m->market.n;
    assert_int_equal(b->threads, 2);
    assert_memory_equal(a->log_return, b->log_return, cells * sizeof(double));
    assert_memory_equal(a->min_ratio, b->min_ratio, cells * sizeof(double));
    assert_memory_equal(a->jumps, b->jumps, m->paths * sizeof(uint64_t));
    assert_memory_equal(a->log_return, c->log_return, cells * sizeof(double));
    /* Summaries reduce in path order: identical too. */
    xm_error err;
    xm_market_summary *sa = xm_market_summary_compute(m, a, &err), *sb = xm_market_summary_compute(m, b, &err);
    assert_memory_equal(sa->assets, sb->assets, m->market.n * sizeof *sa->assets);
    /* A prefix of paths is the same paths: path p does not depend on the path count. */
    xm_market_result *d = run(m, 2, 1000);
    assert_memory_equal(a->log_return, d->log_return, 1000 * m->market.n * sizeof(double));
    /* And there are jumps to compare (rate 40/yr over 1 day x 3000 paths ~ 330). */
    uint64_t jumps = 0;
    for (uint64_t p = 0; p < m->paths; p++)
        jumps += a->jumps[p];
    assert_true(jumps > 200);
    xm_market_summary_free(sa);
    xm_market_summary_free(sb);
    xm_market_result_free(a);
    xm_market_result_free(b);
    xm_market_result_free(c);
    xm_market_result_free(d);
    xm_model_free(m);
}

static void test_stop_flag(void **state)
{
    (void)state;
    xm_model *m = make_model();
    volatile sig_atomic_t stop = 1;
    xm_run_opts o = {.paths = 500, .seed = 1, .threads = 2, .stop = &stop};
    xm_market_result *r = NULL;
    xm_error err;
    assert_int_equal(xm_market_run(m, &o, &r, &err), XM_EINTR);
    assert_non_null(r);
    assert_int_equal(r->paths_done, 0);
    assert_contains(err.msg, "interrupted after 0 of 500 paths");
    xm_market_result_free(r);
    o.paths = 0;
    assert_int_equal(xm_market_run(m, &o, &r, &err), XM_EUSAGE);
    assert_null(r);
    xm_model_free(m);
}

/* A stop raised mid-run (progress comes every 64 paths: at 1024) ends a run of 2 * 10^7 paths
 * within the block of 65536 paths it was raised in: the rest are not even looked at one by
 * one (core/driver.h). */
static void test_stop_huge_run(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_test_stopper stop = {0, 1000};
    xm_run_opts o = {.paths = 20000000, .seed = 1, .threads = 2, .stop = &stop.flag,
                     .progress = xm_test_stop_at, .progress_ctx = &stop};
    xm_market_result *r = NULL;
    xm_error err;
    assert_int_equal(xm_market_run(m, &o, &r, &err), XM_EINTR);
    assert_non_null(r);
    assert_true(r->paths_done >= 1024 && r->paths_done < 65536);
    char want[96];
    snprintf(want, sizeof want, "run: interrupted after %llu of 20000000 paths",
             (unsigned long long)r->paths_done);
    assert_string_equal(err.msg, want);
    xm_market_result_free(r);
    xm_model_free(m);
}

static void test_moments_and_quantiles(void **state)
{
    (void)state;
    /* Mean 5, sample sd sqrt(32/7) (hand computation). */
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    xm_moments mo = xm_stats_moments(x, 8);
    assert_near(mo.mean, 5.0, 1e-15);
    assert_near(mo.sd, sqrt(32.0 / 7.0), 1e-15);
    assert_near(mo.stderr_, sqrt(32.0 / 7.0) / sqrt(8.0), 1e-15);
    xm_moments empty = xm_stats_moments(x, 0);
    assert_true(empty.mean == 0 && empty.sd == 0 && empty.stderr_ == 0);
    /* Type-7 quantiles of 1..10 against numpy.quantile (its default is type 7):
     * q(0.9) = 9.1, q(0.5) = 5.5, q(0.999) = 9.991, q(0.01) = 1.09. */
    double y[10] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    xm_stats_sort(y, 10);
    assert_near(xm_stats_quantile_sorted(y, 10, 0.9), 9.1, 1e-12);
    assert_near(xm_stats_quantile_sorted(y, 10, 0.5), 5.5, 1e-12);
    assert_near(xm_stats_quantile_sorted(y, 10, 0.999), 9.991, 1e-12);
    assert_near(xm_stats_quantile_sorted(y, 10, 0.01), 1.09, 1e-12);
    assert_near(xm_stats_quantile_sorted(y, 10, 1.0), 10.0, 0);
    assert_near(xm_stats_quantile_sorted(y, 10, 0.0), 1.0, 0);
    assert_near(xm_stats_quantile_sorted(y, 0, 0.5), 0.0, 0);
}

static void test_wilson(void **state)
{
    (void)state;
    double lo, hi;
    /* Newcombe, Stat. Med. 17 (1998) 857-872, Table I: 81/263 -> Wilson 0.2553-0.3662
     * (more digits from the closed form, evaluated independently in Python). */
    xm_stats_wilson(81, 263, XM_Z95, &lo, &hi);
    assert_near(lo, 0.255288519878, 1e-11);
    assert_near(hi, 0.366209576983, 1e-11);
    xm_stats_wilson(0, 50, XM_Z95, &lo, &hi);
    assert_near(lo, 0.0, 1e-15);
    assert_near(hi, 0.071347599133, 1e-11);
    xm_stats_wilson(50, 50, XM_Z95, &lo, &hi);
    assert_near(lo, 0.928652400867, 1e-11);
    assert_near(hi, 1.0, 1e-15);
    xm_stats_wilson(0, 0, XM_Z95, &lo, &hi);
    assert_true(lo == 0.0 && hi == 1.0);
}

static int file_exists(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static void test_report_files(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_market_result *r = run(m, 2, 200);
    xm_error err;
    xm_market_summary *s = xm_market_summary_compute(m, r, &err);
    assert_non_null(s);
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/xmtest-report-%ld/nested/out", (long)getpid());
    assert_int_equal(xm_market_report_write(dir, m, r, s, &err), XM_OK);
    assert_true(file_exists(dir, "summary.json"));
    assert_true(file_exists(dir, "paths.csv"));
    char tmpname[64];
    snprintf(tmpname, sizeof tmpname, ".summary.json.tmp.%ld", (long)getpid());
    assert_false(file_exists(dir, tmpname));
    /* An output "directory" that is a file: XM_EIO, nothing written. */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/summary.json/sub", dir);
    assert_int_equal(xm_market_report_write(bad, m, r, s, &err), XM_EIO);
    assert_contains(err.msg, "summary.json");
    xm_market_summary_free(s);
    xm_market_result_free(r);
    xm_model_free(m);
}

/* Unwritable directory: EIO from open, and no temporary file left. */
static void test_outfile_unwritable(void **state)
{
    (void)state;
    xm_outfile o;
    xm_error err;
    assert_int_equal(xm_outfile_open(&o, "/nonexistent-xm-dir", "a.json", &err), XM_EIO);
    assert_contains(err.msg, "/nonexistent-xm-dir/a.json: cannot write");
    xm_outfile_abort(&o);
    /* /dev/full accepts the open, fails the flush: the commit reports ENOSPC. */
    if (access("/dev/full", W_OK) == 0) {
        memset(&o, 0, sizeof o);
        o.fp = fopen("/dev/full", "w");
        snprintf(o.final_path, sizeof o.final_path, "/tmp/xmtest-never-%ld", (long)getpid());
        snprintf(o.tmp_path, sizeof o.tmp_path, "/tmp/xmtest-never-tmp-%ld", (long)getpid());
        fputs("x", o.fp);
        assert_int_equal(xm_outfile_commit(&o, &err), XM_EIO);
        assert_contains(err.msg, "No space left on device");
        assert_int_equal(access(o.final_path, F_OK), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_identical_across_threads),
        cmocka_unit_test(test_stop_flag),
        cmocka_unit_test(test_stop_huge_run),
        cmocka_unit_test(test_moments_and_quantiles),
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_report_files),
        cmocka_unit_test(test_outfile_unwritable),
    };
    return xm_run_tests(tests, NULL, NULL);
}
