/* hpc_cmd.c — `xmrisk run` with --shard, --checkpoint or over MPI ranks, and `xmrisk merge`
 * (see hpc_cmd.h; the file format: xmrisk/partfile.h; the user's view: docs/hpc.md).
 *
 * A run covers the path range [lo, hi) of its P paths: [0, P), or a shard's. Over R ranks,
 * rank r runs [lo + floor(r n / R), lo + floor((r + 1) n / R)), n = hi - lo, (checkpointed to
 * FILE.rank<r> when R > 1); rank 0 gathers the ranks' parts, checks and merges them in path
 * order, and writes the result files (or the shard's part). Exit codes agree on every rank.
 */
#include "hpc_cmd.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/checkpoint.h"
#include "xmrisk/outfile.h"
#include "xmrisk/partfile.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/platform.h"
#include "mpi_comm.h"

/* ---- argument values ---- */

int xm_cli_parse_shard(const char *s, uint64_t *k, uint64_t *n)
{
    const char *rest;
    if (xm_cli_parse_digits(s, k, &rest) != 0 || *rest != '/' ||
        xm_cli_parse_digits(rest + 1, n, &rest) != 0 || *rest != '\0')
        return -1;
    return *n >= 1 && *k < *n ? 0 : -1;
}

int xm_cli_parse_interval(const char *s, uint64_t *paths, double *seconds)
{
    const char *rest;
    uint64_t v;
    if (xm_cli_parse_digits(s, &v, &rest) != 0 || v == 0)
        return -1;
    *paths = 0;
    *seconds = 0.0;
    if (rest[0] == '\0')
        *paths = v;
    else if ((rest[0] == 's' || rest[0] == 'm') && rest[1] == '\0' && v <= 100000000)
        *seconds = (double)v * (rest[0] == 'm' ? 60.0 : 1.0);
    else
        return -1;
    return 0;
}

int xm_cli_run_is_hpc(const xm_cli_run_args *a)
{
    return a->has_shard || a->checkpoint != NULL || xm_mpi_size() > 1;
}

/* [lo + floor(k n / parts), lo + floor((k + 1) n / parts)), n = hi - lo, without overflow. */
static void share(uint64_t lo, uint64_t hi, uint64_t k, uint64_t parts, uint64_t *a, uint64_t *b)
{
    unsigned __int128 n = hi - lo;
    *a = lo + (uint64_t)(n * k / parts);
    *b = lo + (uint64_t)(n * (k + 1) / parts);
}

/* ---- run ---- */

typedef struct {
    const xm_model *model;
    const xm_run_opts *opts;
    const xm_cli_run_args *a;
    uint64_t fp;                 /* model fingerprint */
    uint64_t lo, hi;             /* the run's range (a shard's, or everything) */
    uint64_t qlo, qhi;           /* this rank's share */
    char ckpath[XM_PATH_MAX];    /* this rank's checkpoint file, "" without --checkpoint */
    double t0;
} hpc_run;

static xm_status setup(hpc_run *h, xm_error *err)
{
    const xm_cli_run_args *a = h->a;
    uint64_t paths = h->opts->paths;
    h->lo = 0;
    h->hi = paths;
    if (a->has_shard)
        share(0, paths, a->shard_k, a->shard_n, &h->lo, &h->hi);
    int rank = xm_mpi_rank(), size = xm_mpi_size();
    share(h->lo, h->hi, (uint64_t)rank, (uint64_t)size, &h->qlo, &h->qhi);
    h->ckpath[0] = '\0';
    if (a->checkpoint == NULL)
        return XM_OK;
    int n = size > 1 ? snprintf(h->ckpath, sizeof h->ckpath, "%s.rank%d", a->checkpoint, rank)
                     : snprintf(h->ckpath, sizeof h->ckpath, "%s", a->checkpoint);
    if (n < 0 || (size_t)n >= sizeof h->ckpath)
        return xm_error_set(err, XM_EUSAGE, "--checkpoint: path too long");
    return XM_OK;
}

