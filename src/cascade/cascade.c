/* cascade/ — the cascade engine: price impact and re-checks until the book is safe. */
/* cascade.c — one path of the whole population with price impact and liquidation cascades
 * (see xmrisk/cascade.h; semantics docs/model.md §5-§6, docs/margin.md).
 *
 * Fast path (docs/cascade.md). Checking every unit in every round is the naive cost. A unit
 * is checked at some evaluation point with marks m0 and found healthy with buffer
 * B = E - MM > 0. Between changes of its state, E - MM moves with the marks only, and each
 * position's share of that move is bounded on one side (model.md §3-§4):
 *   - long q > 0: as m falls, E loses q (m0 - m) and MM falls at least mmr_1 q (m0 - m)
 *     (every tier's slope is at least the first tier's, mmr_1), so the loss is at most
 *     q (1 - mmr_1) (m0 - m); as m rises, E gains q dm and MM at most mmr_max q dm < q dm:
 *     no loss;
 *   - short q < 0: as m falls nothing is lost; as m rises up to c m0 (c = XM_SHORT_CAP), E
 *     loses |q| (m - m0) and MM at most s |q| (m - m0), s = the mmr of the tier holding the
 *     notional |q| c m0 (tiers are continuous with non-decreasing slopes, model.md §3).
 * So the unit cannot be liquidatable while sum over (asset, side) of those losses < B. B is
 * shared out over the unit's (asset, side) pairs in proportion to exposure x volatility, and
 * each share becomes a price threshold per pair: a long exposure L (weight q (1 - mmr_1))
 * with share b is due when m <= m0 - b / L, a short one S (weight |q| (1 + s)) when
 * m >= min(m0 + b / S, c m0). The thresholds go into a per-(asset, side) index
 * (src/cascade/recheck.h); at each point exactly the units with a threshold crossed, those whose state
 * changed (liquidated and still open, hit by ADL) and those too close to call (B below the
 * rounding guard) are checked; a unit left with nothing open is never checked again on the
 * path. The set of liquidatable units found at every point is therefore the naive one, and
 * so is everything downstream (tested).
 *
 * Per path, only what the previous path touched is reset: accounts it settled or ADL hit,
 * units it checked. Memory grows with units and threads, never with paths.
 */
#include "xmrisk/cascade.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/margin.h"
#include "xmrisk/paths.h"
#include "margin/tiers.h"
#include "cascade/recheck.h"

/* ---- per-account accumulators ---------------------------------------------------------- */

xm_cascade_acc *xm_cascade_acc_alloc(size_t n_accounts, xm_error *err)
{
    size_t n = n_accounts ? n_accounts : 1;
    xm_cascade_acc *a = calloc(1, sizeof *a);
    if (a != NULL) {
        a->n_accounts = n_accounts;
        a->liq_paths = calloc(n, sizeof *a->liq_paths);
        a->first_step_sum = calloc(n, sizeof *a->first_step_sum);
        a->loss_micro = calloc(n, sizeof *a->loss_micro);
    }
    if (a == NULL || !a->liq_paths || !a->first_step_sum || !a->loss_micro) {
        xm_cascade_acc_free(a);
        xm_error_set(err, XM_ENOMEM, "run: out of memory for %zu account accumulators",
                     n_accounts);
        return NULL;
    }
    return a;
}

void xm_cascade_acc_free(xm_cascade_acc *a)
{
    if (a == NULL)
        return;
    free(a->liq_paths);
    free(a->first_step_sum);
    free(a->loss_micro);
    free(a);
}

void xm_cascade_acc_merge(xm_cascade_acc *into, const xm_cascade_acc *from)
{
    for (size_t k = 0; k < into->n_accounts; k++) {
        into->liq_paths[k] += from->liq_paths[k];
        into->first_step_sum[k] += from->first_step_sum[k];
        into->loss_micro[k] += from->loss_micro[k];
    }
    for (int k = 0; k < XM_HIST_BINS; k++)
        into->cascade_hist[k] += from->cascade_hist[k];
    into->cascades += from->cascades;
}

/* ---- workspace ------------------------------------------------------------------------- */

/* Shorts are watched up to this multiple of the mark they were checked at (the tier slope
 * bound holds up to there). */
#define XM_SHORT_CAP 2.0
/* Rounding guard: the buffer is shrunk by this fraction of the unit's scale
 * (|W or M| + sum |q| (m + e)), far above the rounding of E and MM (a few ulp of that scale),
 * so rounding can never hide a crossing. */
#define XM_GUARD_REL 1e-9
/* Shares of the buffer are cut by this fraction so that their rounded sum stays below it. */
#define XM_SHARE_CUT 1e-12
/* Thresholds more than this many standard deviations of the asset's move over the horizon
 * (at least XM_FAR_MIN of its start price) away from the mark are filed in the index's far
 * list instead of its heap (performance only: recheck.h). */
