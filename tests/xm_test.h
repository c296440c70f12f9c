/* xm_test.h — what every cmocka test of xmrisk includes: cmocka's required headers in the
 * required order, and a few helpers for messages and temporary files. */
#ifndef XM_TEST_H
#define XM_TEST_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <cmocka.h>

/* Run a group of tests, or only some of its cases: XM_TEST_FILTER=PATTERN runs the cases whose
 * name matches, XM_TEST_SKIP=PATTERN skips those that match (cmocka's patterns: `*` any run of
 * characters, `?` one character), e.g. `XM_TEST_FILTER=test_wrong_types build/tests/test_model`.
 * Unset or empty: every case runs. */
static inline void xm_test_apply_filters(void)
{
    const char *run = getenv("XM_TEST_FILTER"), *skip = getenv("XM_TEST_SKIP");
    if (run != NULL && run[0] != '\0')
        cmocka_set_test_filter(run);
    if (skip != NULL && skip[0] != '\0')
        cmocka_set_skip_filter(skip);
}

#define xm_run_tests(group, setup, teardown)                                               \
    (xm_test_apply_filters(), cmocka_run_group_tests(group, setup, teardown))
#define xm_run_tests_name(name, group, setup, teardown)                                    \
    (xm_test_apply_filters(), cmocka_run_group_tests_name(name, group, setup, teardown))

/* Fail, printing both strings, unless `needle` occurs in `haystack`. */
#define assert_contains(haystack, needle)                                                  \
    do {                                                                                   \
        const char *xm_h_ = (haystack), *xm_n_ = (needle);                                 \
        if (xm_h_ == NULL || strstr(xm_h_, xm_n_) == NULL)                                 \
            fail_msg("expected \"%s\" in \"%s\"", xm_n_, xm_h_ ? xm_h_ : "(null)");        \
    } while (0)

/* |a - b| <= tol, printing the values on failure. */
#define assert_near(a, b, tol)                                                             \
    do {                                                                                   \
        double xm_a_ = (a), xm_b_ = (b), xm_t_ = (tol);                                    \
        if (!(xm_a_ - xm_b_ <= xm_t_ && xm_b_ - xm_a_ <= xm_t_))                           \
            fail_msg("%s = %.17g, expected %.17g within %.3g", #a, xm_a_, xm_b_, xm_t_);  \
    } while (0)

/* C = A B^T for n*n row-major matrices (A A^T with b = a): reconstructs L L^T. */
static inline void xm_test_mul_abt(const double *a, const double *b, size_t n, double *c)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < n; k++)
                s += a[i * n + k] * b[j * n + k];
            c[i * n + j] = s;
        }
}

/* Write `text` to a fresh file in a temporary directory; return its path (static buffer
 * owned by the caller's scope: copy it if two are needed at once). */
static inline const char *xm_test_write_file(const char *basename, const char *text)
{
    static char path[512];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/xmtest-%ld-%s", dir ? dir : "/tmp", (long)getpid(), basename);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fail_msg("cannot write %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

/* A stop flag raised by a progress callback (xmrisk/run_opts.h) once `at` paths are done:
 * progress = xm_test_stop_at, progress_ctx = the xm_test_stopper, stop = &its flag. */
typedef struct {
    volatile sig_atomic_t flag;
    uint64_t at;
} xm_test_stopper;

static inline void xm_test_stop_at(void *ctx, uint64_t done, uint64_t total)
{
    xm_test_stopper *s = (xm_test_stopper *)ctx;  /* a cast: C++ tests include this too */
    (void)total;
    if (done >= s->at)
        s->flag = 1;
}

#endif /* XM_TEST_H */
