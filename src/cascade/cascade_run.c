/* cascade_run.c — every path of a model with accounts through the cascade engine, on all threads
 * (see xmrisk/cascade_run.h). Each path writes only its own slots; per-account sums are integers
 * merged exactly; so results are bit-identical on any number of threads. */
#include "xmrisk/cascade_run.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/driver.h"
#include "xmrisk/platform.h"


void xm_run_result_free(xm_run_result *r)
{
    if (r == NULL)
        return;
    free(r->pm);
    free(r->min_ratio);
    free(r->impact_at_min);
    xm_cascade_acc_free(r->acc);
    xm_mergestats_free(r->ps);
    free(r);
}

double xm_run_bytes_per_path(size_t n_assets)
{
    return (double)(sizeof(xm_path_metrics) + 2 * (n_assets ? n_assets : 1) * sizeof(double));
}

/* The per-path arrays of an exact result: refused with the estimate beyond memory. */
static int alloc_arrays(xm_run_result *r, uint64_t slots, size_t na, xm_error *err)
{
    if (xm_check_paths_memory("run", slots, xm_run_bytes_per_path(na),
                              "use --stats binned, fewer paths or --shard K/N over several machines",
                              err) != XM_OK)
        return 0;
    if (slots > SIZE_MAX / sizeof(xm_path_metrics) / na)
        return -1;
    r->pm = calloc(slots, sizeof *r->pm);
    r->min_ratio = calloc(slots * na, sizeof *r->min_ratio);
    r->impact_at_min = calloc(slots * na, sizeof *r->impact_at_min);
    return r->pm && r->min_ratio && r->impact_at_min ? 1 : -1;
}

xm_run_result *xm_run_result_alloc(size_t n_assets, size_t n_accounts, uint64_t seed,
                                   uint64_t paths, uint64_t first, uint64_t end, int binned,
                                   double fund0, xm_error *err)
{
    if (first > end || end > paths) {
        xm_error_set(err, XM_EUSAGE, "run: bad path range [%llu, %llu) of %llu paths",
                     (unsigned long long)first, (unsigned long long)end,
                     (unsigned long long)paths);
        return NULL;
    }
    uint64_t slots = end - first ? end - first : 1;
    size_t na = n_assets ? n_assets : 1;
    xm_run_result *r = calloc(1, sizeof *r);
    int ok = r != NULL ? 1 : -1;
    if (r != NULL) {
        r->n_assets = n_assets;
        r->seed = seed;
        r->paths = paths;
        r->first_path = first;
        r->end_path = end;
        if (binned)
            ok = (r->ps = xm_mergestats_alloc(na, fund0, NULL)) != NULL ? 1 : -1;
        else
            ok = alloc_arrays(r, slots, na, err);
        if (ok > 0)
            ok = (r->acc = xm_cascade_acc_alloc(n_accounts, NULL)) != NULL ? 1 : -1;
    }
    if (ok <= 0) {
        xm_run_result_free(r);
        if (ok < 0)
            xm_error_set(err, XM_ENOMEM, "run: out of memory for %llu paths",
                         (unsigned long long)(end - first));
        return NULL;
    }
    return r;
}

/* The thread's workspace and accumulator, or NULL (then the run fails with ENOMEM). */
typedef struct {
    xm_cascade_ws *ws;
    xm_cascade_acc *acc;
    /* Binned runs: the path's results land here, then in the thread's statistics. */
    xm_mergestats *ps;
    xm_path_metrics pm;
    double *min_ratio, *impact_at_min;
} thread_ctx;

static int thread_init(thread_ctx *t, const xm_model *m, int naive, int binned,
                       const volatile sig_atomic_t *stop)
{
    size_t na = m->market.n ? m->market.n : 1;
    memset(t, 0, sizeof *t);
    t->ws = xm_cascade_ws_alloc(m, naive, NULL);
    if (t->ws != NULL)
        xm_cascade_ws_set_stop(t->ws, stop);
    t->acc = t->ws ? xm_cascade_acc_alloc(m->book->n_accounts, NULL) : NULL;
    if (t->acc != NULL && binned) {
        t->ps = xm_mergestats_alloc(na, m->venue.insurance_fund_usd, NULL);
        t->min_ratio = calloc(2 * na, sizeof *t->min_ratio);
        t->impact_at_min = t->min_ratio ? t->min_ratio + na : NULL;
        if (t->ps == NULL || t->min_ratio == NULL) {
            xm_cascade_acc_free(t->acc);
            t->acc = NULL;
        }
    }
    return t->acc != NULL;
}

static void thread_free(thread_ctx *t)
{
    xm_mergestats_free(t->ps);
    free(t->min_ratio);
    xm_cascade_acc_free(t->acc);
    xm_cascade_ws_free(t->ws);
}

/* Path k of r: into its slots (exact), or into the thread's statistics (binned). XM_EINTR:
 * stopped midway, nothing of it kept (xm_cascade_run_path). */
static xm_status run_one(thread_ctx *t, xm_run_result *r, uint64_t k)
{
    size_t n = r->n_assets;
    if (t->ps == NULL)
        return xm_cascade_run_path(t->ws, r->seed, r->first_path + k, &r->pm[k],
                                   &r->min_ratio[k * n], &r->impact_at_min[k * n], t->acc);
    xm_status st = xm_cascade_run_path(t->ws, r->seed, r->first_path + k, &t->pm,
                                       t->min_ratio, t->impact_at_min, t->acc);
    if (st == XM_OK)
        xm_mergestats_add(t->ps, &t->pm, t->min_ratio, t->impact_at_min);
    return st;
}