#define XM_FAR_SIGMAS 3.0
#define XM_FAR_MIN 0.05

struct xm_cascade_ws {
    const xm_model *m;
    const xm_accounts *b;
    const xm_venue *v;
    size_t n;                    /* assets */
    int naive;
    xm_path_ws *path;
    xm_margin_state *ms;
    /* per asset */
    double *decay;               /* 2^(-dt/h) per step */
    double *k_lin, *k_sqrt;      /* dI = k_lin X, or sign(X) k_sqrt sqrt|X| */
    double *imp, *marks, *exec, *flow, *d_imp;
    double *vol;                 /* volatility weight of the asset's buffer shares */
    double *min_ratio, *impact_at_min;  /* the path's, copied out at its end */
    double *min_mark;            /* the mark that gave min_ratio (+inf before the first) */
    /* units: cross accounts and isolated positions, in account order */
    size_t n_units;
    uint32_t *unit_acc;
    long *unit_pos;
    uint32_t *acct_unit;         /* per account: its (first) unit */
    uint32_t *liq;               /* liquidatable units of the round (sorted) */
    uint32_t *check;             /* units to check at this point (sorted) */
    double *close_qty;           /* per position */
    uint8_t *acct_liq, *acct_adl, *acct_dirty;
    uint32_t *acct_first;
    uint32_t *liq_accts, *adl_accts;  /* accounts flagged on this path, in flagging order */
    uint32_t *dirty_accts;       /* accounts whose margin state the path changed */
    size_t n_liq_accts, n_adl_accts, n_dirty;
    double *eq0;                 /* per account: equity at start prices */
    /* fast path */
    xm_recheck *watch;             /* NULL for the naive engine */
    double *x;                   /* 2n coordinates: -m_i (long side), m_i (short side) */
    double *dim_w;               /* 2n: a unit's exposure per (asset, side), zero between uses */
    size_t *dims;                /* 2n: the (asset, side) pairs a unit holds */
    double *beyond;              /* n: a unit's lowest mark putting a notional beyond the last
                                  * tier cap (model.md §3), INFINITY between uses */
    uint64_t checks;
    uint32_t floor_hits, beyond_events;  /* the path's numerical-rule counters (model.md §7) */
    /* The path's cascades, added to the caller's accumulator only when the path finishes. */
    uint64_t hist[XM_HIST_BINS], cascades;
    const volatile sig_atomic_t *stop;   /* optional: checked per step, round and settlement */
};

static void count_units(xm_cascade_ws *w)
{
    const xm_accounts *b = w->b;
    size_t n = 0;
    for (size_t a = 0; a < b->n_accounts; a++)
        n += b->mode[a] == XM_CROSS ? 1 : b->first[a + 1] - b->first[a];
    w->n_units = n;
}

static void list_units(xm_cascade_ws *w)
{
    const xm_accounts *b = w->b;
    size_t u = 0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        w->acct_unit[a] = (uint32_t)u;
        if (b->mode[a] == XM_CROSS) {
            w->unit_acc[u] = (uint32_t)a;
            w->unit_pos[u++] = XM_UNIT_ACCOUNT;
            continue;
        }
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            w->unit_acc[u] = (uint32_t)a;
            w->unit_pos[u++] = (long)j;
        }
    }
}

/* The unit holding position j. */
static uint32_t unit_of_position(const xm_cascade_ws *w, size_t j)
{
    size_t a = w->b->owner[j];
    if (w->b->mode[a] == XM_CROSS)
        return w->acct_unit[a];
    return w->acct_unit[a] + (uint32_t)(j - w->b->first[a]);
}

/* Impact coefficients (model.md §5.3.3): linear dI = 0.01 X / D; square root
 * dI = sign(X) Y sigma_day sqrt(|X| / V), sigma_day = sigma / sqrt(365)
 * (docs/venues.md c: Donier & Bonart 2015). Decay per step 2^(-dt/h). */
static void impact_constants(xm_cascade_ws *w)
{
    double dt_min = w->m->horizon_days * 1440.0 / w->m->steps;
    for (size_t i = 0; i < w->n; i++) {
        const xm_asset *a = &w->m->market.assets[i];
        const xm_impact *im = &a->impact;
        w->k_lin[i] = im->model == XM_IMPACT_LINEAR ? 0.01 / im->depth_1pct_usd : 0.0;
        w->k_sqrt[i] = im->model == XM_IMPACT_SQRT
                           ? im->y * a->vol / sqrt(365.0) / sqrt(im->daily_volume_usd)
                           : 0.0;
        w->decay[i] = isinf(im->half_life_minutes) ? 1.0 : exp2(-dt_min / im->half_life_minutes);
        /* any positive weights give exact results; volatility makes the shares of a
         * multi-asset unit run out at about the same time */
        w->vol[i] = a->vol > 0.0 && isfinite(a->vol) ? a->vol : 0.01;
    }
}

