/* bench_cascade.c — the cascade engine on a whole model: paths per second on 1..T threads
 * (xm_run_cascades, the work of `xmrisk run` without reading the model and writing files),
 * and the fast engine beside the naive one (its peer) in the same process.
 *
 *   bench_cascade MODEL [--paths N] [--threads LIST] [--reps R] [--peer-paths K]
 *                       [--fast-paths F] [--seed S]
 *
 * Prints: accounts, units, positions; per thread count the median wall time of R runs of N
 * paths, paths/s (median and best), the parallel efficiency against the 1-thread row
 * (paths/s(T) / (T paths/s(1))) and cpu% (process CPU time / (wall x threads): well under 100
 * means the cores were shared and the row is not to be trusted); that every run gave
 * bit-identical results; peak RSS after the runs. Then the peer: paths 0 .. K-1 on one thread
 * through a fast and a naive workspace, byte-compared path by path (metrics, lowest marks,
 * impact at the lowest marks, per-account sums), with health checks per account-step and per
 * unit-step and the time per path of each; the fast engine alone on F paths for a steadier
 * checks figure. Exit status 1 when any comparison fails.
 *
 * Defaults: --paths 200, --threads "1,<cores>", --reps 3, --peer-paths 2, --fast-paths 16,
 * --seed the model's. --peer-paths 0 skips the naive engine (it checks every unit in every
 * round: on a million accounts about a minute per path).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <omp.h>

#include "xmrisk/cascade.h"
#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/cascade_run.h"

#define MAX_REPS 51
#define MAX_THREAD_COUNTS 16

typedef struct {
    const char *model;
    uint64_t paths, peer_paths, fast_paths, seed;
    int has_seed, reps, n_threads;
    int threads[MAX_THREAD_COUNTS];
} options;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fputs("usage: bench_cascade MODEL [--paths N] [--threads LIST] [--reps R] [--peer-paths K]\n"
          "                     [--fast-paths F] [--seed S]\n"
          "  --paths       paths per timed run (default 200)\n"
          "  --threads     comma-separated thread counts (default 1,<cores>)\n"
          "  --reps        timed runs per thread count; the median is reported (default 3)\n"
          "  --peer-paths  paths run through both the fast and the naive engine\n"
          "                (default 2; 0: skip)\n"
          "  --fast-paths  paths run through the fast engine alone to count checks (default 16)\n"
          "  --seed        paths' seed (default: the model's)\n",
          f);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s ? strtoull(s, &end, 10) : 0;
    if (s == NULL || errno != 0 || *end != '\0' || end == s || *s == '-' || v < min || v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_threads(const char *s, options *o)
{
    o->n_threads = 0;
    while (s != NULL && *s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno != 0 || end == s || v < 1 || v > 1024 || o->n_threads == MAX_THREAD_COUNTS)
            return -1;
        o->threads[o->n_threads++] = (int)v;
        if (*end == ',')
            end++;
        else if (*end != '\0')
            return -1;
        s = end;
    }
    return o->n_threads > 0 ? 0 : -1;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->paths = 200;
    o->reps = 3;
    o->peer_paths = 2;
    o->fast_paths = 16;
    o->threads[0] = 1;
    o->threads[1] = omp_get_num_procs();
    o->n_threads = o->threads[1] > 1 ? 2 : 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t v;
        int ok = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (a[0] != '-' && o->model == NULL) {
            o->model = a;
            continue;
        } else if (strcmp(a, "--paths") == 0) {
            ok = parse_u64(val, 1, UINT64_C(1) << 40, &o->paths) == 0;
        } else if (strcmp(a, "--reps") == 0) {
            ok = parse_u64(val, 1, MAX_REPS, &v) == 0;
            o->reps = (int)v;
        } else if (strcmp(a, "--peer-paths") == 0) {
            ok = parse_u64(val, 0, UINT64_C(1) << 20, &o->peer_paths) == 0;
        } else if (strcmp(a, "--fast-paths") == 0) {
            ok = parse_u64(val, 0, UINT64_C(1) << 20, &o->fast_paths) == 0;
        } else if (strcmp(a, "--seed") == 0) {
            ok = parse_u64(val, 0, UINT64_MAX, &o->seed) == 0;
            o->has_seed = 1;
        } else if (strcmp(a, "--threads") == 0) {
            ok = parse_threads(val, o) == 0;
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "bench_cascade: bad argument '%s'%s%s\n", a, val ? " " : "",
                    val ? val : "");
            usage(stderr);
            return -1;
        }
        i++;
    }
    if (o->model == NULL) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;   /* Linux: kilobytes */
}

static void print_load(const char *when)
{
    char buf[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fgets(buf, sizeof buf, f) == NULL)
            strcpy(buf, "?\n");
        fclose(f);
    }
    printf("load average %s: %s", when, buf);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* ---- comparing results ---- */

