/* margin/adl.h — the ADL candidate ranking of a margin state (internal to src/margin).
 *
 * Per asset and side, the positions in profit at the marks are kept in a max-heap keyed by
 * their ADL score (docs/venues.md b; ties to the lower position index). A heap is built when
 * an ADL first needs it at a marks vector; later ADLs at the same marks re-score only the
 * positions of units changed since (settled, or filled by ADL: xm_adl_touch), so a fill costs
 * O(log n) plus the re-scoring of what changed. Semantics: docs/margin.md "Auto-deleveraging".
 */
#ifndef XM_MARGIN_ADL_H
#define XM_MARGIN_ADL_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/margin.h"

/* Owned by an xm_margin_state (s->adl); allocated with it. NULL on allocation failure. */
xm_adl_rank *xm_adl_rank_alloc(const xm_accounts *book, size_t n_assets);
void xm_adl_rank_free(xm_adl_rank *r);

/* The state changed in a way the rank does not follow (reset, restore): rebuild on next use. */
void xm_adl_invalidate(xm_adl_rank *r);

/* The unit (account, position; XM_UNIT_ACCOUNT for a cross account) changed: re-score its
 * positions before the next ranking that holds them. O(1). */
void xm_adl_touch(xm_adl_rank *r, size_t account, long position);

/* The unit holding position j, as the position argument of xm_margin_health. */
static inline long xm_adl_holder(const xm_accounts *b, size_t j)
{
    return b->mode[b->owner[j]] == XM_CROSS ? XM_UNIT_ACCOUNT : (long)j;
}

/* One walk down a ranking: the candidates of asset i on side `sign` (+1 longs, -1 shorts) in
 * profit at marks, outside `account`, best first. */
typedef struct {
    size_t account, bucket;
    int scan;        /* 1: a NaN score; candidates in s->cand ranked as a scanned book */
    size_t n;        /* scan: candidates left in the heap s->cand[0 .. n) */
    size_t popped;   /* rank: positions popped so far, in s->cand, pushed back by _end */
} xm_adl_walk;

void xm_adl_walk_begin(xm_margin_state *s, xm_adl_walk *w, size_t account, size_t i, double sign,
                       const double *marks);
/* The next candidate, or -1 when none is left. */
long xm_adl_walk_next(xm_margin_state *s, xm_adl_walk *w);
void xm_adl_walk_end(xm_margin_state *s, xm_adl_walk *w);

#endif /* XM_MARGIN_ADL_H */
