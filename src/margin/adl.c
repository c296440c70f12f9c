/* adl.c — the ADL candidate ranking (see adl.h; semantics docs/margin.md "Auto-deleveraging",
 * scores docs/venues.md b).
 *
 * Exactness: a candidate's score is a function of the marks and of its unit's state (wallet or
 * isolated margin, open quantities). Between two ADL walks at bitwise-equal marks, only the
 * units named by xm_adl_touch changed, so re-scoring their positions gives every key the
 * value a full re-score would give, bit for bit. Score-then-index is a strict total order
 * (without NaN), so the heap pops the same sequence as a heap built from scratch. A NaN score
 * makes the order partial; then the walk falls back to the scan of a built index in position
 * order (as a scan of the book gives them), the layout the ranking always had.
 */
#include "margin/adl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Floor of the unit equity in the effective-leverage denominators of the Bybit and
 * Hyperliquid ADL scores, so that a unit with E <= 0 ranks first instead of dividing by 0. */
#define XM_EQUITY_FLOOR 1e-12
#define NO_SLOT UINT32_MAX

struct xm_adl_rank {
    const xm_accounts *book;
    size_t n_buckets;         /* 2 n_assets: bucket 2i holds asset i's longs, 2i + 1 shorts */
    /* Path-independent index, built on the first walk: bucket k's positions (side of the book
     * quantity; positions never change side) are index[off[k] .. off[k + 1]), by entry
     * ascending for longs, descending for shorts, ties by position index, so the positions in
     * profit at a mark are a prefix. */
    uint32_t *index;
    size_t *off;
    int index_ready;
    /* Bucket k's heap of candidates is heap[off[k] .. off[k] + hn[k]); built[k] is the epoch
     * it was built in (0: none), seen[k] how many log entries it has applied. */
    uint32_t *heap;
    size_t *hn;
    uint64_t *built;
    size_t *seen;
    uint32_t *slot;           /* per position: place in its bucket's heap, NO_SLOT if none */
    double *key;              /* per position: its score while in a heap */
    /* An epoch is a run of walks at one marks vector (compared bitwise). */
    uint64_t epoch;
    double *marks;
    int marks_ok;
    /* Units touched in this epoch: (account, position or NO_SLOT for a cross account). */
    uint32_t *log_acct, *log_pos;
    size_t log_len, log_cap;
};

/* ---- allocation ------------------------------------------------------------------------ */

xm_adl_rank *xm_adl_rank_alloc(const xm_accounts *book, size_t n_assets)
{
    size_t np = book->n_positions ? book->n_positions : 1, nb = 2 * n_assets;
    xm_adl_rank *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->book = book;
    r->n_buckets = nb;
    r->log_cap = 2 * np + 2;
    r->index = malloc(np * sizeof *r->index);
    r->off = malloc((nb + 1) * sizeof *r->off);
    r->heap = malloc(np * sizeof *r->heap);
    r->hn = calloc(nb + 1, sizeof *r->hn);
    r->built = calloc(nb + 1, sizeof *r->built);
    r->seen = calloc(nb + 1, sizeof *r->seen);
    r->slot = malloc(np * sizeof *r->slot);
    r->key = malloc(np * sizeof *r->key);
    r->marks = malloc((n_assets ? n_assets : 1) * sizeof *r->marks);
    r->log_acct = malloc(r->log_cap * sizeof *r->log_acct);
    r->log_pos = malloc(r->log_cap * sizeof *r->log_pos);
    if (!r->index || !r->off || !r->heap || !r->hn || !r->built || !r->seen || !r->slot ||
        !r->key || !r->marks || !r->log_acct || !r->log_pos) {
        xm_adl_rank_free(r);
        return NULL;
    }
    for (size_t j = 0; j < np; j++)
        r->slot[j] = NO_SLOT;
    return r;
}

void xm_adl_rank_free(xm_adl_rank *r)
{
    if (r == NULL)
        return;
    void *arrays[] = {r->index, r->off, r->heap, r->hn, r->built, r->seen, r->slot, r->key,
                      r->marks, r->log_acct, r->log_pos};
    for (size_t k = 0; k < sizeof arrays / sizeof *arrays; k++)
        free(arrays[k]);
    free(r);
}

void xm_adl_invalidate(xm_adl_rank *r)
{
    r->marks_ok = 0;
    r->log_len = 0;
}

