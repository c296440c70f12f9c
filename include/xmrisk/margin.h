/* xmrisk/margin.h — the cross-margin engine: health at marks, liquidation of a unit in a
 * cascade round, clearance fee, insurance fund, auto-deleveraging (ADL), socialized loss, and
 * today's liquidation prices.
 *
 * Semantics: docs/model.md §3-§5 (and docs/margin.md for the choices made where the spec is
 * silent); venue rules, worked examples and sources: docs/venues.md.
 *
 * A *unit* is what becomes liquidatable: a cross account (all its positions together), or one
 * isolated position. A unit is named by its account and, for isolated positions, the position
 * index (XM_UNIT_ACCOUNT for a whole cross account).
 *
 * Per path, an xm_margin_state holds everything a simulation changes (wallets, open quantities,
 * isolated margins, the insurance fund and the ledger); the xm_accounts is never written. One state
 * per thread; xm_margin_state_reset() starts a new path without allocating.
 */
#ifndef XMRISK_MARGIN_H
#define XMRISK_MARGIN_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/accounts.h"
#include "xmrisk/error.h"
#include "xmrisk/venue.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XM_UNIT_ACCOUNT (-1L)  /* position argument naming a whole cross account */

/* Money flows of one path, USD. Identities (checked by tests; asserted in debug builds):
 *   fund     = fund_start + fees + surpluses - fund_paid
 *   deficits = fund_paid + adl_covered + socialized                                        */
typedef struct {
    double fund_start;        /* venue.insurance_fund_usd */
    double fund;              /* balance now */
    double fund_min;          /* lowest balance so far */
    double fees;              /* clearance fees received */
    double surpluses;         /* remaining equity received (remaining_equity: to_fund) */
    double deficits;          /* bad debt: sum of negative equity left by liquidations */
    double fund_paid;         /* part of deficits paid by the fund */
    double adl_covered;       /* part of deficits covered by ADL haircuts */
    double socialized;        /* part nobody covered */
    double liquidated_notional;  /* sum |closed qty| * execution price */
    double adl_notional;      /* sum |ADL qty| * bankruptcy price */
    uint64_t events;          /* liquidation events: a unit closed, fully or partly, in a round */
    uint64_t adl_fills;       /* counterparty positions closed (partly) by ADL */
} xm_ledger;

typedef struct xm_adl_rank xm_adl_rank;

typedef struct {
    const xm_accounts *book;
    const xm_venue *venue;
    double *wallet;           /* per account: cross W now (isolated: 0) */
    double *qty;              /* per position: open quantity now (0 when closed) */
    double *margin;           /* per position: isolated M_j now */
    xm_ledger ledger;
    /* scratch of settlement and the ADL walks, n_positions each (owned) */
    uint32_t *cand;
    double *score;
    /* The ADL fills of the last xm_liq_settle call (cleared when it starts), in fill order:
     * position adl_pos[k] held adl_qty_before[k] before its fill. Read-only for callers, who
     * use it to find the units ADL changed without scanning the book. n_positions each
     * (owned; one settlement fills each position at most once). */
    uint32_t *adl_pos;
    double *adl_qty_before;
    size_t n_adl;
    /* ADL candidate ranking (owned, opaque; src/margin/adl.h): per asset and side, the
     * positions in profit kept ranked across settlements at the same marks. */
    xm_adl_rank *adl;
} xm_margin_state;

/* State for paths over `book` under `venue`; both must outlive it. NULL on allocation failure.
 * Starts reset. Free with xm_margin_state_free(). */
xm_margin_state *xm_margin_state_alloc(const xm_accounts *book, const xm_venue *venue,
                                       xm_error *err);
void xm_margin_state_free(xm_margin_state *s);

/* Back to the book as loaded and a fresh ledger with the fund at its start balance. */
void xm_margin_state_reset(xm_margin_state *s);

