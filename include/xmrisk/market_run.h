/* xmrisk/market_run.h — run every path of a model in parallel and keep per-path results.
 *
 * Paths are spread over OpenMP threads; path p always uses stream (seed, p) and writes only
 * its own slots of the result arrays, so the result is bit-identical whatever the number of
 * threads and however they are scheduled. Reductions over paths (xmrisk/market_report.h) run
 * afterwards in path order.
 */
#ifndef XMRISK_MARKET_RUN_H
#define XMRISK_MARKET_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/run_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t n_assets;
    uint64_t seed;                   /* seed of the run */
    uint64_t paths;                  /* paths asked for */
    uint64_t paths_done;             /* paths finished (== paths unless stopped) */
    int threads;                     /* threads actually used */
    double elapsed_s;                /* wall time of the path loop */
    /* Per path p, asset i at [p * n_assets + i]: */
    double *log_return;              /* ln(S_T / S0); bachelier: S_T / S0 - 1 */
    double *min_ratio;               /* min over steps 1..N of S_t / S0 */
    uint64_t *jumps;                 /* per path: common jumps drawn */
} xm_market_result;

/* Run the model's paths. On success *out owns a result to free with xm_market_result_free().
 * XM_EINTR when opts->stop was raised (the result then holds paths_done finished paths in
 * no particular set: callers must not report it as a full run). */
xm_status xm_market_run(const xm_model *model, const xm_run_opts *opts, xm_market_result **out,
                     xm_error *err) XM_MUST_CHECK;

void xm_market_result_free(xm_market_result *r);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_MARKET_RUN_H */
