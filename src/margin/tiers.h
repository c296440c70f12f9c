/* tiers.h — the tier lookups of xmrisk/venue.h as inline functions (internal, not installed):
 * the cascade engine calls them for every position of every unit it checks or files, where a
 * call into venue.c costs about as much as the lookup. venue.c's xm_tier_index and xm_tier_mm
 * are these, so every caller computes the same numbers. */
#ifndef XM_TIERS_H
#define XM_TIERS_H

#include "xmrisk/venue.h"

/* xm_tier_index: the first k with notional <= cap_k, or -1 beyond the last cap. */
static inline long xm_tier_index_inl(const xm_tier_table *t, double notional)
{
    for (size_t k = 0; k < t->n; k++)
        if (notional <= t->tier[k].cap_usd)
            return (long)k;
    return -1;
}

/* xm_tier_mm: N mmr_k - cum_k of the tier holding N (the last beyond its cap, *beyond = 1). */
static inline double xm_tier_mm_inl(const xm_tier_table *t, double notional, int *beyond)
{
    long k = xm_tier_index_inl(t, notional);
    if (k < 0) {
        k = (long)t->n - 1;
        if (beyond != NULL)
            *beyond = 1;
    }
    return notional * t->tier[k].mmr - t->tier[k].cum;
}

#endif /* XM_TIERS_H */
