/* xmrisk/outfile.h — result files written aside and renamed into place; result sets
 * published whole.
 *
 * One file: xm_outfile_open() creates "DIR/.NAME.tmp.PID" next to the final path; the caller
 * writes through `fp`; xm_outfile_commit() flushes, checks for write errors, fsyncs, closes
 * and renames it over the final name. Until commit, nothing exists under the final name; a
 * failure or xm_outfile_abort() removes the temporary file.
 *
 * A set of files (docs/interface.md "Result files"): xm_outset_begin() makes a fresh
 * directory DIR/.xmrisk/RUN_ID; the caller opens each file there (xm_outfile_open with
 * `set_dir`), writes it, and xm_outset_publish() commits them all, then makes DIR/NAME a
 * symbolic link to ".xmrisk/current/NAME" and points DIR/.xmrisk/current at RUN_ID with one
 * rename(2). Readers see the old set or the new one, never a mix, whatever is killed when;
 * concurrent publishers into one DIR take turns (flock on DIR/.xmrisk) and the last one wins.
 * Files of DIR that are not result names are never touched.
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

/* Close and remove the temporary file, if open. Safe to call twice. */
void xm_outfile_abort(xm_outfile *o);

/* Check an output directory before any work, creating nothing: DIR, or its first existing
 * ancestor when DIR is missing, must be a writable directory; a dangling symbolic link, a
 * file in the way or a read-only file system is named. XM_EIO (exit 1). */
xm_status xm_outdir_check(const char *dir, xm_error *err) XM_MUST_CHECK;

/* A run id: "YYYYMMDDTHHMMSSZ-" (UTC) and 48 random bits in hex, e.g.
 * "20261208T004656Z-3f9a2c7d1e5b". */
#define XM_RUN_ID_LEN 32
void xm_run_id_make(char id[XM_RUN_ID_LEN]);

typedef struct {
    char dir[XM_PATH_MAX];      /* DIR, where the result names are */
    char set_dir[XM_PATH_MAX];  /* DIR/.xmrisk/RUN_ID: open the files here */
    char run_id[XM_RUN_ID_LEN]; /* write it into every file */
    int set_fd;                 /* set_dir, flock'ed while unpublished; -1 when closed */
    int published;
} xm_outset;

/* Start a set in DIR (created when missing). XM_EIO when DIR cannot be written. */
xm_status xm_outset_begin(xm_outset *s, const char *dir, xm_error *err) XM_MUST_CHECK;

/* Commit the n files (opened in s->set_dir) and publish them as one set. `names` (n_names)
 * are all the result names of this kind of result: those not in the set are removed from
 * DIR (a binned run has no paths.csv). Every file is closed and `s` released on return
 * (xm_outset_abort); on failure nothing is published and the set directory is removed. */
xm_status xm_outset_publish(xm_outset *s, xm_outfile *f, size_t n, const char *const *names,
                            size_t n_names, xm_error *err) XM_MUST_CHECK;

/* Remove an unpublished set and release `s`. Safe to call twice. */
void xm_outset_abort(xm_outset *s);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_OUTFILE_H */
