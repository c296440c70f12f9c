/* file.c — a whole file read into memory, and the "cannot read" message (see core/file.h). */
#include "core/file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/grow.h"

/* Without a size to go by (a pipe, a device), reading starts with this much room. */
#define XM_READ_FIRST_CAP ((size_t)65536)

xm_status xm_read_error(const char *path, int errnum, xm_error *err)
{
    char msg[256];
    if (errnum == 0)
        errnum = EIO;
    if (strerror_r(errnum, msg, sizeof msg) != 0)
        snprintf(msg, sizeof msg, "error %d", errnum);
    return xm_error_set(err, XM_EIO, "%s: cannot read: %s", path, msg);
}

static xm_status too_large(const char *path, const xm_read_opts *o, xm_error *err)
{
    if (o->too_large_what == NULL)
        return xm_error_set(err, XM_EIO, "%s: cannot read: larger than %zu MiB", path,
                            o->max_bytes >> 20);
    return xm_error_set(err, XM_EIO, "%s: cannot read: larger than %zu MiB, not %s", path,
                        o->max_bytes >> 20, o->too_large_what);
}

/* Refuse what opts excludes; else *cap: the room to read into first, the size announced plus
 * one byte (so the end of the file is seen without growing), else XM_READ_FIRST_CAP; never
 * more than max_bytes. SIZE_MAX for a size no buffer can hold. */
static xm_status first_cap(const char *path, const struct stat *st, const xm_read_opts *o,
                           size_t *cap, xm_error *err)
{
    int regular = S_ISREG(st->st_mode);
    if (S_ISDIR(st->st_mode))
        return xm_read_error(path, EISDIR, err);
    if (o->regular_only && !regular)
        return xm_read_error(path, EINVAL, err);
    if (regular && o->max_bytes != 0 && (uint64_t)st->st_size >= o->max_bytes)
        return too_large(path, o, err);
    if (regular && (uint64_t)st->st_size >= SIZE_MAX - 1)
        *cap = SIZE_MAX;
    else
        *cap = regular ? (size_t)st->st_size + 1 : XM_READ_FIRST_CAP;
    if (o->max_bytes != 0 && *cap > o->max_bytes)
        *cap = o->max_bytes;
    return XM_OK;
}

/* Read f to its end into *buf (room *cap, growing by doubling up to max_bytes); *n bytes. */
static xm_status read_to_end(FILE *f, const char *path, const xm_read_opts *o, char **buf,
                             size_t *cap, size_t *n, xm_error *err)
{
    for (;;) {
        if (*n == *cap) {
            if (o->max_bytes != 0 && *n >= o->max_bytes)
                return too_large(path, o, err);
            size_t grown = xm_grown_cap(*cap, *n + 1, XM_READ_FIRST_CAP);
            if (o->max_bytes != 0 && grown > o->max_bytes)
                grown = o->max_bytes;
            if (xm_resize((void **)buf, grown, 1) != 0)
                return xm_error_set(err, XM_ENOMEM, "%s: out of memory while reading", path);
            *cap = grown;
        }
        size_t got = fread(*buf + *n, 1, *cap - *n, f);
        *n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        return xm_read_error(path, errno, err);
    return XM_OK;
}

static xm_status read_open_file(FILE *f, const char *path, const xm_read_opts *o, char **out,
                                size_t *len, xm_error *err)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return xm_read_error(path, errno, err);
    size_t cap = 0;
    xm_status s = first_cap(path, &st, o, &cap, err);
    if (s != XM_OK)
        return s;
    char *buf = cap == SIZE_MAX ? NULL : malloc(cap);
    if (buf == NULL)
        return xm_error_set(err, XM_ENOMEM, "%s: out of memory for %lld bytes", path,
                            (long long)st.st_size);
    size_t n = 0;
    s = read_to_end(f, path, o, &buf, &cap, &n, err);
    if (s != XM_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    *len = n;
    return XM_OK;
}

xm_status xm_read_file(const char *path, const xm_read_opts *opts, char **out, size_t *len,
                       xm_error *err)
{
    static const xm_read_opts any = {0, NULL, 0};
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return xm_read_error(path, errno, err);
    xm_status s = read_open_file(f, path, opts ? opts : &any, out, len, err);
    fclose(f);
    return s;
}
