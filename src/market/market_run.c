/* market_run.c — all paths of a model over OpenMP threads (see xmrisk/market_run.h). */
#include "xmrisk/market_run.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include <omp.h>

#include "core/util.h"

#include "xmrisk/paths.h"


void xm_market_result_free(xm_market_result *r)
{
    if (r == NULL)
        return;
    free(r->log_return);
    free(r->min_ratio);
    free(r->jumps);
    free(r);
}

static xm_market_result *result_alloc(size_t n, uint64_t paths, xm_error *err)
{
    xm_market_result *r = calloc(1, sizeof *r);
    if (r != NULL) {
        r->n_assets = n;
        r->paths = paths;
        r->log_return = malloc(paths * n * sizeof *r->log_return);
        r->min_ratio = malloc(paths * n * sizeof *r->min_ratio);
        r->jumps = malloc(paths * sizeof *r->jumps);
    }
    if (r == NULL || !r->log_return || !r->min_ratio || !r->jumps) {
        xm_market_result_free(r);
        xm_error_set(err, XM_ENOMEM, "run: out of memory for %llu paths x %zu assets",
                     (unsigned long long)paths, n);
        return NULL;
    }
    return r;
}

/* One whole path: steps, then its per-asset results into row p. */
static void run_path(xm_path_ws *w, const xm_model *model, uint64_t seed, uint64_t p,
                     xm_market_result *r)
{
    size_t n = model->market.n;
    double *minr = r->min_ratio + p * n;
    for (size_t i = 0; i < n; i++)
        minr[i] = INFINITY;
    xm_path_begin(w, seed, p);
    const double *s = xm_path_prices(w);
    for (uint32_t t = 0; t < model->steps; t++) {
        xm_path_step(w);
        for (size_t i = 0; i < n; i++)
            minr[i] = fmin(minr[i], s[i]);
    }
    const double *lg = xm_path_log_prices(w);
    for (size_t i = 0; i < n; i++) {
        double s0 = model->market.assets[i].price;
        minr[i] /= s0;
        r->log_return[p * n + i] = model->market.process == XM_PROCESS_BACHELIER
                                       ? s[i] / s0 - 1.0
                                       : lg[i] - log(s0);
    }
    r->jumps[p] = xm_path_jump_count(w);
}

static void report_progress(const xm_run_opts *opts, uint64_t done)
{
    if (opts->progress != NULL) {
#pragma omp critical(xm_run_progress)
        opts->progress(opts->progress_ctx, done, opts->paths);
    }
}

xm_status xm_market_run(const xm_model *model, const xm_run_opts *opts, xm_market_result **out,
                     xm_error *err)
{
    *out = NULL;
    if (opts->paths == 0)
        return xm_error_set(err, XM_EUSAGE, "run: the number of paths must be at least 1");
    xm_status st = xm_check_paths_memory("run", opts->paths,
                                         (double)(2 * model->market.n * sizeof(double) +
                                                  sizeof(uint64_t)),
                                         "use fewer paths (a market-only run keeps every path)",
                                         err);
    if (st != XM_OK)
        return st;
    xm_market_result *r = result_alloc(model->market.n, opts->paths, err);
    if (r == NULL)
        return XM_ENOMEM;
    r->seed = opts->seed;
    int threads = opts->threads > 0 ? opts->threads : omp_get_max_threads();
    double tau = xm_model_tau(model);
    uint64_t done = 0;
    int failed = 0;
    double t0 = xm_now_s();
#pragma omp parallel num_threads(threads) shared(done, failed)
    {
        xm_path_ws *w = xm_path_ws_alloc(&model->market, tau, NULL);
        if (w == NULL) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp single
        r->threads = omp_get_num_threads();
        /* Dynamic chunks keep cores busy; which thread runs a path does not matter. */
#pragma omp for schedule(dynamic, 16)
        for (uint64_t p = 0; p < opts->paths; p++) {
            int skip;
#pragma omp atomic read
            skip = failed;
            if (skip || w == NULL || (opts->stop != NULL && *opts->stop))
                continue;
            run_path(w, model, opts->seed, p, r);
            uint64_t d;
#pragma omp atomic capture
            d = ++done;
            if ((d & 63u) == 0 || d == opts->paths)
                report_progress(opts, d);
        }
        xm_path_ws_free(w);
    }
    r->elapsed_s = xm_now_s() - t0;
    r->paths_done = done;
    if (failed) {
        xm_market_result_free(r);
        return xm_error_set(err, XM_ENOMEM, "run: out of memory for a path workspace");
    }
    *out = r;
    if (done < opts->paths)
        return xm_error_set(err, XM_EINTR, "run: interrupted after %llu of %llu paths",
                            (unsigned long long)done, (unsigned long long)opts->paths);
    return XM_OK;
}
