/* model_population.c — the parameters of the `population:` section of a model file
 * (interface.md `population:`; xmrisk/population.h): parsed over xm_population_defaults, ranges
 * checked here with positions. Generating the accounts is model_accounts.c's. */
#include <string.h>

#include "xmrisk/platform.h"
#include "input/accounts_csv.h"
#include "input/limits.h"
#include "input/model_load.h"

static const char *const min_max_keys[] = {"min", "max", NULL};
static const char *const lognormal_keys[] = {"median", "sigma", "min", "max", NULL};
/* entry = S0 exp(d Z): bounded so that entries stay prices (docs/model.md §7). */
static const xy_range R_ENTRY_DISPERSION = {0.0, XM_ENTRY_DISPERSION_MAX, 0};

/* A population this large takes about 8 GB and 40 s to generate (10M: 0.8 GB, 4 s); larger
 * ones are refused at load time rather than left to run the machine out of memory. */
#define XM_POPULATION_MAX_ACCOUNTS 100000000u
/* Rough memory per account and per position of a population while it runs: the book (about
 * 30 bytes per position, 17 plus the id per account, xmrisk/accounts.h) and one thread's working
 * state (margin state, per-account sums, fast-path buckets). A population whose estimate
 * exceeds the machine's physical memory is refused with the estimate (docs/robustness.md). */
#define XM_POP_BYTES_PER_ACCOUNT 64.0
#define XM_POP_BYTES_PER_POSITION 96.0

/* min <= max and min <= median <= max of the lognormal n (at p), given or defaults. */
static xm_status check_lognormal_order(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                       const xm_lognormal *ln)
{
    char got[128];
    const xy_node *mn = xy_map_get(n, "min"), *xn = xy_map_get(n, "max"),
                  *dn = xy_map_get(n, "median");
    if (!(ln->min <= ln->max)) {
        if (xn != NULL) {
            xy_path xp = XY_KEY(p, "max");
            return xy_fail(c, xn, &xp, "expected a number >= min (%.15g), got %s", ln->min,
                           xy_describe(xn, got, sizeof got));
        }
        xy_path mp = XY_KEY(p, "min");
        return xy_fail(c, mn, &mp, "expected a number <= max (%.15g, the default), got %s",
                       ln->max, xy_describe(mn, got, sizeof got));
    }
    if (ln->min <= ln->median && ln->median <= ln->max)
        return XM_OK;
    if (dn != NULL) {
        xy_path dp = XY_KEY(p, "median");
        return xy_fail(c, dn, &dp, "expected a number in [min, max] = [%.15g, %.15g], got %s",
                       ln->min, ln->max, xy_describe(dn, got, sizeof got));
    }
    return xy_fail(c, n, p,
                   "expected min <= median <= max, got min %.15g, max %.15g and the default "
                   "median %.15g (give a median)",
                   ln->min, ln->max, ln->median);
}

/* {median, sigma, min, max}, each optional over the defaults in *ln; min <= median <= max. */
static xm_status load_lognormal(const xy_ctx *c, const xy_node *parent, const xy_path *pp,
                                const char *key, const xy_range *r_min, xm_lognormal *ln)
{
    xy_node *n = xy_map_get(parent, key);
    if (n == NULL)
        return XM_OK;
    xy_path p = XY_KEY(pp, key);
    xm_status s = xy_check_mapping(c, n, &p, "a mapping {median, sigma, min, max}",
                                   lognormal_keys, NULL);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "median", 0, &xm_r_positive, &ln->median);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "sigma", 0, &xm_r_nonneg, &ln->sigma);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "min", 0, r_min, &ln->min);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "max", 0, &xm_r_positive, &ln->max);
    return s == XM_OK ? check_lognormal_order(c, n, &p, ln) : s;
}