/* The index's band per dimension (recheck.h), in price units: most thresholds lie beyond it and
 * are never reached on a path. */
static void far_bands(xm_cascade_ws *w)
{
    double years = w->m->horizon_days / 365.0;
    for (size_t i = 0; i < w->n; i++) {
        const xm_asset *a = &w->m->market.assets[i];
        double f = XM_FAR_SIGMAS * w->vol[i] * sqrt(years);
        double band = (f > XM_FAR_MIN ? f : XM_FAR_MIN) * a->price;
        if (a->vol == 0.0 || !isfinite(band))
            band = INFINITY;
        xm_recheck_set_band(w->watch, 2 * i, band);
        xm_recheck_set_band(w->watch, 2 * i + 1, band);
    }
}

/* Equity of every account at marks (cross: W + sum q (m - e); isolated: sum M_j + q (m - e)). */
static double account_equity(const xm_margin_state *s, size_t a, const double *marks)
{
    const xm_accounts *b = s->book;
    double e = b->mode[a] == XM_CROSS ? s->wallet[a] : 0.0;
    for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
        if (b->mode[a] == XM_ISOLATED)
            e += s->margin[j];
        e += s->qty[j] * (marks[b->asset[j]] - b->entry[j]);
    }
    return e;
}

static void *xcalloc(size_t n, size_t size, int *bad)
{
    void *p = calloc(n ? n : 1, size);
    *bad |= p == NULL;
    return p;
}

static int alloc_arrays(xm_cascade_ws *w)
{
    size_t n = w->n, na = w->b->n_accounts, np = w->b->n_positions, nu = w->n_units;
    int bad = 0;
    w->decay = xcalloc(n, sizeof(double), &bad);
    w->k_lin = xcalloc(n, sizeof(double), &bad);
    w->k_sqrt = xcalloc(n, sizeof(double), &bad);
    w->imp = xcalloc(n, sizeof(double), &bad);
    w->marks = xcalloc(n, sizeof(double), &bad);
    w->exec = xcalloc(n, sizeof(double), &bad);
    w->flow = xcalloc(n, sizeof(double), &bad);
    w->d_imp = xcalloc(n, sizeof(double), &bad);
    w->vol = xcalloc(n, sizeof(double), &bad);
    w->min_ratio = xcalloc(n, sizeof(double), &bad);
    w->impact_at_min = xcalloc(n, sizeof(double), &bad);
    w->min_mark = xcalloc(n, sizeof(double), &bad);
    w->x = xcalloc(2 * n, sizeof(double), &bad);
    w->dim_w = xcalloc(2 * n, sizeof(double), &bad);
    w->dims = xcalloc(2 * n, sizeof(size_t), &bad);
    w->beyond = xcalloc(n, sizeof(double), &bad);
    for (size_t i = 0; w->beyond != NULL && i < n; i++)
        w->beyond[i] = INFINITY;
    w->unit_acc = xcalloc(nu, sizeof(uint32_t), &bad);
    w->unit_pos = xcalloc(nu, sizeof(long), &bad);
    w->acct_unit = xcalloc(na, sizeof(uint32_t), &bad);
    w->liq = xcalloc(nu, sizeof(uint32_t), &bad);
    w->check = xcalloc(nu, sizeof(uint32_t), &bad);
    w->close_qty = xcalloc(np, sizeof(double), &bad);
    w->acct_liq = xcalloc(na, 1, &bad);
    w->acct_adl = xcalloc(na, 1, &bad);
    w->acct_dirty = xcalloc(na, 1, &bad);
    w->acct_first = xcalloc(na, sizeof(uint32_t), &bad);
    w->liq_accts = xcalloc(na, sizeof(uint32_t), &bad);
    w->adl_accts = xcalloc(na, sizeof(uint32_t), &bad);
    w->dirty_accts = xcalloc(na, sizeof(uint32_t), &bad);
    w->eq0 = xcalloc(na, sizeof(double), &bad);
    return bad ? -1 : 0;
}

void xm_cascade_ws_free(xm_cascade_ws *w)
{
    if (w == NULL)
        return;
    xm_path_ws_free(w->path);
    xm_margin_state_free(w->ms);
    xm_recheck_free(w->watch);
    void *arrays[] = {w->decay, w->k_lin, w->k_sqrt, w->imp, w->marks, w->exec, w->flow,
                      w->d_imp, w->vol, w->min_ratio, w->impact_at_min, w->min_mark, w->x, w->dim_w,
                      w->dims, w->unit_acc, w->unit_pos,
                      w->acct_unit, w->liq, w->check, w->close_qty, w->acct_liq, w->acct_adl,
                      w->acct_dirty, w->acct_first, w->liq_accts, w->adl_accts,
                      w->dirty_accts, w->eq0, w->beyond};
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
        free(arrays[k]);
    free(w);
}

