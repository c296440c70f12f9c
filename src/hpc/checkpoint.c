/* checkpoint.c — chunked cascade runs that save and resume (see xmrisk/checkpoint.h). */
#include "xmrisk/checkpoint.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>

#include "xmrisk/outfile.h"
#include "xmrisk/partfile.h"
#include "xmrisk/platform.h"

/* The checkpoint at `path` when there is one (*r NULL when there is none) and it is of this
 * run; *r owned by the caller. Messages say "checkpoint FILE: ..." and how to start over. */
static xm_status load_existing(const xm_run_opts *o, uint64_t lo, uint64_t hi, const char *path,
                               uint64_t fp, xm_run_result **r, xm_error *err)
{
    *r = NULL;
    struct stat st;
    if (stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
        return XM_OK;
    xm_error e;
    xm_error_clear(&e);
    xm_part *p = xm_part_read(path, &e);
    xm_status s = p ? xm_part_check_run(p, fp, o->seed, o->paths, lo, hi, &e) : e.status;
    int binned = s == XM_OK && xm_part_get_result(p)->ps != NULL;
    if (s == XM_OK && binned != (o->binned != 0))
        s = xm_error_set(&e, XM_EDATA, "%s: %s statistics, this run %s (--stats)", path,
                         binned ? "binned" : "exact", o->binned ? "binned" : "exact");
    if (s == XM_OK)
        *r = xm_part_take_result(p);
    xm_part_free(p);
    if (s == XM_EDATA)
        return xm_error_set(err, s, "checkpoint %s; remove it to start over", e.msg);
    if (s != XM_OK)
        return xm_error_set(err, s, "checkpoint %s", e.msg);
    return XM_OK;
}

/* Fail early, before any work, when the checkpoint cannot be written where asked. */
static xm_status probe_writable(const char *path, xm_error *err)
{
    xm_outfile o;
    xm_error e;
    xm_status s = xm_outfile_open_path(&o, path, &e);
    if (s != XM_OK)
        return xm_error_set(err, s, "cannot write the checkpoint: %s", e.msg);
    xm_outfile_abort(&o);
    return XM_OK;
}

/* Chunk sizing: exact intervals in paths, or chunks that end near the next deadline. */
typedef struct {
    uint64_t every_paths, min_chunk;
    double every_s, deadline, rate;  /* rate: paths/s of the last chunk (0: not yet known) */
} pacing;

static uint64_t next_chunk(const pacing *pc, uint64_t left)
{
    uint64_t n = pc->every_paths;
    if (n == 0) {
        double want = pc->rate * (pc->deadline - xm_now_s());
        n = pc->rate > 0 && want > (double)pc->min_chunk ? (uint64_t)want : pc->min_chunk;
        if (want > (double)left)
            n = left;
    }
    return n < left ? n : left;
}

/* Save now? After every chunk with a path interval; within a tenth of the interval of the
 * deadline with a time interval; always at the end. */
static int due(pacing *pc, int finished)
{
    double now = xm_now_s();
    if (!finished && pc->every_paths == 0 && now < pc->deadline - 0.1 * pc->every_s)
        return 0;
    pc->deadline = now + pc->every_s;
    return 1;
}

static xm_status check_args(const xm_model *m, const xm_run_opts *o, uint64_t lo, uint64_t hi,
                            const xm_checkpoint_opts *ck, xm_error *err)
{
    if (m->book == NULL)
        return xm_error_set(err, XM_EUSAGE, "checkpoint: the model has no accounts");
    if (lo > hi || hi > o->paths)
        return xm_error_set(err, XM_EUSAGE, "checkpoint: bad path range");
    if (ck == NULL || ck->path == NULL || (ck->every_paths == 0 && !(ck->every_s > 0)))
        return xm_error_set(err, XM_EUSAGE, "checkpoint: no file or no interval");
    return XM_OK;
}

xm_status xm_checkpoint_run(const xm_model *model, const xm_run_opts *opts, uint64_t lo,
                            uint64_t hi, const xm_checkpoint_opts *ck, xm_run_result **out,
                            uint64_t *resumed, xm_error *err)
{
    *out = NULL;
    *resumed = 0;
    xm_status s = check_args(model, opts, lo, hi, ck, err);
    if (s != XM_OK)
        return s;
    uint64_t fp = xm_part_fingerprint(model), total = hi - lo;
    xm_run_result *r = NULL;
    s = load_existing(opts, lo, hi, ck->path, fp, &r, err);
    if (s == XM_OK && r == NULL) {
        r = xm_run_result_alloc(model->market.n, model->book->n_accounts, opts->seed,
                                opts->paths, lo, hi, opts->binned,
                                model->venue.insurance_fund_usd, err);
        s = r ? XM_OK : err != NULL && err->status != XM_OK ? err->status : XM_ENOMEM;
    }
    if (s == XM_OK && r->paths_done < total)
        s = probe_writable(ck->path, err);
    if (s != XM_OK) {
        xm_run_result_free(r);
        return s;
    }
    *resumed = r->paths_done;
    int threads = opts->threads > 0 ? opts->threads : omp_get_max_threads();
    pacing pc = {ck->every_paths, 4 * (uint64_t)threads, ck->every_s, 0.0, 0.0};
    pc.deadline = xm_now_s() + pc.every_s;
    while (s == XM_OK && r->paths_done < total) {
        uint64_t n = next_chunk(&pc, total - r->paths_done), before = r->paths_done;
        double el = r->elapsed_s;
        s = xm_run_cascades_more(model, opts, 0, n, r, err);
        if (s == XM_OK && r->elapsed_s > el)
            pc.rate = (double)(r->paths_done - before) / (r->elapsed_s - el);
        if (s == XM_OK && due(&pc, r->paths_done == total))
            s = xm_part_write(ck->path, model, fp, r, err);
    }
    if (s != XM_OK) {
        xm_run_result_free(r);
        return s;
    }
    *out = r;
    return XM_OK;
}

xm_status xm_checkpoint_check(const xm_model *model, const xm_run_opts *opts, uint64_t lo,
                              uint64_t hi, const xm_checkpoint_opts *ck, xm_error *err)
{
    xm_status s = check_args(model, opts, lo, hi, ck, err);
    xm_run_result *r = NULL;
    if (s == XM_OK)
        s = load_existing(opts, lo, hi, ck->path, xm_part_fingerprint(model), &r, err);
    if (s == XM_OK && (r == NULL || r->paths_done < hi - lo))
        s = probe_writable(ck->path, err);
    xm_run_result_free(r);
    return s;
}

xm_status xm_checkpoint_remove(const char *path, xm_error *err)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return xm_error_set(err, XM_EIO, "checkpoint %s: cannot remove: %s", path,
                            strerror(errno));
    return XM_OK;
}
