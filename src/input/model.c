/* model.c — read and validate a model file (see xmrisk/model.h, shared/spec/interface.md).
 *
 * Every problem is reported once, the first in file order within each mapping, as
 * "FILE:LINE:COLUMN: KEY.PATH: expected WHAT, got VALUE" (yaml_tree.h) with XM_EMODEL.
 *
 * Margin-engine sections (model.md §3-§4), read after `market:`:
 *  - `venue:` fills model->venue over xm_venue_init's defaults (always initialised, so a model
 *    without the section has the defaults and empty tier tables). The partial-only settings
 *    (step, min_partial_notional_usd, backstop_ratio) are refused under mode full, as `dof` is
 *    under gbm: most likely a forgotten `mode: partial`. Tier order and cum are
 *    xm_tiers_prepare's, its messages prefixed "FILE:LINE:COL: venue.tiers.SYM" (the table).
 *  - Accounts go into one book in the order `accounts`, `accounts_csv`, `population`, with ids
 *    unique across the three (one id map; a duplicate names where the first was given).
 *    Explicit accounts: cross needs wallet_usd and refuses margin_usd; isolated refuses
 *    wallet_usd and needs margin_usd on every position; at least one position; every position's
 *    asset needs a tier table and |qty| * entry within its last cap.
 *  - `accounts_csv:` paths are relative to the directory of the model file (for text in memory:
 *    of the name given to xm_model_load_string; none: the working directory). File rules:
 *    accounts_csv.h. An unreadable file is XM_EIO naming the path and the key.
 *  - `population:` is parsed over xm_population_defaults (sub-keys optional, ranges checked
 *    here with positions) and generated with the model's seed; the generator draws only assets
 *    with a weight > 0 and a tier table, so an explicit weight > 0 on an asset without tiers is
 *    an error, as is a population with nothing to draw.
 */
#include "xmrisk/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "input/accounts_csv.h"
#include "core/file.h"
#include "core/util.h"
#include "xmrisk/population.h"
#include "input/yaml_tree.h"

static const char *const top_keys[] = {"name",     "seed",         "paths",      "horizon_days",
                                       "steps",    "market",       "venue",      "accounts",
                                       "accounts_csv", "population", NULL};
static const char *const market_keys[] = {"process", "dof", "jumps", "assets", "correlation",
                                          "correlation_repair", "impact", NULL};
static const char *const jump_keys[] = {"rate_per_year", "mean", "stdev", NULL};
static const char *const asset_keys[] = {"symbol", "price", "vol", "drift", "jump_beta", NULL};
static const char *const impact_keys[] = {"model", "depth_1pct_usd", "daily_volume_usd", "y",
                                          "half_life_minutes", NULL};
static const char *const venue_keys[] = {"insurance_fund_usd", "liquidation", "adl", "tiers",
                                         NULL};
static const char *const liquidation_keys[] = {"mode",       "fee_rate",
                                               "max_rounds", "step",
                                               "min_partial_notional_usd", "backstop_ratio",
                                               "remaining_equity", NULL};
static const char *const adl_keys[] = {"ranking", NULL};
static const char *const tier_keys[] = {"cap_usd", "mmr", "max_leverage", NULL};
static const char *const account_keys[] = {"id", "mode", "wallet_usd", "positions", NULL};
static const char *const position_keys[] = {"asset", "qty", "entry", "margin_usd", NULL};
static const char *const csv_keys[] = {"accounts", "positions", NULL};
static const char *const population_keys[] = {
    "accounts",     "isolated_share", "assets_per_account", "asset_weights",    "leverage",
    "notional_usd", "long_share",     "hedged_share",       "entry_dispersion", "id_prefix",
    NULL};
static const char *const min_max_keys[] = {"min", "max", NULL};
static const char *const lognormal_keys[] = {"median", "sigma", "min", "max", NULL};

/* In xm_process order. */
static const char *const process_names[] = {"gbm", "student_t", "bachelier", NULL};
static const char *const repair_names[] = {"none", "higham", NULL};
static const char *const impact_names[] = {"linear", "sqrt", NULL};
/* In xm_liq_mode, xm_remaining_equity, xm_adl_ranking and xm_margin_mode order. */
static const char *const liq_mode_names[] = {"full", "partial", NULL};
static const char *const remaining_names[] = {"keep", "to_fund", NULL};
static const char *const adl_names[] = {"binance", "bybit", "hyperliquid", "none", NULL};
static const char *const margin_mode_names[] = {"cross", "isolated", NULL};

#define XM_MODEL_DEFAULT_SEED 1u
#define XM_MODEL_DEFAULT_PATHS 10000u
#define XM_MODEL_MAX_STEPS 100000000u
/* A population this large takes about 8 GB and 40 s to generate (10M: 0.8 GB, 4 s); larger
 * ones are refused at load time rather than left to run the machine out of memory. */
#define XM_POPULATION_MAX_ACCOUNTS 100000000u
/* Rough memory per account and per position of a population while it runs: the book (about
 * 30 bytes per position, 17 plus the id per account, xmrisk/accounts.h) and one thread's working
 * state (margin state, per-account sums, fast-path buckets). A population whose estimate
 * exceeds the machine's physical memory is refused with the estimate (docs/robustness.md). */
#define XM_POP_BYTES_PER_ACCOUNT 64.0
#define XM_POP_BYTES_PER_POSITION 96.0
#define XM_IMPACT_DEFAULT_Y 0.8
#define XM_CORR_TOL 1e-12
/* Larger inputs are refused rather than read until memory runs out (/dev/zero). */
#define XM_MODEL_MAX_BYTES ((size_t)256 << 20)