/* ---- fast path: thresholds -------------------------------------------------------------- */

/* The smaller of two numbers neither of which is NaN (fmin is a library call here). */
static inline double min2(double a, double b)
{
    return b < a ? b : a;
}

static void unit_range(const xm_cascade_ws *w, size_t u, size_t *lo, size_t *hi)
{
    size_t a = w->unit_acc[u];
    long pos = w->unit_pos[u];
    *lo = pos == XM_UNIT_ACCOUNT ? w->b->first[a] : (size_t)pos;
    *hi = pos == XM_UNIT_ACCOUNT ? w->b->first[a + 1] : (size_t)pos + 1;
}

/* The unit is due at the next point (setup: at every path's first point). */
static void due_next(xm_cascade_ws *w, uint32_t u, int setup)
{
    if (setup)
        xm_recheck_base_due(w->watch, u);
    else
        xm_recheck_due_next(w->watch, u);
}

/* Slope bound s of a short's MM while its mark stays below XM_SHORT_CAP times the mark now:
 * the mmr of the tier holding that notional (the last tier's beyond the caps). Tiers have
 * non-decreasing mmr (model.md §3), so no slope on the way is larger. */
static double short_slope(const xm_tier_table *t, double notional)
{
    long k = xm_tier_index_inl(t, XM_SHORT_CAP * notional);
    return t->tier[k < 0 ? (long)t->n - 1 : k].mmr;
}

/* Exposure per (asset, side) of unit u into dim_w / dims (module comment): long
 * L = q (1 - mmr_1), short |q| (1 + s); and per asset the lowest mark carrying one of its
 * notionals beyond the last tier cap (beyond[]). Returns the number of pairs and the unit's
 * scale |W or M| + sum |q| (m + e), or 0 pairs when a mark it holds is not positive and
 * finite (the bounds need m0 > 0). */
static size_t unit_exposure(xm_cascade_ws *w, uint32_t u, double *scale)
{
    const xm_accounts *b = w->b;
    const xm_margin_state *s = w->ms;
    size_t lo, hi, nd = 0;
    unit_range(w, u, &lo, &hi);
    long pos = w->unit_pos[u];
    double sc = fabs(pos == XM_UNIT_ACCOUNT ? s->wallet[w->unit_acc[u]] : s->margin[pos]);
    for (size_t j = lo; j < hi; j++) {
        double q = s->qty[j];
        if (q == 0.0)
            continue;
        size_t i = b->asset[j], d = 2 * i + (q < 0.0);
        double m = w->marks[i], notional = fabs(q) * m;
        if (!(m > 0.0 && isfinite(m))) {
            for (size_t k = 0; k < w->n; k++)
                w->beyond[k] = INFINITY;
            for (size_t k = 0; k < nd; k++)
                w->dim_w[w->dims[k]] = 0.0;
            return 0;
        }
        sc += notional + fabs(q) * b->entry[j];
        const xm_tier_table *t = &w->v->tiers[i];
        if (t->n > 0)
            w->beyond[i] = min2(w->beyond[i], t->tier[t->n - 1].cap_usd / fabs(q));
        if (w->dim_w[d] == 0.0)
            w->dims[nd++] = d;
        w->dim_w[d] += q > 0.0 ? q * (1.0 - t->tier[0].mmr)
                               : -q * (1.0 + short_slope(t, notional));
    }
    *scale = sc;
    return nd;
}

static void file_entry(xm_cascade_ws *w, uint32_t u, size_t d, double key, int setup)
{
    if (setup)
        xm_recheck_base_add(w->watch, d, key, u);
    else
        xm_recheck_file(w->watch, u, d, key);
}

/* A long exposure is watched for a falling mark only; but a rising mark can carry a long
 * notional beyond its asset's last tier cap, which makes the unit liquidatable (model.md §3).
 * For an asset where the unit is only long, file it on the rising side at that mark (an asset
 * where it is also short gets the same mark folded into its short key). */
static void file_beyond_longs(xm_cascade_ws *w, uint32_t u, size_t nd, int setup)
{
    for (size_t k = 0; k < nd; k++) {
        size_t d = w->dims[k], i = d / 2;
        if (d % 2 == 1 || w->dim_w[2 * i + 1] != 0.0 || w->beyond[i] == INFINITY)
            continue;
        file_entry(w, u, 2 * i + 1, w->beyond[i], setup);
        w->beyond[i] = INFINITY;
    }
}

