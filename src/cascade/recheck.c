/* recheck.c — the cascade engine's index of units to check (see recheck.h; docs/cascade.md).
 *
 * Per dimension: a sorted array of base entries read from a moving head, a binary min-heap of
 * path entries near the coordinate (Williams 1964; Floyd's O(n) build for compaction; pops
 * move the hole to a leaf first, Wegener 1993, since the last entry put in the hole is
 * usually a far one), and an unsorted far list of path entries filed beyond the band, with
 * its smallest key. Each unit has a
 * generation: collecting or queueing a unit bumps it, which voids every entry filed before
 * (base entries carry generation 0). Void entries are dropped when they reach the top of a
 * heap or the head of a base array, or all at once when the heaps grow past twice their live
 * size (compaction), so heap memory stays O(live entries).
 */
#include "cascade/recheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

#define XM_RECHECK_HEAP_MIN 4096   /* compaction never runs below this many heap entries */

static void *xmalloc(size_t n, size_t size, int *bad)
{
    void *p = malloc((n ? n : 1) * size);
    *bad |= p == NULL;
    return p;
}

xm_recheck *xm_recheck_alloc(size_t n_units, size_t n_dims, xm_error *err)
{
    xm_recheck *w = calloc(1, sizeof *w);
    int bad = w == NULL;
    if (w != NULL) {
        w->n_units = n_units;
        w->n_dims = n_dims;
        w->base_off = calloc(n_dims + 1, sizeof *w->base_off);
        w->head = calloc(n_dims + 1, sizeof *w->head);
        w->heap = calloc(n_dims ? n_dims : 1, sizeof *w->heap);
        w->far = calloc(n_dims ? n_dims : 1, sizeof *w->far);
        w->far_min = xmalloc(n_dims, sizeof *w->far_min, &bad);
        w->far_from = xmalloc(n_dims, sizeof *w->far_from, &bad);
        w->band = xmalloc(n_dims, sizeof *w->band, &bad);
        w->trig = xmalloc(n_dims, sizeof *w->trig, &bad);
        w->gen = calloc(n_units ? n_units : 1, sizeof *w->gen);
        w->queued = calloc(n_units ? n_units : 1, 1);
        bad |= !w->base_off || !w->head || !w->heap || !w->far || !w->gen || !w->queued;
        w->base_due = xmalloc(n_units, sizeof *w->base_due, &bad);
        w->touched = xmalloc(n_units, sizeof *w->touched, &bad);
        w->next = xmalloc(n_units, sizeof *w->next, &bad);
        w->scratch = xmalloc(n_units, sizeof *w->scratch, &bad);
        w->heap_limit = 2 * n_units + XM_RECHECK_HEAP_MIN;
        for (size_t d = 0; !bad && d < n_dims; d++) {
            w->band[d] = INFINITY;
            w->far_min[d] = w->far_from[d] = INFINITY;
            w->trig[d] = -INFINITY;
        }
    }
    if (bad) {
        xm_recheck_free(w);
        xm_error_set(err, XM_ENOMEM, "run: out of memory for the index of %zu units", n_units);
        return NULL;
    }
    return w;
}

void xm_recheck_free(xm_recheck *w)
{
    if (w == NULL)
        return;
    for (size_t d = 0; d < w->n_dims; d++) {
        if (w->heap != NULL)
            free(w->heap[d].e);
        if (w->far != NULL)
            free(w->far[d].e);
    }
    void *arrays[] = {w->base, w->base_off, w->head, w->base_due, w->heap, w->far, w->far_min,
                      w->far_from, w->band, w->trig, w->gen, w->queued, w->touched, w->next,
                      w->scratch};
    for (size_t k = 0; k < sizeof arrays / sizeof arrays[0]; k++)
        free(arrays[k]);
    free(w);
}


/* ---- setup ------------------------------------------------------------------------------ */