static xm_checkpoint_opts checkpoint_opts(const hpc_run *h)
{
    xm_checkpoint_opts ck = {h->ckpath, h->a->checkpoint_paths,
                             h->a->checkpoint_s > 0 ? h->a->checkpoint_s
                                                    : XM_CHECKPOINT_DEFAULT_S};
    return ck;
}

/* Over several ranks, every checkpoint is checked before any rank starts working. */
static xm_status precheck(const hpc_run *h, xm_error *err)
{
    if (h->ckpath[0] == '\0' || xm_mpi_size() == 1)
        return XM_OK;
    xm_checkpoint_opts ck = checkpoint_opts(h);
    return xm_checkpoint_check(h->model, h->opts, h->qlo, h->qhi, &ck, err);
}

/* This rank's share, checkpointed or in one chunk. */
static xm_status run_share(hpc_run *h, xm_run_result **r, xm_error *err)
{
    const xm_model *m = h->model;
    if (h->ckpath[0] != '\0') {
        xm_checkpoint_opts ck = checkpoint_opts(h);
        uint64_t resumed = 0;
        xm_status st = xm_checkpoint_run(m, h->opts, h->qlo, h->qhi, &ck, r, &resumed, err);
        if (st == XM_OK && resumed > 0 && !h->a->quiet)
            fprintf(stderr, "xmrisk: resumed from %s: %llu of %llu paths were done\n",
                    h->ckpath, (unsigned long long)resumed,
                    (unsigned long long)(h->qhi - h->qlo));
        return st;
    }
    *r = xm_run_result_alloc(m->market.n, m->book->n_accounts, h->opts->seed, h->opts->paths,
                             h->qlo, h->qhi, h->opts->binned, m->venue.insurance_fund_usd, err);
    if (*r == NULL)
        return err != NULL && err->status != XM_OK ? err->status : XM_ENOMEM;
    return xm_run_cascades_more(m, h->opts, 0, h->qhi - h->qlo, *r, err);
}

/* Rank 0: decode the ranks' parts, check them (same model, seed, paths: a rank that loaded
 * another model file is caught here) and merge them in path order. */
static xm_status merge_ranks(hpc_run *h, unsigned char **bufs, const size_t *lens,
                             xm_run_result **full, xm_error *err)
{
    int size = xm_mpi_size();
    xm_part **parts = calloc((size_t)size, sizeof *parts);
    if (parts == NULL)
        return xm_error_set(err, XM_ENOMEM, "MPI: out of memory");
    xm_status st = XM_OK;
    long threads = 0;
    for (int r = 0; r < size && st == XM_OK; r++) {
        char name[32];
        snprintf(name, sizeof name, "rank %d", r);
        parts[r] = xm_part_decode(bufs[r], lens[r], name, err);
        st = parts[r] ? xm_part_check_run(parts[r], h->fp, h->opts->seed, h->opts->paths,
                                          xm_part_get_info(parts[r])->lo,
                                          xm_part_get_info(parts[r])->hi, err)
                      : err->status;
        if (st == XM_OK)
            threads += xm_part_get_info(parts[r])->threads;
    }
    if (st == XM_OK)
        st = xm_part_merge(parts, (size_t)size, h->lo, h->hi, full, err);
    if (st == XM_OK) {
        (*full)->threads = (int)threads;
        (*full)->elapsed_s = xm_now_s() - h->t0;
    }
    for (int r = 0; r < size; r++)
        xm_part_free(parts[r]);
    free(parts);
    return st;
}

/* Every rank: send this rank's share to rank 0, which merges them into *full. The exit
 * status of a failure before the gather agrees on every rank; after it, only rank 0's. */
