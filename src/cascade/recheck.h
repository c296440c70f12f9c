/* recheck.h — the cascade engine's index of units to check (internal, not installed; the fast
 * path of docs/cascade.md).
 *
 * A unit is watched along a few *dimensions* (the cascade uses two per asset: its mark
 * falling, for long exposure, and rising, for short exposure). An entry (key, unit) in
 * dimension d says "check the unit once the coordinate x_d reaches key" (x_d >= key). At each
 * evaluation point xm_recheck_collect() returns every unit with an entry reached, plus the units
 * queued with xm_recheck_due_next(), each once, in increasing unit order. A collected unit's
 * other entries are void from then on (lazy deletion by a per-unit generation), so the caller
 * files it again after checking it.
 *
 * Entries come in two kinds:
 *  - base entries (xm_recheck_base_add, then xm_recheck_base_seal): the filing at the start of
 *    every path, path-independent, kept sorted per dimension; a new path only resets a read
 *    head per dimension. xm_recheck_base_due() lists units due at a path's first point;
 *  - path entries (xm_recheck_file): a binary min-heap per dimension, cleared per path, and
 *    per dimension an unsorted far list for keys more than the dimension's band
 *    (xm_recheck_set_band) beyond the coordinate: most thresholds are never reached on a path,
 *    and keeping them out of the heap keeps it small. The far list is looked at only when
 *    the coordinate reaches its smallest key, and is then re-centred on the coordinate.
 * So starting a path costs O(dimensions + units touched on the previous path), never
 * O(units): memory grows with units (about 21 bytes per unit plus 16 per entry), not with
 * paths.
 *
 * Ownership: xm_recheck_alloc returns an index owned by the caller, freed by xm_recheck_free.
 * Allocation failure while filing sets `failed` (the caller then checks every unit, as the
 * naive engine does). No global state; one index per thread.
 */
#ifndef XM_RECHECK_H
#define XM_RECHECK_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"

typedef struct {
    double key;
    uint32_t unit, gen;   /* gen: the unit's generation when filed (base entries: 0) */
} xm_recheck_entry;

typedef struct {
    xm_recheck_entry *e;
    size_t n, cap;
} xm_recheck_heap;

typedef struct {
    size_t n_units, n_dims;
    /* base entries: base[base_off[d] .. base_off[d + 1]) sorted by key; head[d] = next unread */
    xm_recheck_entry *base;
    size_t base_len, base_cap;
    size_t *base_off, *head;
    uint32_t *base_due;
    size_t n_base_due;
    int sealed;
    /* path state */
    xm_recheck_heap *heap;          /* n_dims heaps */
    xm_recheck_heap *far;           /* n_dims far lists (unsorted) */
    double *far_min;              /* per dimension: smallest key in its far list, or +inf */
    double *far_from;             /* per dimension: keys above this go to the far list */
    double *band;                 /* per dimension: far_from = coordinate + band (+inf: none) */
    int centred;                  /* far_from set on this path (at its first point) */
    double *trig;                 /* per dimension: at most the smallest key of its base
                                   * entries left, heap and far list (a point with x_d below
                                   * it has nothing due in dimension d) */
    size_t heap_total, heap_limit;  /* entries in all heaps and far lists; compaction threshold */
    uint32_t *gen;                /* per unit; 0 = as at the path's start */
    uint8_t *queued;              /* per unit: in `next`, due (1) or forgotten (2) */
    uint32_t *touched;            /* units with gen != 0 */
    size_t n_touched;
    uint32_t *next;               /* units due at the next point */
    size_t n_next;
    uint32_t *scratch;            /* n_units: radix sort */
    int failed;
} xm_recheck;

/* An empty index for n_units units and n_dims dimensions. NULL (err set) when out of memory. */
xm_recheck *xm_recheck_alloc(size_t n_units, size_t n_dims, xm_error *err);
void xm_recheck_free(xm_recheck *w);

