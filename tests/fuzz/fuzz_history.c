/* fuzz_history.c — libFuzzer harness: any bytes as a price history file (include/xmrisk/history.h).
 *
 * The input is written to DIR/h.csv (DIR: a private temporary directory under $TMPDIR) and
 * loaded with xm_history_load(), with opts chosen by the input's last byte: none, drop_last,
 * or an `until` at the middle of the first and last rows' times.
 *
 * Besides crashes, leaks and sanitizer reports, the harness aborts when a documented property
 * does not hold:
 *  - a failure leaves a non-empty one-line message with XM_EMODEL, XM_EIO or XM_ENOMEM;
 *  - a success gives an interval > 0, a whole number of minutes; times strictly increasing,
 *    each step a whole number of intervals, the gap counts equal to a recount; prices finite,
 *    > 0, low <= min(open, close) <= max(open, close) <= high; each row's time formats and
 *    parses back to itself; each row lies in the day xm_history_day() gives for it; the
 *    alignment of the history with itself is the identity.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmrisk/history.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[4096], g_path[4200];

static void cleanup(void)
{
    remove(g_path);
    rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/xm_fuzz_history.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(g_dir) == NULL) {
        perror(g_dir);
        abort();
    }
    snprintf(g_path, sizeof g_path, "%s/h.csv", g_dir);
    atexit(cleanup);
    return 0;
}

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz_history: %s:%d: property failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                                    \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

static void check_rows(const xm_history *h)
{
    size_t n = xm_history_n(h), gaps = 0, missing = 0;
    int64_t iv = xm_history_interval(h);
    const int64_t *t = xm_history_t(h);
    const double *o = xm_history_open(h), *hi = xm_history_high(h), *lo = xm_history_low(h),
                 *c = xm_history_close(h);
    CHECK(iv > 0 && iv % 60 == 0);
    for (size_t k = 0; k < n; k++) {
        CHECK(isfinite(o[k]) && isfinite(hi[k]) && isfinite(lo[k]) && isfinite(c[k]));
        CHECK(lo[k] > 0.0 && lo[k] <= fmin(o[k], c[k]) && fmax(o[k], c[k]) <= hi[k]);
        if (k > 0) {
            CHECK(t[k] > t[k - 1] && (t[k] - t[k - 1]) % iv == 0);
            gaps += t[k] - t[k - 1] > iv;
            missing += (size_t)((t[k] - t[k - 1]) / iv - 1);
        }
        char buf[48];
        int64_t back;
        xm_history_format_time(t[k], buf, sizeof buf);
        CHECK(xm_history_parse_time(buf, strlen(buf), &back) == 0 && back == t[k]);
        size_t first, m = xm_history_day(h, t[k], &first);
        CHECK(first <= k && k < first + m);
    }
    if (xm_history_dropped(h, NULL) == 0) { /* the counts cover the rows kept and dropped */
        CHECK(xm_history_gaps(h)->n_gaps == gaps);
        CHECK(xm_history_gaps(h)->n_missing == missing);
    }
}

static void check_align(const xm_history *h)
{
    const xm_history *hs[2] = {h, h};
    xm_history_aligned al;
    xm_error err;
    CHECK(xm_history_align(hs, 2, &al, &err) == XM_OK);
    CHECK(al.n == xm_history_n(h));
    for (size_t k = 0; k < al.n; k++)
        CHECK(al.row[2 * k] == k && al.row[2 * k + 1] == k && al.t[k] == xm_history_t(h)[k]);
    xm_history_aligned_clear(&al);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(g_path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(g_path);
        abort();
    }
    xm_history_opts o = {0};
    unsigned mode = size > 0 ? data[size - 1] % 3u : 0u;
    o.drop_last = mode == 1;
    xm_error err;
    xm_error_clear(&err);
    xm_history *h = xm_history_load(g_path, mode == 0 ? NULL : &o, &err);
    if (h == NULL) {
        CHECK(err.status == XM_EMODEL || err.status == XM_EIO || err.status == XM_ENOMEM);
        CHECK(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
        return 0;
    }
    check_rows(h);
    check_align(h);
    if (mode == 2 && xm_history_n(h) > 0) { /* again with an until in the middle */
        const int64_t *t = xm_history_t(h);
        o.has_until = 1;
        o.until = t[0] / 2 + t[xm_history_n(h) - 1] / 2;
        xm_history *u = xm_history_load(g_path, &o, &err);
        CHECK(u != NULL && xm_history_n(u) <= xm_history_n(h));
        size_t n = xm_history_n(u);
        CHECK(n == 0 || xm_history_t(u)[n - 1] + xm_history_interval(u) <= o.until);
        CHECK(n + xm_history_dropped(u, NULL) == xm_history_n(h));
        check_rows(u);
        xm_history_free(u);
    }
    xm_history_free(h);
    return 0;
}
