/* history.c — price history files (see xmrisk/history.h for the rules).
 *
 * The file is read whole (core/file.h), split into lines and fields in place (each field
 * NUL-terminated, so the accounts loader's number parser input/numparse.h applies), one row per
 * line into arrays sized by the line count. The interval, gaps and unfinished candles are
 * worked out after all rows are read.
 */
#include "xmrisk/history.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/grow.h"
#include "input/numparse.h"

struct xm_history {
    char *path;
    size_t n;
    int64_t *t;
    double *px[4];             /* open, high, low, close */
    int64_t interval;
    xm_history_gap_info gaps;
    size_t dropped;
    int64_t dropped_from;
};

enum { C_TIME, C_OPEN, C_HIGH, C_LOW, C_CLOSE, N_COLS };
static const char *const COL_NAME[N_COLS] = {"timestamp", "open", "high", "low", "close"};

#define MAX_FIELDS 64          /* fields kept per line (more are counted only) */
#define BINANCE_FIELDS 12

typedef struct {
    char *s;
    size_t len, col;           /* col: 1-based byte column of the field's first byte */
} field;

typedef struct {
    const char *path;
    xm_error *err;
    unsigned long line;        /* line being read (1-based) */
    size_t col[N_COLS];        /* field index of each column */
    size_t n_fields;           /* fields per line */
    int binance;               /* 1: no header, a Binance kline export */
    unsigned long *row_line;   /* line of each row (for the checks after reading) */
    size_t *row_col;           /* byte column of each row's time field */
} reader;

/* ------------------------------------------------------------------------------------------ */
/* times                                                                                        */

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d: H. Hinnant, days_from_civil
 * (https://howardhinnant.github.io/date_algorithms.html#days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                           /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;      /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse: H. Hinnant, civil_from_days (same page). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* n decimal digits at s into *v; -1 when one is not a digit. */
static int digits(const char *s, int n, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return 0;
}

/* 1..18 digits: seconds (< 1e11), milliseconds (< 1e14) or microseconds, a whole second. */
static int parse_epoch(const char *s, size_t len, int64_t *t)
{
    if (len == 0 || len > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    int64_t unit = v < INT64_C(100000000000) ? 1 : v < INT64_C(100000000000000) ? 1000 : 1000000;
    if (v % unit != 0)
        return -1;
    *t = v / unit;
    return 0;
}

/* [( |T)HH:MM[:SS]][Z] after a date: seconds into the day. */
static int parse_clock(const char *s, size_t len, int64_t *sec)
{
    unsigned hh = 0, mi = 0, ss = 0;
    *sec = 0;
    if (len > 0 && s[len - 1] == 'Z')
        len--;
    if (len == 0)
        return 0;
    if ((len != 6 && len != 9) || (s[0] != ' ' && s[0] != 'T') || s[3] != ':' ||
        digits(s + 1, 2, &hh) || digits(s + 4, 2, &mi) ||
        (len == 9 && (s[6] != ':' || digits(s + 7, 2, &ss))))
        return -1;
    if (hh > 23 || mi > 59 || ss > 59)
        return -1;
    *sec = (int64_t)hh * 3600 + mi * 60 + ss;
    return 0;
}

int xm_history_parse_time(const char *s, size_t len, int64_t *t)
{
    if (len > 0 && s[0] >= '0' && s[0] <= '9' && (len < 5 || s[4] != '-'))
        return parse_epoch(s, len, t);
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, m, d;
    int64_t sec;
    if (len < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) || s[7] != '-' ||
        digits(s + 8, 2, &d) || m < 1 || m > 12 || parse_clock(s + 10, len - 10, &sec))
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    *t = days_from_civil(y, m, d) * XM_HISTORY_DAY + sec;
    return 0;
}

char *xm_history_format_time(int64_t t, char *buf, size_t size)
{
    int64_t day = floor_div(t, XM_HISTORY_DAY), s = t - day * XM_HISTORY_DAY, y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02u-%02u %02d:%02d:%02d", (long long)y, m, d, (int)(s / 3600),
             (int)(s / 60 % 60), (int)(s % 60));
    return buf;
}