/* population.assets_per_account: {min, max}, 1 <= min <= max <= n. */
static xm_status load_assets_per_account(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                         size_t n_assets, xm_population_params *pp)
{
    xy_node *an = xy_map_get(n, "assets_per_account");
    if (an == NULL)
        return XM_OK;
    char got[128];
    xy_path ap = XY_KEY(p, "assets_per_account");
    uint64_t lo = pp->assets_min, hi = pp->assets_max;
    xm_status s = xy_check_mapping(c, an, &ap, "a mapping {min, max}", min_max_keys, NULL);
    if (s == XM_OK)
        s = xy_get_uint(c, an, &ap, "min", 0, 1, n_assets, &lo);
    if (s == XM_OK)
        s = xy_get_uint(c, an, &ap, "max", 0, 1, n_assets, &hi);
    if (s != XM_OK)
        return s;
    if (lo > hi) {
        const xy_node *xn = xy_map_get(an, "max");
        const char *k = xn ? "max" : "min";
        xy_path kp = XY_KEY(&ap, k);
        const xy_node *kn = xy_map_get(an, k);
        if (xn != NULL)
            return xy_fail(c, kn, &kp, "expected an integer >= min (%llu), got %s",
                           (unsigned long long)lo, xy_describe(kn, got, sizeof got));
        return xy_fail(c, kn, &kp, "expected an integer <= max (%llu, the default), got %s",
                       (unsigned long long)hi, xy_describe(kn, got, sizeof got));
    }
    pp->assets_min = (uint32_t)lo;
    pp->assets_max = (uint32_t)hi;
    return XM_OK;
}

/* population.asset_weights: {SYM: w >= 0}; assets left out get 0; some weight > 0. */
static xm_status load_asset_weights(const xy_ctx *c, const xy_node *wn, const xy_path *p,
                                    const xm_market *m, xm_population_params *pp)
{
    xy_path wp = XY_KEY(p, "asset_weights");
    xm_status s = xy_check_mapping(c, wn, &wp, "a mapping of asset symbol to weight", NULL, NULL);
    if (s != XM_OK)
        return s;
    for (size_t i = 0; i < pp->n_assets; i++)
        pp->asset_weight[i] = 0.0; /* assets left out are not drawn */
    double sum = 0.0;
    for (size_t i = 0; i < wn->count; i++) {
        const xy_node *k = wn->items[2 * i];
        xy_path kp = XY_KEY(&wp, k->text);
        long a = xm_market_find(m, k->text);
        if (a < 0)
            return xm_unknown_symbol(c, k, &kp, m);
        s = xy_number(c, wn->items[2 * i + 1], &kp, &xm_r_nonneg, &pp->asset_weight[a]);
        if (s != XM_OK)
            return s;
        sum += pp->asset_weight[a];
    }
    if (!(sum > 0.0))
        return xy_fail(c, wn, &wp, "expected at least one weight > 0, got %s",
                       wn->count ? "none" : "an empty mapping");
    return XM_OK;
}

/* population.id_prefix: an id-safe string (xm_account_id_problem). */
static xm_status load_id_prefix(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                xm_population_params *pp)
{
    const char *prefix = NULL;
    xm_status s = xy_get_string(c, n, p, "id_prefix", 0, sizeof pp->id_prefix - 1, &prefix);
    if (s != XM_OK || prefix == NULL)
        return s;
    char got[128];
    const xy_node *in = xy_map_get(n, "id_prefix");
    xy_path ip = XY_KEY(p, "id_prefix");
    const char *problem = xm_account_id_problem(prefix, in->len);
    if (problem != NULL)
        return xy_fail(c, in, &ip,
                       "expected an id prefix without control characters, commas or double "
                       "quotes, got %s (%s)",
                       xy_describe(in, got, sizeof got), problem);
    memcpy(pp->id_prefix, prefix, in->len + 1);
    return XM_OK;
}

/* The generator draws only assets with a weight > 0 and a tier table (population.c). Here: a
 * weight given explicitly to an asset without tiers is an error, and something must be
 * drawable (two assets for hedged pairs). */
