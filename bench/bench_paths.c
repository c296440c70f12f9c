/* bench_paths.c — cost of path generation (xm_path_step) against the cost of its normals.
 *
 * Cases (all on a market built in code: n assets, vols 0.5..1.2, one-factor correlation
 * rho_ij = b_i b_j with b in 0.95..0.6, tau = one minute in years, 1,440 steps = one day):
 *   full        xm_path_begin + steps x xm_path_step per path (gbm), prices consumed
 *               (running min per asset, folded into a checksum), 1 thread and T threads;
 *   floor       the same number of standard normals, drawn alone with
 *               gsl_ran_gaussian_ziggurat on an xm_gsl_rng_pcg64 generator reseeded per path
 *               with xm_pcg64_seed_path, summed into a checksum, 1 thread and T threads;
 *   student_t   full with nu = 4 (one chi2 per step), 1 thread;
 *   gbm+jumps   full with market-wide jumps (one Poisson per step), 1 thread.
 * A figure is ns per asset-step (ns per normal for `floor`) of the median of --reps timed
 * repetitions after one untimed warm-up; "per core" multiplies by the thread count.
 *
 * Usage: bench_paths [--paths P] [--steps S] [--assets N] [--threads T] [--reps R]
 *                    [--seconds S] [--seed X] [--csv FILE] [--cases LIST]
 * --paths 0 (default) calibrates P per case so that one repetition takes about --seconds.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omp.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "xmrisk/error.h"
#include "xmrisk/market.h"
#include "xmrisk/paths.h"
#include "xmrisk/rng.h"

typedef struct {
    long paths;      /* 0: calibrate */
    long steps;
    long assets;
    int threads;
    int reps;
    double seconds;  /* target duration of one repetition when calibrating */
    uint64_t seed;
    const char *csv;
    const char *cases;  /* comma-separated case names to run; NULL: all */
} options;

typedef enum { CASE_FULL, CASE_FLOOR } case_kind;

typedef struct {
    const char *name;
    case_kind kind;
    const xm_market *m;  /* CASE_FULL */
    int threads;
} bench_case;

typedef struct {
    long paths;
    double median_s, best_s;
    double cpu_share;  /* process CPU time / (wall time x threads) over the timed reps */
    double checksum;
} bench_result;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

static void usage(FILE *f)
{
    fputs("usage: bench_paths [--paths P] [--steps S] [--assets N] [--threads T] [--reps R]\n"
          "                   [--seconds S] [--seed X] [--csv FILE] [--cases LIST]\n"
          "  --paths   paths per timed repetition; 0 = calibrate to --seconds (default 0)\n"
          "  --steps   steps per path (default 1440: one day of 1-minute steps)\n"
          "  --assets  number of assets (default 10)\n"
          "  --threads threads of the multi-threaded rows (default: omp_get_max_threads())\n"
          "  --reps    timed repetitions, the median is reported (default 5)\n"
          "  --seconds target seconds per repetition when calibrating (default 1.0)\n"
          "  --seed    run seed (default 20240601)\n"
          "  --csv     also write one machine-readable line per row to FILE\n"
          "  --cases   comma-separated subset of floor,full,student_t,gbm+jumps (default all)\n",
          f);
}

