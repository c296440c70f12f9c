/* model_venue.c — the `venue:` section of a model file (model.md §3; see model.c for the
 * message format and the rules): insurance fund, liquidation, ADL ranking, tier tables. */
#include <stdint.h>
#include <string.h>

#include "input/model_load.h"

static const char *const venue_keys[] = {"insurance_fund_usd", "liquidation", "adl", "tiers",
                                         NULL};
static const char *const liquidation_keys[] = {"mode",       "fee_rate",
                                               "max_rounds", "step",
                                               "min_partial_notional_usd", "backstop_ratio",
                                               "remaining_equity", NULL};
static const char *const adl_keys[] = {"ranking", NULL};
static const char *const tier_keys[] = {"cap_usd", "mmr", "max_leverage", NULL};

/* In xm_liq_mode, xm_remaining_equity and xm_adl_ranking order. */
static const char *const liq_mode_names[] = {"full", "partial", NULL};
static const char *const remaining_names[] = {"keep", "to_fund", NULL};
static const char *const adl_names[] = {"binance", "bybit", "hyperliquid", "none", NULL};

static const xy_range R_RATE = {0.0, 1.0, XY_HI_OPEN};            /* [0, 1) */
static const xy_range R_STEP = {0.0, 1.0, XY_LO_OPEN};            /* (0, 1] */

static xm_status load_liquidation(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                  xm_venue *v)
{
    int mode = (int)v->mode, remaining = (int)v->remaining_equity;
    uint64_t rounds = v->max_rounds;
    xm_status s = xy_check_mapping(c, n, p,
                                   "a mapping {mode, fee_rate, max_rounds, remaining_equity, "
                                   "step, min_partial_notional_usd, backstop_ratio}",
                                   liquidation_keys, NULL);
    if (s == XM_OK)
        s = xy_get_enum(c, n, p, "mode", 0, liq_mode_names, &mode);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "fee_rate", 0, &R_RATE, &v->fee_rate);
    if (s == XM_OK)
        s = xy_get_uint(c, n, p, "max_rounds", 0, 1, UINT32_MAX, &rounds);
    if (s == XM_OK)
        s = xy_get_enum(c, n, p, "remaining_equity", 0, remaining_names, &remaining);
    if (s != XM_OK)
        return s;
    v->mode = (xm_liq_mode)mode;
    v->max_rounds = (uint32_t)rounds;
    v->remaining_equity = (xm_remaining_equity)remaining;
    if (v->mode == XM_LIQ_FULL) {
        /* Rejected rather than ignored, as dof with gbm: a partial setting under mode full is
         * most likely a forgotten `mode: partial`. */
        static const char why[] = "not used by mode full (step, min_partial_notional_usd and "
                                  "backstop_ratio are for mode partial)";
        for (size_t i = 0; i < n->count; i++) {
            const char *k = n->items[2 * i]->text;
            if (strcmp(k, "step") == 0 || strcmp(k, "min_partial_notional_usd") == 0 ||
                strcmp(k, "backstop_ratio") == 0)
                return xm_reject_key(c, n, p, k, why);
        }
        return XM_OK;
    }
    s = xy_get_number(c, n, p, "step", 0, &R_STEP, &v->step);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "min_partial_notional_usd", 0, &xm_r_money,
                          &v->min_partial_notional_usd);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "backstop_ratio", 0, &xm_r_unit, &v->backstop_ratio);
    return s;
}

