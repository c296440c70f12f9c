/* liqprice.c — today's liquidation price of a position (xm_liq_price, see xmrisk/margin.h).
 *
 * The unit of position j (its cross account, or j alone when isolated) is liquidatable when
 * E <= MM (docs/model.md §4). Move the mark x of j's asset, every other mark held at `marks`:
 *
 *   f(x) = E(x) - MM(x) = C + sum_{i in G} q_i (x - e_i) - sum_{i in G} MM_i(|q_i| x)
 *
 * where G is the set of the unit's positions in j's asset and C is what does not move:
 *   cross:    C = W + sum_{k not in G} [ q_k (m_k - e_k) - MM_k(|q_k| m_k) ]
 *   isolated: C = M_j, G = {j}.
 * In the tier k_i of every member, f is linear, and f = 0 gives
 *
 *   x = ( sum q_i e_i - C - sum cum_{k_i} ) / ( sum q_i - sum |q_i| mmr_{k_i} ),
 *
 * which for one member is Binance's one-way formula (docs/venues.md
 * a.1: LP = (WB - TMM1 + UPNL1 + cum - Side Q EP) / (Q MMR - Side Q), with TMM1 and UPNL1 the
 * other contracts' MM and PnL at their marks) and, with one tier, Hyperliquid's (a.5).
 *
 * Tiers. As Binance documents, start from the tier of the current notional |q| m and redo the
 * computation with the tier of the notional |q| x at the answer until it is the tier used
 * (beyond the last cap, the last tier: xm_tier_mm's rule). With one member f is strictly
 * monotone (slope q (1 -+ mmr), mmr < 1), so there is at most one root and the first
 * consistent tier holds it. If the iteration has not settled after n_tiers + 1 rounds (a root
 * exactly on a cap can flip between two tiers by rounding), the segment scan below decides.
 *
 * Several positions of one cross account in the same asset (hedge-mode legs: the loaders fold
 * rows of one side into one position, xmrisk/accounts.h, Lots, so G holds at most a long and a
 * short; nothing below relies on it): they all move with that asset's mark, so G holds them
 * all and each keeps its own tier (MM is per position, model.md §4). Every member of G gets
 * the same price. When G mixes longs and shorts, f is still concave (MM is convex in x) but no longer
 * monotone, so it can have two roots: a lower one reached by a fall and an upper one reached
 * by a rise. We report the root nearest the asset's current mark (|x - m| smallest, the lower
 * on a tie): the first boundary the mark meets, whichever way it moves. For G of one sign
 * that is the unique root, so the rule only matters for mixed legs.
 *
 * Segment scan (groups of more than one member, and the fallback): walk x upward from 0
 * through the breakpoints cap_t / |q_i|; on each segment every member's tier is fixed, f is
 * linear, and its root is kept when it lies in the segment (to a relative 1e-12, so that a
 * root on a breakpoint is not lost to rounding). No allocation; the cost is
 * O(|G| n_tiers) segments times O(|G| n_tiers) per segment, which is small for the one or
 * two legs an account holds in one asset.
 *
 * A unit already liquidatable at `marks` still gets the root of f (for a long above the mark,
 * for a short below it, possibly far away when other assets sink the equity); `xmrisk liqprice`
 * prints the mark for such a unit instead (src/report/liqprice_report.c, docs/margin.md).
 *
 * No price (return 0): no root > 0. A long whose collateral covers its entry notional
 * (C >= q e) is never liquidated by a fall; a short always has a price unless its unit is
 * liquidatable at every positive price (C + |q| e <= 0): a linear contract's short loses
 * without bound, so no short is fully collateralised. A non-finite result (a zero
 * denominator, non-finite marks) and an asset without tiers also give 0.
 */
#include "xmrisk/margin.h"

#include <math.h>

/* A root found on a segment [lo, hi] counts when within this relative distance of it. */
#define XM_LIQ_SEGMENT_TOL 1e-12

/* What f needs: the members G (positions lo..hi-1 of the unit in `asset`) and the sums. */
typedef struct {
    const xm_accounts *book;
    const xm_tier_table *t;   /* tiers of the asset */
    size_t lo, hi;            /* positions of the unit: [lo, hi) */
    uint16_t asset;
    double c;                 /* C: everything that does not move with x */
    double qe;                /* sum over G of q_i e_i */
    double q;                 /* sum over G of q_i */
    size_t members;           /* |G| */
} liq_group;