static const xy_range R_POSITIVE = {0.0, INFINITY, XY_LO_OPEN};
static const xy_range R_NONNEG = {0.0, INFINITY, 0};
static const xy_range R_FINITE = {-INFINITY, INFINITY, 0};
static const xy_range R_DOF = {2.0, INFINITY, XY_LO_OPEN};
static const xy_range R_CORR = {-1.0, 1.0, 0};
static const xy_range R_HALF_LIFE = {0.0, INFINITY, XY_LO_OPEN | XY_ALLOW_INF};
static const xy_range R_RATE = {0.0, 1.0, XY_HI_OPEN};            /* [0, 1) */
static const xy_range R_UNIT = {0.0, 1.0, 0};                     /* [0, 1] */
static const xy_range R_STEP = {0.0, 1.0, XY_LO_OPEN};            /* (0, 1] */
static const xy_range R_LEVERAGE = {1.0, INFINITY, 0};            /* >= 1 */
/* Bounds that keep every product of the engine finite (docs/model.md §7: no NaN or infinity
 * in a result). They are far outside any market: annual volatility 10,000%, drift +-10,000%,
 * a jump of e^10 (22,000x), 100,000 jumps a year, a price of 10^15 USD. */
static const xy_range R_PRICE = {0.0, 1e15, XY_LO_OPEN};
static const xy_range R_VOL = {0.0, 100.0, 0};
static const xy_range R_DRIFT = {-100.0, 100.0, 0};
static const xy_range R_JUMP_SIZE = {-10.0, 10.0, 0};
static const xy_range R_JUMP_SD = {0.0, 10.0, 0};
static const xy_range R_JUMP_RATE = {0.0, 1e5, 0};

/* A key that must not be there: the error points at the key. */
static xm_status reject_key(const xy_ctx *c, const xy_node *map, const xy_path *path,
                            const char *key, const char *why)
{
    xy_node *k = xy_map_key_node(map, key);
    if (k == NULL)
        return XM_OK;
    xy_path kp = XY_KEY(path, key);
    return xy_fail(c, k, &kp, "%s", why);
}

static xm_status load_jumps(const xy_ctx *c, const xy_node *n, const xy_path *path, xm_jumps *j)
{
    xm_status s = xy_check_mapping(c, n, path, "a mapping {rate_per_year, mean, stdev}",
                                   jump_keys, NULL);
    if (s == XM_OK)
        s = xy_get_number(c, n, path, "rate_per_year", 1, &R_JUMP_RATE, &j->rate_per_year);
    if (s == XM_OK)
        s = xy_get_number(c, n, path, "mean", 1, &R_JUMP_SIZE, &j->mean);
    if (s == XM_OK)
        s = xy_get_number(c, n, path, "stdev", 1, &R_JUMP_SD, &j->stdev);
    if (s == XM_OK)
        j->enabled = 1;
    return s;
}

static xm_status load_asset(const xy_ctx *c, const xy_node *assets, size_t i,
                            const xy_path *assets_path, xm_market *m)
{
    const xy_node *n = assets->items[i];
    xy_path p = XY_INDEX(assets_path, i);
    xm_asset *a = &m->assets[i];
    const char *symbol;
    xm_status s = xy_check_mapping(c, n, &p, "a mapping {symbol, price, vol, drift, jump_beta}",
                                   asset_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, &p, "symbol", 1, XM_SYMBOL_MAX - 1, &symbol);
    if (s != XM_OK)
        return s;
    for (size_t j = 0; j < i; j++) {
        if (strcmp(m->assets[j].symbol, symbol) != 0)
            continue;
        const xy_node *first = xy_map_get(assets->items[j], "symbol");
        xy_path sp = XY_KEY(&p, "symbol");
        char got[128];
        return xy_fail(c, xy_map_get(n, "symbol"), &sp,
                       "expected a symbol no other asset has, got %s (also market.assets[%zu] at "
                       "%d:%d)",
                       xy_describe(xy_map_get(n, "symbol"), got, sizeof got), j, first->line,
                       first->column);
    }
    memcpy(a->symbol, symbol, strlen(symbol) + 1);
    a->drift = 0.0;
    a->jump_beta = 1.0;
    a->impact.model = XM_IMPACT_NONE;
    a->impact.half_life_minutes = INFINITY;
    s = xy_get_number(c, n, &p, "price", 1, &R_PRICE, &a->price);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "vol", 1, &R_VOL, &a->vol);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "drift", 0, &R_DRIFT, &a->drift);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "jump_beta", 0, &R_DRIFT, &a->jump_beta);
    return s;
}

/* Shape, range, unit diagonal and symmetry, each with the position of the offending entry;
 * then copy into m->corr. Positive definiteness is xm_market_prepare's. */
static xm_status load_correlation(const xy_ctx *c, const xy_node *cn, const xy_path *cp,
                                  xm_market *m)
{
    const size_t n = m->n;
    char what[96], got[128], mirror[128];
    snprintf(what, sizeof what, "a sequence of %zu rows of %zu numbers (one per asset)", n, n);
    xm_status s = xy_check_sequence(c, cn, cp, what);
    if (s != XM_OK)
        return s;
    if (cn->count != n)
        return xy_fail(c, cn, cp, "expected %zu rows (one per asset), got %zu", n, cn->count);
    for (size_t i = 0; i < n; i++) {
        const xy_node *row = cn->items[i];
        xy_path rp = XY_INDEX(cp, i);
        snprintf(what, sizeof what, "a sequence of %zu numbers (one per asset)", n);
        s = xy_check_sequence(c, row, &rp, what);
        if (s != XM_OK)
            return s;
        if (row->count != n)
            return xy_fail(c, row, &rp, "expected %zu entries (one per asset), got %zu", n,
                           row->count);
        for (size_t j = 0; j < n; j++) {
            xy_path ep = XY_INDEX(&rp, j);
            s = xy_number(c, row->items[j], &ep, &R_CORR, &m->corr[i * n + j]);
            if (s != XM_OK)
                return s;
        }
    }
    for (size_t i = 0; i < n; i++) {
        xy_path rp = XY_INDEX(cp, i);
        for (size_t j = 0; j <= i; j++) {
            const xy_node *e = cn->items[i]->items[j];
            xy_path ep = XY_INDEX(&rp, j);
            double v = m->corr[i * n + j];
            if (i == j && fabs(v - 1.0) > XM_CORR_TOL)
                return xy_fail(c, e, &ep, "expected 1 on the diagonal, got %s",
                               xy_describe(e, got, sizeof got));
            if (i != j && fabs(v - m->corr[j * n + i]) > XM_CORR_TOL) {
                const xy_node *t = cn->items[j]->items[i];
                return xy_fail(c, e, &ep,
                               "expected %s as at market.correlation[%zu][%zu] (%d:%d; the "
                               "matrix must be symmetric), got %s",
                               xy_describe(t, mirror, sizeof mirror), j, i, t->line, t->column,
                               xy_describe(e, got, sizeof got));
            }
        }
    }
    return XM_OK;
}