/* A full log ends the epoch: every heap is rebuilt on its next use, so a rebuild (O(n)) comes
 * after at least 2n touches. */
void xm_adl_touch(xm_adl_rank *r, size_t account, long position)
{
    if (r->log_len == r->log_cap) {
        xm_adl_invalidate(r);
        return;
    }
    r->log_acct[r->log_len] = (uint32_t)account;
    r->log_pos[r->log_len++] = position == XM_UNIT_ACCOUNT ? NO_SLOT : (uint32_t)position;
}

/* ---- scores (docs/venues.md b) --------------------------------------------------------- */

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

static double adl_score(const xm_margin_state *s, size_t j, const double *marks)
{
    const xm_accounts *b = s->book;
    double q = s->qty[j], e = b->entry[j], m = marks[b->asset[j]];
    long pos = xm_adl_holder(b, j);
    xm_health h = xm_margin_health(s, b->owner[j], pos, marks);
    switch (s->venue->adl) {
    case XM_ADL_BYBIT: return score_bybit(q, e, m, h.equity);
    case XM_ADL_HYPERLIQUID: return score_hyperliquid(q, e, m, h.equity);
    default:
        return score_binance(q * (m - e), pos == XM_UNIT_ACCOUNT ? s->wallet[b->owner[j]]
                                                                 : s->margin[j], h);
    }
}

/* Position j on side `sign` is a candidate at mark m: open on that side, uPnL q (m - e) > 0. */
static int eligible(const xm_margin_state *s, size_t j, double sign, double m)
{
    double q = s->qty[j];
    return q * sign > 0.0 && q * (m - s->book->entry[j]) > 0.0;
}

/* ---- heap (slot: where each position sits, or NULL when not tracked) -------------------- */

/* Candidate a ranks before b: higher score, ties to the lower position index. */
static int ranks_before(const double *key, uint32_t a, uint32_t b)
{
    return key[a] > key[b] || (key[a] == key[b] && a < b);
}

static void swap_at(uint32_t *h, uint32_t *slot, size_t x, size_t y)
{
    uint32_t t = h[x];
    h[x] = h[y];
    h[y] = t;
    if (slot != NULL) {
        slot[h[x]] = (uint32_t)x;
        slot[h[y]] = (uint32_t)y;
    }
}

static void sift_down(uint32_t *h, uint32_t *slot, size_t n, size_t k, const double *key)
{
    for (;;) {
        size_t best = k, l = 2 * k + 1, r = l + 1;
        if (l < n && ranks_before(key, h[l], h[best]))
            best = l;
        if (r < n && ranks_before(key, h[r], h[best]))
            best = r;
        if (best == k)
            return;
        swap_at(h, slot, k, best);
        k = best;
    }
}

static void sift_up(uint32_t *h, uint32_t *slot, size_t k, const double *key)
{
    while (k > 0 && ranks_before(key, h[k], h[(k - 1) / 2])) {
        swap_at(h, slot, k, (k - 1) / 2);
        k = (k - 1) / 2;
    }
}

/* O(n) build: a deficit covered by k fills from a fresh heap costs O(n + k log n). */
static void heap_build(uint32_t *h, uint32_t *slot, size_t n, const double *key)
{
    for (size_t k = 0; slot != NULL && k < n; k++)
        slot[h[k]] = (uint32_t)k;
    for (size_t k = n / 2; k-- > 0;)
        sift_down(h, slot, n, k, key);
}

/* Remove the entry at place k, moving the last one there (k = 0: the pop). When the moved entry
 * rises, the one left at k is its old parent, which already ranks before that subtree. */
static uint32_t heap_take(uint32_t *h, uint32_t *slot, size_t *n, size_t k, const double *key)
{
    uint32_t j = h[k];
    h[k] = h[--*n];
    if (slot != NULL) {
        slot[j] = NO_SLOT;
        if (k < *n)
            slot[h[k]] = (uint32_t)k;
    }
    if (k < *n) {
        sift_up(h, slot, k, key);
        sift_down(h, slot, *n, k, key);
    }
    return j;
}

static void heap_push(uint32_t *h, uint32_t *slot, size_t *n, uint32_t j, const double *key)
{
    h[*n] = j;
    slot[j] = (uint32_t)*n;
    sift_up(h, slot, (*n)++, key);
}

