/* outfile.c — write aside, rename into place; result sets swapped in whole (see
 * xmrisk/outfile.h). */
#define _DEFAULT_SOURCE /* flock(2) and getrandom(2) are not POSIX */
#include "xmrisk/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SETS ".xmrisk"        /* DIR/.xmrisk: the sets, one directory per run id */
#define CURRENT "current"     /* DIR/.xmrisk/current -> RUN_ID, the published set */

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

void xm_outfile_abort(xm_outfile *o)
{
    if (o->fp != NULL) {
        fclose(o->fp);
        o->fp = NULL;
        unlink(o->tmp_path);
    }
}

xm_status xm_outdir_check(const char *dir, xm_error *err)
{
    char buf[XM_PATH_MAX], missing[XM_PATH_MAX] = "", target[XM_PATH_MAX];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof buf)
        return xm_error_set(err, XM_EIO, "%s: invalid output directory name", dir);
    memcpy(buf, dir, len + 1);
    for (;;) {  /* from dir up to its first existing ancestor; `missing`: the one below it */
        struct stat st;
        const char *why = NULL;
        if (stat(buf, &st) == 0) {
            if (!S_ISDIR(st.st_mode) && *missing == '\0')
                return xm_error_set(err, XM_EIO, "%s: not a directory", buf);
            if (!S_ISDIR(st.st_mode))
                why = strerror(ENOTDIR);
            else if (access(buf, W_OK | X_OK) != 0)
                why = strerror(errno);
            if (why == NULL)
                return XM_OK;
            return xm_error_set(err, XM_EIO, "%s: %s: %s", *missing ? missing : buf,
                                *missing ? "cannot create directory" : "cannot write", why);
        }
        if (errno != ENOENT && errno != ENOTDIR)  /* ENOTDIR: a file on the way, named above */
            return xm_error_set(err, XM_EIO, "%s: %s", buf, strerror(errno));
        ssize_t n = readlink(buf, target, sizeof target - 1);
        if (n >= 0) {
            target[n] = '\0';
            return xm_error_set(err, XM_EIO, "%s: a symbolic link to %s, which does not exist",
                                buf, target);
        }
        memcpy(missing, buf, sizeof buf);
        char *slash = strrchr(buf, '/');
        while (slash != NULL && slash > buf && slash[-1] == '/')
            slash--;
        if (slash == NULL)
            strcpy(buf, ".");
        else
            slash[slash == buf] = '\0';  /* "/x" -> "/" */
    }
}

/* ---- run ids ---- */

