/* grow.h — internal: the one array-growth helper of the library (not installed).
 *
 * Every growing array of the library (accounts and positions, the cascade's re-check queue,
 * the CSV loader's columns, the YAML tree's lists, calibration points) keeps an element
 * count, a capacity, and grows by doubling: n appends cost O(n) copies in all (amortized
 * O(1) each). The helpers refuse a size whose byte count overflows size_t instead of wrapping.
 */
#ifndef XM_CORE_GROW_H
#define XM_CORE_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* Resize *p to exactly n elements of `size` bytes. 0 on success; -1 (and *p untouched) when
 * n * size overflows or realloc fails. n == 0 keeps a valid one-element block. */
static inline int xm_resize(void **p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return -1;
    void *q = realloc(*p, (n ? n : 1) * size);
    if (q == NULL)
        return -1;
    *p = q;
    return 0;
}

/* The capacity after doubling `cap` (or `first` when cap is 0) until it holds `need`; `need`
 * itself when doubling would overflow. */
static inline size_t xm_grown_cap(size_t cap, size_t need, size_t first)
{
    size_t n = cap ? cap : (first ? first : 1);
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return need;
        n *= 2;
    }
    return n;
}

/* Room for `need` elements of `size` bytes in *p, whose capacity is *cap: doubles from
 * `first` as needed. 0 on success (*cap updated); -1 on failure (*p and *cap untouched). */
static inline int xm_grow(void **p, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t n = xm_grown_cap(*cap, need, first);
    if (xm_resize(p, n, size) != 0)
        return -1;
    *cap = n;
    return 0;
}

#endif /* XM_CORE_GROW_H */
