/* test_driver.c — the parallel loop over paths (core/driver.h): every path exactly once,
 * per-thread sums merged, a stop or a workspace failure ends even a huge run promptly. */
#include "xm_test.h"

#include <signal.h>

#include "core/driver.h"

/* A run of paths [lo, lo + n): hits[p - lo] counts the runs of path p; each thread sums its
 * paths in its workspace and `finish` adds the sums up. */
typedef struct {
    uint64_t lo;
    unsigned char *hits;                /* NULL: do not record (huge ranges) */
    uint64_t total, finished, allocs, frees, fail_alloc;  /* fail_alloc: fail the n-th (1..) */
    uint64_t stop_after;                /* > 0: raise *stop after that many paths */
    uint64_t cut;                       /* > 0: path cut - 1 raises *stop and is cut short */
    uint64_t ran;
    volatile sig_atomic_t *stop;
} test_ctx;

static void *ws_alloc(void *ctx)
{
    test_ctx *c = ctx;
    uint64_t n;
#pragma omp atomic capture
    n = ++c->allocs;
    if (n == c->fail_alloc)
        return NULL;
    return calloc(1, sizeof(uint64_t));
}

static void ws_free(void *ctx, void *ws)
{
    test_ctx *c = ctx;
#pragma omp atomic
    c->frees++;
    free(ws);
}

/* Called one thread at a time: no atomics needed. */
static void ws_finish(void *ctx, void *ws)
{
    test_ctx *c = ctx;
    c->total += *(uint64_t *)ws;
    c->finished++;
}

static xm_status path_fn(void *ctx, void *ws, uint64_t p)
{
    test_ctx *c = ctx;
    if (c->cut > 0 && p == c->cut - 1) {
        *c->stop = 1;
        return XM_EINTR;
    }
    if (c->hits != NULL)
        c->hits[p - c->lo]++;
    *(uint64_t *)ws += p;
    uint64_t n;
#pragma omp atomic capture
    n = ++c->ran;
    if (c->stop_after > 0 && n >= c->stop_after)
        *c->stop = 1;
    return XM_OK;
}

static xm_drive_spec spec(test_ctx *c)
{
    return (xm_drive_spec){.ctx = c, .ws_alloc = ws_alloc, .ws_free = ws_free,
                           .ws_finish = ws_finish, .path = path_fn};
}

static xm_run_opts opts(const test_ctx *c, int threads)
{
    return (xm_run_opts){.threads = threads, .stop = c->stop};
}

static void test_every_path_once(void **state)
{
    (void)state;
    const uint64_t ranges[][2] = {{0, 1}, {0, 1000}, {5, 6}, {7, 7}, {123, 200000},
                                  {(uint64_t)1 << 40, ((uint64_t)1 << 40) + 70001}};
    for (int threads = 1; threads <= 4; threads++)
        for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++) {
            uint64_t lo = ranges[k][0], hi = ranges[k][1], n = hi - lo;
            test_ctx c = {.lo = lo, .hits = calloc(n ? n : 1, 1)};
            xm_drive_spec s = spec(&c);
            s.chunk = (unsigned)(k % 3) * 7;  /* 0 (the default), 7, 14 */
            xm_run_opts o = opts(&c, threads);
            xm_drive_out out;
            assert_int_equal(xm_drive(&s, &o, lo, hi, &out), XM_OK);
            assert_int_equal(out.done, n);
            assert_int_equal(out.threads, threads);
            for (uint64_t i = 0; i < n; i++)
                if (c.hits[i] != 1)
                    fail_msg("path %llu of [%llu, %llu) ran %d times on %d threads",
                             (unsigned long long)(lo + i), (unsigned long long)lo,
                             (unsigned long long)hi, c.hits[i], threads);
            /* Per-thread sums merged: lo + ... + (hi - 1), exact in integers. */
            uint64_t want = n == 0 ? 0 : (lo + hi - 1) * n / 2;
            assert_int_equal(c.total, want);
            assert_int_equal(c.finished, (uint64_t)threads);
            assert_int_equal(c.allocs, c.frees);
            free(c.hits);
        }
}

