/* margin/ — venue rules, tiers, health, liquidation and settlement, liquidation prices. */
/* margin.c — health of a unit at marks, its liquidation orders, and settlement: realized PnL,
 * clearance fee, insurance fund, auto-deleveraging (ADL) and socialized loss
 * (see xmrisk/margin.h; semantics docs/model.md §3-§5, choices docs/margin.md; venue rules
 * docs/venues.md). xm_liq_price lives in liqprice.c.
 *
 * Nothing here allocates except xm_margin_state_alloc: health, plan and settle run on the
 * state's arrays and its ADL scratch (cand, score).
 */
#include "xmrisk/margin.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "margin/tiers.h"

/* A position whose remaining |q| is at most this fraction of |q| before the close is flat:
 * 10 - 0.2*10 - ... leaves rounding dust that must not stay "open" (docs/margin.md). */
#define XM_SNAP_REL 1e-12
/* ADL has covered an asset's share of the deficit when what is left is at most this fraction
 * of it (rounding of x |b - p| sums); the rest counts as covered, not socialized. */
#define XM_ADL_DONE_REL 1e-9
/* Floor of the unit equity in the effective-leverage denominators of the Bybit and
 * Hyperliquid ADL scores, so that a unit with E <= 0 ranks first instead of dividing by 0. */
#define XM_EQUITY_FLOOR 1e-12
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
        s->adl_index = malloc(np * sizeof *s->adl_index);
        s->adl_off = malloc((2 * venue->n_assets + 1) * sizeof *s->adl_off);
    }
    if (s == NULL || !s->wallet || !s->qty || !s->margin || !s->cand || !s->score ||
        !s->adl_pos || !s->adl_qty_before || !s->adl_index || !s->adl_off) {
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
    free(s->adl_index);
    free(s->adl_off);
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

/* The unit holding position j, as (account, position) arguments. */
static long holder_position(const xm_accounts *b, size_t j)
{
    return b->mode[b->owner[j]] == XM_CROSS ? XM_UNIT_ACCOUNT : (long)j;
}

static double *holder_base(xm_margin_state *s, size_t j)
{
    return unit_base(s, s->book->owner[j], holder_position(s->book, j));
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
/* ADL ranking (docs/venues.md b)                                                            */

/* Binance: PnL% = max(0, uPnL)/max(1, W), MarginRatio = MM/E (0 when E <= 0);
 * score = PnL% * MarginRatio. W is the wallet (cross) or the isolated margin. */
static double score_binance(double upnl, double w, xm_health h)
{
    double ratio = h.equity > 0.0 ? h.mm / h.equity : 0.0;
    return fmax(0.0, upnl) / fmax(1.0, w) * ratio;
}

/* BitMEX/Bybit/Poloniex: PnL% = sign(q)(m - e)/e, EffLev = |q| m / E;
 * score = PnL% EffLev if PnL% > 0, else PnL% / EffLev. */
static double score_bybit(double q, double e, double m, double equity)
{
    double pct = (q > 0.0 ? 1.0 : -1.0) * (m - e) / e;
    double lev = fabs(q) * m / fmax(equity, XM_EQUITY_FLOOR);
    return pct > 0.0 ? pct * lev : pct / lev;
}

/* Hyperliquid: (m/e for a long, e/m for a short) * (notional / account value). */
static double score_hyperliquid(double q, double e, double m, double equity)
{
    double ratio = q > 0.0 ? m / e : e / m;
    return ratio * fabs(q) * m / fmax(equity, XM_EQUITY_FLOOR);
}

static double adl_score(xm_margin_state *s, size_t j, const double *marks)
{
    const xm_accounts *b = s->book;
    double q = s->qty[j], e = b->entry[j], m = marks[b->asset[j]];
    xm_health h = xm_margin_health(s, b->owner[j], holder_position(b, j), marks);
    switch (s->venue->adl) {
    case XM_ADL_BYBIT: return score_bybit(q, e, m, h.equity);
    case XM_ADL_HYPERLIQUID: return score_hyperliquid(q, e, m, h.equity);
    default: return score_binance(q * (m - e), *holder_base(s, j), h);
    }
}

/* Candidate a ranks before b: higher score, ties to the lower position index. */
static int ranks_before(const double *score, uint32_t a, uint32_t b)
{
    return score[a] > score[b] || (score[a] == score[b] && a < b);
}

/* Max-heap of candidate positions keyed by score (indexed by position): built in O(n), each
 * fill pops one, so a deficit covered by k fills costs O(n + k log n). */
static void sift_down(uint32_t *h, size_t n, size_t k, const double *score)
{
    for (;;) {
        size_t best = k, l = 2 * k + 1, r = l + 1;
        if (l < n && ranks_before(score, h[l], h[best]))
            best = l;
        if (r < n && ranks_before(score, h[r], h[best]))
            best = r;
        if (best == k)
            return;
        uint32_t t = h[k];
        h[k] = h[best];
        h[best] = t;
        k = best;
    }
}

static void heap_build(uint32_t *h, size_t n, const double *score)
{
    for (size_t k = n / 2; k-- > 0;)
        sift_down(h, n, k, score);
}

static uint32_t heap_pop(uint32_t *h, size_t *n, const double *score)
{
    uint32_t top = h[0];
    h[0] = h[--*n];
    sift_down(h, *n, 0, score);
    return top;
}

/* ---- ADL candidate index ---------------------------------------------------------------- */

/* Position a sorts before b in its (asset, side) list: entry ascending for longs, descending
 * for shorts (so the positions in profit, long e < m or short e > m, are a prefix), ties by
 * position index. */
static int index_before(const xm_accounts *b, int shorts, uint32_t x, uint32_t y)
{
    double ex = b->entry[x], ey = b->entry[y];
    if (ex != ey)
        return shorts ? ex > ey : ex < ey;
    return x < y;
}

/* Stable bottom-up merge sort of a[0 .. n) by index_before, with scratch tmp (n entries). */
static void sort_index(const xm_accounts *b, int shorts, uint32_t *a, uint32_t *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = index_before(b, shorts, a[j], a[i]) ? a[j++] : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof *a);
    }
}

