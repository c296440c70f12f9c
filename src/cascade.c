/* cascade.c — one path of the whole population with price impact and liquidation cascades
 * (see xmrisk/cascade.h; semantics docs/model.md §5-§6, docs/margin.md).
 *
 * Fast path (docs/cascade.md). Checking every unit in every round is the naive cost. A unit
 * checked at log-marks L0 with buffer B = E - MM > 0 and gross notional G = sum |q| m stays
 * safe while every mark moves by at most l in log terms, where
 *     G (1 + mmr_max) (e^l - 1) < B,   i.e.   l_u = log1p(B / (G (1 + mmr_max))):
 * equity is linear in the marks (|dE| <= G (e^l - 1)) and each tier's MM(N) is continuous and
 * piecewise linear with slope mmr_k <= mmr_max (model.md §3). So each unit is filed under the
 * evaluation point (step, round) where it was last checked, sorted by l_u; at a later point,
 * with dev_s = max_i |L_i - L_i(s)| for every point s still holding units, exactly the units
 * with l_u <= dev_s are checked again. Units whose state changed (liquidated, hit by ADL) are
 * filed with l = -1 and checked at the next point. The set of liquidatable units found at
 * every point is therefore the naive one, and so is everything downstream (tested).
 */
#include "xmrisk/cascade.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/margin.h"
#include "xmrisk/paths.h"

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

typedef struct {
    double l;      /* log-move tolerance l_u (-1: check at the next point) */
    uint32_t u;    /* unit */
} filed_unit;

typedef struct {
    size_t start, head, end;  /* its units: pool[head .. end) still filed, sorted by l */
    size_t snap;              /* row of its log-marks in snaps */
} bucket;