static int same_acc(const xm_cascade_acc *x, const xm_cascade_acc *y)
{
    size_t n = x->n_accounts;
    return n == y->n_accounts &&
           memcmp(x->liq_paths, y->liq_paths, n * sizeof *x->liq_paths) == 0 &&
           memcmp(x->first_step_sum, y->first_step_sum, n * sizeof *x->first_step_sum) == 0 &&
           memcmp(x->loss_micro, y->loss_micro, n * sizeof *x->loss_micro) == 0 &&
           memcmp(x->cascade_hist, y->cascade_hist, sizeof x->cascade_hist) == 0 &&
           x->cascades == y->cascades;
}

/* Byte-identical results (model.md §2: model, seed and path count only). */
static int same_result(const xm_run_result *a, const xm_run_result *b)
{
    size_t cells = a->paths_done * a->n_assets;
    return a->paths_done == b->paths_done &&
           memcmp(a->pm, b->pm, a->paths_done * sizeof *a->pm) == 0 &&
           memcmp(a->min_ratio, b->min_ratio, cells * sizeof *a->min_ratio) == 0 &&
           memcmp(a->impact_at_min, b->impact_at_min, cells * sizeof *a->impact_at_min) == 0 &&
           same_acc(a->acc, b->acc);
}

/* ---- paths per second ---- */

/* R runs of o->paths paths on `threads` threads; prints one row. Returns the median paths/s,
 * or -1 on failure / a result different from *first (kept from the first run overall). */
static double time_threads(const xm_model *m, const options *o, int threads, double pps1,
                           xm_run_result **first)
{
    double wall[MAX_REPS], pps[MAX_REPS], cpu = 0.0, wall_sum = 0.0;
    int identical = 1;
    for (int k = 0; k < o->reps; k++) {
        xm_run_opts so = {.paths = o->paths, .seed = o->has_seed ? o->seed : m->seed,
                          .threads = threads};
        xm_run_result *r = NULL;
        xm_error err;
        double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t0 = clock_s(CLOCK_MONOTONIC);
        if (xm_run_cascades(m, &so, 0, &r, &err) != XM_OK) {
            fprintf(stderr, "bench_cascade: %s\n", err.msg);
            xm_run_result_free(r);
            return -1.0;
        }
        wall[k] = clock_s(CLOCK_MONOTONIC) - t0;
        cpu += clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        wall_sum += wall[k] * threads;
        pps[k] = (double)o->paths / wall[k];
        if (*first == NULL)
            *first = r;
        else {
            identical &= same_result(*first, r);
            xm_run_result_free(r);
        }
    }
    double med_wall = median(wall, o->reps), med_pps = median(pps, o->reps);
    double best = pps[o->reps - 1];
    printf("%7d %10.2f %12.1f %12.1f", threads, med_wall, med_pps, best);
    if (pps1 > 0.0)
        printf(" %10.1f%%", 100.0 * med_pps / (threads * pps1));
    else
        printf(" %11s", "-");
    printf(" %6.0f %10s\n", 100.0 * cpu / wall_sum, identical ? "yes" : "NO");
    return identical ? med_pps : -1.0;
}

/* ---- the peer: fast beside naive ---- */

typedef struct {
    xm_cascade_ws *ws;
    xm_cascade_acc *acc;
    uint64_t checks;
    double seconds;
} engine;

static int engine_init(engine *e, const xm_model *m, int naive)
{
    xm_error err;
    memset(e, 0, sizeof *e);
    double t0 = clock_s(CLOCK_MONOTONIC);
    e->ws = xm_cascade_ws_alloc(m, naive, &err);
    e->acc = e->ws ? xm_cascade_acc_alloc(m->book->n_accounts, &err) : NULL;
    if (e->acc == NULL) {
        fprintf(stderr, "bench_cascade: %s\n", err.msg);
        return -1;
    }
    printf("  %s workspace set up in %.2f s\n", naive ? "naive" : "fast ",
           clock_s(CLOCK_MONOTONIC) - t0);
    return 0;
}

static void engine_free(engine *e)
{
    xm_cascade_acc_free(e->acc);
    xm_cascade_ws_free(e->ws);
}

typedef struct {
    xm_path_metrics pm;
    double *min_ratio, *impact;
} path_out;

static void engine_path(engine *e, uint64_t seed, uint64_t p, path_out *out)
{
    double t0 = clock_s(CLOCK_MONOTONIC);
    xm_cascade_run_path(e->ws, seed, p, &out->pm, out->min_ratio, out->impact, e->acc);
    e->seconds += clock_s(CLOCK_MONOTONIC) - t0;
    e->checks += xm_cascade_checks(e->ws);
}