/* "4h", "1d", "90m", "3600s". */
static char *format_span(int64_t s, char *buf, size_t size)
{
    if (s % XM_HISTORY_DAY == 0)
        snprintf(buf, size, "%lldd", (long long)(s / XM_HISTORY_DAY));
    else if (s % 3600 == 0)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else
        snprintf(buf, size, "%llds", (long long)s);
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* fields and messages                                                                          */

/* How a field reads in a message: 'text' (cut at 60 bytes) or "an empty field". */
static const char *quote_field(const field *f, char *buf, size_t size)
{
    if (f->len == 0)
        snprintf(buf, size, "an empty field");
    else
        snprintf(buf, size, "'%.*s%s'", (int)(f->len > 60 ? 60 : f->len), f->s,
                 f->len > 60 ? "..." : "");
    return buf;
}

/* "PATH:LINE:COL: NAME: expected <fmt...>, got 'VALUE'". */
static xm_status fail_field(const reader *r, const field *f, const char *name, const char *fmt,
                            ...) XM_PRINTF(4, 5);
static xm_status fail_field(const reader *r, const field *f, const char *name, const char *fmt,
                            ...)
{
    char what[256], got[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return xm_error_set(r->err, XM_EMODEL, "%s:%lu:%zu: %s: expected %s, got %s", r->path,
                        r->line, f->col, name, what, quote_field(f, got, sizeof got));
}

/* One field from p on (a quoted one without its quotes, NUL-terminated). Returns the byte
 * after it (its comma or `end`), or NULL for a quote not closed or followed by more. */
static char *take_field(char *line, char *p, char *end, field *f)
{
    f->col = (size_t)(p - line) + 1;
    if (p < end && *p == '"') {
        char *q = p + 1;
        while (q < end && !(*q == '"' && (q + 1 >= end || q[1] != '"')))
            q += *q == '"' ? 2 : 1;
        if (q >= end || (q + 1 < end && q[1] != ','))
            return NULL;
        f->s = p + 1;
        f->len = (size_t)(q - f->s);
        *q = '\0';
        return q + 1;
    }
    char *c = memchr(p, ',', (size_t)(end - p));
    f->s = p;
    f->len = (size_t)((c ? c : end) - p);
    return c ? c : end;
}

/* Split a line (NUL-terminated at line[len]) at commas: the number of fields (only the first
 * MAX_FIELDS stored), or 0 with *bad set to the byte column of a broken quote. */
static size_t split(char *line, size_t len, field *f, size_t *bad)
{
    size_t n = 0;
    char *p = line, *end = line + len;
    for (;;) {
        field tmp;
        char *e = take_field(line, p, end, n < MAX_FIELDS ? &f[n] : &tmp);
        if (e == NULL) {
            *bad = (size_t)(p - line) + 1;
            return 0;
        }
        n++;
        if (e >= end)
            return n;
        *e = '\0';
        p = e + 1;
    }
}

static xm_status split_line(const reader *r, char *line, size_t len, field *f, size_t *n)
{
    size_t bad = 0;
    *n = split(line, len, f, &bad);
    if (*n == 0)
        return xm_error_set(r->err, XM_EMODEL,
                            "%s:%lu:%zu: expected a quoted field closed by '\"' and followed by "
                            "',' or the line end",
                            r->path, r->line, bad);
    return XM_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* the header                                                                                   */

/* Field name in lower case with spaces as '_' equals `want`. */
static int name_is(const field *f, const char *want)
{
    size_t i = 0;
    for (; i < f->len && want[i] != '\0'; i++) {
        char c = f->s[i] >= 'A' && f->s[i] <= 'Z' ? (char)(f->s[i] - 'A' + 'a') : f->s[i];
        if ((c == ' ' ? '_' : c) != want[i])
            return 0;
    }
    return i == f->len && want[i] == '\0';
}

/* The field of column name, or SIZE_MAX. */
static size_t find_column(const field *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n && i < MAX_FIELDS; i++)
        if (name_is(&f[i], name))
            return i;
    return SIZE_MAX;
}

static xm_status header_columns(reader *r, const field *f, size_t n)
{
    static const char *const time_names[] = {"timestamp", "open_time", "datetime", "date",
                                             "time"};
    r->col[C_TIME] = SIZE_MAX;
    for (size_t k = 0; k < 5 && r->col[C_TIME] == SIZE_MAX; k++)
        r->col[C_TIME] = find_column(f, n, time_names[k]);
    for (int c = C_OPEN; c < N_COLS; c++)
        r->col[c] = find_column(f, n, COL_NAME[c]);
    for (int c = 0; c < N_COLS; c++)
        if (r->col[c] == SIZE_MAX)
            return xm_error_set(r->err, XM_EMODEL,
                                "%s:1:1: expected a header with the columns timestamp (or "
                                "open_time, datetime, date, time), open, high, low, close; "
                                "no column '%s'",
                                r->path, c == C_TIME ? "timestamp" : COL_NAME[c]);
    r->n_fields = n;
    return XM_OK;
}

/* The first line: a header, or the first row of a Binance kline export. *is_row: 1 when
 * it is a row. */
static xm_status first_line(reader *r, char *line, size_t len, field *f, int *is_row)
{
    size_t n;
    *is_row = len > 0 && ((line[0] >= '0' && line[0] <= '9') ||
                          (line[0] == '"' && len > 1 && line[1] >= '0' && line[1] <= '9'));
    if (!*is_row) {
        xm_status s = split_line(r, line, len, f, &n);
        return s != XM_OK ? s : header_columns(r, f, n);
    }
    for (int c = 0; c < N_COLS; c++)
        r->col[c] = (size_t)c;
    r->n_fields = BINANCE_FIELDS;
    r->binance = 1;
    return XM_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* rows                                                                                         */

static xm_status parse_price(const reader *r, const field *f, int c, double *v)
{
    if (xm_parse_number(f->s, f->len, v) != 0 || !isfinite(*v) || !(*v > 0.0))
        return fail_field(r, f, COL_NAME[c], "a price (a finite decimal number > 0)");
    return XM_OK;
}

/* high >= max(open, close), low <= min(open, close); f: the fields of open, high, low, close. */
static xm_status check_candle(const reader *r, const field *const *f, const double *v)
{
    const field *hi = v[0] >= v[3] ? f[0] : f[3], *lo = v[0] <= v[3] ? f[0] : f[3];
    if (!(v[1] >= fmax(v[0], v[3])))
        return fail_field(r, f[1], "high", "a price >= max(open, close) = %.*s", (int)hi->len,
                          hi->s);
    if (!(v[2] <= fmin(v[0], v[3])))
        return fail_field(r, f[2], "low", "a price <= min(open, close) = %.*s", (int)lo->len,
                          lo->s);
    return XM_OK;
}

/* One record line into row k of h. */
static xm_status parse_row(reader *r, char *line, size_t len, xm_history *h, size_t k)
{
    field f[MAX_FIELDS];
    size_t n;
    if (len == 0)
        return xm_error_set(r->err, XM_EMODEL, "%s:%lu:1: expected %zu fields, got an empty line",
                            r->path, r->line, r->n_fields);
    xm_status s = split_line(r, line, len, f, &n);
    if (s != XM_OK)
        return s;
    if (n != r->n_fields)
        return xm_error_set(r->err, XM_EMODEL, "%s:%lu:1: expected %zu fields (%s), got %zu",
                            r->path, r->line, r->n_fields,
                            r->binance ? "a Binance kline row" : "as the header", n);
    const field *tf = &f[r->col[C_TIME]];
    if (xm_history_parse_time(tf->s, tf->len, &h->t[k]) != 0)
        return fail_field(r, tf, COL_NAME[C_TIME],
                          "a UTC time YYYY-MM-DD[ HH:MM[:SS]] or seconds, milliseconds or "
                          "microseconds since 1970");
    const field *pf[4];
    double v[4];
    for (int c = 0; c < 4; c++) {
        pf[c] = &f[r->col[C_OPEN + c]];
        if ((s = parse_price(r, pf[c], C_OPEN + c, &v[c])) != XM_OK)
            return s;
        h->px[c][k] = v[c];
    }
    r->row_line[k] = r->line;
    r->row_col[k] = tf->col;
    return check_candle(r, pf, v);
}

/* "PATH:LINE:COL: timestamp: expected a time WHAT after the previous row's (PREV), got T" for
 * row k. */
static xm_status fail_step(const reader *r, const xm_history *h, size_t k, const char *what)
{
    char prev[32], got[32];
    return xm_error_set(r->err, XM_EMODEL,
                        "%s:%lu:%zu: timestamp: expected a time %s the previous row's (%s), "
                        "got %s",
                        r->path, r->row_line[k], r->row_col[k], what,
                        xm_history_format_time(h->t[k - 1], prev, sizeof prev),
                        xm_history_format_time(h->t[k], got, sizeof got));
}

/* Rows strictly increasing (interval 0), or each a whole number of intervals after the one
 * before. */
static xm_status check_steps(const reader *r, const xm_history *h, int64_t interval)
{
    for (size_t k = 1; k < h->n; k++) {
        int64_t d = h->t[k] - h->t[k - 1];
        if (d <= 0)
            return fail_step(r, h, k, "later than");
        if (interval > 0 && d % interval != 0) {
            char what[64], span[24];
            snprintf(what, sizeof what, "a whole number of intervals (%s) after",
                     format_span(interval, span, sizeof span));
            return fail_step(r, h, k, what);
        }
    }
    return XM_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The most common positive step (the smallest on a tie); 0 when there is none. */
static int64_t mode_step(const int64_t *t, size_t n, int64_t *tmp)
{
    size_t m = 0;
    for (size_t k = 1; k < n; k++)
        if (t[k] > t[k - 1])
            tmp[m++] = t[k] - t[k - 1];
    qsort(tmp, m, sizeof *tmp, cmp_i64);
    int64_t best = 0;
    for (size_t i = 0, run, best_run = 0; i < m; i += run) {
        for (run = 1; i + run < m && tmp[i + run] == tmp[i]; run++)
            ;
        if (run > best_run) {
            best_run = run;
            best = tmp[i];
        }
    }
    return best;
}

static xm_status find_interval(reader *r, xm_history *h)
{
    int64_t *tmp = NULL;
    if (h->n < 2)
        return xm_error_set(r->err, XM_EMODEL,
                            "%s: expected at least 2 rows (to find the interval), got %zu",
                            r->path, h->n);
    xm_status s = check_steps(r, h, 0);
    if (s != XM_OK)
        return s;
    if (xm_resize((void **)&tmp, h->n, sizeof *tmp) != 0)
        return xm_error_set(r->err, XM_ENOMEM, "%s: out of memory", r->path);
    h->interval = mode_step(h->t, h->n, tmp);
    free(tmp);
    if (h->interval == 0 || h->interval % 60 != 0) {
        char span[24];
        return xm_error_set(r->err, XM_EMODEL,
                            "%s: expected candles a whole number of minutes apart, got a most "
                            "common step of %s",
                            r->path, format_span(h->interval, span, sizeof span));
    }
    return check_steps(r, h, h->interval);
}

/* Gaps, then the unfinished candles dropped. */
static void finish(xm_history *h, const xm_history_opts *o)
{
    xm_history_gap_info *g = &h->gaps;
    for (size_t k = 1; k < h->n; k++) {
        int64_t d = h->t[k] - h->t[k - 1];
        if (d == h->interval)
            continue;
        g->n_gaps++;
        g->n_missing += (size_t)(d / h->interval - 1);
        if (d > g->largest) {
            g->largest = d;
            g->largest_from = h->t[k - 1];
        }
    }
    size_t keep = h->n;
    if (o != NULL && o->drop_last && keep > 0)
        keep--;
    while (o != NULL && o->has_until && keep > 0 && h->t[keep - 1] > o->until - h->interval)
        keep--;
    h->dropped = h->n - keep;
    h->dropped_from = h->dropped > 0 ? h->t[keep] : 0;
    h->n = keep;
}

/* ------------------------------------------------------------------------------------------ */
/* loading                                                                                      */

static size_t count_lines(const char *buf, size_t len)
{
    size_t n = 1;
    for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))) != NULL; p++)
        n++;
    return n;
}