struct xm_cascade_ws {
    const xm_model *m;
    const xm_book *b;
    const xm_venue *v;
    size_t n;                    /* assets */
    int naive;
    xm_path_ws *path;
    xm_margin_state *ms;
    /* per asset */
    double *decay;               /* 2^(-dt/h) per step */
    double *k_lin, *k_sqrt;      /* dI = k_lin X, or sign(X) k_sqrt sqrt|X| */
    double *imp, *marks, *exec, *flow, *d_imp, *logm;
    /* units: cross accounts and isolated positions, in account order */
    size_t n_units;
    uint32_t *unit_acc;
    long *unit_pos;
    uint32_t *liq;               /* liquidatable units of the round (sorted) */
    uint8_t *pending;            /* per unit: popped for checking at this point */
    double *close_qty;           /* per position */
    double *qty_seen;            /* per position: quantities as last seen (ADL detection) */
    uint8_t *acct_liq, *acct_adl;
    uint32_t *acct_first;
    uint32_t *liq_accts, *adl_accts;  /* accounts flagged on this path, in flagging order */
    size_t n_liq_accts, n_adl_accts;
    double *eq0;                 /* per account: equity at start prices */
    double mmr_max;
    /* fast path: pool of filed units, buckets, log-mark snapshots (grown, kept across paths) */
    filed_unit *pool, *init;     /* init: the units filed at S0, path-independent */
    size_t pool_len, pool_cap;
    bucket *buckets;
    size_t n_buckets, buckets_cap;
    double *snaps;               /* rows of log-marks, one per bucket ever opened on the path */
    size_t snaps_len, snaps_cap;
    uint32_t *check;             /* units to check at this point */
    uint64_t checks;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

static void count_units(xm_cascade_ws *w)
{
    const xm_book *b = w->b;
    size_t n = 0;
    for (size_t a = 0; a < b->n_accounts; a++)
        n += b->mode[a] == XM_CROSS ? 1 : b->first[a + 1] - b->first[a];
    w->n_units = n;
}

static void list_units(xm_cascade_ws *w)
{
    const xm_book *b = w->b;
    size_t u = 0;
    for (size_t a = 0; a < b->n_accounts; a++) {
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

/* Impact coefficients (model.md §5.3.3): linear dI = 0.01 X / D; square root
 * dI = sign(X) Y sigma_day sqrt(|X| / V), sigma_day = sigma / sqrt(365)
 * (exchange-mechanics.md c: Donier & Bonart 2015). Decay per step 2^(-dt/h). */
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
    }
}

static double max_mmr(const xm_venue *v)
{
    double mx = 0.0;
    for (size_t i = 0; i < v->n_assets; i++)
        for (size_t k = 0; k < v->tiers[i].n; k++)
            mx = fmax(mx, v->tiers[i].tier[k].mmr);
    return mx;
}

/* Equity of every account at marks (cross: W + sum q (m - e); isolated: sum M_j + q (m - e)). */
static double account_equity(const xm_margin_state *s, size_t a, const double *marks)
{
    const xm_book *b = s->book;
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
    w->logm = xcalloc(n, sizeof(double), &bad);
    w->unit_acc = xcalloc(nu, sizeof(uint32_t), &bad);
    w->unit_pos = xcalloc(nu, sizeof(long), &bad);
    w->liq = xcalloc(nu, sizeof(uint32_t), &bad);
    w->pending = xcalloc(nu, 1, &bad);
    w->check = xcalloc(nu, sizeof(uint32_t), &bad);
    w->init = xcalloc(nu, sizeof(filed_unit), &bad);
    w->close_qty = xcalloc(np, sizeof(double), &bad);
    w->qty_seen = xcalloc(np, sizeof(double), &bad);
    w->acct_liq = xcalloc(na, 1, &bad);
    w->acct_adl = xcalloc(na, 1, &bad);
    w->acct_first = xcalloc(na, sizeof(uint32_t), &bad);
    w->liq_accts = xcalloc(na, sizeof(uint32_t), &bad);
    w->adl_accts = xcalloc(na, sizeof(uint32_t), &bad);
    w->eq0 = xcalloc(na, sizeof(double), &bad);
    return bad ? -1 : 0;
}

void xm_cascade_ws_free(xm_cascade_ws *w)
{
    if (w == NULL)
        return;
    xm_path_ws_free(w->path);
    xm_margin_state_free(w->ms);
    void *arrays[] = {w->decay, w->k_lin, w->k_sqrt, w->imp, w->marks, w->exec, w->flow,
                      w->d_imp, w->logm, w->unit_acc, w->unit_pos, w->liq, w->pending,
                      w->check, w->init, w->close_qty, w->qty_seen, w->acct_liq, w->acct_adl,
                      w->acct_first, w->liq_accts, w->adl_accts, w->eq0, w->pool, w->buckets,
                      w->snaps};
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
        free(arrays[k]);
    free(w);
}

/* l_u of a unit checked healthy (module comment); +inf when nothing is open. The buffer is
 * shrunk by 1e-9 G so that rounding in E and MM can never hide a crossing. */
static double tolerance(const xm_cascade_ws *w, size_t u, xm_health h)
{
    const xm_book *b = w->b;
    if (!h.open)
        return INFINITY;
    double g = 0.0;
    size_t a = w->unit_acc[u];
    long pos = w->unit_pos[u];
    size_t lo = pos == XM_UNIT_ACCOUNT ? b->first[a] : (size_t)pos;
    size_t hi = pos == XM_UNIT_ACCOUNT ? b->first[a + 1] : (size_t)pos + 1;
    for (size_t j = lo; j < hi; j++)
        g += fabs(w->ms->qty[j]) * w->marks[b->asset[j]];
    double buf = h.equity - h.mm - 1e-9 * g;
    if (!(buf > 0.0) || !(g > 0.0))
        return -1.0;
    /* x / (1 + x) <= log1p(x): a slightly smaller, cheaper tolerance (still exact results). */
    double x = buf / (g * (1.0 + w->mmr_max));
    return x / (1.0 + x);
}

/* Sort filed units by tolerance, ascending (quicksort, median of three, insertion sort for
 * short runs). Only the set of units with l <= dev is ever used, so the order of equal keys
 * does not matter. */
static void insertion_sort(filed_unit *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        filed_unit x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1].l > x.l; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

static void swap_filed(filed_unit *a, filed_unit *b)
{
    filed_unit t = *a;
    *a = *b;
    *b = t;
}

static void sort_filed(filed_unit *a, size_t n)
{
    while (n > 16) {
        filed_unit *m = a + n / 2, *z = a + n - 1;
        if (m->l < a->l) swap_filed(m, a);
        if (z->l < a->l) swap_filed(z, a);
        if (z->l < m->l) swap_filed(z, m);
        double pivot = m->l;
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i].l < pivot) i++;
            while (a[j].l > pivot) j--;
            if (i >= j) break;
            swap_filed(&a[i++], &a[j--]);
        }
        /* recurse into the smaller part, loop on the larger */
        size_t left = j + 1;
        if (left < n - left) {
            sort_filed(a, left);
            a += left;
            n -= left;
        } else {
            sort_filed(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

/* Units filed at S0 (path-independent): health at the start prices with the book as loaded. */
static void file_initial(xm_cascade_ws *w)
{
    for (size_t i = 0; i < w->n; i++)
        w->marks[i] = w->m->market.assets[i].price;
    for (size_t u = 0; u < w->n_units; u++) {
        xm_health h = xm_margin_health(w->ms, w->unit_acc[u], w->unit_pos[u], w->marks);
        w->init[u] = (filed_unit){tolerance(w, u, h), (uint32_t)u};
    }
    sort_filed(w->init, w->n_units);
    for (size_t a = 0; a < w->b->n_accounts; a++)
        w->eq0[a] = account_equity(w->ms, a, w->marks);
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
    if (w->ms == NULL || alloc_arrays(w) != 0) {
        size_t units = w->n_units;
        xm_cascade_ws_free(w);
        xm_error_set(err, XM_ENOMEM, "run: out of memory for a cascade workspace (%zu units)",
                     units);
        return NULL;
    }
    list_units(w);
    impact_constants(w);
    w->mmr_max = max_mmr(w->v);
    file_initial(w);
    return w;
}

uint64_t xm_cascade_checks(const xm_cascade_ws *w)
{
    return w->checks;
}

/* ---- fast path: filed units ------------------------------------------------------------ */

static void unit_range(const xm_cascade_ws *w, size_t u, size_t *lo, size_t *hi)
{
    size_t a = w->unit_acc[u];
    long pos = w->unit_pos[u];
    *lo = pos == XM_UNIT_ACCOUNT ? w->b->first[a] : (size_t)pos;
    *hi = pos == XM_UNIT_ACCOUNT ? w->b->first[a + 1] : (size_t)pos + 1;
}

/* A new bucket for the current evaluation point, holding the current log-marks. On
 * allocation failure the workspace falls back to the naive engine (same results). */
static void open_bucket(xm_cascade_ws *w)
{
    size_t nb = w->n_buckets, row = w->snaps_len;
    if (grow((void **)&w->buckets, &w->buckets_cap, nb + 1, sizeof *w->buckets) ||
        grow((void **)&w->snaps, &w->snaps_cap, (row + 1) * w->n, sizeof *w->snaps)) {
        w->naive = 1;
        return;
    }
    memcpy(w->snaps + row * w->n, w->logm, w->n * sizeof *w->snaps);
    w->buckets[nb] = (bucket){w->pool_len, w->pool_len, w->pool_len, row};
    w->n_buckets = nb + 1;
    w->snaps_len = row + 1;
}

static void file_unit(xm_cascade_ws *w, double l, uint32_t u)
{
    if (w->naive)
        return;
    if (grow((void **)&w->pool, &w->pool_cap, w->pool_len + 1, sizeof *w->pool)) {
        w->naive = 1;
        return;
    }
    w->pool[w->pool_len++] = (filed_unit){l, u};
    w->buckets[w->n_buckets - 1].end = w->pool_len;
}

static void seal_bucket(xm_cascade_ws *w)
{
    if (w->naive || w->n_buckets == 0)
        return;
    bucket *bk = &w->buckets[w->n_buckets - 1];
    sort_filed(w->pool + bk->head, bk->end - bk->head);
}

/* Units whose tolerance the marks have used up since they were filed; empty buckets go. */
static size_t due_units(xm_cascade_ws *w)
{
    size_t nc = 0, keep = 0;
    for (size_t k = 0; k < w->n_buckets; k++) {
        bucket bk = w->buckets[k];
        const double *snap = w->snaps + bk.snap * w->n;
        double dev = 0.0;
        for (size_t i = 0; i < w->n; i++) {
            double d = fabs(w->logm[i] - snap[i]);
            if (isnan(d)) {  /* a non-positive price (bachelier): check everything */
                dev = INFINITY;
                break;
            }
            dev = fmax(dev, d);
        }
        while (bk.head < bk.end && w->pool[bk.head].l <= dev)
            w->check[nc++] = w->pool[bk.head++].u;
        if (bk.head < bk.end)
            w->buckets[keep++] = bk;
    }
    w->n_buckets = keep;
    return nc;
}

/* Every unit due at the next point (after ADL changed other units' positions). */
static void refile_all(xm_cascade_ws *w)
{
    if (w->naive)
        return;
    for (size_t k = 0; k + 1 < w->n_buckets; k++)
        w->buckets[k].head = w->buckets[k].end;
    bucket *cur = &w->buckets[w->n_buckets - 1];
    cur->head = cur->end;
    for (size_t u = 0; u < w->n_units; u++)
        file_unit(w, -1.0, (uint32_t)u);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The liquidatable units at the current marks, in unit (= account) order, into w->liq.
 * Naive: every unit. Fast: the due ones; the healthy are filed with their tolerance, the
 * liquidatable with -1 (their state is about to change). */
static size_t find_liquidatable(xm_cascade_ws *w)
{
    for (size_t i = 0; i < w->n; i++)
        w->logm[i] = log(w->marks[i]);
    size_t nc;
    if (w->naive) {
        nc = w->n_units;
        for (size_t u = 0; u < nc; u++)
            w->check[u] = (uint32_t)u;
    } else {
        nc = due_units(w);
        open_bucket(w);
    }
    size_t nl = 0;
    for (size_t k = 0; k < nc; k++) {
        uint32_t u = w->check[k];
        xm_health h = xm_margin_health(w->ms, w->unit_acc[u], w->unit_pos[u], w->marks);
        w->checks++;
        if (xm_health_liquidatable(h)) {
            w->liq[nl++] = u;
            file_unit(w, -1.0, u);
        } else {
            file_unit(w, tolerance(w, u, h), u);
        }
    }
    seal_bucket(w);
    if (!w->naive)
        qsort(w->liq, nl, sizeof *w->liq, cmp_u32);
    return nl;
}

/* ---- one path -------------------------------------------------------------------------- */

static void reset_path(xm_cascade_ws *w, uint64_t seed, uint64_t path)
{
    xm_path_begin(w->path, seed, path);
    xm_margin_state_reset(w->ms);
    for (size_t i = 0; i < w->n; i++) {
        w->imp[i] = 0.0;
        w->marks[i] = w->m->market.assets[i].price;
        w->logm[i] = log(w->marks[i]);
    }
    for (size_t k = 0; k < w->n_liq_accts; k++) {
        w->acct_liq[w->liq_accts[k]] = 0;
        w->acct_first[w->liq_accts[k]] = 0;
    }
    for (size_t k = 0; k < w->n_adl_accts; k++)
        w->acct_adl[w->adl_accts[k]] = 0;
    w->n_liq_accts = w->n_adl_accts = 0;
    if (w->b->n_positions)
        memcpy(w->qty_seen, w->b->qty, w->b->n_positions * sizeof *w->qty_seen);
    w->checks = 0;
    w->n_buckets = 0;
    w->snaps_len = 0;
    w->pool_len = 0;
    if (w->naive)
        return;
    open_bucket(w);
    for (size_t u = 0; u < w->n_units; u++)
        file_unit(w, w->init[u].l, w->init[u].u);  /* already sorted */
}

static void track_min(xm_cascade_ws *w, double *min_ratio, double *impact_at_min)
{
    for (size_t i = 0; i < w->n; i++) {
        double r = w->marks[i] / w->m->market.assets[i].price;
        if (r < min_ratio[i]) {
            min_ratio[i] = r;
            impact_at_min[i] = w->imp[i];
        }
    }
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
        w->exec[i] = w->marks[i] * exp(0.5 * d);
    }
}

/* Accounts whose positions ADL changed during the last settlement (all but `account`). */
static void note_adl(xm_cascade_ws *w, size_t account)
{
    const xm_book *b = w->b;
    for (size_t j = 0; j < b->n_positions; j++) {
        if (w->ms->qty[j] == w->qty_seen[j])
            continue;
        uint32_t a = b->owner[j];
        w->qty_seen[j] = w->ms->qty[j];
        if (a == account || w->acct_adl[a])
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

/* Settle the round in unit order (model.md §5.3.5), then re-mark (§5.3.6). */
static void settle_round(xm_cascade_ws *w, size_t nl, uint32_t step, xm_path_metrics *pm,
                         double *min_ratio, double *impact_at_min)
{
    int adl = 0;
    for (size_t k = 0; k < nl; k++) {
        uint32_t u = w->liq[k];
        size_t a = w->unit_acc[u], lo, hi;
        uint64_t fills = w->ms->ledger.adl_fills, events = w->ms->ledger.events;
        xm_liq_settle(w->ms, a, w->unit_pos[u], w->close_qty, w->exec, w->marks, NULL);
        unit_range(w, u, &lo, &hi);
        for (size_t j = lo; j < hi; j++)
            w->qty_seen[j] = w->ms->qty[j];
        if (w->ms->ledger.events > events) {
            note_liquidated(w, a, step);
            if (pm->first_liq_step == 0)
                pm->first_liq_step = step;
        }
        if (w->ms->ledger.adl_fills > fills) {
            note_adl(w, a);
            adl = 1;
        }
    }
    if (adl)
        refile_all(w);
    for (size_t i = 0; i < w->n; i++) {
        w->imp[i] += w->d_imp[i];
        w->marks[i] *= exp(w->d_imp[i]);
    }
    track_min(w, min_ratio, impact_at_min);
}

static void record_cascade(xm_cascade_acc *acc, double usd)
{
    int k = usd >= 1.0 ? (int)floor(log10(usd) * XM_HIST_PER_DECADE) : 0;
    k = k < 0 ? 0 : k >= XM_HIST_BINS ? XM_HIST_BINS - 1 : k;
    acc->cascade_hist[k]++;
    acc->cascades++;
}

/* One step: exogenous move, impact decay, cascade rounds (model.md §5). */
static void run_step(xm_cascade_ws *w, uint32_t step, xm_path_metrics *pm, double *min_ratio,
                     double *impact_at_min, xm_cascade_acc *acc)
{
    xm_path_step(w->path);
    const double *s = xm_path_prices(w->path);
    for (size_t i = 0; i < w->n; i++) {
        w->imp[i] *= w->decay[i];
        w->marks[i] = s[i] * exp(w->imp[i]);
    }
    track_min(w, min_ratio, impact_at_min);
    double before = w->ms->ledger.liquidated_notional;
    uint32_t rounds = 0, max_rounds = w->v->max_rounds;
    size_t nl = 0;
    while (rounds < max_rounds && (nl = find_liquidatable(w)) > 0) {
        round_orders(w, nl);
        settle_round(w, nl, step, pm, min_ratio, impact_at_min);
        rounds++;
    }
    if (rounds == max_rounds && find_liquidatable(w) > 0)
        pm->max_rounds_hits++;
    double usd = w->ms->ledger.liquidated_notional - before;
    if (usd > 0.0) {
        record_cascade(acc, usd);
        pm->largest_cascade_usd = fmax(pm->largest_cascade_usd, usd);
    }
    if (rounds > pm->cascade_rounds_max)
        pm->cascade_rounds_max = rounds;
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
    for (size_t k = 0; k < w->n_liq_accts; k++) {
        uint32_t a = w->liq_accts[k];
        double loss = w->eq0[a] - account_equity(w->ms, a, w->marks);
        acc->liq_paths[a]++;
        acc->first_step_sum[a] += w->acct_first[a];
        acc->loss_micro[a] += (__int128)round(loss * 1e6);  /* exact up to 2^53 micro-USD */
    }
}

void xm_cascade_run_path(xm_cascade_ws *w, uint64_t seed, uint64_t path, xm_path_metrics *pm,
                         double *min_ratio, double *impact_at_min, xm_cascade_acc *acc)
{
    memset(pm, 0, sizeof *pm);
    for (size_t i = 0; i < w->n; i++) {
        min_ratio[i] = INFINITY;
        impact_at_min[i] = 0.0;
    }
    reset_path(w, seed, path);
    for (uint32_t t = 1; t <= w->m->steps; t++)
        run_step(w, t, pm, min_ratio, impact_at_min, acc);
    finish_path(w, pm, acc);
}
