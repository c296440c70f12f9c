/* core/driver.h — the one parallel loop over Monte Carlo paths (internal, not installed).
 *
 * xm_drive() runs paths [lo, hi) on OpenMP threads: each thread gets a workspace, runs the
 * paths handed to it (dynamic chunks: which thread runs a path does not matter as long as each
 * path writes only its own slots), then gives its workspace to `finish` (one thread at a time,
 * for per-thread sums that merge exactly) and frees it. Paths are handed out in blocks of
 * XM_DRIVE_BLOCK; a stop (*stop non-zero) or a failure (a workspace that could not be
 * allocated) skips the rest of the block and starts no further block, so a run of 10^11 paths
 * ends promptly. A long path may also read the stop itself and return XM_EINTR: it is then not
 * counted, and the run is XM_EINTR even if every path was started. A run stopped before it
 * starts builds no workspace. Used by market-only runs, cascade runs and calibration.
 */
#ifndef XM_CORE_DRIVER_H
#define XM_CORE_DRIVER_H

#include <signal.h>
#include <stdint.h>

#include "xmrisk/error.h"
#include "xmrisk/run_opts.h"

#define XM_DRIVE_BLOCK ((uint64_t)1 << 16)  /* paths between two decisions to stop */

/* What is run: the callbacks, and how paths are handed out and reported. */
typedef struct {
    void *ctx;                                    /* passed to every callback */
    /* A thread's workspace, or NULL when out of memory (the run then stops: XM_ENOMEM). */
    void *(*ws_alloc)(void *ctx);
    void (*ws_free)(void *ctx, void *ws);          /* never given NULL */
    /* Optional: called once per workspace after the loop, one thread at a time. */
    void (*ws_finish)(void *ctx, void *ws);
    /* Run path p with the thread's workspace: XM_OK when it finished, XM_EINTR when a stop
     * cut it short (it is then not counted: it must have left no trace in ws or ctx). */
    xm_status (*path)(void *ctx, void *ws, uint64_t p);
    unsigned chunk;                               /* paths per dynamic chunk; 0: 16 */
    /* Progress (when o->progress is set), one call at a time: progress(ctx, v, total) with
     * v = lo + paths done, whenever (v & progress_mask) == 0 or v == total, where total is
     * progress_total, or hi when 0. */
    uint64_t progress_mask, progress_total;
} xm_drive_spec;

typedef struct {
    uint64_t done;     /* paths finished (a path cut short by a stop is not one) */
    int threads;       /* threads used */
    double elapsed_s;  /* wall time of the loop, workspaces included */
} xm_drive_out;

/* Run paths [lo, hi) (lo <= hi) as described above, on o->threads threads (0: all available),
 * stopping when *o->stop becomes non-zero (o->stop optional); o->paths, seed and binned are
 * not used. XM_OK when every path ran, XM_ENOMEM when a workspace could not be allocated,
 * XM_EINTR when stopped; *out is filled in every case. No message is set (xm_drive_error). */
xm_status xm_drive(const xm_drive_spec *s, const xm_run_opts *o, uint64_t lo, uint64_t hi,
                   xm_drive_out *out);

/* The message of a run's status st from xm_drive, set in err and st returned: XM_ENOMEM is
 * "WHAT: out of memory for WS", XM_EINTR "WHAT: interrupted after DONE of TOTAL paths";
 * XM_OK sets nothing. */
xm_status xm_drive_error(xm_status st, const char *what, const char *ws, uint64_t done,
                         uint64_t total, xm_error *err);

#endif /* XM_CORE_DRIVER_H */