/* "expected the symbol of an asset (BTC, ETH), got 'DOGE'" at `at`. */
static xm_status unknown_symbol(const xy_ctx *c, const xy_node *at, const xy_path *p,
                                const xm_market *m)
{
    char list[512], got[128];
    size_t pos = 0;
    list[0] = '\0';
    for (size_t j = 0; j < m->n; j++) {
        int w = snprintf(list + pos, sizeof list - pos, "%s%s", j ? ", " : "",
                         m->assets[j].symbol);
        if (w < 0 || (size_t)w >= sizeof list - pos)
            break;
        pos += (size_t)w;
    }
    return xy_fail(c, at, p, "expected the symbol of an asset (%s), got %s", list,
                   xy_describe(at, got, sizeof got));
}

static xm_status load_impact_entry(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                   xm_impact *imp)
{
    int model = 0;
    xm_status s = xy_check_mapping(
        c, n, p, "a mapping {model, depth_1pct_usd | daily_volume_usd, y, half_life_minutes}",
        impact_keys, NULL);
    if (s == XM_OK)
        s = xy_get_enum(c, n, p, "model", 1, impact_names, &model);
    if (s != XM_OK)
        return s;
    imp->depth_1pct_usd = 0.0;
    imp->daily_volume_usd = 0.0;
    imp->y = 0.0;
    imp->half_life_minutes = INFINITY;
    if (model == 0) {
        imp->model = XM_IMPACT_LINEAR;
        static const char why[] =
            "not used by model linear (it takes depth_1pct_usd and half_life_minutes)";
        s = reject_key(c, n, p, "daily_volume_usd", why);
        if (s == XM_OK)
            s = reject_key(c, n, p, "y", why);
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "depth_1pct_usd", 1, &R_POSITIVE, &imp->depth_1pct_usd);
    } else {
        imp->model = XM_IMPACT_SQRT;
        imp->y = XM_IMPACT_DEFAULT_Y;
        s = reject_key(c, n, p, "depth_1pct_usd",
                       "not used by model sqrt (it takes daily_volume_usd, y and "
                       "half_life_minutes)");
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "daily_volume_usd", 1, &R_POSITIVE,
                              &imp->daily_volume_usd);
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "y", 0, &R_POSITIVE, &imp->y);
    }
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "half_life_minutes", 0, &R_HALF_LIFE,
                          &imp->half_life_minutes);
    return s;
}

static xm_status load_impact(const xy_ctx *c, const xy_node *n, const xy_path *ip, xm_market *m)
{
    xm_status s = xy_check_mapping(c, n, ip, "a mapping of asset symbol to impact model", NULL,
                                   NULL);
    if (s != XM_OK)
        return s;
    for (size_t i = 0; i < n->count; i++) {
        const xy_node *k = n->items[2 * i];
        xy_path kp = XY_KEY(ip, k->text);
        long a = xm_market_find(m, k->text);
        if (a < 0)
            return unknown_symbol(c, k, &kp, m);
        s = load_impact_entry(c, n->items[2 * i + 1], &kp, &m->assets[a].impact);
        if (s != XM_OK)
            return s;
    }
    return XM_OK;
}

static xm_status load_market(const xy_ctx *c, const xy_node *n, const xy_path *mp, xm_market *m)
{
    int process = 0, repair = 0;
    double dof = 0.0;
    xm_jumps jumps = {0};
    char got[128];

    xm_status s = xy_check_mapping(c, n, mp, "a mapping {process, assets, correlation, ...}",
                                   market_keys, NULL);
    if (s == XM_OK)
        s = xy_get_enum(c, n, mp, "process", 1, process_names, &process);
    if (s != XM_OK)
        return s;

    if (process == XM_PROCESS_STUDENT_T)
        s = xy_get_number(c, n, mp, "dof", 1, &R_DOF, &dof);
    else
        s = reject_key(c, n, mp, "dof",
                       process == XM_PROCESS_GBM
                           ? "not allowed with process gbm (dof is for process student_t)"
                           : "not allowed with process bachelier (dof is for process student_t)");
    if (s != XM_OK)
        return s;

    xy_node *jn = xy_map_get(n, "jumps");
    if (jn != NULL) {
        if (process == XM_PROCESS_BACHELIER)
            return reject_key(c, n, mp, "jumps",
                              "not allowed with process bachelier (jumps add to ln S: they apply "
                              "to gbm or student_t)");
        xy_path jp = XY_KEY(mp, "jumps");
        s = load_jumps(c, jn, &jp, &jumps);
        if (s != XM_OK)
            return s;
    }

    xy_node *an;
    s = xy_require(c, n, mp, "assets", &an);
    if (s != XM_OK)
        return s;
    xy_path ap = XY_KEY(mp, "assets");
    s = xy_check_sequence(c, an, &ap, "a non-empty sequence of assets");
    if (s != XM_OK)
        return s;
    if (an->count == 0)
        return xy_fail(c, an, &ap, "expected a non-empty sequence of assets, got %s",
                       xy_describe(an, got, sizeof got));
    s = xm_market_init(m, an->count, c->err);
    if (s != XM_OK)
        return s;
    m->process = (xm_process)process;
    m->dof = dof;
    m->jumps = jumps;
    for (size_t i = 0; i < an->count; i++) {
        s = load_asset(c, an, i, &ap, m);
        if (s != XM_OK)
            return s;
    }

    xy_node *cn = xy_map_get(n, "correlation");
    xy_path cp = XY_KEY(mp, "correlation");
    if (cn != NULL) {
        s = load_correlation(c, cn, &cp, m);
        if (s != XM_OK)
            return s;
    } else if (m->n > 1) {
        return xy_fail(c, n, mp,
                       "missing required key 'correlation' (%zu assets need a %zux%zu matrix)",
                       m->n, m->n, m->n);
    }
    s = xy_get_enum(c, n, mp, "correlation_repair", 0, repair_names, &repair);
    if (s != XM_OK)
        return s;
    m->corr_repair = repair;

    xy_node *in = xy_map_get(n, "impact");
    if (in != NULL) {
        xy_path ip = XY_KEY(mp, "impact");
        s = load_impact(c, in, &ip, m);
        if (s != XM_OK)
            return s;
    }

    char where[512];
    xy_where(c, cn ? cn : n, &cp, where, sizeof where);
    return xm_market_prepare(m, where, c->err);
}