static xm_status alloc_rows(reader *r, xm_history *h, size_t n)
{
    int bad = xm_resize((void **)&h->t, n, sizeof *h->t) ||
              xm_resize((void **)&r->row_line, n, sizeof *r->row_line) ||
              xm_resize((void **)&r->row_col, n, sizeof *r->row_col);
    for (int c = 0; c < 4; c++)
        bad = bad || xm_resize((void **)&h->px[c], n, sizeof *h->px[c]);
    return bad ? xm_error_set(r->err, XM_ENOMEM, "%s: out of memory", r->path) : XM_OK;
}

/* Every line of buf (NUL at buf[len]) into rows of h. */
static xm_status parse_lines(reader *r, xm_history *h, char *buf, size_t len)
{
    char *p = buf, *end = buf + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    field f[MAX_FIELDS];
    xm_status s = alloc_rows(r, h, count_lines(p, (size_t)(end - p)));
    for (int first = 1; s == XM_OK && p < end; first = 0) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        p[n] = '\0';
        r->line++;
        int is_row = 1;
        if (first)
            s = first_line(r, p, n, f, &is_row);
        if (s == XM_OK && is_row)
            s = parse_row(r, p, n, h, h->n++);
        p = e + 1;
    }
    if (s == XM_OK && r->line == 0)
        s = xm_error_set(r->err, XM_EMODEL, "%s:1:1: expected a header or a row, got an empty file",
                         r->path);
    return s;
}