static void print_engine(const char *name, const engine *e, const xm_model *m, size_t units,
                         uint64_t paths)
{
    double steps = (double)m->steps * (double)paths;
    printf("  %-5s %6llu paths %14llu checks %12.5f %12.5f %12.4f\n", name,
           (unsigned long long)paths, (unsigned long long)e->checks,
           (double)e->checks / (steps * (double)m->book->n_accounts),
           (double)e->checks / (steps * (double)units), e->seconds / (double)paths);
}

static size_t count_units(const xm_accounts *b)
{
    size_t n = 0;
    for (size_t a = 0; a < b->n_accounts; a++)
        n += b->mode[a] == XM_CROSS ? 1 : b->first[a + 1] - b->first[a];
    return n;
}

/* Paths 0 .. K-1 through both engines, compared path by path; then the fast one alone on F
 * paths. Returns 0 when every comparison held. */
static int peer(const xm_model *m, const options *o)
{
    uint64_t seed = o->has_seed ? o->seed : m->seed;
    size_t n = m->market.n, units = count_units(m->book);
    engine fast, naive, alone;
    int ok = 1;
    double *buf = calloc(4 * (n ? n : 1), sizeof *buf);
    if (buf == NULL || engine_init(&fast, m, 0) || engine_init(&naive, m, 1))
        return -1;
    path_out a = {.min_ratio = buf, .impact = buf + n};
    path_out b = {.min_ratio = buf + 2 * n, .impact = buf + 3 * n};
    for (uint64_t p = 0; p < o->peer_paths; p++) {
        engine_path(&fast, seed, p, &a);
        engine_path(&naive, seed, p, &b);
        ok &= memcmp(&a.pm, &b.pm, sizeof a.pm) == 0 &&
              memcmp(a.min_ratio, b.min_ratio, n * sizeof *buf) == 0 &&
              memcmp(a.impact, b.impact, n * sizeof *buf) == 0;
    }
    ok &= same_acc(fast.acc, naive.acc);
    printf("\n  %-5s %12s %21s %12s %12s %12s\n", "", "", "", "per account", "per unit",
           "s per path");
    print_engine("fast", &fast, m, units, o->peer_paths);
    print_engine("naive", &naive, m, units, o->peer_paths);
    printf("  fast vs naive on the same %llu paths: %s; %.1fx fewer checks, %.1fx faster\n",
           (unsigned long long)o->peer_paths, ok ? "byte-identical" : "DIFFERENT",
           (double)naive.checks / (double)(fast.checks ? fast.checks : 1),
           naive.seconds / (fast.seconds > 0.0 ? fast.seconds : 1e-9));
    engine_free(&naive);
    engine_free(&fast);
    if (o->fast_paths > 0 && engine_init(&alone, m, 0) == 0) {
        for (uint64_t p = 0; p < o->fast_paths; p++)
            engine_path(&alone, seed, p, &a);
        print_engine("fast", &alone, m, units, o->fast_paths);
        engine_free(&alone);
    }
    free(buf);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    xm_error err;
    double t0 = clock_s(CLOCK_MONOTONIC);
    xm_model *m = xm_model_load(o.model, &err);
    if (m == NULL || m->book == NULL) {
        fprintf(stderr, "bench_cascade: %s\n", m ? "the model has no accounts" : err.msg);
        xm_model_free(m);
        return 2;
    }
    printf("model %s: %zu accounts, %zu units, %zu positions, %zu assets, %u steps; "
           "loaded in %.2f s\n",
           m->name, m->book->n_accounts, count_units(m->book), m->book->n_positions,
           m->market.n, m->steps, clock_s(CLOCK_MONOTONIC) - t0);
    printf("%d cores; %llu paths per run, median of %d runs\n", omp_get_num_procs(),
           (unsigned long long)o.paths, o.reps);
    print_load("before");
    printf("\n%7s %10s %12s %12s %11s %6s %10s\n", "threads", "wall s", "paths/s", "(best)",
           "efficiency", "cpu%", "identical");
    xm_run_result *first = NULL;
    double pps1 = -1.0;
    int status = 0;
    for (int k = 0; k < o.n_threads; k++) {
        double pps = time_threads(m, &o, o.threads[k], o.threads[k] == 1 ? 0.0 : pps1, &first);
        if (pps < 0.0)
            status = 1;
        if (o.threads[k] == 1)
            pps1 = pps;
    }
    xm_run_result_free(first);
    printf("peak RSS after the runs: %.0f MB\n", peak_rss_mb());
    print_load("after");
    if (o.peer_paths > 0) {
        printf("\npeer: fast and naive engines in this process, one thread\n");
        if (peer(m, &o) != 0)
            status = 1;
        printf("peak RSS at the end: %.0f MB\n", peak_rss_mb());
    }
    xm_model_free(m);
    return status;
}