/* ---- venue (model.md §3) ------------------------------------------------------------------ */

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
                return reject_key(c, n, p, k, why);
        }
        return XM_OK;
    }
    s = xy_get_number(c, n, p, "step", 0, &R_STEP, &v->step);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "min_partial_notional_usd", 0, &R_NONNEG,
                          &v->min_partial_notional_usd);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "backstop_ratio", 0, &R_UNIT, &v->backstop_ratio);
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
            s = xy_get_number(c, n, &tp, "cap_usd", 1, &R_POSITIVE, &tier->cap_usd);
        if (s == XM_OK)
            s = xy_get_number(c, n, &tp, "mmr", 1, &R_RATE, &tier->mmr);
        if (s == XM_OK)
            s = xy_get_number(c, n, &tp, "max_leverage", 1, &R_LEVERAGE, &tier->max_leverage);
    }
    if (s != XM_OK)
        return s;
    /* Order (caps increasing, mmr non-decreasing, leverage non-increasing) and cum: messages
     * "FILE:LINE:COL: venue.tiers.SYM[k].cap_usd: ...", at the table's position. */
    char where[512];
    xy_where(c, seq, p, where, sizeof where);
    return xm_tiers_prepare(t, where, c->err);
}

static xm_status load_venue(const xy_ctx *c, const xy_node *n, const xy_path *p, xm_model *model)
{
    xm_venue *v = &model->venue;
    xm_status s = xy_check_mapping(c, n, p,
                                   "a mapping {insurance_fund_usd, liquidation, adl, tiers}",
                                   venue_keys, NULL);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "insurance_fund_usd", 1, &R_NONNEG, &v->insurance_fund_usd);
    if (s != XM_OK)
        return s;

    xy_node *ln = xy_map_get(n, "liquidation");
    if (ln != NULL) {
        xy_path lp = XY_KEY(p, "liquidation");
        s = load_liquidation(c, ln, &lp, v);
        if (s != XM_OK)
            return s;
    }

    xy_node *an = xy_map_get(n, "adl");
    if (an != NULL) {
        xy_path ap = XY_KEY(p, "adl");
        int ranking = (int)v->adl;
        s = xy_check_mapping(c, an, &ap, "a mapping {ranking}", adl_keys, NULL);
        if (s == XM_OK)
            s = xy_get_enum(c, an, &ap, "ranking", 1, adl_names, &ranking);
        if (s != XM_OK)
            return s;
        v->adl = (xm_adl_ranking)ranking;
    }

    xy_node *tn = xy_map_get(n, "tiers");
    if (tn != NULL) {
        xy_path tp = XY_KEY(p, "tiers");
        s = xy_check_mapping(c, tn, &tp, "a mapping of asset symbol to a sequence of tiers", NULL,
                             NULL);
        for (size_t i = 0; s == XM_OK && i < tn->count; i++) {
            const xy_node *k = tn->items[2 * i];
            xy_path kp = XY_KEY(&tp, k->text);
            long a = xm_market_find(&model->market, k->text);
            if (a < 0)
                return unknown_symbol(c, k, &kp, &model->market);
            s = load_tier_table(c, tn->items[2 * i + 1], &kp, &v->tiers[a]);
        }
        if (s != XM_OK)
            return s;
    }
    model->has_venue = 1;
    return XM_OK;
}

/* ---- accounts (model.md §4) --------------------------------------------------------------- */

/* What the account sources share while loading: the id map (id -> book index) and where each
 * book index came from, for duplicate-id messages. */
typedef struct {
    const xy_ctx *c;
    xm_model *model;
    xm_idmap ids;
    const xy_node *accounts;  /* the `accounts:` sequence: book indices 0 .. n_yaml-1 */
    size_t n_yaml;
    char *csv_path;           /* resolved accounts file: book indices csv_first .. +n_csv-1 */
    size_t csv_first, n_csv;
} sources;

static void account_origin(void *ctx, size_t a, char *buf, size_t size)
{
    const sources *S = ctx;
    if (S->accounts != NULL && a < S->n_yaml) {
        const xy_node *id = xy_map_get(S->accounts->items[a], "id");
        snprintf(buf, size, "accounts[%zu] at %s:%d:%d", a, S->c->file, id->line, id->column);
    } else if (S->csv_path != NULL && a >= S->csv_first && a < S->csv_first + S->n_csv) {
        snprintf(buf, size, "%s:%zu", S->csv_path, a - S->csv_first + 2);
    } else {
        snprintf(buf, size, "population account #%zu", a);
    }
}