xm_history *xm_history_load(const char *path, const xm_history_opts *opts, xm_error *err)
{
    static const xm_read_opts ropts = {(size_t)1 << 30, "a price history", 1};
    reader r = {.path = path, .err = err};
    xm_history *h = calloc(1, sizeof *h);
    char *buf = NULL;
    size_t len = 0;
    xm_status s = h == NULL || (h->path = malloc(strlen(path) + 1)) == NULL
                      ? xm_error_set(err, XM_ENOMEM, "%s: out of memory", path)
                      : xm_read_file(path, &ropts, &buf, &len, err);
    if (s == XM_OK && xm_resize((void **)&buf, len + 1, 1) != 0)
        s = xm_error_set(err, XM_ENOMEM, "%s: out of memory", path);
    if (s == XM_OK) {
        strcpy(h->path, path);
        buf[len] = '\0';
        s = parse_lines(&r, h, buf, len);
    }
    if (s == XM_OK)
        s = find_interval(&r, h);
    if (s == XM_OK)
        finish(h, opts);
    free(buf);
    free(r.row_line);
    free(r.row_col);
    if (s != XM_OK) {
        xm_history_free(h);
        return NULL;
    }
    return h;
}

void xm_history_free(xm_history *h)
{
    if (h == NULL)
        return;
    free(h->path);
    free(h->t);
    for (int c = 0; c < 4; c++)
        free(h->px[c]);
    free(h);
}