static xm_status check_drawable(const xy_ctx *c, const xy_node *n, const xy_node *wn,
                                const xy_path *p, const xm_model *model,
                                const xm_population_params *pp)
{
    const xm_market *m = &model->market;
    char got[128];
    size_t drawable = 0;
    for (size_t a = 0; a < m->n; a++) {
        if (!(pp->asset_weight[a] > 0.0))
            continue;
        if (model->venue.tiers[a].n > 0) {
            drawable++;
            continue;
        }
        const xy_node *wk = wn ? xy_map_get(wn, m->assets[a].symbol) : NULL;
        if (wk != NULL) {
            xy_path wp = XY_KEY(p, "asset_weights"), kp = XY_KEY(&wp, m->assets[a].symbol);
            return xy_fail(c, wk, &kp,
                           "expected 0 for an asset without a tier table (venue.tiers has no "
                           "table for %s), got %s",
                           m->assets[a].symbol, xy_describe(wk, got, sizeof got));
        }
    }
    if (drawable == 0)
        return xy_fail(c, n, p,
                       "expected a tier table in venue.tiers for at least one asset the "
                       "population may draw, got none");
    if (pp->hedged_share > 0.0 && drawable < 2) {
        const xy_node *at = xy_map_get(n, "hedged_share");
        xy_path hp = XY_KEY(p, "hedged_share");
        return xy_fail(c, at, &hp,
                       "expected 0 when the population can draw only one asset (a hedged pair "
                       "needs two with weights > 0 and tier tables), got %s",
                       xy_describe(at, got, sizeof got));
    }
    return XM_OK;
}

/* Refuse, with the estimate, a population that cannot fit in memory. */
static xm_status check_population_memory(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                         const xm_population_params *pp)
{
    double need = (double)pp->accounts *
                  (XM_POP_BYTES_PER_ACCOUNT + XM_POP_BYTES_PER_POSITION * pp->assets_max);
    double have = xm_physical_memory_bytes();
    if (need <= have)
        return XM_OK;
    const xy_node *at = xy_map_get(n, "accounts");
    xy_path ap = XY_KEY(p, "accounts");
    return xy_fail(c, at, &ap,
                   "expected a population that fits in memory: %llu accounts of up to %u "
                   "positions need about %.1f GB, this machine has %.1f GB",
                   (unsigned long long)pp->accounts, (unsigned)pp->assets_max, need / 1e9,
                   have / 1e9);
}

xm_status xm_load_population_params(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                        const xm_model *model, xm_population_params *pp)
{
    const xm_market *m = &model->market;
    uint64_t count = 0;
    xm_status s = xy_get_uint(c, n, p, "accounts", 1, 1, XM_POPULATION_MAX_ACCOUNTS, &count);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "isolated_share", 0, &xm_r_unit, &pp->isolated_share);
    if (s == XM_OK)
        s = load_assets_per_account(c, n, p, m->n, pp);
    xy_node *wn = xy_map_get(n, "asset_weights");
    if (s == XM_OK && wn != NULL)
        s = load_asset_weights(c, wn, p, m, pp);
    if (s == XM_OK)
        s = load_lognormal(c, n, p, "leverage", &xm_r_leverage, &pp->leverage);
    if (s == XM_OK)
        s = load_lognormal(c, n, p, "notional_usd", &xm_r_positive, &pp->notional_usd);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "long_share", 0, &xm_r_unit, &pp->long_share);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "hedged_share", 0, &xm_r_unit, &pp->hedged_share);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "entry_dispersion", 0, &R_ENTRY_DISPERSION,
                           &pp->entry_dispersion);
    if (s == XM_OK)
        s = load_id_prefix(c, n, p, pp);
    if (s != XM_OK)
        return s;
    pp->accounts = count;
    s = check_population_memory(c, n, p, pp);
    return s == XM_OK ? check_drawable(c, n, wn, p, model, pp) : s;
}
