/* xmrisk/outfile.h — result files written aside and renamed into place.
 *
 * xm_outfile_open() creates "DIR/.NAME.tmp.PID" next to the final path; the caller writes
 * through `fp`; xm_outfile_commit() flushes, checks for write errors, fsyncs, closes and
 * renames it over the final name. Until commit, nothing exists under the final name; a
 * failure or xm_outfile_abort() removes the temporary file. To publish several files
 * together, write them all, then xm_outfile_publish() them.
 */
#ifndef XMRISK_OUTFILE_H
#define XMRISK_OUTFILE_H

#include <stdio.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_PATH_MAX 4096

typedef struct {
    FILE *fp;                        /* write here; NULL when not open */
    char final_path[XM_PATH_MAX];
    char tmp_path[XM_PATH_MAX];
} xm_outfile;

/* Create every missing directory of `dir` (like mkdir -p). XM_EIO with the reason. */
xm_status xm_mkdir_p(const char *dir, xm_error *err) XM_MUST_CHECK;

/* Open DIR/NAME for writing aside. XM_EIO when the directory is not writable. */
xm_status xm_outfile_open(xm_outfile *o, const char *dir, const char *name, xm_error *err)
    XM_MUST_CHECK;

/* The same for a file given by its path ("DIR/NAME", or "NAME" in the working directory),
 * creating DIR when missing. */
xm_status xm_outfile_open_path(xm_outfile *o, const char *path, xm_error *err) XM_MUST_CHECK;

/* Publish: flush, error check, fsync, close, rename. On failure the temporary file is removed
 * and XM_EIO says why (e.g. "No space left on device"). */
xm_status xm_outfile_commit(xm_outfile *o, xm_error *err) XM_MUST_CHECK;

/* Publish n files as one set: every file flushed and fsynced before any is renamed (a full
 * disk fails here, with nothing published), then each renamed; should a late rename fail, the
 * ones already published are removed rather than leave a mixed set. Every file is closed on
 * return. XM_EIO naming the file that failed. */
xm_status xm_outfile_publish(xm_outfile *f, size_t n, xm_error *err) XM_MUST_CHECK;

/* Close and remove the temporary file, if open. Safe to call twice. */
void xm_outfile_abort(xm_outfile *o);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_OUTFILE_H */