void xm_recheck_base_add(xm_recheck *w, size_t dim, double key, uint32_t unit)
{
    if (w->failed || xm_grow((void **)&w->base, &w->base_cap, w->base_len + 1, sizeof *w->base, 64)) {
        w->failed = 1;
        return;
    }
    /* the dimension rides in `gen` until xm_recheck_base_seal buckets the entries */
    w->base[w->base_len++] = (xm_recheck_entry){key, unit, (uint32_t)dim};
}

void xm_recheck_base_due(xm_recheck *w, uint32_t unit)
{
    w->base_due[w->n_base_due++] = unit;
}

static int cmp_entry(const void *x, const void *y)
{
    const xm_recheck_entry *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->unit > b->unit) - (a->unit < b->unit);
}

int xm_recheck_base_seal(xm_recheck *w)
{
    size_t n = w->base_len, nd = w->n_dims;
    xm_recheck_entry *out = malloc((n ? n : 1) * sizeof *out);
    if (w->failed || out == NULL) {
        free(out);
        w->failed = 1;
        return -1;
    }
    memset(w->base_off, 0, (nd + 1) * sizeof *w->base_off);
    for (size_t k = 0; k < n; k++)
        w->base_off[w->base[k].gen + 1]++;
    for (size_t d = 0; d < nd; d++)
        w->base_off[d + 1] += w->base_off[d];
    memcpy(w->head, w->base_off, (nd + 1) * sizeof *w->head);
    for (size_t k = 0; k < n; k++) {
        xm_recheck_entry e = w->base[k];
        size_t d = e.gen;
        e.gen = 0;
        out[w->head[d]++] = e;
    }
    free(w->base);
    w->base = out;
    w->base_cap = n;
    for (size_t d = 0; d < nd; d++)
        qsort(w->base + w->base_off[d], w->base_off[d + 1] - w->base_off[d], sizeof *w->base,
              cmp_entry);
    w->sealed = 1;
    return 0;
}

/* ---- per path --------------------------------------------------------------------------- */

/* The smallest key of dimension d's base entries left, heap and far list (+inf if none). */
static double next_key(const xm_recheck *w, size_t d)
{
    double t = w->far_min[d];
    if (w->head[d] < w->base_off[d + 1] && w->base[w->head[d]].key < t)
        t = w->base[w->head[d]].key;
    if (w->heap[d].n > 0 && w->heap[d].e[0].key < t)
        t = w->heap[d].e[0].key;
    return t;
}

/* queued[u]: 0 not in `next`; XM_QUEUED in it and due; XM_FORGOTTEN in it but not due (the
 * list keeps each unit at most once, so it never outgrows n_units). */
#define XM_QUEUED 1
#define XM_FORGOTTEN 2

void xm_recheck_set_band(xm_recheck *w, size_t dim, double band)
{
    w->band[dim] = band;
}

void xm_recheck_begin(xm_recheck *w)
{
    for (size_t k = 0; k < w->n_touched; k++)
        w->gen[w->touched[k]] = 0;
    for (size_t k = 0; k < w->n_next; k++)
        w->queued[w->next[k]] = 0;
    w->n_touched = w->n_next = 0;
    for (size_t d = 0; d < w->n_dims; d++) {
        w->heap[d].n = w->far[d].n = 0;
        w->far_min[d] = INFINITY;
    }
    w->centred = 0;
    memcpy(w->head, w->base_off, (w->n_dims + 1) * sizeof *w->head);
    for (size_t d = 0; d < w->n_dims; d++)
        w->trig[d] = next_key(w, d);
    w->heap_total = 0;
    for (size_t k = 0; k < w->n_base_due; k++) {
        w->queued[w->base_due[k]] = XM_QUEUED;
        w->next[w->n_next++] = w->base_due[k];
    }
}

/* A new generation: every entry filed so far for the unit is void. Generations skip 0 (the
 * base entries') when they wrap, which takes 2^32 collections of one unit in one path. */
static void bump(xm_recheck *w, uint32_t u)
{
    if (w->gen[u] == 0)
        w->touched[w->n_touched++] = u;
    if (++w->gen[u] == 0)
        w->gen[u] = 1;
}

