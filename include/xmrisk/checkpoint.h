/* xmrisk/checkpoint.h — a cascade run over a path range, in chunks, that saves its progress
 * to a checkpoint file after each interval and resumes from it after a kill.
 *
 * The checkpoint is a part (xmrisk/partfile.h) holding paths [lo, done) of the range [lo, hi):
 * written aside, fsync'd and renamed over the previous one, so a kill at any moment (SIGKILL
 * during the write included) leaves the previous checkpoint intact. A run that finds the file
 * resumes from it when it is of the same run (model fingerprint, seed, paths, range); anything
 * else is refused with XM_EDATA naming what differs. Chunking does not change a result: paths
 * are independent and the sums are integers, so a resumed run is bit-identical to an
 * uninterrupted one. The file is left in place at the end; the caller removes it once the
 * results are published (xm_checkpoint_remove).
 */
#ifndef XMRISK_CHECKPOINT_H
#define XMRISK_CHECKPOINT_H

#include <stdint.h>

#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/market_run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default interval: a checkpoint about every minute of work. */
#define XM_CHECKPOINT_DEFAULT_S 60.0

typedef struct {
    const char *path;       /* the checkpoint file */
    uint64_t every_paths;   /* > 0: save after every every_paths paths (exact) */
    double every_s;         /* when every_paths is 0: save about every every_s seconds (> 0);
                             * chunks are sized from the measured rate to end on time */
} xm_checkpoint_opts;

/* Run paths [lo, hi) of the run of opts->paths paths seeded opts->seed (model with accounts),
 * resuming from ck->path when it exists. On XM_OK *out holds the whole range (owned by the
 * caller: xm_run_result_free) and *resumed the paths taken from the checkpoint (0: none); the
 * checkpoint then holds the whole range too. XM_EINTR when opts->stop was raised: the
 * checkpoint holds every chunk finished before. XM_EDATA: the file is not a checkpoint of this
 * run (or is corrupt). XM_EIO: it cannot be read or written. */
xm_status xm_checkpoint_run(const xm_model *model, const xm_run_opts *opts, uint64_t lo,
                            uint64_t hi, const xm_checkpoint_opts *ck, xm_run_result **out,
                            uint64_t *resumed, xm_error *err) XM_MUST_CHECK;

/* Would xm_checkpoint_run accept ck->path (absent, or of this run) and be able to write it?
 * The same statuses and messages, before any work (e.g. to stop every MPI rank early). */
xm_status xm_checkpoint_check(const xm_model *model, const xm_run_opts *opts, uint64_t lo,
                              uint64_t hi, const xm_checkpoint_opts *ck, xm_error *err)
    XM_MUST_CHECK;

/* Remove the checkpoint file (after the results are published). XM_EIO when it exists and
 * cannot be removed. */
xm_status xm_checkpoint_remove(const char *path, xm_error *err) XM_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CHECKPOINT_H */