static xm_status load_tier_table(const xy_ctx *c, const xy_node *seq, const xy_path *p,
                                 xm_tier_table *t)
{
    static const char what[] = "a non-empty sequence of tiers {cap_usd, mmr, max_leverage}";
    char got[128];
    xm_status s = xy_check_sequence(c, seq, p, what);
    if (s != XM_OK)
        return s;
    if (seq->count == 0)
        return xy_fail(c, seq, p, "expected %s, got %s", what, xy_describe(seq, got, sizeof got));
    s = xm_tiers_alloc(t, seq->count, c->err);
    for (size_t k = 0; k < seq->count && s == XM_OK; k++) {
        const xy_node *n = seq->items[k];
        xy_path tp = XY_INDEX(p, k);
        xm_tier *tier = &t->tier[k];
        s = xy_check_mapping(c, n, &tp, "a mapping {cap_usd, mmr, max_leverage}", tier_keys,
                             NULL);
        if (s == XM_OK)
            s = xy_get_number(c, n, &tp, "cap_usd", 1, &xm_r_money_pos, &tier->cap_usd);
        if (s == XM_OK)
            s = xy_get_number(c, n, &tp, "mmr", 1, &R_RATE, &tier->mmr);
        if (s == XM_OK)
            s = xy_get_number(c, n, &tp, "max_leverage", 1, &xm_r_leverage, &tier->max_leverage);
    }
    if (s != XM_OK)
        return s;
    /* Order (caps increasing, mmr non-decreasing, leverage non-increasing) and cum: messages
     * "FILE:LINE:COL: venue.tiers.SYM[k].cap_usd: ...", at the table's position. */
    char where[512];
    xy_where(c, seq, p, where, sizeof where);
    return xm_tiers_prepare(t, where, c->err);
}

/* venue.adl: {ranking}. */
static xm_status load_adl(const xy_ctx *c, const xy_node *an, const xy_path *ap, xm_venue *v)
{
    int ranking = (int)v->adl;
    xm_status s = xy_check_mapping(c, an, ap, "a mapping {ranking}", adl_keys, NULL);
    if (s == XM_OK)
        s = xy_get_enum(c, an, ap, "ranking", 1, adl_names, &ranking);
    if (s == XM_OK)
        v->adl = (xm_adl_ranking)ranking;
    return s;
}

/* venue.tiers: {SYM: tier table} into v->tiers[the asset's index]. */
static xm_status load_tiers(const xy_ctx *c, const xy_node *tn, const xy_path *tp,
                            const xm_market *m, xm_venue *v)
{
    xm_status s = xy_check_mapping(c, tn, tp, "a mapping of asset symbol to a sequence of tiers",
                                   NULL, NULL);
    for (size_t i = 0; s == XM_OK && i < tn->count; i++) {
        const xy_node *k = tn->items[2 * i];
        xy_path kp = XY_KEY(tp, k->text);
        long a = xm_market_find(m, k->text);
        if (a < 0)
            return xm_unknown_symbol(c, k, &kp, m);
        s = load_tier_table(c, tn->items[2 * i + 1], &kp, &v->tiers[a]);
    }
    return s;
}

xm_status xm_load_venue(const xy_ctx *c, const xy_node *n, const xy_path *p, xm_model *model)
{
    xm_venue *v = &model->venue;
    xm_status s = xy_check_mapping(c, n, p,
                                   "a mapping {insurance_fund_usd, liquidation, adl, tiers}",
                                   venue_keys, NULL);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "insurance_fund_usd", 1, &xm_r_money, &v->insurance_fund_usd);
    xy_node *ln = xy_map_get(n, "liquidation");
    if (s == XM_OK && ln != NULL) {
        xy_path lp = XY_KEY(p, "liquidation");
        s = load_liquidation(c, ln, &lp, v);
    }
    xy_node *an = xy_map_get(n, "adl");
    if (s == XM_OK && an != NULL) {
        xy_path ap = XY_KEY(p, "adl");
        s = load_adl(c, an, &ap, v);
    }
    xy_node *tn = xy_map_get(n, "tiers");
    if (s == XM_OK && tn != NULL) {
        xy_path tp = XY_KEY(p, "tiers");
        s = load_tiers(c, tn, &tp, &model->market, v);
    }
    if (s == XM_OK)
        model->has_venue = 1;
    return s;
}