/* One chunk of a run for the driver (core/driver.h): the model, the result whose slots are
 * filled, and where the threads' sums and statistics are merged. */
typedef struct {
    const xm_model *model;
    int naive;
    const volatile sig_atomic_t *stop;  /* opts->stop: also read inside each path */
    xm_run_result *r;
    xm_cascade_acc *into;
    xm_mergestats *ps_into;  /* binned runs only */
} chunk_ctx;

static void *chunk_ws_alloc(void *ctx)
{
    const chunk_ctx *c = ctx;
    thread_ctx *t = malloc(sizeof *t);
    if (t != NULL && !thread_init(t, c->model, c->naive, c->ps_into != NULL, c->stop)) {
        thread_free(t);
        free(t);
        t = NULL;
    }
    return t;
}

static void chunk_ws_free(void *ctx, void *ws)
{
    (void)ctx;
    thread_free(ws);
    free(ws);
}

/* Integer and exact sums: the merge order does not change the totals. */
static void chunk_ws_finish(void *ctx, void *ws)
{
    const chunk_ctx *c = ctx;
    const thread_ctx *t = ws;
    xm_cascade_acc_merge(c->into, t->acc);
    if (t->ps != NULL)
        xm_mergestats_merge(c->ps_into, t->ps);
}

static xm_status chunk_path(void *ctx, void *ws, uint64_t k)
{
    const chunk_ctx *c = ctx;
    return run_one(ws, c->r, k);
}

/* Run slots [k0, k1) of r (paths first_path + k) on all threads, their sums added to `into`
 * and, binned, their statistics to `ps_into`. XM_ENOMEM: a thread had no workspace; XM_EINTR:
 * stopped (opts->stop). Progress is slots done of end_path - first_path. */
static xm_status run_slots(const xm_model *model, const xm_run_opts *opts, int naive,
                           xm_run_result *r, uint64_t k0, uint64_t k1, xm_cascade_acc *into,
                           xm_mergestats *ps_into, xm_drive_out *out)
{
    chunk_ctx c = {model, naive, opts->stop, r, into, ps_into};
    xm_drive_spec s = {.ctx = &c, .ws_alloc = chunk_ws_alloc, .ws_free = chunk_ws_free,
                       .ws_finish = chunk_ws_finish, .path = chunk_path, .chunk = 4,
                       .progress_mask = 15, .progress_total = r->end_path - r->first_path};
    return xm_drive(&s, opts, k0, k1, out);
}

xm_status xm_run_cascades(const xm_model *model, const xm_run_opts *opts, int naive,
                          xm_run_result **out, xm_error *err)
{
    *out = NULL;
    if (model->book == NULL)
        return xm_error_set(err, XM_EUSAGE, "run: the model has no accounts");
    if (opts->paths == 0)
        return xm_error_set(err, XM_EUSAGE, "run: the number of paths must be at least 1");
    xm_run_result *r = xm_run_result_alloc(model->market.n, model->book->n_accounts, opts->seed,
                                           opts->paths, 0, opts->paths, opts->binned,
                                           model->venue.insurance_fund_usd, err);
    if (r == NULL)
        return err != NULL && err->status != XM_OK ? err->status : XM_ENOMEM;
    xm_drive_out c;
    xm_status st = run_slots(model, opts, naive, r, 0, opts->paths, r->acc, r->ps, &c);
    r->threads = c.threads;
    r->elapsed_s = c.elapsed_s;
    r->paths_done = c.done;
    if (st == XM_ENOMEM) {
        xm_run_result_free(r);
        r = NULL;
    }
    *out = r;
    return xm_drive_error(st, "run", "a thread's workspace", c.done, opts->paths, err);
}

xm_status xm_run_cascades_more(const xm_model *model, const xm_run_opts *opts, int naive,
                               uint64_t count, xm_run_result *r, xm_error *err)
{
    if (model->book == NULL)
        return xm_error_set(err, XM_EUSAGE, "run: the model has no accounts");
    if (r->n_assets != model->market.n || r->acc->n_accounts != model->book->n_accounts)
        return xm_error_set(err, XM_EUSAGE, "run: the result is not one of this model");
    uint64_t k0 = r->paths_done, slots = r->end_path - r->first_path;
    uint64_t k1 = count < slots - k0 ? k0 + count : slots;
    xm_cascade_acc *chunk = xm_cascade_acc_alloc(r->acc->n_accounts, err);
    xm_mergestats *ps = chunk != NULL && r->ps != NULL
                           ? xm_mergestats_alloc(r->ps->n_assets, model->venue.insurance_fund_usd, err)
                           : NULL;
    if (chunk == NULL || (r->ps != NULL && ps == NULL)) {
        xm_cascade_acc_free(chunk);
        return XM_ENOMEM;
    }
    xm_drive_out c;
    xm_status st = run_slots(model, opts, naive, r, k0, k1, chunk, ps, &c);
    st = xm_drive_error(st, "run", "a thread's workspace", k0 + c.done, slots, err);
    if (st == XM_OK) {
        xm_cascade_acc_merge(r->acc, chunk);
        if (ps != NULL)
            xm_mergestats_merge(r->ps, ps);
        r->paths_done = k1;
        r->elapsed_s += c.elapsed_s;
        if (c.threads > r->threads)
            r->threads = c.threads;
    }
    xm_cascade_acc_free(chunk);
    xm_mergestats_free(ps);
    return st;
}
