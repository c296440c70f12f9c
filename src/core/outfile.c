/* outfile.c — write aside, rename into place (see xmrisk/outfile.h). */
#include "xmrisk/outfile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

xm_status xm_mkdir_p(const char *dir, xm_error *err)
{
    char buf[XM_PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof buf)
        return xm_error_set(err, XM_EIO, "%s: invalid output directory name", dir);
    memcpy(buf, dir, len + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return xm_error_set(err, XM_EIO, "%s: cannot create directory: %s", buf,
                                    strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return xm_error_set(err, XM_EIO, "%s: not a directory", dir);
    return XM_OK;
}

xm_status xm_outfile_open(xm_outfile *o, const char *dir, const char *name, xm_error *err)
{
    memset(o, 0, sizeof *o);
    int a = snprintf(o->final_path, sizeof o->final_path, "%s/%s", dir, name);
    int b = snprintf(o->tmp_path, sizeof o->tmp_path, "%s/.%s.tmp.%ld", dir, name,
                     (long)getpid());
    if (a < 0 || b < 0 || (size_t)a >= sizeof o->final_path || (size_t)b >= sizeof o->tmp_path)
        return xm_error_set(err, XM_EIO, "%s/%s: path too long", dir, name);
    o->fp = fopen(o->tmp_path, "w");
    if (o->fp == NULL)
        return xm_error_set(err, XM_EIO, "%s: cannot write: %s", o->final_path, strerror(errno));
    return XM_OK;
}

xm_status xm_outfile_open_path(xm_outfile *o, const char *path, xm_error *err)
{
    memset(o, 0, sizeof *o);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = slash ? (size_t)(slash - path) : 0;
    char dir[XM_PATH_MAX];
    if (*base == '\0' || n >= sizeof dir)
        return xm_error_set(err, XM_EIO, "%s: not a file name", path);
    if (slash == NULL || n == 0)
        strcpy(dir, slash ? "/" : ".");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    xm_status st = xm_mkdir_p(dir, err);
    return st == XM_OK ? xm_outfile_open(o, dir, base, err) : st;
}

xm_status xm_outfile_commit(xm_outfile *o, xm_error *err)
{
    if (o->fp == NULL)
        return xm_error_set(err, XM_EIO, "%s: not open", o->final_path);
    int bad = fflush(o->fp) != 0 || ferror(o->fp);
    int saved = errno;
    if (!bad && fsync(fileno(o->fp)) != 0) {
        bad = 1;
        saved = errno;
    }
    if (fclose(o->fp) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    o->fp = NULL;
    if (!bad && rename(o->tmp_path, o->final_path) != 0) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        unlink(o->tmp_path);
        return xm_error_set(err, XM_EIO, "%s: write failed: %s", o->final_path,
                            strerror(saved ? saved : EIO));
    }
    return XM_OK;
}

/* Flush and fsync a file written aside, so that its commit can only fail at close/rename. */
static xm_status flush_aside(xm_outfile *o, xm_error *err)
{
    errno = 0;
    if (o->fp != NULL && fflush(o->fp) == 0 && !ferror(o->fp) && fsync(fileno(o->fp)) == 0)
        return XM_OK;
    return xm_error_set(err, XM_EIO, "%s: write failed: %s", o->final_path,
                        strerror(errno ? errno : EIO));
}

xm_status xm_outfile_publish(xm_outfile *f, size_t n, xm_error *err)
{
    xm_status st = XM_OK;
    for (size_t i = 0; i < n && st == XM_OK; i++)
        st = flush_aside(&f[i], err);
    for (size_t i = 0; i < n && st == XM_OK; i++) {
        st = xm_outfile_commit(&f[i], err);
        if (st != XM_OK)
            for (size_t j = 0; j < i; j++)
                unlink(f[j].final_path);
    }
    for (size_t i = 0; i < n; i++)
        xm_outfile_abort(&f[i]);
    return st;
}

void xm_outfile_abort(xm_outfile *o)
{
    if (o->fp != NULL) {
        fclose(o->fp);
        o->fp = NULL;
        unlink(o->tmp_path);
    }
}