/* File unit u, checked healthy (h) at the current marks, under one price threshold per
 * (asset, side) it holds (module comment; setup: as a base entry of every path). The share of
 * pair d is b_d = B' e_d m_d v_d / T (B' the buffer after the cut, T = sum e m v), so its price
 * distance b_d / e_d = m_d v_d (B' / T): one division per unit instead of two per pair (the
 * rounding differs by a few ulp, far inside XM_SHARE_CUT). */
static void watch_unit(xm_cascade_ws *w, uint32_t u, xm_health h, int setup)
{
    if (!h.open)
        return;   /* nothing open: never liquidatable until its state changes */
    double scale = 0.0, total = 0.0;
    size_t nd = unit_exposure(w, u, &scale);
    double buffer = h.equity - h.mm - XM_GUARD_REL * scale;
    if (nd == 0 || !(buffer > 0.0)) {
        for (size_t k = 0; k < nd; k++) {
            w->dim_w[w->dims[k]] = 0.0;
            w->beyond[w->dims[k] / 2] = INFINITY;
        }
        due_next(w, u, setup);
        return;
    }
    file_beyond_longs(w, u, nd, setup);
    for (size_t k = 0; k < nd; k++) {
        size_t d = w->dims[k];
        total += w->dim_w[d] * w->marks[d / 2] * w->vol[d / 2];
    }
    double per = buffer * (1.0 - XM_SHARE_CUT) / total;
    for (size_t k = 0; k < nd; k++) {
        size_t d = w->dims[k], i = d / 2;
        double m = w->marks[i], dist = m * w->vol[i] * per, key;
        /* long: due when m <= m0 - b/L, i.e. -m >= key; short: due when m >= key */
        if (isnan(dist))
            key = -INFINITY;   /* no usable bound (overflow): due at the next point */
        else if (d % 2 == 0)
            key = -(m - dist);
        else   /* a rising mark can also carry a notional beyond the last cap */
            key = min2(min2(m + dist, XM_SHORT_CAP * m), w->beyond[i]);
        if (d % 2 == 1)
            w->beyond[i] = INFINITY;
        file_entry(w, u, d, key, setup);
        w->dim_w[d] = 0.0;
    }
}

/* Base filing at S0 (path-independent): health at the start prices with the book as loaded;
 * also every account's equity there. */
static int file_initial(xm_cascade_ws *w)
{
    for (size_t i = 0; i < w->n; i++)
        w->marks[i] = w->m->market.assets[i].price;
    for (size_t a = 0; a < w->b->n_accounts; a++)
        w->eq0[a] = account_equity(w->ms, a, w->marks);
    if (w->naive)
        return 0;
    for (size_t u = 0; u < w->n_units; u++) {
        xm_health h = xm_margin_health(w->ms, w->unit_acc[u], w->unit_pos[u], w->marks);
        if (xm_health_liquidatable(h))
            due_next(w, (uint32_t)u, 1);
        else
            watch_unit(w, (uint32_t)u, h, 1);
    }
    return xm_recheck_base_seal(w->watch);
}

xm_cascade_ws *xm_cascade_ws_alloc(const xm_model *m, int naive, xm_error *err)
{
    if (m->book == NULL) {
        xm_error_set(err, XM_EUSAGE, "run: the model has no accounts");
        return NULL;
    }
    xm_cascade_ws *w = calloc(1, sizeof *w);
    if (w == NULL) {
        xm_error_set(err, XM_ENOMEM, "run: out of memory for a cascade workspace");
        return NULL;
    }
    w->m = m;
    w->b = m->book;
    w->v = &m->venue;
    w->n = m->market.n;
    w->naive = naive;
    count_units(w);
    w->path = xm_path_ws_alloc(&m->market, xm_model_tau(m), err);
    w->ms = w->path ? xm_margin_state_alloc(w->b, w->v, err) : NULL;
    if (w->ms != NULL && !naive)
        w->watch = xm_recheck_alloc(w->n_units, 2 * w->n, err);
    if (w->ms == NULL || (!naive && w->watch == NULL) || alloc_arrays(w) != 0) {
        size_t units = w->n_units;
        xm_cascade_ws_free(w);
        xm_error_set(err, XM_ENOMEM, "run: out of memory for a cascade workspace (%zu units)",
                     units);
        return NULL;
    }
    list_units(w);
    impact_constants(w);
    if (!naive)
        far_bands(w);
    if (file_initial(w) != 0) {
        size_t units = w->n_units;
        xm_cascade_ws_free(w);
        xm_error_set(err, XM_ENOMEM, "run: out of memory for the index of %zu units", units);
        return NULL;
    }
    return w;
}

