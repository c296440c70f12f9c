/* xmrisk/run_opts.h — the options of a run over Monte Carlo paths, shared by market-only runs
 * (xmrisk/market_run.h), cascade runs (xmrisk/cascade_run.h) and calibration
 * (xmrisk/calibrate.h).
 */
#ifndef XMRISK_RUN_OPTS_H
#define XMRISK_RUN_OPTS_H

#include <signal.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called with the number of finished paths, from one thread at a time (never concurrently). */
typedef void (*xm_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct {
    uint64_t paths;                  /* paths to run (>= 1) */
    uint64_t seed;
    int threads;                     /* OpenMP threads; 0 = all available */
    xm_progress_fn progress;         /* optional */
    void *progress_ctx;
    volatile sig_atomic_t *stop;     /* optional: set non-zero (e.g. by SIGINT) to stop early */
    int binned;                      /* cascade runs: keep binned statistics instead of every
                                      * path's results (xmrisk/cascade_run.h, xmrisk/mergestats.h) */
} xm_run_opts;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_RUN_OPTS_H */
