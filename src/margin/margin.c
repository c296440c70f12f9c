/* margin/ — venue rules, tiers, health, liquidation and settlement, liquidation prices. */
/* margin.c — health of a unit at marks, its liquidation orders, and settlement: realized PnL,
 * clearance fee, insurance fund, auto-deleveraging (ADL) and socialized loss
 * (see xmrisk/margin.h; semantics docs/model.md §3-§5, choices docs/margin.md; venue rules
 * docs/venues.md). xm_liq_price lives in liqprice.c.
 *
 * Nothing here allocates except xm_margin_state_alloc: health, plan and settle run on the
 * state's arrays, its scratch (cand, score) and its ADL ranking (adl.c).
 */
#include "xmrisk/margin.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "margin/adl.h"
#include "margin/tiers.h"

/* A position whose remaining |q| is at most this fraction of |q| before the close is flat:
 * 10 - 0.2*10 - ... leaves rounding dust that must not stay "open" (docs/margin.md). */
#define XM_SNAP_REL 1e-12
/* ADL has covered an asset's share of the deficit when what is left is at most this fraction
 * of it (rounding of x |b - p| sums); the rest counts as covered, not socialized. */
#define XM_ADL_DONE_REL 1e-9
/* Ledger identities hold to this relative tolerance (debug-build assertion). */
#define XM_LEDGER_REL 1e-9

/* ---------------------------------------------------------------------------------------- */
/* State                                                                                    */

xm_margin_state *xm_margin_state_alloc(const xm_accounts *book, const xm_venue *venue,
                                       xm_error *err)
{
    size_t na = book->n_accounts ? book->n_accounts : 1;
    size_t np = book->n_positions ? book->n_positions : 1;
    xm_margin_state *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->book = book;
        s->venue = venue;
        s->wallet = malloc(na * sizeof *s->wallet);
        s->qty = malloc(np * sizeof *s->qty);
        s->margin = malloc(np * sizeof *s->margin);
        s->cand = malloc(np * sizeof *s->cand);
        s->score = malloc(np * sizeof *s->score);
        s->adl_pos = malloc(np * sizeof *s->adl_pos);
        s->adl_qty_before = malloc(np * sizeof *s->adl_qty_before);
        s->adl = xm_adl_rank_alloc(book, venue->n_assets);
    }
    if (s == NULL || !s->wallet || !s->qty || !s->margin || !s->cand || !s->score ||
        !s->adl_pos || !s->adl_qty_before || !s->adl) {
        xm_margin_state_free(s);
        xm_error_set(err, XM_ENOMEM, "margin state: out of memory for %zu accounts, %zu positions",
                     book->n_accounts, book->n_positions);
        return NULL;
    }
    xm_margin_state_reset(s);
    return s;
}

void xm_margin_state_free(xm_margin_state *s)
{
    if (s == NULL)
        return;
    free(s->wallet);
    free(s->qty);
    free(s->margin);
    free(s->cand);
    free(s->score);
    free(s->adl_pos);
    free(s->adl_qty_before);
    xm_adl_rank_free(s->adl);
    free(s);
}

void xm_margin_state_reset(xm_margin_state *s)
{
    const xm_accounts *b = s->book;
    if (b->n_accounts)
        memcpy(s->wallet, b->wallet, b->n_accounts * sizeof *s->wallet);
    if (b->n_positions) {
        memcpy(s->qty, b->qty, b->n_positions * sizeof *s->qty);
        memcpy(s->margin, b->margin, b->n_positions * sizeof *s->margin);
    }
    xm_adl_invalidate(s->adl);
    xm_margin_state_reset_ledger(s);
}

void xm_margin_state_restore(xm_margin_state *s, size_t a)
{
    const xm_accounts *b = s->book;
    s->wallet[a] = b->wallet[a];
    for (size_t j = b->first[a]; j < b->first[a + 1]; j++) {
        s->qty[j] = b->qty[j];
        s->margin[j] = b->margin[j];
    }
    xm_adl_invalidate(s->adl);
}

