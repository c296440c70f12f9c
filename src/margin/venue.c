/* venue.c — venue rules and maintenance-margin tiers (see xmrisk/venue.h). */
#include "xmrisk/venue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "margin/tiers.h"

xm_status xm_venue_init(xm_venue *v, size_t n_assets, xm_error *err)
{
    memset(v, 0, sizeof *v);
    /* Defaults: Binance USDⓈ-M (docs/venues.md a.1: BTCUSDT clearance fee 1.25% in a
     * 2025/26 exchangeInfo fixture; full liquidation for retail-size accounts; Binance ADL
     * ranking, b). Partial-mode numbers are Hyperliquid's (a.5: 20% of positions above
     * $100k, backstop below 2/3 of MM), used only when mode is partial. */
    v->mode = XM_LIQ_FULL;
    v->fee_rate = 0.0125;
    v->max_rounds = 50;
    v->step = 0.2;
    v->min_partial_notional_usd = 1.0e5;
    v->backstop_ratio = 2.0 / 3.0;
    v->remaining_equity = XM_REMAINING_KEEP;
    v->adl = XM_ADL_BINANCE;
    v->n_assets = n_assets;
    v->tiers = calloc(n_assets ? n_assets : 1, sizeof *v->tiers);
    if (v->tiers == NULL)
        return xm_error_set(err, XM_ENOMEM, "venue: out of memory");
    return XM_OK;
}

void xm_venue_clear(xm_venue *v)
{
    if (v == NULL)
        return;
    if (v->tiers != NULL)
        for (size_t i = 0; i < v->n_assets; i++)
            free(v->tiers[i].tier);
    free(v->tiers);
    memset(v, 0, sizeof *v);
}

xm_status xm_tiers_alloc(xm_tier_table *t, size_t n, xm_error *err)
{
    free(t->tier);
    t->n = 0;
    t->tier = calloc(n ? n : 1, sizeof *t->tier);
    if (t->tier == NULL)
        return xm_error_set(err, XM_ENOMEM, "tiers: out of memory");
    t->n = n;
    return XM_OK;
}

xm_status xm_tiers_prepare(xm_tier_table *t, const char *where, xm_error *err)
{
    if (t->n == 0)
        return xm_error_set(err, XM_EMODEL, "%s: expected at least one tier", where);
    for (size_t k = 0; k < t->n; k++) {
        const xm_tier *c = &t->tier[k], *p = k ? &t->tier[k - 1] : NULL;
        if (!(c->cap_usd > (p ? p->cap_usd : 0.0)) || !isfinite(c->cap_usd))
            return xm_error_set(err, XM_EMODEL, "%s[%zu].cap_usd: expected a finite cap above %g, got %g",
                                where, k, p ? p->cap_usd : 0.0, c->cap_usd);
        if (!(c->mmr >= (p ? p->mmr : 0.0) && c->mmr < 1.0))
            return xm_error_set(err, XM_EMODEL, "%s[%zu].mmr: expected a rate in [%g, 1), got %g",
                                where, k, p ? p->mmr : 0.0, c->mmr);
        if (!(c->max_leverage >= 1.0 && c->max_leverage <= (p ? p->max_leverage : INFINITY)))
            return xm_error_set(err, XM_EMODEL,
                                "%s[%zu].max_leverage: expected at least 1 and at most %g, got %g",
                                where, k, p ? p->max_leverage : INFINITY, c->max_leverage);
    }
    /* cum_1 = 0, cum_k = cum_{k-1} + cap_{k-1} (mmr_k - mmr_{k-1}) (model.md §3), so that
     * MM(N) = N mmr_k - cum_k is continuous at every cap. */
    t->tier[0].cum = 0.0;
    for (size_t k = 1; k < t->n; k++)
        t->tier[k].cum = t->tier[k - 1].cum
                         + t->tier[k - 1].cap_usd * (t->tier[k].mmr - t->tier[k - 1].mmr);
    return XM_OK;
}

long xm_tier_index(const xm_tier_table *t, double notional)
{
    return xm_tier_index_inl(t, notional);
}

double xm_tier_mm(const xm_tier_table *t, double notional, int *beyond)
{
    return xm_tier_mm_inl(t, notional, beyond);
}

const char *xm_adl_ranking_name(xm_adl_ranking r)
{
    switch (r) {
    case XM_ADL_BINANCE: return "binance";
    case XM_ADL_BYBIT: return "bybit";
    case XM_ADL_HYPERLIQUID: return "hyperliquid";
    case XM_ADL_NONE: return "none";
    }
    return "?";
}