/* Tier holding notional n: the first with n <= cap; the last beyond the last cap. */
static size_t tier_at(const xm_tier_table *t, double notional)
{
    long k = xm_tier_index(t, notional > 0.0 ? notional : 0.0);
    return k < 0 ? t->n - 1 : (size_t)k;
}

/* Binance's iteration for a single member of quantity q: the root, or NAN when the tier does
 * not settle within n_tiers + 1 rounds. */
static double liq_iterate(const liq_group *g, double mark)
{
    const xm_tier_table *t = g->t;
    double aq = fabs(g->q);
    size_t k = tier_at(t, aq * mark);
    for (size_t round = 0; round <= t->n; round++) {
        double x = (g->qe - g->c - t->tier[k].cum) / (g->q - aq * t->tier[k].mmr);
        size_t k2 = tier_at(t, aq * x);
        if (k2 == k)
            return x;
        k = k2;
    }
    return NAN;
}

/* The positive root of f nearest `mark` by the segment scan, or 0 when there is none. */
static double liq_scan(const liq_group *g, double mark)
{
    const xm_accounts *b = g->book;
    const xm_tier_table *t = g->t;
    double from = isfinite(mark) ? mark : 0.0;
    double lo = 0.0, best = 0.0, best_dist = INFINITY;
    for (;;) {
        double hi = INFINITY, num = g->qe - g->c, den = g->q;
        for (size_t i = g->lo; i < g->hi; i++) {
            if (b->asset[i] != g->asset)
                continue;
            double aq = fabs(b->qty[i]);
            size_t k = 0;
            while (k + 1 < t->n && t->tier[k].cap_usd / aq <= lo)
                k++;
            num -= t->tier[k].cum;
            den -= aq * t->tier[k].mmr;
            if (k + 1 < t->n && t->tier[k].cap_usd / aq < hi)
                hi = t->tier[k].cap_usd / aq;
        }
        double x = num / den;
        if (den != 0.0 && isfinite(x) && x > 0.0 && x >= lo * (1.0 - XM_LIQ_SEGMENT_TOL) &&
            x <= hi * (1.0 + XM_LIQ_SEGMENT_TOL) && fabs(x - from) < best_dist) {
            best = x;
            best_dist = fabs(x - from);
        }
        if (!(hi < INFINITY))
            return best;
        lo = hi;
    }
}

/* Gather G and C for position j. Returns 0 when a table needed is missing. */
static int liq_group_init(liq_group *g, const xm_accounts *b, const xm_venue *v, size_t j,
                          const double *marks)
{
    size_t a = b->owner[j];
    g->book = b;
    g->asset = b->asset[j];
    g->t = &v->tiers[g->asset];
    g->qe = g->q = 0.0;
    g->members = 0;
    if (b->mode[a] == XM_ISOLATED) {
        g->lo = j;
        g->hi = j + 1;
        g->c = b->margin[j];
    } else {
        g->lo = b->first[a];
        g->hi = b->first[a + 1];
        g->c = b->wallet[a];
    }
    for (size_t i = g->lo; i < g->hi; i++) {
        double q = b->qty[i], e = b->entry[i];
        if (b->asset[i] == g->asset) {
            g->qe += q * e;
            g->q += q;
            g->members++;
            continue;
        }
        uint16_t k = b->asset[i];
        if (k >= v->n_assets || v->tiers[k].n == 0)
            return 0;
        double m = marks[k];
        g->c += q * (m - e) - xm_tier_mm(&v->tiers[k], fabs(q) * m, NULL);
    }
    return 1;
}

int xm_liq_price(const xm_accounts *book, const xm_venue *venue, size_t position,
                 const double *marks, double *price)
{
    if (price != NULL)
        *price = 0.0;
    if (book == NULL || venue == NULL || marks == NULL || position >= book->n_positions)
        return 0;
    uint16_t asset = book->asset[position];
    if (asset >= venue->n_assets || venue->tiers[asset].n == 0 || book->qty[position] == 0.0)
        return 0;
    liq_group g;
    if (!liq_group_init(&g, book, venue, position, marks))
        return 0;
    double mark = marks[asset], x = NAN;
    if (g.members == 1)
        x = liq_iterate(&g, mark);
    if (isnan(x))
        x = liq_scan(&g, mark);
    if (!(isfinite(x) && x > 0.0))
        return 0;
    if (price != NULL)
        *price = x;
    return 1;
}