void xm_cascade_ws_set_stop(xm_cascade_ws *w, const volatile sig_atomic_t *stop)
{
    w->stop = stop;
}

static int stop_raised(const xm_cascade_ws *w)
{
    return w->stop != NULL && *w->stop;
}

uint64_t xm_cascade_checks(const xm_cascade_ws *w)
{
    return w->checks;
}

/* Numerical rule (model.md §7): a mark at or below XM_PRICE_FLOOR_REL x S0 (bachelier can
 * drive a price to zero or below; a NaN is not expected but is caught too) is raised to that
 * floor, one above XM_PRICE_CEIL_REL x S0 (or infinite) lowered to that ceiling, and counted. */
static void floor_marks(xm_cascade_ws *w)
{
    for (size_t i = 0; i < w->n; i++) {
        double lo = XM_PRICE_FLOOR_REL * w->m->market.assets[i].price;
        double hi = XM_PRICE_CEIL_REL * w->m->market.assets[i].price;
        if (!(w->marks[i] > lo)) {
            w->marks[i] = lo;
            w->floor_hits++;
        } else if (w->marks[i] > hi) {
            w->marks[i] = hi;
            w->floor_hits++;
        }
    }
}

/* ---- evaluation points ------------------------------------------------------------------ */

/* The units to check now into w->check, in unit order. Naive: every unit. Fast: the due
 * ones (an index that failed to allocate switches the workspace to naive: same results). */
static size_t units_to_check(xm_cascade_ws *w)
{
    if (!w->naive && w->watch->failed)
        w->naive = 1;
    if (w->naive) {
        for (size_t u = 0; u < w->n_units; u++)
            w->check[u] = (uint32_t)u;
        return w->n_units;
    }
    for (size_t i = 0; i < w->n; i++) {
        double m = w->marks[i];
        int ok = isfinite(m);   /* a mark that is not finite: every unit holding it is due */
        w->x[2 * i] = ok ? -m : INFINITY;
        w->x[2 * i + 1] = ok ? m : INFINITY;
    }
    if (!xm_recheck_any_due(w->watch, w->x))
        return 0;
    return xm_recheck_collect(w->watch, w->x, w->check);
}

/* The liquidatable units at the current marks, in unit (= account) order, into w->liq. The
 * liquidatable are due at the next point (their state is about to change); the healthy are
 * filed under their thresholds. */
static size_t find_liquidatable(xm_cascade_ws *w)
{
    size_t nc = units_to_check(w), nl = 0;
    for (size_t k = 0; k < nc; k++) {
        uint32_t u = w->check[k];
        xm_health h = xm_margin_health(w->ms, w->unit_acc[u], w->unit_pos[u], w->marks);
        w->checks++;
        if (xm_health_liquidatable(h)) {
            w->beyond_events += !(h.equity <= h.mm);   /* only the last-tier rule */
            w->liq[nl++] = u;
            if (!w->naive)
                due_next(w, u, 0);
        } else if (!w->naive) {
            watch_unit(w, u, h, 0);
        }
    }
    return nl;
}

/* ---- one path -------------------------------------------------------------------------- */

/* Back to the book as loaded: only the accounts the last path changed, and the per-path
 * flags it set. */
static void reset_path(xm_cascade_ws *w, uint64_t seed, uint64_t path)
{
    xm_path_begin(w->path, seed, path);
    for (size_t k = 0; k < w->n_dirty; k++) {
        xm_margin_state_restore(w->ms, w->dirty_accts[k]);
        w->acct_dirty[w->dirty_accts[k]] = 0;
    }
    xm_margin_state_reset_ledger(w->ms);
    for (size_t i = 0; i < w->n; i++) {
        w->imp[i] = 0.0;
        w->marks[i] = w->m->market.assets[i].price;
    }
    for (size_t k = 0; k < w->n_liq_accts; k++) {
        w->acct_liq[w->liq_accts[k]] = 0;
        w->acct_first[w->liq_accts[k]] = 0;
    }
    for (size_t k = 0; k < w->n_adl_accts; k++)
        w->acct_adl[w->adl_accts[k]] = 0;
    w->n_liq_accts = w->n_adl_accts = w->n_dirty = 0;
    w->checks = 0;
    memset(w->hist, 0, sizeof w->hist);
    w->cascades = 0;
    if (!w->naive)
        xm_recheck_begin(w->watch);
}

/* A mark at or above the one that gave the lowest ratio cannot give a lower one (rounded
 * division is monotone), so the division is skipped there. */
static void track_min(xm_cascade_ws *w, double *min_ratio, double *impact_at_min)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->marks[i] >= w->min_mark[i])
            continue;
        double r = w->marks[i] / w->m->market.assets[i].price;
        if (r < min_ratio[i]) {
            min_ratio[i] = r;
            impact_at_min[i] = w->imp[i];
            w->min_mark[i] = w->marks[i];
        }
    }
}