static xm_status ensure_book(xm_model *model, xm_error *err)
{
    if (model->book == NULL)
        model->book = xm_accounts_alloc(err);
    return model->book ? XM_OK : XM_ENOMEM;
}

/* Error unless asset `a` has a tier table (at `at`, the asset's value). */
static xm_status require_tiers(const xy_ctx *c, const xy_node *at, const xy_path *p,
                               const xm_model *model, long a)
{
    if (model->venue.tiers[a].n > 0)
        return XM_OK;
    char got[128];
    if (!model->has_venue)
        return xy_fail(c, at, p,
                       "expected an asset with a maintenance-margin tier table, got %s (the model "
                       "has no venue: section; give venue.tiers.%s)",
                       xy_describe(at, got, sizeof got), model->market.assets[a].symbol);
    return xy_fail(c, at, p,
                   "expected an asset with a maintenance-margin tier table, got %s (venue.tiers "
                   "has no table for %s)",
                   xy_describe(at, got, sizeof got), model->market.assets[a].symbol);
}

static xm_status load_position(sources *S, const xy_node *n, const xy_path *p,
                               xm_margin_mode mode)
{
    const xy_ctx *c = S->c;
    xm_model *model = S->model;
    const char *symbol;
    double qty = 0.0, entry = 0.0, margin = 0.0;
    char got[128];
    xm_status s = xy_check_mapping(c, n, p, "a mapping {asset, qty, entry, margin_usd}",
                                   position_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, p, "asset", 1, 0, &symbol);
    if (s != XM_OK)
        return s;
    const xy_node *an = xy_map_get(n, "asset");
    xy_path ap = XY_KEY(p, "asset");
    long a = xm_market_find(&model->market, symbol);
    if (a < 0)
        return unknown_symbol(c, an, &ap, &model->market);
    s = require_tiers(c, an, &ap, model, a);
    if (s != XM_OK)
        return s;

    xy_node *qn;
    s = xy_require(c, n, p, "qty", &qn);
    if (s != XM_OK)
        return s;
    xy_path qp = XY_KEY(p, "qty");
    xy_ctx quiet = {c->file, NULL};
    if (xy_number(&quiet, qn, &qp, &R_FINITE, &qty) != XM_OK || qty == 0.0)
        return xy_fail(c, qn, &qp,
                       "expected a non-zero finite number (base units, > 0 long, < 0 short), "
                       "got %s",
                       xy_describe(qn, got, sizeof got));
    s = xy_get_number(c, n, p, "entry", 1, &R_POSITIVE, &entry);
    if (s == XM_OK) {
        if (mode == XM_ISOLATED)
            s = xy_get_number(c, n, p, "margin_usd", 1, &R_POSITIVE, &margin);
        else
            s = reject_key(c, n, p, "margin_usd",
                           "not used by mode cross (the account's wallet_usd is the margin of "
                           "all its positions)");
    }
    if (s != XM_OK)
        return s;
    const xm_tier_table *t = &model->venue.tiers[a];
    double notional = fabs(qty) * entry;
    if (xm_tier_index(t, notional) < 0)
        return xy_fail(c, n, p,
                       "expected |qty| * entry <= %.15g USD (the last tier cap of %s in "
                       "venue.tiers, model.md §3), got %.15g",
                       t->tier[t->n - 1].cap_usd, symbol, notional);
    return xm_accounts_add_position(model->book, (uint16_t)a, qty, entry, margin, c->err);
}

static xm_status load_account(sources *S, const xy_node *seq, size_t i, const xy_path *seq_path)
{
    const xy_ctx *c = S->c;
    xm_accounts *book = S->model->book;
    const xy_node *n = seq->items[i];
    xy_path p = XY_INDEX(seq_path, i);
    const char *id;
    int mode = XM_CROSS;
    double wallet = 0.0;
    char got[128];
    xm_status s = xy_check_mapping(c, n, &p, "a mapping {id, mode, wallet_usd, positions}",
                                   account_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, &p, "id", 1, 0, &id);
    if (s != XM_OK)
        return s;
    const xy_node *idn = xy_map_get(n, "id");
    xy_path ip = XY_KEY(&p, "id");
    const char *problem = xm_account_id_problem(id, idn->len);
    if (problem != NULL)
        return xy_fail(c, idn, &ip,
                       "expected an account id (1 to %d bytes; no control characters, commas or "
                       "double quotes), got %s (%s)",
                       XM_ACCOUNT_ID_MAX, xy_describe(idn, got, sizeof got), problem);
    uint32_t prev;
    s = xm_idmap_put(&S->ids, id, idn->len, (uint32_t)book->n_accounts, &prev, c->err);
    if (s != XM_OK)
        return s;
    if (prev != XM_IDMAP_NONE) {
        char where[300];
        account_origin(S, prev, where, sizeof where);
        return xy_fail(c, idn, &ip, "expected an id no other account has, got %s (also %s)",
                       xy_describe(idn, got, sizeof got), where);
    }

    s = xy_get_enum(c, n, &p, "mode", 0, margin_mode_names, &mode);
    if (s == XM_OK) {
        if (mode == XM_CROSS)
            s = xy_get_number(c, n, &p, "wallet_usd", 1, &R_NONNEG, &wallet);
        else
            s = reject_key(c, n, &p, "wallet_usd",
                           "not used by mode isolated (each position has its own margin_usd)");
    }
    xy_node *pn = NULL;
    if (s == XM_OK)
        s = xy_require(c, n, &p, "positions", &pn);
    if (s != XM_OK)
        return s;
    xy_path pp = XY_KEY(&p, "positions");
    static const char what[] = "a non-empty sequence of positions {asset, qty, entry, ...}";
    s = xy_check_sequence(c, pn, &pp, what);
    if (s != XM_OK)
        return s;
    if (pn->count == 0)
        return xy_fail(c, pn, &pp, "expected %s, got %s", what, xy_describe(pn, got, sizeof got));

    s = xm_accounts_add_account(book, id, (xm_margin_mode)mode, wallet, c->err);
    for (size_t j = 0; j < pn->count && s == XM_OK; j++) {
        xy_path jp = XY_INDEX(&pp, j);
        s = load_position(S, pn->items[j], &jp, (xm_margin_mode)mode);
    }
    return s;
}