/* ---- index ----------------------------------------------------------------------------- */

/* Position x sorts before y in its bucket: entry ascending for longs, descending for shorts
 * (so the positions in profit, long e < m or short e > m, are a prefix), ties by index. */
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

/* Bucket the book's positions by (asset, side of the book quantity), then sort each bucket.
 * The heaps are the scratch: none is built before the index. */
static void build_index(xm_adl_rank *r)
{
    const xm_accounts *b = r->book;
    size_t nk = r->n_buckets;
    memset(r->off, 0, (nk + 1) * sizeof *r->off);
    for (size_t j = 0; j < b->n_positions; j++)
        r->off[2 * b->asset[j] + (b->qty[j] < 0.0) + 1]++;
    for (size_t k = 0; k < nk; k++)
        r->off[k + 1] += r->off[k];
    for (size_t j = 0; j < b->n_positions; j++)
        r->heap[r->off[2 * b->asset[j] + (b->qty[j] < 0.0)]++] = (uint32_t)j;
    for (size_t k = nk; k > 0; k--)   /* the fill advanced each start to the next one's */
        r->off[k] = r->off[k - 1];
    r->off[0] = 0;
    memcpy(r->index, r->heap, b->n_positions * sizeof *r->index);
    for (size_t k = 0; k < nk; k++)
        sort_index(b, (int)(k & 1), r->index + r->off[k], r->heap, r->off[k + 1] - r->off[k]);
    r->index_ready = 1;
}

/* End of the prefix of bucket k whose positions are in profit at mark m: entry < m for
 * longs, entry > m for shorts (binary search; the bucket is sorted that way). */