/* ------------------------------------------------------------------------------------------ */
/* accessors, days, alignment                                                                   */

const char *xm_history_path(const xm_history *h) { return h->path; }
size_t xm_history_n(const xm_history *h) { return h->n; }
int64_t xm_history_interval(const xm_history *h) { return h->interval; }
const int64_t *xm_history_t(const xm_history *h) { return h->t; }
const double *xm_history_open(const xm_history *h) { return h->px[0]; }
const double *xm_history_high(const xm_history *h) { return h->px[1]; }
const double *xm_history_low(const xm_history *h) { return h->px[2]; }
const double *xm_history_close(const xm_history *h) { return h->px[3]; }
const xm_history_gap_info *xm_history_gaps(const xm_history *h) { return &h->gaps; }

size_t xm_history_dropped(const xm_history *h, int64_t *first_t)
{
    if (first_t != NULL)
        *first_t = h->dropped_from;
    return h->dropped;
}

char *xm_history_describe(const xm_history *h, char *buf, size_t size)
{
    char a[32] = "-", b[32] = "-", span[24], big[24], from[32], drop[96] = "";
    if (h->n > 0) {
        xm_history_format_time(h->t[0], a, sizeof a);
        xm_history_format_time(h->t[h->n - 1], b, sizeof b);
    }
    if (h->dropped > 0)
        snprintf(drop, sizeof drop, "; %zu unfinished candle%s from %s dropped", h->dropped,
                 h->dropped > 1 ? "s" : "", xm_history_format_time(h->dropped_from, from, 32));
    const xm_history_gap_info *g = &h->gaps;
    char gaps[128] = "no gaps";
    if (g->n_gaps > 0)
        snprintf(gaps, sizeof gaps, "%zu gap%s (%zu candles missing, largest %s after %s)",
                 g->n_gaps, g->n_gaps > 1 ? "s" : "", g->n_missing,
                 format_span(g->largest, big, sizeof big),
                 xm_history_format_time(g->largest_from, from, sizeof from));
    snprintf(buf, size, "%s: %zu rows of %s, %s -> %s; %s%s", h->path, h->n,
             format_span(h->interval, span, sizeof span), a, b, gaps, drop);
    return buf;
}