static xm_status load_accounts(sources *S, const xy_node *n, const xy_path *p)
{
    static const char what[] = "a non-empty sequence of accounts {id, mode, wallet_usd, "
                               "positions}";
    char got[128];
    xm_status s = xy_check_sequence(S->c, n, p, what);
    if (s != XM_OK)
        return s;
    if (n->count == 0)
        return xy_fail(S->c, n, p, "expected %s, got %s", what, xy_describe(n, got, sizeof got));
    if (S->model->market.n > (size_t)UINT16_MAX + 1)
        return xy_fail(S->c, n, p, "expected a market of at most %u assets with accounts, got %zu",
                       (unsigned)UINT16_MAX + 1, S->model->market.n);
    s = ensure_book(S->model, S->c->err);
    if (s != XM_OK)
        return s;
    S->accounts = n;
    for (size_t i = 0; i < n->count && s == XM_OK; i++) {
        s = load_account(S, n, i, p);
        S->n_yaml = S->model->book->n_accounts;
    }
    return s;
}

/* A path from the model file: absolute as is, otherwise relative to the directory of `file`
 * (the model's path, or the name given to xm_model_load_string; no directory: the working
 * directory). */
static char *resolve_path(const char *file, const char *rel)
{
    const char *slash = strrchr(file, '/');
    size_t dir = (rel[0] == '/' || slash == NULL) ? 0 : (size_t)(slash - file) + 1;
    size_t len = strlen(rel);
    char *s = malloc(dir + len + 1);
    if (s != NULL) {
        memcpy(s, file, dir);
        memcpy(s + dir, rel, len + 1);
    }
    return s;
}

static xm_status load_accounts_csv(sources *S, const xy_node *n, const xy_path *p)
{
    const xy_ctx *c = S->c;
    const char *acc, *pos;
    xm_status s = xy_check_mapping(c, n, p, "a mapping {accounts, positions} of CSV file paths",
                                   csv_keys, NULL);
    if (s == XM_OK)
        s = xy_get_string(c, n, p, "accounts", 1, 0, &acc);
    if (s == XM_OK)
        s = xy_get_string(c, n, p, "positions", 1, 0, &pos);
    if (s == XM_OK)
        s = ensure_book(S->model, c->err);
    if (s != XM_OK)
        return s;
    S->csv_path = resolve_path(c->file, acc);
    char *pos_path = resolve_path(c->file, pos);
    if (S->csv_path == NULL || pos_path == NULL) {
        free(pos_path);
        return xm_error_set(c->err, XM_ENOMEM, "out of memory while reading the model");
    }
    S->csv_first = S->model->book->n_accounts;
    xm_accounts_csv_opts opts = {&S->ids, account_origin, S};
    s = xm_accounts_csv_load(S->csv_path, pos_path, &S->model->market, &S->model->venue,
                             S->model->book, &opts, c->err);
    S->n_csv = S->model->book->n_accounts - S->csv_first;
    if (s == XM_EIO && c->err != NULL) {
        /* say which key named the unreadable file */
        size_t pl = strlen(pos_path);
        const char *key = strncmp(c->err->msg, pos_path, pl) == 0 && c->err->msg[pl] == ':'
                              ? "positions"
                              : "accounts";
        const xy_node *kn = xy_map_get(n, key);
        char msg[XM_ERROR_MSG_MAX], kpath[256];
        xy_path kp = XY_KEY(p, key);
        memcpy(msg, c->err->msg, sizeof msg);
        xm_error_set(c->err, XM_EIO, "%s (given by %s at %s:%d:%d)", msg,
                     xy_path_format(&kp, kpath, sizeof kpath), c->file, kn->line, kn->column);
    }
    free(pos_path);
    return s;
}

/* ---- population (interface.md `population:`; xmrisk/population.h) ------------------------ */

/* {median, sigma, min, max}, each optional over the defaults in *ln; min <= median <= max. */
static xm_status load_lognormal(const xy_ctx *c, const xy_node *parent, const xy_path *pp,
                                const char *key, const xy_range *r_min, xm_lognormal *ln)
{
    xy_node *n = xy_map_get(parent, key);
    if (n == NULL)
        return XM_OK;
    xy_path p = XY_KEY(pp, key);
    char got[128];
    xm_status s = xy_check_mapping(c, n, &p, "a mapping {median, sigma, min, max}",
                                   lognormal_keys, NULL);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "median", 0, &R_POSITIVE, &ln->median);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "sigma", 0, &R_NONNEG, &ln->sigma);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "min", 0, r_min, &ln->min);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "max", 0, &R_POSITIVE, &ln->max);
    if (s != XM_OK)
        return s;
    const xy_node *mn = xy_map_get(n, "min"), *xn = xy_map_get(n, "max"),
                  *dn = xy_map_get(n, "median");
    if (!(ln->min <= ln->max)) {
        if (xn != NULL) {
            xy_path xp = XY_KEY(&p, "max");
            return xy_fail(c, xn, &xp, "expected a number >= min (%.15g), got %s", ln->min,
                           xy_describe(xn, got, sizeof got));
        }
        xy_path mp = XY_KEY(&p, "min");
        return xy_fail(c, mn, &mp, "expected a number <= max (%.15g, the default), got %s",
                       ln->max, xy_describe(mn, got, sizeof got));
    }
    if (!(ln->min <= ln->median && ln->median <= ln->max)) {
        if (dn != NULL) {
            xy_path dp = XY_KEY(&p, "median");
            return xy_fail(c, dn, &dp, "expected a number in [min, max] = [%.15g, %.15g], got %s",
                           ln->min, ln->max, xy_describe(dn, got, sizeof got));
        }
        return xy_fail(c, n, &p,
                       "expected min <= median <= max, got min %.15g, max %.15g and the default "
                       "median %.15g (give a median)",
                       ln->min, ln->max, ln->median);
    }
    return XM_OK;
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
            return unknown_symbol(c, k, &kp, m);
        s = xy_number(c, wn->items[2 * i + 1], &kp, &R_NONNEG, &pp->asset_weight[a]);
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