/* exp(x), skipping the call where x is 0 (no impact yet, no flow): exp(0) = 1 exactly. */
static inline double exp_or_one(double x)
{
    return x == 0.0 ? 1.0 : exp(x);
}

/* Net base flow per asset of the round's orders, its impact and execution prices
 * (model.md §5.3.2-4): X = Q m, dI linear or square-root, p = m exp(dI / 2). */
static void round_orders(xm_cascade_ws *w, size_t nl)
{
    memset(w->flow, 0, w->n * sizeof *w->flow);
    for (size_t k = 0; k < nl; k++) {
        uint32_t u = w->liq[k];
        size_t lo, hi;
        xm_liq_plan(w->ms, w->unit_acc[u], w->unit_pos[u], w->marks, w->close_qty);
        unit_range(w, u, &lo, &hi);
        for (size_t j = lo; j < hi; j++)
            w->flow[w->b->asset[j]] += w->close_qty[j];
    }
    for (size_t i = 0; i < w->n; i++) {
        double x = w->flow[i] * w->marks[i];
        double d = w->k_lin[i] * x;
        if (w->k_sqrt[i] > 0.0)
            d = (x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0) * w->k_sqrt[i] * sqrt(fabs(x));
        w->d_imp[i] = d;
        w->exec[i] = fmin(w->marks[i] * exp_or_one(0.5 * d),
                          XM_PRICE_CEIL_REL * w->m->market.assets[i].price);
    }
}

/* The path changed account a's margin state: restore it before the next path. */
static void note_dirty(xm_cascade_ws *w, size_t a)
{
    if (w->acct_dirty[a])
        return;
    w->acct_dirty[a] = 1;
    w->dirty_accts[w->n_dirty++] = (uint32_t)a;
}

/* The ADL fills of the last settlement (the margin state's log, margin.h): their units are
 * due at the next point (ADL changed them), their accounts are restored after the path, and an
 * account whose quantity changed counts as hit by ADL (all but `account`, the bankrupt). */
static void note_adl(xm_cascade_ws *w, size_t account)
{
    const xm_margin_state *s = w->ms;
    for (size_t k = 0; k < s->n_adl; k++) {
        uint32_t j = s->adl_pos[k], a = w->b->owner[j];
        note_dirty(w, a);
        if (!w->naive)
            due_next(w, unit_of_position(w, j), 0);
        if (s->qty[j] == s->adl_qty_before[k] || a == account || w->acct_adl[a])
            continue;
        w->acct_adl[a] = 1;
        w->adl_accts[w->n_adl_accts++] = a;
    }
}

static void note_liquidated(xm_cascade_ws *w, size_t a, uint32_t step)
{
    if (w->acct_liq[a])
        return;
    w->acct_liq[a] = 1;
    w->acct_first[a] = step;
    w->liq_accts[w->n_liq_accts++] = (uint32_t)a;
}

/* Settle the round in unit order (model.md §5.3.5), then re-mark (§5.3.6). A stop is checked
 * before each settlement (one can take long: ADL over the whole book); 1 when stopped, the
 * round then left half done (the path is dropped). */
static int settle_round(xm_cascade_ws *w, size_t nl, uint32_t step, xm_path_metrics *pm,
                        double *min_ratio, double *impact_at_min)
{
    for (size_t k = 0; k < nl; k++) {
        if (stop_raised(w))
            return 1;
        uint32_t u = w->liq[k];
        size_t a = w->unit_acc[u];
        uint64_t fills = w->ms->ledger.adl_fills, events = w->ms->ledger.events;
        xm_liq_result res;
        xm_liq_settle(w->ms, a, w->unit_pos[u], w->close_qty, w->exec, w->marks, &res);
        note_dirty(w, a);
        /* A unit with nothing open stays so (positions never reopen, ADL only fills open
         * ones): never liquidatable again on this path, so it leaves the next point's list. */
        if (!w->naive && res.closed_all)
            xm_recheck_forget(w->watch, u);
        if (w->ms->ledger.events > events) {
            note_liquidated(w, a, step);
            if (pm->first_liq_step == 0)
                pm->first_liq_step = step;
        }
        if (w->ms->ledger.adl_fills > fills)
            note_adl(w, a);
    }
    for (size_t i = 0; i < w->n; i++) {
        w->imp[i] += w->d_imp[i];
        w->marks[i] *= exp_or_one(w->d_imp[i]);
    }
    floor_marks(w);
    track_min(w, min_ratio, impact_at_min);
    return 0;
}

