/* xmrisk/backtest.h — a rolling out-of-sample backtest of the model's process against its
 * price history (`xmrisk backtest`, docs/interface.md; the method in docs/model.md §8).
 *
 * For each UTC day D in [from, to] (a day is [D, D + 24h)):
 *  - window: the aligned candles (xm_history_align) that end by D 00:00 and start at or after
 *    D - window_days; returns r = ln(C_k / C_{k-1}) between consecutive candles one interval
 *    apart (a gap breaks the chain). Each asset's annual volatility is the sample standard
 *    deviation (divisor m - 1) of its m returns times sqrt(365 * 86400 / interval); drift 0;
 *    the correlation is the Pearson correlation of the same returns (an asset with zero
 *    variance is uncorrelated with the others), replaced by its nearest correlation matrix
 *    (Higham 2002, xm_market_prepare) when it is not positive definite. Fewer than 2 returns:
 *    the day is skipped.
 *  - paths: the model's process, dof and jumps (jump_beta per asset), steps per day = model
 *    steps / horizon_days, start prices the open of the candle at D 00:00. N one-day paths;
 *    path p of day D draws from the PCG64 stream xm_pcg64_seed_path(seed, (D / 86400) * 2^32
 *    + p) (D / 86400: days since 1970-01-01), so a day's draws depend on (seed, day, p) only:
 *    not on the thread count nor on --from. Each path records each asset's min and max price
 *    over its steps (the open included) divided by the open.
 *  - prediction: the type-7 quantiles (xm_stats_quantile_sorted) at 1 - level of min/open
 *    and at level of max/open over the N paths.
 *  - realized: over the candles of day D (every one of them present, the first at 00:00),
 *    low = min of lows / open, high = max of highs / open. Exceeded low: low < predicted low;
 *    exceeded high: high > predicted high.
 *  A day without a full set of candles for every asset, or with fewer than 2 window returns,
 *  is skipped and counted.
 * Coverage (xmrisk/coverage.h) per asset and side over the days evaluated, at p = 1 - level.
 */
#ifndef XMRISK_BACKTEST_H
#define XMRISK_BACKTEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "xmrisk/coverage.h"
#include "xmrisk/error.h"
#include "xmrisk/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t from, to;                /* first and last day: UTC 00:00, seconds since 1970 */
    double level;                    /* in (0.5, 1) */
    uint64_t paths;                  /* N per day, 1 .. 2^32 */
    uint64_t seed;
    int threads;                     /* 0: all available */
    volatile sig_atomic_t *stop;     /* optional: stop between paths (XM_EINTR) */
} xm_backtest_opts;

typedef struct {
    int64_t day;                     /* UTC 00:00 of the day */
    size_t asset;                    /* index in the model's market */
    double pred_low, low;            /* predicted and realized min/open */
    double pred_high, high;          /* predicted and realized max/open */
    uint8_t exceeded_low, exceeded_high;
} xm_backtest_row;

typedef struct {
    size_t n_assets;
    size_t n_days;                   /* days evaluated */
    size_t skipped_days;             /* days of [from, to] without full data */
    xm_backtest_row *rows;           /* n_days * n_assets, day by day, assets in model order */
    xm_coverage *cov;                /* 2 * n_assets: [2a] side down (low), [2a + 1] up (high) */
    double elapsed_s;                /* wall time */
} xm_backtest_result;

/* The request against the model, before any work: every asset has a history, all of one
 * interval that divides a day; whole steps per day; from <= to, both at 00:00; the range within
 * the aligned history (a full window before `from`, candles through the end of `to`); level and
 * paths in range. XM_EUSAGE or XM_EMODEL with one line saying what is wrong (exit 2). */
xm_status xm_backtest_check(const xm_model *m, const xm_backtest_opts *o, xm_error *err)
    XM_MUST_CHECK;

/* Run the backtest (checks first). *r is filled (release with xm_backtest_result_clear) on
 * XM_OK; XM_EMODEL when no day of the range could be evaluated; XM_EINTR when stopped;
 * XM_ENOMEM. */
xm_status xm_backtest_run(const xm_model *m, const xm_backtest_opts *o, xm_backtest_result *r,
                          xm_error *err) XM_MUST_CHECK;

void xm_backtest_result_clear(xm_backtest_result *r);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_BACKTEST_H */