static int parse_long(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_paths: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        long x;
        int bad = 0;
        if (strcmp(a, "--paths") == 0)
            bad = parse_long(v, 0, &o->paths);
        else if (strcmp(a, "--steps") == 0)
            bad = parse_long(v, 1, &o->steps);
        else if (strcmp(a, "--assets") == 0)
            bad = parse_long(v, 1, &o->assets);
        else if (strcmp(a, "--threads") == 0)
            bad = parse_long(v, 1, &x) || x > 4096 || ((o->threads = (int)x), 0);
        else if (strcmp(a, "--reps") == 0)
            bad = parse_long(v, 1, &x) || x > 1000 || ((o->reps = (int)x), 0);
        else if (strcmp(a, "--seed") == 0)
            bad = parse_long(v, 0, &x) || ((o->seed = (uint64_t)x), 0);
        else if (strcmp(a, "--seconds") == 0) {
            char *end;
            o->seconds = strtod(v, &end);
            bad = end == v || *end != '\0' || !(o->seconds > 0.0);
        } else if (strcmp(a, "--csv") == 0)
            o->csv = v;
        else if (strcmp(a, "--cases") == 0)
            o->cases = v;
        else {
            fprintf(stderr, "bench_paths: unknown option %s\n", a);
            usage(stderr);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "bench_paths: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    return 0;
}

/* n assets, vols evenly spread over 0.5..1.2, one-factor correlation with loadings
 * 0.95..0.6 (positive definite: C = b b^T + diag(1 - b_i^2) with every 1 - b_i^2 > 0). */
static int build_market(xm_market *m, size_t n, xm_process process, int jumps)
{
    static const char *const sym[] = {"BTC", "ETH", "SOL", "BNB", "XRP",
                                      "DOGE", "ADA", "AVAX", "LINK", "DOT"};
    static const double px[] = {65000.0, 3400.0, 150.0, 580.0, 0.52,
                                0.15, 0.45, 35.0, 15.0, 7.0};
    xm_error err;
    if (xm_market_init(m, n, &err) != XM_OK) {
        fprintf(stderr, "bench_paths: %s\n", err.msg);
        return -1;
    }
    double *b = malloc(n * sizeof *b);
    if (b == NULL) {
        xm_market_clear(m);
        fprintf(stderr, "bench_paths: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        double f = n > 1 ? (double)i / (double)(n - 1) : 0.0;
        xm_asset *a = &m->assets[i];
        if (i < sizeof sym / sizeof *sym)
            snprintf(a->symbol, sizeof a->symbol, "%s", sym[i]);
        else
            snprintf(a->symbol, sizeof a->symbol, "A%zu", i);
        a->price = i < sizeof px / sizeof *px ? px[i] : 10.0 + (double)i;
        a->vol = 0.5 + 0.7 * f;
        a->drift = 0.0;
        a->jump_beta = 1.0 + 0.5 * f;
        b[i] = 0.95 - 0.35 * f;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            m->corr[i * n + j] = i == j ? 1.0 : b[i] * b[j];
    free(b);
    m->process = process;
    m->dof = 4.0;
    if (jumps) {
        m->jumps.enabled = 1;
        m->jumps.rate_per_year = 20.0;  /* a market-wide crash-type move every ~18 days */
        m->jumps.mean = -0.05;
        m->jumps.stdev = 0.05;
    }
    if (xm_market_prepare(m, "bench market", &err) != XM_OK) {
        fprintf(stderr, "bench_paths: %s\n", err.msg);
        xm_market_clear(m);
        return -1;
    }
    return 0;
}

/* One timed run of `paths` paths of case c. Returns seconds; *checksum gets the consumed
 * values so the compiler cannot drop the work. Workspaces/generators: one per thread,
 * allocated by the caller before the clock starts. */
static double run_full(const bench_case *c, xm_path_ws **ws, long paths, long steps,
                       uint64_t seed, double *checksum)
{
    size_t n = c->m->n;
    double sum = 0.0;
    double t0 = now_s();
#pragma omp parallel num_threads(c->threads) reduction(+ : sum)
    {
        xm_path_ws *w = ws[omp_get_thread_num()];
        const double *s = xm_path_prices(w);
        double minv[64];  /* running min per asset; n <= 64 checked in main */
#pragma omp for schedule(dynamic, 16)
        for (long p = 0; p < paths; p++) {
            xm_path_begin(w, seed, (uint64_t)p);
            for (size_t i = 0; i < n; i++)
                minv[i] = s[i];
            for (long k = 0; k < steps; k++) {
                xm_path_step(w);
                for (size_t i = 0; i < n; i++)
                    minv[i] = s[i] < minv[i] ? s[i] : minv[i];
            }
            for (size_t i = 0; i < n; i++)
                sum += minv[i] / c->m->assets[i].price;
        }
    }
    double t = now_s() - t0;
    *checksum = sum;
    return t;
}

static double run_floor(const bench_case *c, gsl_rng **rngs, size_t n, long paths, long steps,
                        uint64_t seed, double *checksum)
{
    long per_path = steps * (long)n;
    double sum = 0.0;
    double t0 = now_s();
#pragma omp parallel num_threads(c->threads) reduction(+ : sum)
    {
        gsl_rng *r = rngs[omp_get_thread_num()];
        xm_pcg64 *g = xm_gsl_pcg64_state(r);
#pragma omp for schedule(dynamic, 16)
        for (long p = 0; p < paths; p++) {
            xm_pcg64_seed_path(g, seed, (uint64_t)p);
            double acc = 0.0;
            for (long k = 0; k < per_path; k++)
                acc += gsl_ran_gaussian_ziggurat(r, 1.0);
            sum += acc;
        }
    }
    double t = now_s() - t0;
    *checksum = sum;
    return t;
}

static double run_case(const bench_case *c, xm_path_ws **ws, gsl_rng **rngs, size_t n,
                       long paths, long steps, uint64_t seed, double *checksum)
{
    return c->kind == CASE_FULL ? run_full(c, ws, paths, steps, seed, checksum)
                                : run_floor(c, rngs, n, paths, steps, seed, checksum);
}

/* Is `name` in the comma-separated `list` (NULL: everything)? */
static int selected(const char *list, const char *name)
{
    if (list == NULL)
        return 1;
    size_t len = strlen(name);
    for (const char *p = list; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t k = comma ? (size_t)(comma - p) : strlen(p);
        if (k == len && strncmp(p, name, len) == 0)
            return 1;
        p += k + (comma != NULL);
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int measure(const bench_case *c, const options *o, size_t n, bench_result *res)
{
    xm_error err = {XM_OK, ""};
    int t = c->threads;
    xm_path_ws **ws = calloc((size_t)t, sizeof *ws);
    gsl_rng **rngs = calloc((size_t)t, sizeof *rngs);
    int rc = -1;
    if (ws == NULL || rngs == NULL)
        goto done;
    /* Each thread allocates its own workspace or generator, as src/market/market_run.c does: glibc then
     * serves it from that thread's arena, so no two threads write to one cache line. */
    int failed = 0;
#pragma omp parallel num_threads(t) reduction(|| : failed)
    {
        int i = omp_get_thread_num();
        xm_error e;
        if (c->kind == CASE_FULL) {
            if ((ws[i] = xm_path_ws_alloc(c->m, (1.0 / 1440.0) / 365.0, &e)) == NULL) {
#pragma omp critical(bench_paths_err)
                err = e;
                failed = 1;
            }
        } else if ((rngs[i] = gsl_rng_alloc(xm_gsl_rng_pcg64)) == NULL) {
            failed = 1;
        }
    }
    if (failed) {
        fprintf(stderr, "bench_paths: %s\n", err.msg[0] ? err.msg : "out of memory");
        goto done;
    }

    /* Warm-up, which also calibrates P when --paths is 0. */
    double cs;
    long paths = o->paths;
    if (paths == 0) {
        long probe = 32L * t;
        double dt;
        for (;;) {
            dt = run_case(c, ws, rngs, n, probe, o->steps, o->seed, &cs);
            if (dt >= 0.05 || probe >= (1L << 40))
                break;
            probe *= 4;
        }
        paths = (long)(o->seconds / dt * (double)probe);
        paths = paths < t ? t : paths - paths % t;
    }
    run_case(c, ws, rngs, n, paths, o->steps, o->seed, &cs);

    double *times = malloc((size_t)o->reps * sizeof *times);
    if (times == NULL)
        goto done;
    double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), wall = 0.0;
    for (int r = 0; r < o->reps; r++) {
        times[r] = run_case(c, ws, rngs, n, paths, o->steps, o->seed, &res->checksum);
        wall += times[r];
    }
    res->cpu_share = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (wall * t);
    qsort(times, (size_t)o->reps, sizeof *times, cmp_double);
    res->paths = paths;
    res->best_s = times[0];
    res->median_s = o->reps % 2 ? times[o->reps / 2]
                                : 0.5 * (times[o->reps / 2 - 1] + times[o->reps / 2]);
    free(times);
    rc = 0;
done:
    for (int i = 0; ws != NULL && i < t; i++)
        xm_path_ws_free(ws[i]);
    for (int i = 0; rngs != NULL && i < t; i++)
        if (rngs[i] != NULL)
            gsl_rng_free(rngs[i]);
    free(ws);
    free(rngs);
    return rc;
}

int main(int argc, char **argv)
{
    options o = {0, 1440, 10, 0, 5, 1.0, 20240601u, NULL, NULL};
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    if (o.threads == 0)
        o.threads = omp_get_max_threads();
    if (o.assets > 64) {
        fprintf(stderr, "bench_paths: at most 64 assets\n");
        return 2;
    }
    size_t n = (size_t)o.assets;

    xm_market gbm, stu, jmp;
    if (build_market(&gbm, n, XM_PROCESS_GBM, 0) || build_market(&stu, n, XM_PROCESS_STUDENT_T, 0)
        || build_market(&jmp, n, XM_PROCESS_GBM, 1))
        return 1;

    bench_case cases[] = {
        {"floor", CASE_FLOOR, NULL, 1},
        {"full", CASE_FULL, &gbm, 1},
        {"floor", CASE_FLOOR, NULL, o.threads},
        {"full", CASE_FULL, &gbm, o.threads},
        {"student_t", CASE_FULL, &stu, 1},
        {"gbm+jumps", CASE_FULL, &jmp, 1},
    };
    size_t ncases = sizeof cases / sizeof *cases;
    if (o.threads == 1) {  /* drop the duplicate multi-threaded rows */
        cases[2] = cases[4];
        cases[3] = cases[5];
        ncases -= 2;
    }

    FILE *csv = NULL;
    if (o.csv != NULL && (csv = fopen(o.csv, "w")) == NULL) {
        fprintf(stderr, "bench_paths: %s: %s\n", o.csv, strerror(errno));
        return 1;
    }

    printf("C path generation (xm_path_step): n = %zu assets, %ld steps, tau = 1 min, "
           "median of %d reps after a warm-up\n", n, o.steps, o.reps);
    printf("%-10s %7s %9s %13s %13s %13s %12s %8s %5s  %s\n", "case", "threads", "paths",
           "ns/asset-step", "(best)", "ns x threads", "paths/s", "x floor", "cpu%", "checksum");

    double floor_core[2] = {NAN, NAN};  /* per-core floor at 1 thread and at T threads */
    for (size_t k = 0; k < ncases; k++) {
        const bench_case *c = &cases[k];
        if (!selected(o.cases, c->name))
            continue;
        bench_result r;
        if (measure(c, &o, n, &r) != 0) {
            fprintf(stderr, "bench_paths: case %s failed\n", c->name);
            return 1;
        }
        double units = (double)r.paths * (double)o.steps * (double)n;
        double ns = 1e9 * r.median_s / units;
        double best = 1e9 * r.best_s / units;
        double core = ns * c->threads;
        int slot = c->threads == 1 ? 0 : 1;
        if (c->kind == CASE_FLOOR)
            floor_core[slot] = core;
        double ratio = core / floor_core[slot];
        printf("%-10s %7d %9ld %13.2f %13.2f %13.2f %12.0f %8.2f %5.0f  %.6g\n", c->name,
               c->threads, r.paths, ns, best, core, (double)r.paths / r.median_s, ratio,
               100.0 * r.cpu_share, r.checksum);
        fflush(stdout);
        if (csv != NULL)
            fprintf(csv, "%s,%d,%ld,%.4f,%.4f,%.4f\n", c->name, c->threads, r.paths, ns, best,
                    core);
    }
    printf("(floor rows: ns per normal; x floor: per-core ratio to the floor at the same "
           "thread count;\n cpu%%: process CPU time / (wall x threads) over the timed reps, well "
           "under 100 when other work shared the cores)\n");

    if (csv != NULL)
        fclose(csv);
    xm_market_clear(&gbm);
    xm_market_clear(&stu);
    xm_market_clear(&jmp);
    return 0;
}
