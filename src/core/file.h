/* file.h — internal: a whole file read into memory, and the one "cannot read" message (not
 * installed).
 *
 * Every reader of the library names an unreadable file the same way, with XM_EIO:
 *   "PATH: cannot read: REASON"   (REASON: strerror of the errno, e.g. "Is a directory").
 */
#ifndef XM_CORE_FILE_H
#define XM_CORE_FILE_H

#include <stddef.h>

#include "xmrisk/error.h"

/* What xm_read_file accepts besides an ordinary file of any size. */
typedef struct {
    /* 0: no limit. Otherwise a file of max_bytes or more is refused (XM_EIO, "PATH: cannot
     * read: larger than N MiB, not WHAT" with WHAT = too_large_what), so that /dev/zero or a
     * wrong path cannot take all memory. */
    size_t max_bytes;
    const char *too_large_what;
    /* 1: refuse anything but a regular file (a directory: "Is a directory"; a pipe or a device:
     * "Invalid argument"). 0: read pipes and devices to their end too. A directory is always
     * refused. */
    int regular_only;
} xm_read_opts;

/* XM_EIO "PATH: cannot read: REASON" for the errno value `errnum` (0 is taken as EIO). */
xm_status xm_read_error(const char *path, int errnum, xm_error *err);

/* The whole file at `path` in a new buffer: *out (free() it; not NUL-terminated, never NULL on
 * success, also for an empty file) and *len. `opts` NULL: no limit, any readable file. On
 * failure *out is NULL and *len 0; XM_EIO as above, XM_ENOMEM "PATH: out of memory for N bytes"
 * (the size announced) or "PATH: out of memory while reading". */
xm_status xm_read_file(const char *path, const xm_read_opts *opts, char **out, size_t *len,
                       xm_error *err) XM_MUST_CHECK;

#endif /* XM_CORE_FILE_H */