/* Build s->adl_index (margin.h): bucket positions by (asset, side of the book quantity; a
 * position never changes side, ADL and liquidation only shrink it), then sort each bucket.
 * s->cand is the scratch (no candidates are held while this runs). */
static void build_adl_index(xm_margin_state *s)
{
    const xm_accounts *b = s->book;
    size_t nk = 2 * s->venue->n_assets;
    memset(s->adl_off, 0, (nk + 1) * sizeof *s->adl_off);
    for (size_t j = 0; j < b->n_positions; j++)
        s->adl_off[2 * b->asset[j] + (b->qty[j] < 0.0) + 1]++;
    for (size_t k = 0; k < nk; k++)
        s->adl_off[k + 1] += s->adl_off[k];
    for (size_t j = 0; j < b->n_positions; j++)
        s->cand[s->adl_off[2 * b->asset[j] + (b->qty[j] < 0.0)]++] = (uint32_t)j;
    for (size_t k = nk; k > 0; k--)   /* the fill advanced each start to the next one's */
        s->adl_off[k] = s->adl_off[k - 1];
    s->adl_off[0] = 0;
    memcpy(s->adl_index, s->cand, b->n_positions * sizeof *s->adl_index);
    for (size_t k = 0; k < nk; k++)
        sort_index(b, (int)(k & 1), s->adl_index + s->adl_off[k], s->cand,
                   s->adl_off[k + 1] - s->adl_off[k]);
    s->adl_index_ready = 1;
}

/* End of the prefix of list[0 .. n) whose positions are in profit at mark m: entry < m for
 * longs, entry > m for shorts (binary search; the list is sorted that way). */
static size_t profit_prefix(const xm_accounts *b, int shorts, const uint32_t *list, size_t n, double m)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double e = b->entry[list[mid]];
        if (shorts ? e > m : e < m)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_position(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* Positions in asset i on side `sign` (+1 long) with uPnL q (m - e) > 0, outside `account`:
 * written to s->cand, their scores to s->score[j]. Returns how many. Only the prefix of the
 * (asset, side) index in profit is visited: O(k) for k positions in profit instead of a scan
 * of the book. The set is the scan's; the order is not, which does not matter while the
 * ranking (score, then position index) is a strict total order: the heap then pops the same
 * sequence from any layout. A NaN score (non-finite marks) breaks that, so then the
 * candidates are put in position order, the layout a scan of the book gives. */
static size_t adl_candidates(xm_margin_state *s, size_t account, size_t i, double sign,
                             const double *marks)
{
    const xm_accounts *b = s->book;
    if (!s->adl_index_ready)
        build_adl_index(s);
    int shorts = sign < 0.0;
    const uint32_t *list = s->adl_index + s->adl_off[2 * i + (size_t)shorts];
    size_t len = s->adl_off[2 * i + (size_t)shorts + 1] - s->adl_off[2 * i + (size_t)shorts];
    size_t end = profit_prefix(b, shorts, list, len, marks[i]), n = 0;
    for (size_t k = 0; k < end; k++) {
        uint32_t j = list[k];
        double q = s->qty[j];
        if (b->owner[j] == account || q * sign <= 0.0)
            continue;
        if (!(q * (marks[i] - b->entry[j]) > 0.0))
            continue;
        s->cand[n++] = j;
    }
    int nan = 0;
    for (size_t k = 0; k < n; k++) {
        double sc = adl_score(s, s->cand[k], marks);
        s->score[s->cand[k]] = sc;
        nan |= isnan(sc);
    }
    if (nan)
        qsort(s->cand, n, sizeof *s->cand, cmp_position);
    return n;
}

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
    size_t n = adl_candidates(s, account, i, -side, marks);
    heap_build(s->cand, n, s->score);
    double left = share, cap = fabs(c);
    while (n > 0 && cap > 0.0 && left > XM_ADL_DONE_REL * share) {
        uint32_t j = heap_pop(s->cand, &n, s->score);
        double x = fmin(fmin(fabs(s->qty[j]), cap), left / gap);
        adl_fill(s, j, x, b);
        cap -= x;
        left -= x * gap;
    }
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
