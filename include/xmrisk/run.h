/* xmrisk/run.h — `xmrisk run` on a model with accounts: every path in parallel through the
 * cascade engine (xmrisk/cascade.h), then statistics, result files and the human summary.
 */
#ifndef XMRISK_RUN_H
#define XMRISK_RUN_H

#include <stdio.h>

#include "xmrisk/cascade.h"
#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t seed, paths, paths_done;
    int threads;
    double elapsed_s;
    size_t n_assets;
    xm_path_metrics *pm;          /* per path p (paths entries; the first paths_done valid) */
    double *min_ratio;            /* [p * n_assets + i]: lowest mark / S0 of asset i on path p */
    double *impact_at_min;        /* [p * n_assets + i]: log impact I_i at that moment */
    xm_cascade_acc *acc;          /* per-account sums and cascade histogram, all paths */
} xm_run_result;

/* Run opts->paths (>= 1) paths of a model with accounts (model->book != NULL)
 * on opts->threads threads (0: all). `naive` selects the reference engine (every unit checked
 * every round). XM_EINTR when opts->stop was raised (*out then holds what finished). */
xm_status xm_run_cascades(const xm_model *model, const xm_sim_opts *opts, int naive,
                          xm_run_result **out, xm_error *err) XM_MUST_CHECK;
void xm_run_result_free(xm_run_result *r);

/* Write DIR/summary.json, DIR/accounts.csv and DIR/paths.csv (docs/interface.md), each aside
 * and renamed into place only after all three were written completely. */
xm_status xm_run_report_write(const char *dir, const xm_model *model, const xm_run_result *r,
                              xm_error *err) XM_MUST_CHECK;

/* The human summary a risk manager reads in ten seconds. */
void xm_run_report_print(FILE *fp, const xm_model *model, const xm_run_result *r);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_RUN_H */
