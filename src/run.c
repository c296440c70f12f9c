/* run.c — every path of a model with accounts through the cascade engine, on all threads
 * (see xmrisk/run.h). Each path writes only its own slots; per-account sums are integers
 * merged exactly; so results are bit-identical on any number of threads. */
#include "xmrisk/run.h"

#include <stdlib.h>
#include <time.h>

#include <omp.h>

#include "internal.h"


void xm_run_result_free(xm_run_result *r)
{
    if (r == NULL)
        return;
    free(r->pm);
    free(r->min_ratio);
    free(r->impact_at_min);
    xm_cascade_acc_free(r->acc);
    free(r);
}

static xm_run_result *result_alloc(const xm_model *m, uint64_t paths, xm_error *err)
{
    size_t n = m->market.n;
    xm_run_result *r = calloc(1, sizeof *r);
    if (r != NULL) {
        r->n_assets = n;
        r->paths = paths;
        r->pm = calloc(paths, sizeof *r->pm);
        r->min_ratio = calloc(paths * n, sizeof *r->min_ratio);
        r->impact_at_min = calloc(paths * n, sizeof *r->impact_at_min);
        r->acc = xm_cascade_acc_alloc(m->book->n_accounts, err);
    }
    if (r == NULL || !r->pm || !r->min_ratio || !r->impact_at_min || !r->acc) {
        xm_run_result_free(r);
        xm_error_set(err, XM_ENOMEM, "run: out of memory for %llu paths",
                     (unsigned long long)paths);
        return NULL;
    }
    return r;
}

/* The thread's workspace and accumulator, or NULL (then the run fails with ENOMEM). */
typedef struct {
    xm_cascade_ws *ws;
    xm_cascade_acc *acc;
} thread_ctx;

static int thread_init(thread_ctx *t, const xm_model *m, int naive)
{
    t->ws = xm_cascade_ws_alloc(m, naive, NULL);
    t->acc = t->ws ? xm_cascade_acc_alloc(m->book->n_accounts, NULL) : NULL;
    return t->acc != NULL;
}

static void report(const xm_sim_opts *o, uint64_t done)
{
    if (o->progress != NULL && ((done & 15u) == 0 || done == o->paths)) {
#pragma omp critical(xm_run_progress)
        o->progress(o->progress_ctx, done, o->paths);
    }
}

xm_status xm_run_cascades(const xm_model *model, const xm_sim_opts *opts, int naive,
                          xm_run_result **out, xm_error *err)
{
    *out = NULL;
    if (model->book == NULL)
        return xm_error_set(err, XM_EUSAGE, "run: the model has no accounts");
    if (opts->paths == 0)
        return xm_error_set(err, XM_EUSAGE, "run: the number of paths must be at least 1");
    xm_run_result *r = result_alloc(model, opts->paths, err);
    if (r == NULL)
        return XM_ENOMEM;
    r->seed = opts->seed;
    int threads = opts->threads > 0 ? opts->threads : omp_get_max_threads(), failed = 0;
    uint64_t done = 0;
    size_t n = model->market.n;
    double t0 = xm_now_s();
#pragma omp parallel num_threads(threads) shared(done, failed)
    {
        thread_ctx t;
        if (!thread_init(&t, model, naive)) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp single
        r->threads = omp_get_num_threads();
#pragma omp for schedule(dynamic, 4)
        for (uint64_t p = 0; p < opts->paths; p++) {
            int skip;
#pragma omp atomic read
            skip = failed;
            if (skip || t.acc == NULL || (opts->stop != NULL && *opts->stop))
                continue;
            xm_cascade_run_path(t.ws, opts->seed, p, &r->pm[p], &r->min_ratio[p * n],
                                &r->impact_at_min[p * n], t.acc);
            uint64_t d;
#pragma omp atomic capture
            d = ++done;
            report(opts, d);
        }
        /* Integer sums: the merge order does not change the totals. */
        if (t.acc != NULL) {
#pragma omp critical(xm_run_merge)
            xm_cascade_acc_merge(r->acc, t.acc);
        }
        xm_cascade_acc_free(t.acc);
        xm_cascade_ws_free(t.ws);
    }
    r->elapsed_s = xm_now_s() - t0;
    r->paths_done = done;
    if (failed) {
        xm_run_result_free(r);
        return xm_error_set(err, XM_ENOMEM, "run: out of memory for a thread's workspace");
    }
    *out = r;
    if (done < opts->paths)
        return xm_error_set(err, XM_EINTR, "run: interrupted after %llu of %llu paths",
                            (unsigned long long)done, (unsigned long long)opts->paths);
    return XM_OK;
}