static xm_status load_population_params(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                        const xm_model *model, xm_population_params *pp)
{
    const xm_market *m = &model->market;
    uint64_t count = 0;
    xm_status s = xy_get_uint(c, n, p, "accounts", 1, 1, XM_POPULATION_MAX_ACCOUNTS, &count);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "isolated_share", 0, &R_UNIT, &pp->isolated_share);
    if (s == XM_OK)
        s = load_assets_per_account(c, n, p, m->n, pp);
    xy_node *wn = xy_map_get(n, "asset_weights");
    if (s == XM_OK && wn != NULL)
        s = load_asset_weights(c, wn, p, m, pp);
    if (s == XM_OK)
        s = load_lognormal(c, n, p, "leverage", &R_LEVERAGE, &pp->leverage);
    if (s == XM_OK)
        s = load_lognormal(c, n, p, "notional_usd", &R_POSITIVE, &pp->notional_usd);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "long_share", 0, &R_UNIT, &pp->long_share);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "hedged_share", 0, &R_UNIT, &pp->hedged_share);
    if (s == XM_OK)
        s = xy_get_number(c, n, p, "entry_dispersion", 0, &R_NONNEG, &pp->entry_dispersion);
    if (s == XM_OK)
        s = load_id_prefix(c, n, p, pp);
    if (s != XM_OK)
        return s;
    pp->accounts = count;
    s = check_population_memory(c, n, p, pp);
    return s == XM_OK ? check_drawable(c, n, wn, p, model, pp) : s;
}

/* The generator's own messages start with "population: "; the loader puts its position and
 * key path in front instead. */
static const char *without_prefix(const char *msg)
{
    static const char prefix[] = "population: ";
    return strncmp(msg, prefix, sizeof prefix - 1) == 0 ? msg + sizeof prefix - 1 : msg;
}

static xm_status load_population(sources *S, const xy_node *n, const xy_path *p)
{
    const xy_ctx *c = S->c;
    xm_model *model = S->model;
    xm_population_params pp;
    memset(&pp, 0, sizeof pp);
    xm_status s = xy_check_mapping(
        c, n, p,
        "a mapping {accounts, isolated_share, assets_per_account, asset_weights, leverage, "
        "notional_usd, long_share, hedged_share, entry_dispersion, id_prefix}",
        population_keys, NULL);
    if (s != XM_OK)
        return s;
    if (!model->has_venue)
        return xy_fail(c, n, p,
                       "expected a model with a venue: section (tier tables for the assets the "
                       "population draws), got none");
    if (model->market.n > (size_t)UINT16_MAX + 1)
        return xy_fail(c, n, p, "expected a market of at most %u assets with accounts, got %zu",
                       (unsigned)UINT16_MAX + 1, model->market.n);
    s = xm_population_defaults(&pp, model->market.n, c->err);
    if (s == XM_OK)
        s = load_population_params(c, n, p, model, &pp);
    if (s == XM_OK)
        s = ensure_book(model, c->err);
    if (s != XM_OK) {
        xm_population_params_clear(&pp);
        return s;
    }

    xm_accounts *book = model->book;
    size_t first = book->n_accounts;
    char prefix[sizeof pp.id_prefix];
    memcpy(prefix, pp.id_prefix, sizeof prefix);
    prefix[sizeof prefix - 1] = '\0';
    s = xm_population_generate(&pp, &model->market, &model->venue, model->seed, book, c->err);
    xm_population_params_clear(&pp);
    if (s == XM_EMODEL && c->err != NULL) {
        char msg[XM_ERROR_MSG_MAX];
        memcpy(msg, c->err->msg, sizeof msg);
        return xy_fail(c, n, p, "%s", without_prefix(msg));
    }
    if (s != XM_OK)
        return s;

    /* PREFIX + index (unique among themselves) must not clash with an id given before */
    char got[128], where[300];
    for (size_t a = first; S->ids.n > 0 && a < book->n_accounts; a++) {
        const char *id = xm_accounts_id(book, a);
        uint32_t prev = xm_idmap_get(&S->ids, id, strlen(id));
        if (prev == XM_IDMAP_NONE)
            continue;
        account_origin(S, prev, where, sizeof where);
        const xy_node *in = xy_map_get(n, "id_prefix");
        if (in != NULL) {
            xy_path ip = XY_KEY(p, "id_prefix");
            return xy_fail(c, in, &ip,
                           "expected a prefix that gives ids no other account has, got %s (the "
                           "population's '%s' is also %s)",
                           xy_describe(in, got, sizeof got), id, where);
        }
        return xy_fail(c, n, p,
                       "expected ids no other account has, got '%s' (from the default id_prefix "
                       "'%s'; also %s): set population.id_prefix",
                       id, prefix, where);
    }
    return XM_OK;
}

