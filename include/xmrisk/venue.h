/* xmrisk/venue.h — venue rules: maintenance-margin tiers, liquidation, insurance fund, ADL.
 *
 * Semantics: docs/model.md §3; venue rules and their sources:
 * docs/venues.md §(a)-(b). Defaults are Binance USDⓈ-M's (a.1, b).
 */
#ifndef XMRISK_VENUE_H
#define XMRISK_VENUE_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    double cap_usd;        /* upper notional bound of the tier, inclusive, USD (> previous cap) */
    double mmr;            /* maintenance margin rate, in [0, 1) */
    double max_leverage;   /* the tier's leverage cap (>= 1), kept for calibration */
    double cum;            /* derived, never given: cum_1 = 0,
                            * cum_k = cum_{k-1} + cap_{k-1} (mmr_k - mmr_{k-1})  (model.md §3;
                            * Binance "maintenance amount", Bybit "MM deduction") */
} xm_tier;

typedef struct {
    size_t n;              /* 0: the asset has no table (positions on it are a model error) */
    xm_tier *tier;         /* n tiers, caps increasing */
} xm_tier_table;

typedef enum {
    XM_LIQ_FULL = 0,       /* close everything of a liquidatable account / isolated position */
    XM_LIQ_PARTIAL         /* close `step` of every position per round, with backstop */
} xm_liq_mode;

typedef enum {
    XM_ADL_BINANCE = 0,    /* max(0,uPnL)/max(1,W) * MM/E  (E <= 0 -> 0)          (b, Binance) */
    XM_ADL_BYBIT,          /* PnL% * effective leverage, or PnL% / eff. lev if PnL% <= 0
                            * (BitMEX/Bybit/Poloniex, b)                                       */
    XM_ADL_HYPERLIQUID,    /* (mark / entry) * (notional / account value)     (b, Hyperliquid) */
    XM_ADL_NONE            /* no ADL: what the fund cannot pay is socialized                   */
} xm_adl_ranking;

typedef enum {
    XM_REMAINING_KEEP = 0, /* the account keeps equity left after the fee (Binance)            */
    XM_REMAINING_TO_FUND   /* closed at bankruptcy: what is left goes to the fund (Bybit)      */
} xm_remaining_equity;

typedef struct {
    double insurance_fund_usd;        /* fund balance at the start of every path, >= 0 */
    xm_liq_mode mode;                 /* default full */
    double fee_rate;                  /* clearance fee on liquidated notional, default 0.0125 */
    uint32_t max_rounds;              /* cascade rounds per step, default 50 */
    double step;                      /* partial: fraction closed per round, default 0.2 */
    double min_partial_notional_usd;  /* partial: smaller positions close in full, default 1e5 */
    double backstop_ratio;            /* partial: E < ratio * MM closes all, default 2/3 */
    xm_remaining_equity remaining_equity;  /* default keep */
    xm_adl_ranking adl;               /* default binance */
    size_t n_assets;                  /* = market.n */
    xm_tier_table *tiers;             /* n_assets tables, market asset order */
} xm_venue;

/* Defaults above, n_assets empty tier tables. The venue owns the tables: xm_venue_clear(). */
xm_status xm_venue_init(xm_venue *v, size_t n_assets, xm_error *err) XM_MUST_CHECK;
void xm_venue_clear(xm_venue *v);

/* Give table `t` room for n tiers (zeroed). */
xm_status xm_tiers_alloc(xm_tier_table *t, size_t n, xm_error *err) XM_MUST_CHECK;

/* Check a filled table (caps > 0 and strictly increasing, mmr in [0, 1) and non-decreasing,
 * max_leverage >= 1 and non-increasing) and derive every cum. `where` prefixes messages. */
xm_status xm_tiers_prepare(xm_tier_table *t, const char *where, xm_error *err) XM_MUST_CHECK;

/* Tier of a notional N >= 0: the first k with N <= cap_k, or -1 beyond the last cap. */
long xm_tier_index(const xm_tier_table *t, double notional);

/* Maintenance margin MM(N) = N mmr_k - cum_k of the tier holding N. Beyond the last cap the
 * last tier's formula is used and *beyond (if not NULL) is set to 1 (model.md §3: a notional
 * beyond the last cap is a model error at load time; prices can still carry it there). */
double xm_tier_mm(const xm_tier_table *t, double notional, int *beyond);

const char *xm_adl_ranking_name(xm_adl_ranking r);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_VENUE_H */
