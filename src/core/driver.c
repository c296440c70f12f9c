/* driver.c — the one parallel loop over Monte Carlo paths (see core/driver.h). */
#include "core/driver.h"

#include <omp.h>

#include "xmrisk/platform.h"

/* The state the threads of one run share. */
typedef struct {
    const xm_drive_spec *s;
    const xm_run_opts *o;
    uint64_t lo, total, done;
    int failed, halt;
} shared_state;

static int must_skip(shared_state *sh)
{
    int failed;
#pragma omp atomic read
    failed = sh->failed;
    return failed || (sh->o->stop != NULL && *sh->o->stop);
}

static void count_path(shared_state *sh)
{
    const xm_run_opts *o = sh->o;
    uint64_t d;
#pragma omp atomic capture
    d = ++sh->done;
    uint64_t v = sh->lo + d;
    if (o->progress != NULL && ((v & sh->s->progress_mask) == 0 || v == sh->total)) {
#pragma omp critical(xm_drive_progress)
        o->progress(o->progress_ctx, v, sh->total);
    }
}

/* The blocks of [lo, hi), run by every thread of the team. `halt` is decided by one thread
 * between blocks, so every thread meets the same worksharing loops. */
static void run_blocks(shared_state *sh, void *ws, uint64_t hi)
{
    const xm_drive_spec *s = sh->s;
    int chunk = s->chunk > 0 ? (int)s->chunk : 16;
    uint64_t b0 = sh->lo;
    while (b0 < hi && !sh->halt) {
        uint64_t b1 = hi - b0 > XM_DRIVE_BLOCK ? b0 + XM_DRIVE_BLOCK : hi;
#pragma omp for schedule(dynamic, chunk)
        for (uint64_t p = b0; p < b1; p++) {
            if (ws == NULL || must_skip(sh))
                continue;
            if (s->path(s->ctx, ws, p) == XM_OK)
                count_path(sh);
        }
#pragma omp single
        sh->halt = must_skip(sh);
        b0 = b1;
    }
}

xm_status xm_drive(const xm_drive_spec *s, const xm_run_opts *o, uint64_t lo, uint64_t hi,
                   xm_drive_out *out)
{
    shared_state sh = {s, o, lo, s->progress_total > 0 ? s->progress_total : hi, 0, 0, 0};
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads(), used = 0;
    double t0 = xm_now_s();
#pragma omp parallel num_threads(threads) shared(sh, used)
    {
        /* Stopped before it starts (e.g. during loading): no workspace, which can take seconds
         * to build on a large book; the paths are then all skipped. */
        void *ws = NULL;
        if (o->stop == NULL || !*o->stop) {
            ws = s->ws_alloc(s->ctx);
            if (ws == NULL) {
#pragma omp atomic write
                sh.failed = 1;
            }
        }
#pragma omp single
        used = omp_get_num_threads();
        run_blocks(&sh, ws, hi);
        if (ws != NULL) {
            if (s->ws_finish != NULL) {
#pragma omp critical(xm_drive_finish)
                s->ws_finish(s->ctx, ws);
            }
            s->ws_free(s->ctx, ws);
        }
    }
    out->done = sh.done;
    out->threads = used;
    out->elapsed_s = xm_now_s() - t0;
    if (sh.failed)
        return XM_ENOMEM;
    return sh.done < hi - lo ? XM_EINTR : XM_OK;
}

xm_status xm_drive_error(xm_status st, const char *what, const char *ws, uint64_t done,
                         uint64_t total, xm_error *err)
{
    if (st == XM_ENOMEM)
        return xm_error_set(err, st, "%s: out of memory for %s", what, ws);
    if (st == XM_EINTR)
        return xm_error_set(err, st, "%s: interrupted after %llu of %llu paths", what,
                            (unsigned long long)done, (unsigned long long)total);
    return st;
}