static int collect(hpc_run *h, xm_run_result *mine, xm_run_result **full, xm_error *err)
{
    unsigned char *buf = NULL, **bufs = NULL;
    size_t len = 0, *lens = NULL;
    xm_status st = xm_part_encode(h->model, h->fp, mine, &buf, &len, err);
    int rc = xm_mpi_agree(xm_status_exit_code(st), err);
    if (rc == 0) {
        st = xm_mpi_gather(buf, len, &bufs, &lens, err);
        rc = xm_status_exit_code(st);
    }
    free(buf);
    if (rc == 0 && bufs != NULL)
        rc = xm_status_exit_code(merge_ranks(h, bufs, lens, full, err));
    for (int r = 0; bufs != NULL && r < xm_mpi_size(); r++)
        free(bufs[r]);
    free(bufs);
    free(lens);
    return rc;
}

/* Rank 0: the shard's part, or the result files. */
static xm_status publish(hpc_run *h, const xm_run_result *full, char *path, size_t size,
                         const char *dir, xm_error *err)
{
    const xm_cli_run_args *a = h->a;
    if (!a->has_shard) {
        snprintf(path, size, "%s", dir);
        return xm_run_report_write(dir, h->model, full, err);
    }
    int n = snprintf(path, size, "%s/part-%llu-of-%llu.xmp", dir,
                     (unsigned long long)a->shard_k, (unsigned long long)a->shard_n);
    if (n < 0 || (size_t)n >= size)
        return xm_error_set(err, XM_EIO, "%s: output path too long", dir);
    return xm_part_write(path, h->model, h->fp, full, err);
}

static void print_done(const hpc_run *h, const xm_run_result *full, const char *path)
{
    const xm_cli_run_args *a = h->a;
    if (!a->has_shard) {
        xm_run_report_print(stdout, h->model, full);
        xm_cli_print_results(path, full);
        return;
    }
    printf("%s: shard %llu/%llu: paths [%llu, %llu) of %llu in %.2f s on %d thread%s\n"
           "part: %s\n",
           h->model->name ? h->model->name : "?", (unsigned long long)a->shard_k,
           (unsigned long long)a->shard_n, (unsigned long long)h->lo,
           (unsigned long long)h->hi, (unsigned long long)h->opts->paths, full->elapsed_s,
           full->threads, full->threads == 1 ? "" : "s", path);
}

static int report_failure(const hpc_run *h, const xm_error *err)
{
    if (err->status != XM_EINTR)
        return xm_cli_fail(err);
    if (h->ckpath[0] != '\0')
        fprintf(stderr, "\nxmrisk: %s; nothing written; the checkpoint keeps every finished "
                        "chunk: run the same command to resume\n", err->msg);
    else
        fprintf(stderr, "\nxmrisk: %s; nothing written\n", err->msg);
    return 1;
}

int xm_cli_run_hpc(const xm_model *model, const xm_run_opts *opts, const xm_cli_run_args *a,
                   const char *dir)
{
    hpc_run h = {.model = model, .opts = opts, .a = a, .t0 = xm_now_s()};
    h.fp = xm_part_fingerprint(model);
    xm_error err;
    xm_error_clear(&err);
    xm_run_result *mine = NULL, *full = NULL;
    xm_status st = setup(&h, &err);
    if (st == XM_OK)
        st = precheck(&h, &err);
    int rc = xm_mpi_agree(xm_status_exit_code(st), &err);
    if (rc == 0) {
        st = run_share(&h, &mine, &err);
        rc = xm_mpi_agree(xm_status_exit_code(st), &err);
    }
    if (rc == 0 && xm_mpi_size() > 1)
        rc = collect(&h, mine, &full, &err);
    else if (rc == 0)
        full = mine;
    char path[XM_PATH_MAX];
    if (rc == 0 && xm_mpi_rank() == 0)
        rc = xm_status_exit_code(publish(&h, full, path, sizeof path, dir, &err));
    if (rc != 0)
        report_failure(&h, &err);  /* rank 0's is the one seen: the others print nowhere */
    rc = xm_mpi_bcast_rc(rc);
    if (rc == 0 && h.ckpath[0] != '\0' && xm_checkpoint_remove(h.ckpath, &err) != XM_OK)
        fprintf(stderr, "xmrisk: warning: %s\n", err.msg);
    if (rc == 0 && xm_mpi_rank() == 0 && !a->quiet)
        print_done(&h, full, path);
    if (full != mine)
        xm_run_result_free(full);
    xm_run_result_free(mine);
    return rc;
}