/* `accounts`, then `accounts_csv`, then `population`, into one book with unique ids. */
static xm_status load_account_sources(const xy_ctx *c, const xy_node *root, xm_model *model)
{
    sources S;
    memset(&S, 0, sizeof S);
    S.c = c;
    S.model = model;
    xm_idmap_init(&S.ids);
    xm_status s = XM_OK;
    xy_node *n = xy_map_get(root, "accounts");
    if (n != NULL) {
        xy_path p = XY_KEY(NULL, "accounts");
        s = load_accounts(&S, n, &p);
    }
    n = xy_map_get(root, "accounts_csv");
    if (s == XM_OK && n != NULL) {
        xy_path p = XY_KEY(NULL, "accounts_csv");
        s = load_accounts_csv(&S, n, &p);
    }
    n = xy_map_get(root, "population");
    if (s == XM_OK && n != NULL) {
        xy_path p = XY_KEY(NULL, "population");
        s = load_population(&S, n, &p);
    }
    xm_idmap_clear(&S.ids);
    free(S.csv_path);
    return s;
}

/* "dir/majors.yaml" -> "majors"; "" or "dir/" -> "model". */
static char *default_name(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot != NULL && dot != base)
        len = (size_t)(dot - base);
    if (len == 0) {
        base = "model";
        len = strlen(base);
    }
    char *s = malloc(len + 1);
    if (s != NULL) {
        memcpy(s, base, len);
        s[len] = '\0';
    }
    return s;
}

static xm_status load_model(const xy_ctx *c, const xy_node *root, const char *name_from,
                            xm_model *model)
{
    if (root == NULL || (root->kind == XY_SCALAR && xy_type_of(root) == XY_T_NULL &&
                         root->len == 0))
        return xy_fail(c, NULL, NULL,
                       "expected a mapping at the top level (name, seed, paths, horizon_days, "
                       "steps, market), got an empty document");
    xm_status s = xy_check_mapping(
        c, root, NULL,
        "a mapping at the top level (name, seed, paths, horizon_days, steps, market, ...)",
        top_keys, NULL);
    if (s != XM_OK)
        return s;

    const char *name = NULL;
    s = xy_get_string(c, root, NULL, "name", 0, 0, &name);
    if (s != XM_OK)
        return s;
    model->name = name ? strdup(name) : default_name(name_from);
    if (model->name == NULL)
        return xm_error_set(c->err, XM_ENOMEM, "out of memory while reading the model");

    model->seed = XM_MODEL_DEFAULT_SEED;
    model->paths = XM_MODEL_DEFAULT_PATHS;
    uint64_t steps = 0;
    s = xy_get_uint(c, root, NULL, "seed", 0, 0, UINT64_MAX, &model->seed);
    if (s == XM_OK)
        s = xy_get_uint(c, root, NULL, "paths", 0, 1, UINT64_MAX, &model->paths);
    if (s == XM_OK)
        s = xy_get_number(c, root, NULL, "horizon_days", 1, &R_POSITIVE, &model->horizon_days);
    if (s == XM_OK)
        s = xy_get_uint(c, root, NULL, "steps", 1, 1, XM_MODEL_MAX_STEPS, &steps);
    if (s != XM_OK)
        return s;
    model->steps = (uint32_t)steps;

    xy_node *mn;
    s = xy_require(c, root, NULL, "market", &mn);
    if (s != XM_OK)
        return s;
    xy_path mp = XY_KEY(NULL, "market");
    s = load_market(c, mn, &mp, &model->market);
    if (s != XM_OK)
        return s;

    /* defaults even without a `venue:` section (tier tables then empty) */
    s = xm_venue_init(&model->venue, model->market.n, c->err);
    if (s != XM_OK)
        return s;
    xy_node *vn = xy_map_get(root, "venue");
    if (vn != NULL) {
        xy_path vp = XY_KEY(NULL, "venue");
        s = load_venue(c, vn, &vp, model);
        if (s != XM_OK)
            return s;
    }
    return load_account_sources(c, root, model);
}

/* `label` names the input in messages; `path` is stored in the model; `name_from` gives the
 * default model name. */
static xm_model *load_text(const char *text, size_t len, const char *label, const char *path,
                           const char *name_from, xm_error *err)
{
    xy_doc *doc = NULL;
    if (xy_parse(text, len, label, &doc, err) != XM_OK)
        return NULL;
    xm_model *model = calloc(1, sizeof *model);
    if (model == NULL) {
        xy_doc_free(doc);
        xm_error_set(err, XM_ENOMEM, "out of memory while reading the model");
        return NULL;
    }
    xy_ctx c = {xy_doc_file(doc), err};
    xm_status s = load_model(&c, xy_doc_root(doc), name_from, model);
    if (s == XM_OK) {
        model->path = strdup(path);
        if (model->path == NULL)
            s = xm_error_set(err, XM_ENOMEM, "out of memory while reading the model");
    }
    xy_doc_free(doc);
    if (s != XM_OK) {
        xm_model_free(model);
        return NULL;
    }
    xm_error_clear(err);
    return model;
}

xm_model *xm_model_load(const char *path, xm_error *err)
{
    char *text;
    size_t len;
    if (path == NULL) {
        xm_error_set(err, XM_EUSAGE, "xm_model_load: no path given");
        return NULL;
    }
    static const xm_read_opts limits = {XM_MODEL_MAX_BYTES, "a model file", 0};
    if (xm_read_file(path, &limits, &text, &len, err) != XM_OK)
        return NULL;
    xm_model *m = load_text(text, len, path, path, path, err);
    free(text);
    return m;
}

xm_model *xm_model_load_string(const char *text, size_t len, const char *name, xm_error *err)
{
    const char *label = name ? name : "<string>";
    return load_text(text ? text : "", text ? len : 0, label, "<string>", name ? name : "model",
                     err);
}

void xm_model_free(xm_model *model)
{
    if (model == NULL)
        return;
    xm_accounts_free(model->book);
    xm_venue_clear(&model->venue);
    xm_market_clear(&model->market);
    free(model->name);
    free(model->path);
    free(model);
}

double xm_model_tau(const xm_model *model)
{
    return (model->horizon_days / (double)model->steps) / 365.0;
}
