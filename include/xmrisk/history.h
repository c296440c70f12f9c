/* xmrisk/history.h — price history files: one OHLC candle file per asset, read, checked and
 * aligned across assets (the input of filtered historical simulation, GARCH fitting, the
 * backtest and replay; issue 15).
 *
 * Formats (detected from the first line):
 *   - with a header: columns found by name (case-insensitive, spaces read as '_'): the time in
 *     the first of `timestamp`, `open_time`, `datetime`, `date`, `time`, and `open`, `high`,
 *     `low`, `close`; other columns (volume, ticker, ...) are ignored. The project's files are
 *     `timestamp,open,high,low,close,volume`;
 *   - without a header (the first field starts with a digit): the Binance kline export, 12
 *     columns in the order of Binance's kline API (GET /api/v3/klines, "Kline/Candlestick
 *     data", https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints):
 *     open time, open, high, low, close, volume, close time, quote asset volume, number of
 *     trades, taker buy base volume, taker buy quote volume, ignore.
 * Fields may be quoted ("..."); LF or CRLF line ends; a UTF-8 byte-order mark is skipped; the
 * last line may lack its line end. Every row has as many fields as the first line.
 * Times are UTC candle open times, either `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (or with 'T';
 * a final 'Z' allowed), or an integer count since 1970-01-01 00:00 UTC: seconds below 1e11,
 * milliseconds below 1e14, microseconds above (Binance's spot files switched to microseconds
 * in 2025), a whole number of seconds. No locale, no time zone: dates are converted with
 * H. Hinnant's days_from_civil ("chrono-Compatible Low-Level Date Algorithms",
 * https://howardhinnant.github.io/date_algorithms.html).
 * Prices: the strict decimal numbers of the accounts CSV files, finite, > 0, with
 * low <= min(open, close) and high >= max(open, close).
 *
 * Interval: the most common difference between consecutive times (the smallest on a tie),
 * a whole number of minutes. Rows must be strictly increasing, each a whole number of
 * intervals after the one before; a larger step is a gap (missing candles): counted, not an
 * error. An unfinished last candle is dropped when the caller says so (opts.drop_last), and
 * so is every row whose candle ends after opts.until.
 *
 * Errors: one line "FILE:LINE:COLUMN: NAME: expected WHAT, got 'VALUE'" (COLUMN: 1-based byte
 * column of the field) with XM_EMODEL, like the other input files; an unreadable file is XM_EIO
 * "FILE: cannot read: REASON"; XM_ENOMEM.
 */
#ifndef XMRISK_HISTORY_H
#define XMRISK_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_HISTORY_DAY 86400 /* seconds in a UTC day */

typedef struct xm_history xm_history;

typedef struct {
    int drop_last;   /* 1: the file's last row is an unfinished candle: dropped */
    int has_until;   /* 1: rows whose candle ends after `until` (t + interval > until) dropped */
    int64_t until;   /* seconds since 1970-01-01 00:00 UTC */
} xm_history_opts;

typedef struct {
    size_t n_gaps;         /* steps of more than one interval between consecutive rows */
    size_t n_missing;      /* candles missing in all */
    int64_t largest;       /* the longest step with a gap, seconds (0: no gap) */
    int64_t largest_from;  /* time of the row before it */
} xm_history_gap_info;

/* Read and check the file at `path`; opts NULL: keep every row. Returns a new history (free
 * with xm_history_free), or NULL with err set. */
xm_history *xm_history_load(const char *path, const xm_history_opts *opts, xm_error *err);
void xm_history_free(xm_history *h);

const char *xm_history_path(const xm_history *h);
size_t xm_history_n(const xm_history *h);          /* rows kept */
int64_t xm_history_interval(const xm_history *h);  /* seconds */
/* Arrays of xm_history_n() values, owned by h: candle open times (seconds since 1970-01-01
 * 00:00 UTC, increasing) and prices. */
const int64_t *xm_history_t(const xm_history *h);
const double *xm_history_open(const xm_history *h);
const double *xm_history_high(const xm_history *h);
const double *xm_history_low(const xm_history *h);
const double *xm_history_close(const xm_history *h);
const xm_history_gap_info *xm_history_gaps(const xm_history *h);
/* Rows dropped as unfinished (drop_last, until); *first_t: the time of the first (when > 0). */
size_t xm_history_dropped(const xm_history *h, int64_t *first_t);

/* One line for the user: "PATH: N rows of 4h, FIRST -> LAST; G gaps (M candles missing,
 * largest 32h after TIME); unfinished last candle TIME dropped". Returns buf. */
char *xm_history_describe(const xm_history *h, char *buf, size_t size);

/* The rows of the UTC day holding time `t`, [00:00, 00:00 + 24h): their number, the first
 * in *first (where it would be when 0). */
size_t xm_history_day(const xm_history *h, int64_t t, size_t *first);

/* The first index k of the increasing times v[0..n) with v[k] >= t (n when none). */
size_t xm_history_lower_bound(const int64_t *v, size_t n, int64_t t);

/* Times present in every one of n histories (all of one interval), for residual vectors. */
typedef struct {
    size_t n;        /* common times */
    size_t n_assets;
    int64_t *t;      /* n increasing times */
    size_t *row;     /* n * n_assets: row[k * n_assets + a] = the row of t[k] in history a */
} xm_history_aligned;

/* Fill *out (release with xm_history_aligned_clear). XM_EMODEL when n is 0 or the intervals
 * differ ("PATH: interval 4h, but PATH0 has 1h"), XM_ENOMEM. */
xm_status xm_history_align(const xm_history *const *h, size_t n, xm_history_aligned *out,
                           xm_error *err) XM_MUST_CHECK;
void xm_history_aligned_clear(xm_history_aligned *a);

/* A time as above (`YYYY-MM-DD[( |T)HH:MM[:SS]][Z]`, or the integer forms), len bytes: 0 and
 * *t, or -1. */
int xm_history_parse_time(const char *s, size_t len, int64_t *t);
/* "YYYY-MM-DD HH:MM:SS" (UTC) into buf (at least 20 bytes for years 0..9999). Returns buf. */
char *xm_history_format_time(int64_t t, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_HISTORY_H */