/* The step's cascade into the path's histogram (finish_path adds it to the accumulator). */
static void record_cascade(xm_cascade_ws *w, double usd)
{
    int k = usd >= 1.0 ? (int)floor(log10(usd) * XM_HIST_PER_DECADE) : 0;
    k = k < 0 ? 0 : k >= XM_HIST_BINS ? XM_HIST_BINS - 1 : k;
    w->hist[k]++;
    w->cascades++;
}

/* One step: exogenous move, impact decay, cascade rounds (model.md §5). A stop is checked
 * before every round (and settlement): 1 when stopped, the step left unfinished. */
static int run_step(xm_cascade_ws *w, uint32_t step, xm_path_metrics *pm, double *min_ratio,
                    double *impact_at_min)
{
    xm_path_step(w->path);
    const double *s = xm_path_prices(w->path);
    for (size_t i = 0; i < w->n; i++) {
        w->imp[i] *= w->decay[i];
        w->marks[i] = s[i] * exp_or_one(w->imp[i]);
    }
    floor_marks(w);
    track_min(w, min_ratio, impact_at_min);
    double before = w->ms->ledger.liquidated_notional;
    uint32_t rounds = 0, max_rounds = w->v->max_rounds;
    size_t nl = 0;
    while (rounds < max_rounds && !stop_raised(w) && (nl = find_liquidatable(w)) > 0) {
        round_orders(w, nl);
        if (settle_round(w, nl, step, pm, min_ratio, impact_at_min) != 0)
            return 1;
        rounds++;
    }
    if (stop_raised(w))
        return 1;
    if (rounds == max_rounds && find_liquidatable(w) > 0)
        pm->max_rounds_hits++;
    double usd = w->ms->ledger.liquidated_notional - before;
    if (usd > 0.0) {
        record_cascade(w, usd);
        pm->largest_cascade_usd = fmax(pm->largest_cascade_usd, usd);
    }
    if (rounds > pm->cascade_rounds_max)
        pm->cascade_rounds_max = rounds;
    return 0;
}

/* Per-account sums of the path: liquidated accounts, first steps, losses (cascade.h). */
static void finish_path(xm_cascade_ws *w, xm_path_metrics *pm, xm_cascade_acc *acc)
{
    const xm_ledger *l = &w->ms->ledger;
    pm->liq_events = l->events;
    pm->accounts_liquidated = w->n_liq_accts;
    pm->liquidated_notional = l->liquidated_notional;
    pm->bad_debt_usd = l->deficits;
    pm->fund_paid_usd = l->fund_paid;
    pm->fund_min_usd = l->fund_min;
    pm->adl_notional_usd = l->adl_notional;
    pm->adl_accounts = w->n_adl_accts;
    pm->socialized_usd = l->socialized;
    pm->price_floor_hits = w->floor_hits;
    pm->beyond_tier_events = w->beyond_events;
    for (int k = 0; k < XM_HIST_BINS; k++)
        acc->cascade_hist[k] += w->hist[k];
    acc->cascades += w->cascades;
    for (size_t k = 0; k < w->n_liq_accts; k++) {
        uint32_t a = w->liq_accts[k];
        double loss = fmin(fmax(w->eq0[a] - account_equity(w->ms, a, w->marks),
                                -XM_LOSS_MAX_USD), XM_LOSS_MAX_USD);
        acc->liq_paths[a]++;
        acc->first_step_sum[a] += w->acct_first[a];
        acc->loss_micro[a] += (__int128)round(loss * 1e6);  /* exact up to 2^53 micro-USD */
    }
}

/* The path runs on the workspace's own copies of its outputs, written out once at the end:
 * the caller's slots of neighbouring paths share cache lines, and the per-step updates would
 * bounce them between threads (false sharing). That also lets a stopped path leave no trace. */
xm_status xm_cascade_run_path(xm_cascade_ws *w, uint64_t seed, uint64_t path, xm_path_metrics *pm,
                         double *min_ratio, double *impact_at_min, xm_cascade_acc *acc)
{
    xm_path_metrics local;
    memset(&local, 0, sizeof local);   /* padding too: callers compare metrics bytewise */
    for (size_t i = 0; i < w->n; i++) {
        w->min_ratio[i] = w->min_mark[i] = INFINITY;
        w->impact_at_min[i] = 0.0;
    }
    reset_path(w, seed, path);
    w->floor_hits = w->beyond_events = 0;
    for (uint32_t t = 1; t <= w->m->steps; t++)
        if (stop_raised(w) || run_step(w, t, &local, w->min_ratio, w->impact_at_min) != 0)
            return XM_EINTR;
    finish_path(w, &local, acc);
    memcpy(pm, &local, sizeof local);
    memcpy(min_ratio, w->min_ratio, w->n * sizeof *min_ratio);
    memcpy(impact_at_min, w->impact_at_min, w->n * sizeof *impact_at_min);
    return XM_OK;
}