/* 10^12 paths would run for days: a stop raised by the k-th path ends the run in its first
 * block, and the paths done are counted exactly. */
static void test_stop_on_huge_range(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 3; threads++) {
        volatile sig_atomic_t stop = 0;
        test_ctx c = {.stop = &stop, .stop_after = 1000};
        xm_drive_spec s = spec(&c);
        xm_run_opts o = opts(&c, threads);
        xm_drive_out out;
        assert_int_equal(xm_drive(&s, &o, 0, 1000000000000ull, &out), XM_EINTR);
        assert_int_equal(out.done, c.ran);
        assert_true(out.done >= 1000);
        assert_true(out.done < 1000 + (uint64_t)threads);  /* only paths already started */
        assert_int_equal(c.finished, (uint64_t)threads);  /* sums of a stopped run still merge */
        assert_int_equal(c.allocs, c.frees);
    }
    /* Raised before the run: nothing runs. */
    volatile sig_atomic_t stop = 1;
    test_ctx c = {.stop = &stop};
    xm_drive_spec s = spec(&c);
    xm_run_opts o = opts(&c, 2);
    xm_drive_out out;
    assert_int_equal(xm_drive(&s, &o, 0, 1000000000000ull, &out), XM_EINTR);
    assert_int_equal(out.done, 0);
    assert_int_equal(c.allocs, 0);   /* no workspace built for a run stopped before it starts */
}

/* A path cut short by a stop is not counted: a run whose last path was cut is interrupted,
 * not complete, though every path was started. */
static void test_cut_path_not_counted(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        volatile sig_atomic_t stop = 0;
        test_ctx c = {.stop = &stop, .cut = 10};
        xm_drive_spec s = spec(&c);
        xm_run_opts o = opts(&c, threads);
        xm_drive_out out;
        assert_int_equal(xm_drive(&s, &o, 0, 10, &out), XM_EINTR);
        assert_int_equal(out.done, c.ran);
        assert_true(out.done <= 9);
    }
}

/* A thread without a workspace stops the run (XM_ENOMEM), however large; every workspace that
 * was allocated is freed. */
static void test_workspace_failure(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 3; threads++) {
        test_ctx c = {.fail_alloc = (uint64_t)threads};  /* the last thread's fails */
        xm_drive_spec s = spec(&c);
        xm_run_opts o = opts(&c, threads);
        xm_drive_out out;
        assert_int_equal(xm_drive(&s, &o, 0, 1000000000000ull, &out), XM_ENOMEM);
        assert_true(out.done < 2 * XM_DRIVE_BLOCK);
        assert_int_equal(c.allocs, (uint64_t)threads);
        assert_int_equal(c.frees, (uint64_t)threads - 1);
        if (threads == 1)
            assert_int_equal(out.done, 0);
    }
}

/* Progress: one call at a time, at multiples of mask + 1 of lo + paths done, and at the end. */
typedef struct {
    uint64_t calls, last_total, saw_end, bad;
} progress_log;

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    progress_log *l = ctx;
    l->calls++;
    l->last_total = total;
    if (done == total)
        l->saw_end = 1;
    else if (done % 64 != 0)
        l->bad++;
}

static void test_progress(void **state)
{
    (void)state;
    test_ctx c = {0};
    progress_log l = {0};
    xm_drive_spec s = spec(&c);
    s.progress_mask = 63;
    xm_run_opts o = opts(&c, 2);
    o.progress = progress;
    o.progress_ctx = &l;
    xm_drive_out out;
    /* Paths 100..1099 of a run of 1100 (the last chunk of it). */
    assert_int_equal(xm_drive(&s, &o, 100, 1100, &out), XM_OK);
    /* 128, 192, ..., 1088 (16 multiples of 64 in (100, 1100]) and 1100 itself. */
    assert_int_equal(l.calls, 17);
    assert_int_equal(l.bad, 0);
    assert_int_equal(l.saw_end, 1);
    assert_int_equal(l.last_total, 1100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_path_once),
        cmocka_unit_test(test_stop_on_huge_range),
        cmocka_unit_test(test_cut_path_not_counted),
        cmocka_unit_test(test_workspace_failure),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
