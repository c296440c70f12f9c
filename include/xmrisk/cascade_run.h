/* xmrisk/cascade_run.h — `xmrisk run` on a model with accounts: every path in parallel through the
 * cascade engine (xmrisk/cascade.h), then statistics, result files and the human summary.
 */
#ifndef XMRISK_CASCADE_RUN_H
#define XMRISK_CASCADE_RUN_H

#include <stdio.h>

#include "xmrisk/cascade.h"
#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/mergestats.h"
#include "xmrisk/run_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The result of a run of `paths` paths, or of the contiguous range [first_path, end_path) of
 * it (a shard, an MPI rank's share, a checkpoint: xmrisk/partfile.h). Slot k of the per-path
 * arrays holds path first_path + k; a whole run has first_path 0 and end_path paths.
 * A binned result (opts->binned, for path counts whose per-path results do not fit in memory)
 * has no per-path arrays (pm, min_ratio, impact_at_min NULL) but `ps`, the statistics of its
 * paths (xmrisk/mergestats.h); an exact one has the arrays and ps NULL. */
typedef struct {
    uint64_t seed, paths, paths_done;  /* paths: of the whole run; paths_done: slots filled */
    int threads;
    double elapsed_s;
    size_t n_assets;
    xm_path_metrics *pm;          /* per slot (end_path - first_path entries; the first
                                   * paths_done valid) */
    double *min_ratio;            /* [k * n_assets + i]: lowest mark / S0 of asset i, slot k */
    double *impact_at_min;        /* [k * n_assets + i]: log impact I_i at that moment */
    xm_cascade_acc *acc;          /* per-account sums and cascade histogram, its paths */
    uint64_t first_path, end_path;
    xm_mergestats *ps;             /* binned results only: the statistics of its paths */
} xm_run_result;

/* Bytes an exact result keeps per path: its metrics and two doubles per asset. */
double xm_run_bytes_per_path(size_t n_assets);

/* Run opts->paths (>= 1) paths of a model with accounts (model->book != NULL)
 * on opts->threads threads (0: all). `naive` selects the reference engine (every unit checked
 * every round). XM_EINTR when opts->stop was raised (*out then holds what finished). */
xm_status xm_run_cascades(const xm_model *model, const xm_run_opts *opts, int naive,
                          xm_run_result **out, xm_error *err) XM_MUST_CHECK;
void xm_run_result_free(xm_run_result *r);

/* An empty result (paths_done 0, zeroed sums) for paths [first, end) of a run of `paths` paths
 * seeded `seed` (first <= end <= paths), with n_assets assets and n_accounts accounts; binned
 * (1) or exact (0); fund0: the venue's insurance fund (binned statistics need it). Owned by
 * the caller: xm_run_result_free(). NULL with XM_ENOMEM, or XM_EUSAGE (a bad range, or an
 * exact result whose per-path arrays exceed this machine's memory: the estimate is given). */
xm_run_result *xm_run_result_alloc(size_t n_assets, size_t n_accounts, uint64_t seed,
                                   uint64_t paths, uint64_t first, uint64_t end, int binned,
                                   double fund0, xm_error *err);

/* Run the next `count` paths of r (model->book != NULL, r from xm_run_result_alloc for this
 * model): paths [first_path + paths_done, + count), cut at end_path, as one parallel chunk on
 * opts->threads threads (opts->paths and opts->seed are not used: r has them). On success the
 * chunk is added to r: paths_done, sums, elapsed_s; threads becomes the largest used. On
 * XM_EINTR (opts->stop raised) or any failure r is unchanged: the chunk is dropped. Progress is
 * reported as slots done of end_path - first_path. Chunks give bit-identical results however
 * the range is cut. */
xm_status xm_run_cascades_more(const xm_model *model, const xm_run_opts *opts, int naive,
                               uint64_t count, xm_run_result *r, xm_error *err) XM_MUST_CHECK;

/* Write DIR/summary.json, DIR/accounts.csv and DIR/paths.csv (docs/interface.md), each aside
 * and renamed into place only after all three were written completely. A binned result has
 * no per-path rows: paths.csv is not written, and one left in DIR by an earlier run is
 * removed (it would not be of this result). */
xm_status xm_run_report_write(const char *dir, const xm_model *model, const xm_run_result *r,
                              xm_error *err) XM_MUST_CHECK;

/* The human summary a risk manager reads in ten seconds. */
void xm_run_report_print(FILE *fp, const xm_model *model, const xm_run_result *r);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CASCADE_RUN_H */