/* ---- merge ---- */

typedef struct {
    const char *out_dir;
    int quiet;
} merge_args;

static const xm_arg_opt merge_opts[] = {
    XM_ARG_OPT_OUT(merge_args, "where the result files go (default: results/<model name>)"),
    XM_ARG_OPT_QUIET(merge_args),
};

const xm_arg_spec xm_cli_merge_spec = {
    .name = "merge",
    .synopsis = "PART... [--out DIR] [--quiet]",
    .summary = "merge the parts of every shard into DIR's result files, exactly as one run",
    .about = "Merge the parts that `xmrisk run --shard K/N` wrote, one for every shard, into\n"
             "DIR's result files, the same as one run's (timing fields aside; docs/hpc.md).",
    .opts = merge_opts, .n_opts = sizeof merge_opts / sizeof *merge_opts,
    .min_pos = 1, .pos_name = "PART", .missing = "at least one PART file is required",
};

/* Read every part; the exit status of the first that fails (a part is the user's input: a
 * file that cannot be read is exit 2, like a model). */
static int read_parts(const char **files, size_t n, xm_part **parts)
{
    xm_error err;
    for (size_t k = 0; k < n; k++) {
        parts[k] = xm_part_read(files[k], &err);
        if (parts[k] == NULL)
            return err.status == XM_ENOMEM ? xm_cli_fail(&err) : xm_cli_fail_input(&err);
    }
    return 0;
}

/* Merge the parts of a whole run [0, P) and write its result files. */
static int write_merged(const merge_args *m, size_t n, xm_part **parts)
{
    xm_error err;
    xm_error_clear(&err);
    xm_run_result *r = NULL;
    xm_model *model = NULL;
    xm_status st = xm_part_merge(parts, n, 0, xm_part_get_info(parts[0])->paths, &r, &err);
    if (st == XM_OK && (model = xm_part_report_model(parts[0], &err)) == NULL)
        st = err.status;
    char dir[XM_PATH_MAX];
    int rc = st == XM_OK ? xm_cli_out_dir(m->out_dir, model->name, dir, sizeof dir) : 0;
    if (st == XM_OK && rc == 0)
        st = xm_run_report_write(dir, model, r, &err);
    if (st == XM_OK && rc == 0 && !m->quiet) {
        xm_run_report_print(stdout, model, r);
        printf("\nmerged %zu part%s", n, n == 1 ? "" : "s");
        xm_cli_print_results(dir, r);
    }
    xm_model_free(model);
    xm_run_result_free(r);
    return rc != 0 ? rc : st == XM_OK ? 0 : xm_cli_fail(&err);
}

static int merge_files(const merge_args *m, const char **files, size_t n)
{
    xm_part **parts = calloc(n, sizeof *parts);
    if (parts == NULL) {
        fputs("xmrisk: merge: out of memory\n", stderr);
        return 1;
    }
    int rc = read_parts(files, n, parts);
    if (rc == 0)
        rc = write_merged(m, n, parts);
    for (size_t k = 0; k < n; k++)
        xm_part_free(parts[k]);
    free(parts);
    return rc;
}

int xm_cli_merge(int argc, char **argv, const xm_cli_env *env)
{
    (void)env;
    merge_args m = {0};
    size_t n = 0;
    const char **files = calloc((size_t)argc, sizeof *files);
    if (files == NULL) {
        fputs("xmrisk: merge: out of memory\n", stderr);
        return 1;
    }
    xm_args_status parsed = xm_args_parse(&xm_cli_merge_spec, argc, argv, &m, files, &n);
    int rc = parsed == XM_ARGS_OK ? merge_files(&m, files, n) : xm_args_exit_code(parsed);
    free(files);
    return rc;
}
