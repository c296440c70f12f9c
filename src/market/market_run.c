/* market_run.c — all paths of a model over OpenMP threads (see xmrisk/market_run.h). */
#include "xmrisk/market_run.h"

#include <math.h>
#include <stdlib.h>

#include "core/driver.h"
#include "xmrisk/platform.h"
#include "market/path_drive.h"

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

/* The driver's context (core/driver.h): a path workspace per thread, run_path per path. */
typedef struct {
    xm_path_drive pd;  /* first: the workspaces (market/path_drive.h) */
    const xm_model *model;
    uint64_t seed;
    xm_market_result *r;
} run_ctx;

static xm_status path_fn(void *ctx, void *ws, uint64_t p)
{
    const run_ctx *c = ctx;
    run_path(ws, c->model, c->seed, p, c->r);
    return XM_OK;   /* a market path is short: stops are taken between paths */
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
    run_ctx c = {{&model->market, xm_model_tau(model)}, model, opts->seed, r};
    xm_drive_spec s = {.ctx = &c, .ws_alloc = xm_path_drive_ws_alloc,
                       .ws_free = xm_path_drive_ws_free, .path = path_fn, .chunk = 16,
                       .progress_mask = 63};
    xm_drive_out d;
    st = xm_drive(&s, opts, 0, opts->paths, &d);
    r->threads = d.threads;
    r->elapsed_s = d.elapsed_s;
    r->paths_done = d.done;
    if (st == XM_ENOMEM) {
        xm_market_result_free(r);
        r = NULL;
    }
    *out = r;
    return xm_drive_error(st, "run", "a path workspace", d.done, opts->paths, err);
}