static void sift_down(xm_recheck_entry *h, size_t n, size_t k)
{
    xm_recheck_entry x = h[k];
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1].key < h[c].key)
            c++;
        if (!(h[c].key < x.key))
            break;
        h[k] = h[c];
        k = c;
    }
    h[k] = x;
}

/* Remove the top of the heap h[0 .. n) (n > 0): the hole goes down to a leaf along the
 * smaller children (one comparison per level), then the last entry fills it and rises. */
static void pop_top(xm_recheck_entry *h, size_t n)
{
    xm_recheck_entry last = h[--n];
    size_t k = 0;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1].key < h[c].key)
            c++;
        h[k] = h[c];
        k = c;
    }
    h[k] = last;
    xm_recheck_sift_up_(h, k);
}

/* Keep the live entries of a[0 .. *n); returns the smallest key kept (+inf if none). */
static double keep_live(const xm_recheck *w, xm_recheck_entry *a, size_t *n)
{
    size_t m = 0;
    double lo = INFINITY;
    for (size_t k = 0; k < *n; k++)
        if (a[k].gen == w->gen[a[k].unit]) {
            lo = a[k].key < lo ? a[k].key : lo;
            a[m++] = a[k];
        }
    *n = m;
    return lo;
}

/* Drop every void entry from every heap and far list and rebuild the heaps (Floyd); re-arm the threshold at
 * twice what is left, so compaction costs O(1) amortized per filed entry. */
static void compact(xm_recheck *w)
{
    size_t total = 0;
    for (size_t d = 0; d < w->n_dims; d++) {
        xm_recheck_heap *h = &w->heap[d], *f = &w->far[d];
        keep_live(w, h->e, &h->n);
        for (size_t k = h->n / 2; k-- > 0;)
            sift_down(h->e, h->n, k);
        w->far_min[d] = keep_live(w, f->e, &f->n);
        w->trig[d] = next_key(w, d);
        total += h->n + f->n;
    }
    w->heap_total = total;
    size_t floor = 2 * w->n_units + XM_RECHECK_HEAP_MIN;
    w->heap_limit = 2 * total > floor ? 2 * total : floor;
}

/* Slow paths of xm_recheck_file (recheck.h: the filing itself is inline). */
int xm_recheck_grow_(xm_recheck *w, xm_recheck_heap *h)
{
    if (xm_grow((void **)&h->e, &h->cap, h->n + 1, sizeof *h->e, 64)) {
        w->failed = 1;
        return -1;
    }
    return 0;
}

void xm_recheck_compact_(xm_recheck *w)
{
    compact(w);
}

void xm_recheck_due_next(xm_recheck *w, uint32_t unit)
{
    if (w->queued[unit] == XM_QUEUED)
        return;
    bump(w, unit);
    if (w->queued[unit] == 0)
        w->next[w->n_next++] = unit;
    w->queued[unit] = XM_QUEUED;
}

void xm_recheck_forget(xm_recheck *w, uint32_t unit)
{
    bump(w, unit);
    if (w->queued[unit] == XM_QUEUED)
        w->queued[unit] = XM_FORGOTTEN;
}

/* The coordinate x of dimension d reached its far list: the live entries with key <= x are
 * due (bumped, appended to out), those within the band of x go to the heap, the rest stay;
 * void ones are dropped. */
static size_t recentre(xm_recheck *w, size_t d, double x, uint32_t *out, size_t n)
{
    xm_recheck_heap *f = &w->far[d];
    double from = x + w->band[d], lo = INFINITY;
    size_t kept = 0;
    for (size_t k = 0; k < f->n; k++) {
        xm_recheck_entry e = f->e[k];
        if (e.gen != w->gen[e.unit]) {
            w->heap_total--;
        } else if (e.key <= x) {
            bump(w, e.unit);
            out[n++] = e.unit;
            w->heap_total--;
        } else if (e.key > from) {
            lo = e.key < lo ? e.key : lo;
            f->e[kept++] = e;
        } else if (xm_recheck_push_(w, &w->heap[d], e, 1) != 0) {
            return n;   /* `failed`: the caller checks every unit from now on */
        }
    }
    f->n = kept;
    w->far_min[d] = lo;
    w->far_from[d] = from;
    return n;
}