/* The same in parts, for callers that know which accounts a path changed (the cascade engine
 * restores only those, so a new path costs nothing per untouched account):
 * xm_margin_state_restore puts account `a`'s wallet, quantities and isolated margins back as
 * in the book; xm_margin_state_reset_ledger starts a fresh ledger. After restoring every
 * account changed since the last full reset, and the ledger, the state equals a reset one. */
void xm_margin_state_restore(xm_margin_state *s, size_t a);
void xm_margin_state_reset_ledger(xm_margin_state *s);

typedef struct {
    double equity;            /* E: cross W + sum q (m - e); isolated M_j + q_j (m_j - e_j) */
    double mm;                /* maintenance margin at marks, tiers per asset */
    int open;                 /* 1 when the unit holds an open position */
    int beyond_tiers;         /* 1 when some notional is beyond its asset's last tier cap */
} xm_health;

/* Health of a unit at marks (n_assets values). */
xm_health xm_margin_health(const xm_margin_state *s, size_t account, long position,
                           const double *marks);

/* E <= MM with something open (model.md §4: a unit with nothing open never is). */
/* model.md §3-§4: E <= MM, or a notional beyond its asset's last tier cap (the venue cannot
 * hold it: a liquidation at run time). */
static inline int xm_health_liquidatable(xm_health h)
{
    return h.open && (h.equity <= h.mm || h.beyond_tiers);
}

/* The orders a liquidatable unit sends this round (model.md §3, §5.3.2): for every position j
 * of the unit, close_qty[j] = the signed base quantity traded (-q for a full close; -step q in
 * partial mode, or -q for a position whose notional is below min_partial_notional, or for all
 * positions when E < backstop_ratio * MM). close_qty is indexed by position (n_positions
 * entries); every entry of the unit is written (0 for a flat position). Returns the number of
 * non-zero orders. */
size_t xm_liq_plan(const xm_margin_state *s, size_t account, long position, const double *marks,
                   double *close_qty);

typedef struct {
    double notional;          /* sum |close| * execution price */
    double fee;               /* clearance fee taken (<= what equity was left) */
    double surplus;           /* remaining equity moved to the fund (to_fund mode) */
    double deficit;           /* negative equity left after closing everything */
    double fund_paid, adl_covered, socialized;
    double equity_after;      /* unit's equity after settlement, at `marks` */
    int closed_all;           /* 1 when the unit holds nothing open any more */
} xm_liq_result;

/* Settle a unit's planned orders at execution prices exec[i] (model.md §5.3.5): realized PnL
 * q (p - e) on the closed quantity into the wallet (cross) or margin (isolated), then the fee
 * min(fee_rate * notional, max(0, equity left)) to the fund; when the unit is closed out with
 * negative equity, the deficit goes to the fund, then to ADL, then to socialized loss.
 * ADL (docs/margin.md): opposite-side positions of other units in the bankrupt unit's assets
 * with positive unrealized PnL at `marks`, ranked by venue->adl (highest first, ties by
 * position index), are closed at the bankrupt position's bankruptcy price until the deficit
 * is covered; ADL fills are off-book (no price impact). Updates the ledger. */
void xm_liq_settle(xm_margin_state *s, size_t account, long position, const double *close_qty,
                   const double *exec, const double *marks, xm_liq_result *out);

/* Today's liquidation price of position j of the book (as loaded, not a state): the mark of
 * its asset at which its unit becomes liquidatable (E = MM), every other mark held at
 * `marks`, moving across tiers until the tier of the notional at that price is the one used
 * (Binance's procedure, docs/venues.md a.1). Returns 1 and the price, or 0 when no
 * positive price reaches it (e.g. an over-collateralised long, or a unit liquidatable at
 * every price). Several positions of one cross account in the same asset move together; with
 * longs and shorts mixed, the root nearest the current mark is returned. */
int xm_liq_price(const xm_accounts *book, const xm_venue *venue, size_t position,
                 const double *marks, double *price);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_MARGIN_H */