size_t xm_history_lower_bound(const int64_t *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t xm_history_day(const xm_history *h, int64_t t, size_t *first)
{
    int64_t d0 = floor_div(t, XM_HISTORY_DAY) * XM_HISTORY_DAY;
    *first = xm_history_lower_bound(h->t, h->n, d0);
    return xm_history_lower_bound(h->t, h->n, d0 + XM_HISTORY_DAY) - *first;
}

void xm_history_aligned_clear(xm_history_aligned *a)
{
    if (a == NULL)
        return;
    free(a->t);
    free(a->row);
    memset(a, 0, sizeof *a);
}

/* The next common time from the cursors pos[] on: 1 and the cursors on it, or 0 at the end.
 * (A merge of sorted lists: each step moves the cursors to the largest current time.) */
static int next_common(const xm_history *const *h, size_t n, size_t *pos)
{
    for (;;) {
        int64_t top = INT64_MIN;
        for (size_t a = 0; a < n; a++) {
            if (pos[a] >= h[a]->n)
                return 0;
            if (h[a]->t[pos[a]] > top)
                top = h[a]->t[pos[a]];
        }
        int all = 1;
        for (size_t a = 0; a < n; a++) {
            pos[a] += xm_history_lower_bound(h[a]->t + pos[a], h[a]->n - pos[a], top);
            all = all && pos[a] < h[a]->n && h[a]->t[pos[a]] == top;
        }
        if (all)
            return 1;
    }
}

static xm_status align_check(const xm_history *const *h, size_t n, xm_error *err)
{
    if (n == 0)
        return xm_error_set(err, XM_EMODEL, "price histories: expected at least one, got none");
    for (size_t a = 1; a < n; a++)
        if (h[a]->interval != h[0]->interval) {
            char x[24], y[24];
            return xm_error_set(err, XM_EMODEL, "%s: interval %s, but %s has %s", h[a]->path,
                                format_span(h[a]->interval, x, sizeof x), h[0]->path,
                                format_span(h[0]->interval, y, sizeof y));
        }
    return XM_OK;
}

xm_status xm_history_align(const xm_history *const *h, size_t n, xm_history_aligned *out,
                           xm_error *err)
{
    memset(out, 0, sizeof *out);
    xm_status s = align_check(h, n, err);
    if (s != XM_OK)
        return s;
    size_t cap = h[0]->n, *pos = calloc(n, sizeof *pos);
    for (size_t a = 1; a < n; a++)
        cap = h[a]->n < cap ? h[a]->n : cap;
    out->n_assets = n;
    if (pos == NULL || xm_resize((void **)&out->t, cap, sizeof *out->t) != 0 ||
        (n > SIZE_MAX / (cap ? cap : 1)) ||
        xm_resize((void **)&out->row, cap * n, sizeof *out->row) != 0) {
        free(pos);
        xm_history_aligned_clear(out);
        return xm_error_set(err, XM_ENOMEM, "price histories: out of memory");
    }
    while (next_common(h, n, pos)) {
        out->t[out->n] = h[0]->t[pos[0]];
        for (size_t a = 0; a < n; a++)
            out->row[out->n * n + a] = pos[a]++;
        out->n++;
    }
    free(pos);
    return XM_OK;
}