void xm_run_id_make(char id[XM_RUN_ID_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = 0;
    if (getrandom(&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x) {
        /* No entropy yet: the clock, the pid and a stack address, mixed by the SplitMix64
         * finalizer (Steele, Lea, Flood 2014). */
        x = (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&x;
        x = (x ^ x >> 30) * 0xbf58476d1ce4e5b9u;
        x = (x ^ x >> 27) * 0x94d049bb133111ebu;
        x ^= x >> 31;
    }
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(id, XM_RUN_ID_LEN - 14, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(id + k, XM_RUN_ID_LEN - k, "-%012llx", (unsigned long long)(x & 0xffffffffffffu));
}

/* ---- result sets ---- */

static xm_status join(char *out, const char *a, const char *b, xm_error *err)
{
    int k = snprintf(out, XM_PATH_MAX, "%s/%s", a, b);
    if (k < 0 || k >= XM_PATH_MAX)
        return xm_error_set(err, XM_EIO, "%s/%s: path too long", a, b);
    return XM_OK;
}

static xm_status io_fail(xm_error *err, const char *path, const char *what)
{
    return xm_error_set(err, XM_EIO, "%s: %s: %s", path, what, strerror(errno));
}

/* Open directory `path` and take flock `op` on it; -1 when it cannot be locked (a file
 * system without locks: the caller then does without). */
static int open_locked(const char *path, int op)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc;
    while ((rc = flock(fd, op)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Remove a set directory and the files in it (sets hold files only). */
static void remove_set(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(path);
}

xm_status xm_outset_begin(xm_outset *s, const char *dir, xm_error *err)
{
    memset(s, 0, sizeof *s);
    s->set_fd = -1;
    char sets[XM_PATH_MAX];
    xm_status st = xm_mkdir_p(dir, err);
    if (st == XM_OK)
        st = join(sets, dir, SETS, err);
    if (st == XM_OK && mkdir(sets, 0777) != 0 && errno != EEXIST)
        st = io_fail(err, sets, "cannot create directory");
    if (st != XM_OK)
        return st;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    int lock = open_locked(sets, LOCK_SH); /* no sweep while the new set is not yet locked */
    for (int tries = 0; st == XM_OK; tries++) {
        xm_run_id_make(s->run_id);
        st = join(s->set_dir, sets, s->run_id, err);
        if (st == XM_OK && mkdir(s->set_dir, 0777) == 0)
            break;
        if (st == XM_OK && (errno != EEXIST || tries == 3))
            st = io_fail(err, s->set_dir, "cannot create directory");
    }
    if (st == XM_OK && (s->set_fd = open_locked(s->set_dir, LOCK_EX)) < 0)
        s->set_fd = open(s->set_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock >= 0)
        close(lock);
    if (st != XM_OK)
        s->set_dir[0] = '\0';
    return st;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int no_symlinks(int e)
{
    return e == EPERM || e == EOPNOTSUPP || e == ENOSYS;
}

/* DIR/NAME -> .xmrisk/current/NAME for every file of the set (made once; replaces a plain
 * file of an earlier version). *plain is set when the file system has no symbolic links. */
static xm_status link_names(const xm_outset *s, const xm_outfile *f, size_t n, int *plain,
                            xm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = base_name(f[i].final_path);
        char path[XM_PATH_MAX], tmp[XM_PATH_MAX], target[XM_PATH_MAX], got[XM_PATH_MAX];
        snprintf(target, sizeof target, SETS "/" CURRENT "/%s", name);
        xm_status st = join(path, s->dir, name, err);
        if (st != XM_OK)
            return st;
        ssize_t k = readlink(path, got, sizeof got - 1);
        if (k > 0 && (size_t)k == strlen(target) && memcmp(got, target, (size_t)k) == 0)
            continue;
        int len = snprintf(tmp, sizeof tmp, "%s/.%s.lnk.%ld", s->dir, name, (long)getpid());
        if (len < 0 || (size_t)len >= sizeof tmp)
            return xm_error_set(err, XM_EIO, "%s: path too long", path);
        unlink(tmp);
        if (symlink(target, tmp) != 0) {
            *plain = no_symlinks(errno);
            return *plain ? XM_OK : io_fail(err, tmp, "cannot link the result file");
        }
        if (rename(tmp, path) != 0) {
            st = io_fail(err, path, "cannot link the result file");
            unlink(tmp);
            return st;
        }
    }
    return XM_OK;
}

/* Remove the names link_names() made (a first publication that failed). */
static void unlink_links(const xm_outset *s, const xm_outfile *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char path[XM_PATH_MAX];
        xm_error e;
        if (join(path, s->dir, base_name(f[i].final_path), &e) == XM_OK)
            unlink(path);
    }
}

/* DIR/.xmrisk/current -> RUN_ID, in one rename(2): the set is published. */
static xm_status point_current(const xm_outset *s, const char *sets, xm_error *err)
{
    char tmp[XM_PATH_MAX], cur[XM_PATH_MAX];
    int len = snprintf(tmp, sizeof tmp, "%s/." CURRENT ".%ld", sets, (long)getpid());
    xm_status st = join(cur, sets, CURRENT, err);
    if (st != XM_OK || len < 0 || (size_t)len >= sizeof tmp)
        return st != XM_OK ? st : xm_error_set(err, XM_EIO, "%s: path too long", sets);
    unlink(tmp);
    if (symlink(s->run_id, tmp) != 0 || rename(tmp, cur) != 0) {
        st = io_fail(err, cur, "cannot publish the result set");
        unlink(tmp);
    }
    return st;
}

/* A file system without symbolic links: each file renamed into DIR (under the lock when
 * there is one; a crash in between can leave files of two runs, told apart by run_id). */
static xm_status rename_each(const xm_outset *s, xm_outfile *f, size_t n, xm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        char path[XM_PATH_MAX];
        xm_status st = join(path, s->dir, base_name(f[i].final_path), err);
        if (st == XM_OK && rename(f[i].final_path, path) != 0)
            st = io_fail(err, path, "cannot publish the result file");
        if (st != XM_OK)
            return st;
    }
    return XM_OK;
}

/* Remove DIR/NAME for each name of `names` that is not a file of this set: a result of
 * another kind (no paths.csv in a binned run) must not be left beside this one. */
static xm_status withdraw(const xm_outset *s, const xm_outfile *f, size_t n,
                          const char *const *names, size_t n_names, xm_error *err)
{
    for (size_t j = 0; j < n_names; j++) {
        size_t i = 0;
        while (i < n && strcmp(base_name(f[i].final_path), names[j]) != 0)
            i++;
        char path[XM_PATH_MAX];
        xm_status st = i < n ? XM_OK : join(path, s->dir, names[j], err);
        if (st == XM_OK && i == n && unlink(path) != 0 && errno != ENOENT)
            st = io_fail(err, path, "cannot remove a stale file");
        if (st != XM_OK)
            return st;
    }
    return XM_OK;
}

/* Remove every set but `keep` that no live process holds: the one replaced, and those of
 * runs killed before they published. Without locks, only the one replaced (`old`). */
static void sweep(const char *sets, const char *keep, const char *old, int locked)
{
    DIR *d = opendir(sets);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *nm = e->d_name;
        if (nm[0] == '.' || strcmp(nm, CURRENT) == 0 || strcmp(nm, keep) == 0)
            continue;
        if (!locked && strcmp(nm, old) != 0)
            continue;
        char path[XM_PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", sets, nm) >= (int)sizeof path)
            continue;
        int fd = locked ? open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        if (!locked || (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0))
            remove_set(path);
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
}

/* Under the exclusive lock: the names linked, `current` swapped, stale names withdrawn, old
 * sets removed. */
static xm_status swap_in(xm_outset *s, xm_outfile *f, size_t n, const char *const *names,
                         size_t n_names, xm_error *err)
{
    char sets[XM_PATH_MAX], cur[XM_PATH_MAX], old[XM_PATH_MAX] = "";
    xm_status st = join(sets, s->dir, SETS, err);
    if (st != XM_OK || (st = join(cur, sets, CURRENT, err)) != XM_OK)
        return st;
    int lock = open_locked(sets, LOCK_EX);
    ssize_t k = readlink(cur, old, sizeof old - 1);
    old[k > 0 ? k : 0] = '\0';
    int plain = 0;
    st = link_names(s, f, n, &plain, err);
    if (st == XM_OK)
        st = plain ? rename_each(s, f, n, err) : point_current(s, sets, err);
    if (st != XM_OK && old[0] == '\0' && !plain)
        unlink_links(s, f, n);  /* nothing published before: no dangling names left */
    if (st == XM_OK) {
        s->published = !plain;
        if (s->set_fd >= 0)
            close(s->set_fd);  /* unlocked: a later run may sweep it once replaced */
        s->set_fd = -1;
        st = withdraw(s, f, n, names, n_names, err);
        sweep(sets, plain ? "" : s->run_id, old, lock >= 0);
        if (lock >= 0)
            fsync(lock); /* the swap on disk before we return */
    }
    if (lock >= 0)
        close(lock);
    return st;
}

/* An error about DIR/.xmrisk/RUN_ID/NAME names DIR/NAME, the file the user asked for. */
static void name_final(const xm_outset *s, xm_error *err)
{
    size_t k = strlen(s->set_dir);
    if (k > 0 && strncmp(err->msg, s->set_dir, k) == 0 && err->msg[k] == '/') {
        char rest[XM_ERROR_MSG_MAX];
        snprintf(rest, sizeof rest, "%s", err->msg + k);
        xm_error_set(err, err->status, "%s%s", s->dir, rest);
    }
}

xm_status xm_outset_publish(xm_outset *s, xm_outfile *f, size_t n, const char *const *names,
                            size_t n_names, xm_error *err)
{
    xm_status st = XM_OK;
    for (size_t i = 0; i < n && st == XM_OK; i++)
        st = xm_outfile_commit(&f[i], err);
    for (size_t i = 0; i < n; i++)
        xm_outfile_abort(&f[i]);
    if (st == XM_OK && s->set_fd >= 0 && fsync(s->set_fd) != 0)
        st = io_fail(err, s->set_dir, "write failed");
    if (st != XM_OK)
        name_final(s, err);
    if (st == XM_OK)
        st = swap_in(s, f, n, names, n_names, err);
    xm_outset_abort(s);
    return st;
}

void xm_outset_abort(xm_outset *s)
{
    if (s->set_fd >= 0)
        close(s->set_fd);
    s->set_fd = -1;
    if (s->set_dir[0] != '\0' && !s->published)
        remove_set(s->set_dir);
    s->set_dir[0] = '\0';
}