/* Pop dimension d's entries with key <= x; the live ones are bumped and appended to out. */
static size_t collect_dim(xm_recheck *w, size_t d, double x, uint32_t *out, size_t n)
{
    size_t end = w->base_off[d + 1];
    while (w->head[d] < end && w->base[w->head[d]].key <= x) {
        uint32_t u = w->base[w->head[d]++].unit;
        if (w->gen[u] == 0) {
            bump(w, u);
            out[n++] = u;
        }
    }
    xm_recheck_heap *h = &w->heap[d];
    while (h->n > 0 && h->e[0].key <= x) {
        xm_recheck_entry e = h->e[0];
        pop_top(h->e, h->n--);
        w->heap_total--;
        if (e.gen == w->gen[e.unit]) {
            bump(w, e.unit);
            out[n++] = e.unit;
        }
    }
    if (x >= w->far_min[d])
        n = recentre(w, d, x, out, n);
    w->trig[d] = next_key(w, d);
    return n;
}

size_t xm_recheck_collect(xm_recheck *w, const double *x, uint32_t *out)
{
    size_t n = 0;
    for (size_t k = 0; k < w->n_next; k++) {
        uint32_t u = w->next[k];
        int due = w->queued[u] == XM_QUEUED;
        w->queued[u] = 0;
        if (due) {
            bump(w, u);
            out[n++] = u;
        }
    }
    w->n_next = 0;
    for (size_t d = 0; d < w->n_dims; d++) {
        double xd = isnan(x[d]) ? INFINITY : x[d];
        if (!w->centred)
            w->far_from[d] = xd + w->band[d];
        if (xd >= w->trig[d])
            n = collect_dim(w, d, xd, out, n);
    }
    w->centred = 1;
    xm_sort_u32(out, w->scratch, n);
    return n;
}

/* ---- sorting ---------------------------------------------------------------------------- */

static void insertion_u32(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/* One stable counting pass on bits [shift, shift + bits) from src to dst (bits <= 11). */
static void radix_pass(const uint32_t *src, uint32_t *dst, size_t n, unsigned shift,
                       unsigned bits)
{
    size_t count[2048];
    uint32_t mask = (1u << bits) - 1u;
    memset(count, 0, ((size_t)1 << bits) * sizeof *count);
    for (size_t k = 0; k < n; k++)
        count[(src[k] >> shift) & mask]++;
    size_t sum = 0;
    for (size_t b = 0; b <= mask; b++) {
        size_t c = count[b];
        count[b] = sum;
        sum += c;
    }
    for (size_t k = 0; k < n; k++)
        dst[count[(src[k] >> shift) & mask]++] = src[k];
}

/* Digits of at most 11 bits; as many passes as minimize the work, about passes x (2^digit
 * buckets + 2n): a few hundred units sort in two passes of 7 bits instead of clearing and
 * scanning 2048 buckets twice. */
void xm_sort_u32(uint32_t *a, uint32_t *tmp, size_t n)
{
    if (n <= 64) {
        insertion_u32(a, n);
        return;
    }
    uint32_t top = 0;
    for (size_t k = 0; k < n; k++)
        top |= a[k];
    unsigned width = 1;
    while (width < 32 && (top >> width) != 0)
        width++;
    unsigned passes = (width + 10) / 11, best_cost_passes = passes;
    double best = INFINITY;
    for (unsigned p = passes; p <= passes + 3 && p <= width; p++) {
        unsigned digit = (width + p - 1) / p;
        double cost = p * ((double)((size_t)1 << digit) + 2.0 * (double)n);
        if (cost < best) {
            best = cost;
            best_cost_passes = p;
        }
    }
    passes = best_cost_passes;
    unsigned digit = (width + passes - 1) / passes;
    uint32_t *src = a, *dst = tmp;
    for (unsigned p = 0; p < passes; p++) {
        radix_pass(src, dst, n, digit * p, digit);
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}