/* Setup (before the first path): base entries and units due at every path's first point. */
void xm_recheck_base_add(xm_recheck *w, size_t dim, double key, uint32_t unit);
void xm_recheck_base_due(xm_recheck *w, uint32_t unit);
/* Sort the base entries; 0, or -1 when out of memory (then `failed` is set). */
int xm_recheck_base_seal(xm_recheck *w);

/* Performance only (results never depend on it): at a path's first point and whenever dimension
 * dim's coordinate reaches its far list, entries filed with a key more than `band` above the
 * coordinate go to the far list instead of the heap. Default +inf (every entry in the heap). */
void xm_recheck_set_band(xm_recheck *w, size_t dim, double band);

/* A new path: every unit back to its base filing. */
void xm_recheck_begin(xm_recheck *w);

/* Units due at a point whose coordinates are x[0 .. n_dims) (a NaN coordinate counts as
 * +inf: everything in that dimension is due), written to out (room for n_units) in
 * increasing order, each once; returns how many. Their entries are void afterwards. */
size_t xm_recheck_collect(xm_recheck *w, const double *x, uint32_t *out);

/* Whether xm_recheck_collect at x could return anything: a unit queued, the path's first point,
 * or a coordinate at or past its dimension's trigger (NaN counts as +inf). Inline: most
 * points of a path have nothing due, and this is all they cost. */
static inline int xm_recheck_any_due(const xm_recheck *w, const double *x)
{
    if (w->n_next > 0 || !w->centred)
        return 1;
    for (size_t d = 0; d < w->n_dims; d++)
        if (!(x[d] < w->trig[d]))
            return 1;
    return 0;
}

/* Slow paths of the inline functions below (not for other callers): room for one more entry
 * in h (-1 and `failed` when out of memory); compaction of void entries. */
int xm_recheck_grow_(xm_recheck *w, xm_recheck_heap *h);
void xm_recheck_compact_(xm_recheck *w);

/* Entry k of the heap h rises to its place. */
static inline void xm_recheck_sift_up_(xm_recheck_entry *h, size_t k)
{
    xm_recheck_entry x = h[k];
    while (k > 0 && h[(k - 1) / 2].key > x.key) {
        h[k] = h[(k - 1) / 2];
        k = (k - 1) / 2;
    }
    h[k] = x;
}

/* Append e to the list or heap h (a heap when `heap`); 0, or -1 when out of memory. */
static inline int xm_recheck_push_(xm_recheck *w, xm_recheck_heap *h, xm_recheck_entry e, int heap)
{
    if (h->n >= h->cap && xm_recheck_grow_(w, h) != 0)
        return -1;
    h->e[h->n] = e;
    if (heap)
        xm_recheck_sift_up_(h->e, h->n);
    h->n++;
    return 0;
}

/* File `unit` (just collected and checked) in dimension `dim`, due once x_dim >= key: in the
 * far list beyond the band, else in the heap. Inline: the cascade files a few entries per
 * unit it checks. */
static inline void xm_recheck_file(xm_recheck *w, uint32_t unit, size_t dim, double key)
{
    if (w->heap_total >= w->heap_limit)
        xm_recheck_compact_(w);
    xm_recheck_entry e = {key, unit, w->gen[unit]};
    if (!(key >= w->trig[dim]))
        w->trig[dim] = key;
    if (key > w->far_from[dim]) {
        if (xm_recheck_push_(w, &w->far[dim], e, 0) == 0 && key < w->far_min[dim])
            w->far_min[dim] = key;
    } else {
        xm_recheck_push_(w, &w->heap[dim], e, 1);
    }
    w->heap_total++;
}

/* Void the unit's entries and make it due at the next point. */
void xm_recheck_due_next(xm_recheck *w, uint32_t unit);

/* Void the unit's entries and take it off the next point's list: it is due again only once
 * filed or queued again (for a unit that can never be liquidatable again). */
void xm_recheck_forget(xm_recheck *w, uint32_t unit);

/* Sort a[0 .. n) ascending (insertion up to 64; else LSD radix, digits of at most 11 bits, as
 * many passes as cost least for n and the largest value; tmp has room for n). */
void xm_sort_u32(uint32_t *a, uint32_t *tmp, size_t n);

#endif /* XM_RECHECK_H */