void xm_margin_state_reset_ledger(xm_margin_state *s)
{
    memset(&s->ledger, 0, sizeof s->ledger);
    s->ledger.fund_start = s->venue->insurance_fund_usd;
    s->ledger.fund = s->ledger.fund_start;
    s->ledger.fund_min = s->ledger.fund_start;
    s->n_adl = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Units                                                                                    */

/* The positions of a unit: a cross account's all, or one isolated position. */
typedef struct {
    size_t lo, hi;  /* positions lo .. hi-1 */
    int cross;
} unit_span;

static unit_span unit_of(const xm_accounts *b, size_t account, long position)
{
    /* Misuse (an isolated account named whole, a cross position named alone) is a caller
     * bug: caught in debug builds. */
    assert(position == XM_UNIT_ACCOUNT
               ? b->mode[account] == XM_CROSS
               : b->mode[account] == XM_ISOLATED && b->owner[position] == account);
    if (position == XM_UNIT_ACCOUNT)
        return (unit_span){b->first[account], b->first[account + 1], 1};
    return (unit_span){(size_t)position, (size_t)position + 1, 0};
}

/* Where the unit's money is: the cross wallet W or the isolated margin M_j (model.md §4). */
static double *unit_base(xm_margin_state *s, size_t account, long position)
{
    return position == XM_UNIT_ACCOUNT ? &s->wallet[account] : &s->margin[position];
}

/* Where the money of the unit holding position j is. */
static double *holder_base(xm_margin_state *s, size_t j)
{
    return unit_base(s, s->book->owner[j], xm_adl_holder(s->book, j));
}

/* q' = q + c, snapped to exactly 0 when |q'| <= 1e-12 |q|. */
static double snapped(double q_new, double q_old)
{
    return fabs(q_new) <= XM_SNAP_REL * fabs(q_old) ? 0.0 : q_new;
}

/* model.md §4: cross E = W + sum_j q_j (m_j - e_j), MM = sum_j MM_asset(|q_j| m_j);
 * isolated E_j = M_j + q_j (m_j - e_j), MM_j = MM_asset(|q_j| m_j). Tiers: xm_tier_mm
 * (docs/venues.md a.0: cross MM is the sum of per-symbol tiered MM). */
xm_health xm_margin_health(const xm_margin_state *s, size_t account, long position,
                           const double *marks)
{
    const xm_accounts *b = s->book;
    unit_span u = unit_of(b, account, position);
    xm_health h = {u.cross ? s->wallet[account] : s->margin[u.lo], 0.0, 0, 0};
    for (size_t j = u.lo; j < u.hi; j++) {
        double q = s->qty[j];
        if (q == 0.0)
            continue;
        size_t i = b->asset[j];
        h.equity += q * (marks[i] - b->entry[j]);
        h.mm += xm_tier_mm_inl(&s->venue->tiers[i], fabs(q) * marks[i], &h.beyond_tiers);
        h.open = 1;
    }
    return h;
}

/* ---------------------------------------------------------------------------------------- */
/* Orders                                                                                   */

/* model.md §3, §5.3.2. Partial mode is Hyperliquid's (docs/venues.md a.5): `step`
 * (20%) of positions above min_partial_notional ($100k), the rest in full; the backstop
 * (E < 2/3 MM) closes everything. Every entry of the unit is written (0 for a flat position);
 * the return value counts the orders (entries != 0). */
size_t xm_liq_plan(const xm_margin_state *s, size_t account, long position, const double *marks,
                   double *close_qty)
{
    const xm_venue *v = s->venue;
    unit_span u = unit_of(s->book, account, position);
    int all = v->mode != XM_LIQ_PARTIAL;
    if (!all) {
        xm_health h = xm_margin_health(s, account, position, marks);
        all = h.equity < v->backstop_ratio * h.mm;
    }
    size_t n = 0;
    for (size_t j = u.lo; j < u.hi; j++) {
        double q = s->qty[j];
        int small = fabs(q) * marks[s->book->asset[j]] < v->min_partial_notional_usd;
        close_qty[j] = q == 0.0 ? 0.0 : (all || small) ? -q : -v->step * q;
        n += q != 0.0;
    }
    return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Settlement: realized PnL and fee                                                         */

/* The close actually traded: it reduces |q| and never flips it. A planned close can exceed
 * what is open when ADL shrank the position after the plan (earlier in the same round). */
static double effective_close(double q, double c)
{
    if (q == 0.0 || c * q >= 0.0)
        return 0.0;
    return fabs(c) > fabs(q) ? -q : c;
}

/* Closing c (signed, opposite to q) at p realizes -c (p - e) (a long sells: c < 0, |c|(p - e);
 * docs/venues.md a.0: realized PnL uses fills, not marks) into the unit's W or M_j.
 * Returns sum |c| p. The effective closes go to s->score[j] for j in the unit: ADL reads them
 * there (candidates come from other accounts, so their scores never overwrite these). */
static double realize(xm_margin_state *s, unit_span u, double *base, const double *close_qty,
                      const double *exec, int *any)
{
    const xm_accounts *b = s->book;
    double notional = 0.0;
    for (size_t j = u.lo; j < u.hi; j++) {
        double q = s->qty[j], c = effective_close(q, close_qty[j]);
        s->score[j] = c;
        if (c == 0.0)
            continue;
        double p = exec[b->asset[j]];
        *base += -c * (p - b->entry[j]);
        s->qty[j] = snapped(q + c, q);
        notional += fabs(c) * p;
        *any = 1;
    }
    return notional;
}

/* Clearance fee min(fee_rate N, max(0, E)) from the unit to the fund (model.md §3;
 * docs/venues.md a.1: "charged on the liquidated notional, paid from remaining
 * margin to the insurance fund"). */
static double take_fee(xm_margin_state *s, double *base, double equity, double notional)
{
    double fee = fmin(s->venue->fee_rate * notional, fmax(0.0, equity));
    *base -= fee;
    s->ledger.fund += fee;
    s->ledger.fees += fee;
    return fee;
}

/* ---------------------------------------------------------------------------------------- */
/* ADL fills (the ranking is adl.c)                                                          */

/* Close x of candidate j at the bankruptcy price b, off-book and without fee
 * (docs/venues.md b, Binance: "closed at the bankruptcy price of the liquidated
 * order, no fee"): it realizes x sign(q)(b - e) into its W or M_j. */
static void adl_fill(xm_margin_state *s, size_t j, double x, double b)
{
    double q = s->qty[j], sgn = q > 0.0 ? 1.0 : -1.0;
    assert(s->n_adl < s->book->n_positions);
    s->adl_pos[s->n_adl] = (uint32_t)j;
    s->adl_qty_before[s->n_adl++] = q;
    *holder_base(s, j) += x * sgn * (b - s->book->entry[j]);
    xm_adl_touch(s->adl, s->book->owner[j], xm_adl_holder(s->book, j));
    s->qty[j] = x >= fabs(q) ? 0.0 : snapped(q - sgn * x, q);
    s->ledger.adl_notional += x * b;
    s->ledger.adl_fills++;
}

/* One asset's share R_i of the deficit: the bankrupt unit closed c (summed over its positions
 * in asset i) at p. Bankruptcy price b = p + side R_i/|c|, side = sign of the bankrupt
 * position (-sign c): selling the long at b instead of p would have left equity 0. Walk the
 * opposite side's ranking, closing x = min(|q|, capacity left, R left/|b - p|) each
 * (docs/margin.md). Returns the part of R_i covered. */
static double adl_asset(xm_margin_state *s, size_t account, size_t i, double c, double p,
                        double share, const double *marks)
{
    if (!(share > 0.0))
        return 0.0;
    double side = c < 0.0 ? 1.0 : -1.0, gap = share / fabs(c), b = p + side * gap;
    double left = share, cap = fabs(c);
    xm_adl_walk w;
    xm_adl_walk_begin(s, &w, account, i, -side, marks);
    while (cap > 0.0 && left > XM_ADL_DONE_REL * share) {
        long j = xm_adl_walk_next(s, &w);
        if (j < 0)
            break;
        double x = fmin(fmin(fabs(s->qty[j]), cap), left / gap);
        adl_fill(s, (size_t)j, x, b);
        cap -= x;
        left -= x * gap;
    }
    xm_adl_walk_end(s, &w);
    return left <= XM_ADL_DONE_REL * share ? share : share - left;
}

/* 1 when j is the unit's first position with a close in its asset (effective closes are in
 * s->score for the unit's positions, see realize). */
static int first_close_in_asset(const xm_margin_state *s, unit_span u, size_t j)
{
    if (s->score[j] == 0.0)
        return 0;
    for (size_t k = u.lo; k < j; k++)
        if (s->book->asset[k] == s->book->asset[j] && s->score[k] != 0.0)
            return 0;
    return 1;
}

/* Signed close of the unit in the asset of its position j, summed over j .. hi-1. */
static double asset_close(const xm_margin_state *s, unit_span u, size_t j)
{
    double c = 0.0;
    for (size_t k = j; k < u.hi; k++)
        if (s->book->asset[k] == s->book->asset[j])
            c += s->score[k];
    return c;
}

/* ADL of what the fund could not pay, R: shares R_i = R N_i / sum N over the closed assets,
 * N_i = |c_i| p_i; each asset is deleveraged on its own, and what one asset cannot cover is
 * not moved to another (docs/venues.md b, Hyperliquid Oct-2025: "ADL strictly per
 * asset"). Returns the part of R covered. */
static double adl_cover(xm_margin_state *s, size_t account, unit_span u, const double *exec,
                        const double *marks, double rest)
{
    const xm_accounts *b = s->book;
    double total = 0.0, covered = 0.0;
    for (size_t j = u.lo; j < u.hi; j++)
        if (first_close_in_asset(s, u, j))
            total += fabs(asset_close(s, u, j)) * exec[b->asset[j]];
    if (!(total > 0.0))
        return 0.0;
    for (size_t j = u.lo; j < u.hi; j++) {
        if (!first_close_in_asset(s, u, j))
            continue;
        double c = asset_close(s, u, j), p = exec[b->asset[j]];
        if (c != 0.0)
            covered += adl_asset(s, account, b->asset[j], c, p, rest * fabs(c) * p / total, marks);
    }
    return covered;
}

/* ---------------------------------------------------------------------------------------- */
/* Settlement: close-out                                                                    */

/* Deficit D of a flat unit: the fund pays min(fund, D), ADL covers what it can of the rest,
 * the remainder is socialized (model.md §3; docs/venues.md b: "pays deficits of
 * bankrupt accounts back to 0"). */
static void cover_deficit(xm_margin_state *s, size_t account, unit_span u, const double *exec,
                          const double *marks, double deficit, xm_liq_result *r)
{
    xm_ledger *l = &s->ledger;
    double paid = fmin(fmax(l->fund, 0.0), deficit), rest = deficit - paid;
    l->deficits += deficit;
    l->fund -= paid;
    l->fund_paid += paid;
    double covered = 0.0;
    if (rest > 0.0 && s->venue->adl != XM_ADL_NONE)
        covered = fmin(adl_cover(s, account, u, exec, marks, rest), rest);  /* share rounding */
    l->adl_covered += covered;
    l->socialized += rest - covered;
    r->deficit = deficit;
    r->fund_paid = paid;
    r->adl_covered = covered;
    r->socialized = rest - covered;
}

/* A unit with nothing open: equity left after the fee is W (M_j). Positive: kept, or moved
 * to the fund in to_fund mode (docs/venues.md a.2, Bybit: closed at bankruptcy, the
 * surplus goes to the fund). Negative: a deficit; W (M_j) is topped back to 0. */
static void close_out(xm_margin_state *s, size_t account, unit_span u, double *base,
                      const double *exec, const double *marks, xm_liq_result *r)
{
    double eq = *base;
    if (eq > 0.0 && s->venue->remaining_equity == XM_REMAINING_TO_FUND) {
        *base = 0.0;
        s->ledger.fund += eq;
        s->ledger.surpluses += eq;
        r->surplus = eq;
    } else if (eq < 0.0) {
        *base = 0.0;
        cover_deficit(s, account, u, exec, marks, -eq, r);
    }
}

#ifndef NDEBUG
/* fund = fund_start + fees + surpluses - fund_paid; deficits = fund_paid + adl_covered +
 * socialized (margin.h). assert() is the only abort in the library, and only in debug
 * builds: a failure is a bug in this file, never bad input. */
static void check_ledger(const xm_ledger *l)
{
    double fund_scale = fmax(1.0, l->fund_start + l->fees + l->surpluses + l->fund_paid);
    double fund_gap = l->fund - (l->fund_start + l->fees + l->surpluses - l->fund_paid);
    double debt_gap = l->deficits - (l->fund_paid + l->adl_covered + l->socialized);
    assert(fabs(fund_gap) <= XM_LEDGER_REL * fund_scale);
    assert(fabs(debt_gap) <= XM_LEDGER_REL * fmax(1.0, l->deficits));
    (void)fund_gap;
    (void)debt_gap;
}
#else
#define check_ledger(l) ((void)(l))
#endif

/* model.md §5.3.5: realized PnL at exec, the fee, then (nothing left open) surplus or deficit
 * -> fund -> ADL -> socialized. A unit with positions still open never books a deficit: after
 * a partial close at a bad price E may be < 0, and the next round's plan closes it all
 * (E < backstop MM), which books it then (docs/margin.md). */
void xm_liq_settle(xm_margin_state *s, size_t account, long position, const double *close_qty,
                   const double *exec, const double *marks, xm_liq_result *out)
{
    xm_liq_result r = {0};
    unit_span u = unit_of(s->book, account, position);
    double *base = unit_base(s, account, position);
    int any = 0;
    s->n_adl = 0;
    xm_adl_touch(s->adl, account, position);
    r.notional = realize(s, u, base, close_qty, exec, &any);
    xm_health h = xm_margin_health(s, account, position, marks);
    r.fee = take_fee(s, base, h.equity, r.notional);
    if (any && !h.open)
        close_out(s, account, u, base, exec, marks, &r);
    s->ledger.events += (uint64_t)any;
    s->ledger.liquidated_notional += r.notional;
    s->ledger.fund_min = fmin(s->ledger.fund_min, s->ledger.fund);
    h = xm_margin_health(s, account, position, marks);
    r.equity_after = h.equity;
    r.closed_all = !h.open;
    check_ledger(&s->ledger);
    if (out != NULL)
        *out = r;
}