static size_t profit_prefix(const xm_adl_rank *r, size_t k, double m)
{
    const uint32_t *list = r->index + r->off[k];
    size_t lo = 0, hi = r->off[k + 1] - r->off[k];
    int shorts = (int)(k & 1);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double e = r->book->entry[list[mid]];
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

/* The candidates of bucket k outside `account`, scored afresh into s->score and put in
 * position order into s->cand (the layout a scan of the book gives, which decides the pops
 * once a NaN score makes the ranking partial). Returns how many. */
static size_t scan_candidates(xm_margin_state *s, size_t account, size_t k, const double *marks)
{
    const xm_adl_rank *r = s->adl;
    const uint32_t *list = r->index + r->off[k];
    double m = marks[k / 2], sign = k & 1 ? -1.0 : 1.0;
    size_t end = profit_prefix(r, k, m), n = 0;
    for (size_t t = 0; t < end; t++) {
        uint32_t j = list[t];
        if (s->book->owner[j] == account || !eligible(s, j, sign, m))
            continue;
        s->score[j] = adl_score(s, j, marks);
        s->cand[n++] = j;
    }
    qsort(s->cand, n, sizeof *s->cand, cmp_position);
    return n;
}

/* ---- persistent heaps ------------------------------------------------------------------ */

static void bucket_clear(xm_adl_rank *r, size_t k)
{
    const uint32_t *h = r->heap + r->off[k];
    for (size_t t = 0; t < r->hn[k]; t++)
        r->slot[h[t]] = NO_SLOT;
    r->hn[k] = 0;
    r->built[k] = 0;
}

/* A new epoch when the marks differ (bitwise) from the last walk's. */
static void enter_marks(xm_adl_rank *r, const double *marks)
{
    size_t bytes = r->n_buckets / 2 * sizeof *marks;
    if (r->marks_ok && memcmp(r->marks, marks, bytes) == 0)
        return;
    memcpy(r->marks, marks, bytes);
    r->marks_ok = 1;
    r->epoch++;
    r->log_len = 0;
}

/* Heap of bucket k: every candidate in profit at marks (the bankrupt's own are skipped when
 * popped), scored. Returns 0 on a NaN score (the heap is left empty). O(n_k) scores. */
static int bucket_build(xm_margin_state *s, size_t k, const double *marks)
{
    xm_adl_rank *r = s->adl;
    bucket_clear(r, k);
    const uint32_t *list = r->index + r->off[k];
    uint32_t *h = r->heap + r->off[k];
    double m = marks[k / 2], sign = k & 1 ? -1.0 : 1.0;
    size_t end = profit_prefix(r, k, m), n = 0;
    for (size_t t = 0; t < end; t++) {
        uint32_t j = list[t];
        if (!eligible(s, j, sign, m))
            continue;
        r->key[j] = adl_score(s, j, marks);
        if (isnan(r->key[j]))
            return 0;
        h[n++] = j;
    }
    heap_build(h, r->slot, n, r->key);
    r->hn[k] = n;
    r->built[k] = r->epoch;
    r->seen[k] = r->log_len;
    return 1;
}

/* Position j of bucket k after its unit changed: re-scored in place, added, or removed.
 * Returns 0 on a NaN score. */
static int bucket_update(xm_margin_state *s, size_t k, uint32_t j, const double *marks)
{
    xm_adl_rank *r = s->adl;
    uint32_t *h = r->heap + r->off[k];
    double m = marks[k / 2], sign = k & 1 ? -1.0 : 1.0;
    if (!eligible(s, j, sign, m)) {
        if (r->slot[j] != NO_SLOT)
            heap_take(h, r->slot, &r->hn[k], r->slot[j], r->key);
        return 1;
    }
    double sc = adl_score(s, j, marks);
    if (isnan(sc))
        return 0;
    r->key[j] = sc;
    if (r->slot[j] == NO_SLOT) {
        heap_push(h, r->slot, &r->hn[k], j, r->key);
    } else {
        sift_up(h, r->slot, r->slot[j], r->key);
        sift_down(h, r->slot, r->hn[k], r->slot[j], r->key);
    }
    return 1;
}

/* Apply the log entries bucket k has not seen: the positions of each touched unit that
 * belong to the bucket (asset k/2, book side k&1). Returns 0 on a NaN score. */
static int bucket_sync(xm_margin_state *s, size_t k, const double *marks)
{
    xm_adl_rank *r = s->adl;
    const xm_accounts *b = s->book;
    for (size_t t = r->seen[k]; t < r->log_len; t++) {
        size_t a = r->log_acct[t], lo = b->first[a], hi = b->first[a + 1];
        if (r->log_pos[t] != NO_SLOT) {
            lo = r->log_pos[t];
            hi = lo + 1;
        }
        for (size_t j = lo; j < hi; j++) {
            if (b->asset[j] != k / 2 || (size_t)(b->qty[j] < 0.0) != (k & 1))
                continue;
            if (!bucket_update(s, k, (uint32_t)j, marks))
                return 0;
        }
    }
    r->seen[k] = r->log_len;
    return 1;
}

/* ---- walks ----------------------------------------------------------------------------- */

void xm_adl_walk_begin(xm_margin_state *s, xm_adl_walk *w, size_t account, size_t i, double sign,
                       const double *marks)
{
    xm_adl_rank *r = s->adl;
    if (!r->index_ready)
        build_index(r);
    size_t k = 2 * i + (sign < 0.0);
    *w = (xm_adl_walk){account, k, 0, 0, 0};
    enter_marks(r, marks);
    int ok = r->built[k] == r->epoch ? bucket_sync(s, k, marks) : bucket_build(s, k, marks);
    if (ok)
        return;
    bucket_clear(r, k);
    w->scan = 1;
    w->n = scan_candidates(s, account, k, marks);
    heap_build(s->cand, NULL, w->n, s->score);
}

long xm_adl_walk_next(xm_margin_state *s, xm_adl_walk *w)
{
    xm_adl_rank *r = s->adl;
    if (w->scan)
        return w->n > 0 ? (long)heap_take(s->cand, NULL, &w->n, 0, s->score) : -1;
    uint32_t *h = r->heap + r->off[w->bucket];
    while (r->hn[w->bucket] > 0) {
        uint32_t j = heap_take(h, r->slot, &r->hn[w->bucket], 0, r->key);
        s->cand[w->popped++] = j;
        if (s->book->owner[j] != w->account)
            return (long)j;
    }
    return -1;
}

/* Push back what the walk popped and is still open, under its old key: the units ADL filled
 * were touched, so the next walk at these marks re-scores them first. */
void xm_adl_walk_end(xm_margin_state *s, xm_adl_walk *w)
{
    xm_adl_rank *r = s->adl;
    if (w->scan)
        return;
    uint32_t *h = r->heap + r->off[w->bucket];
    for (size_t t = 0; t < w->popped; t++)
        if (s->qty[s->cand[t]] != 0.0)
            heap_push(h, r->slot, &r->hn[w->bucket], s->cand[t], r->key);
}
