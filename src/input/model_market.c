/* model_market.c — the `market:` section of a model file (model.md §2; see model.c for the
 * message format): process, jumps, assets, correlation, impact. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "input/accounts_csv.h"
#include "input/limits.h"
#include "input/model_load.h"

static const char *const market_keys[] = {"process", "dof", "jumps", "assets", "correlation",
                                          "correlation_repair", "impact", "history", NULL};
static const char *const jump_keys[] = {"rate_per_year", "mean", "stdev", NULL};
static const char *const asset_keys[] = {"symbol", "price", "vol", "drift", "jump_beta", NULL};
static const char *const impact_keys[] = {"model", "depth_1pct_usd", "daily_volume_usd", "y",
                                          "half_life_minutes", NULL};

/* In xm_process order. */
static const char *const process_names[] = {"gbm", "student_t", "bachelier", NULL};
static const char *const repair_names[] = {"none", "higham", NULL};
static const char *const impact_names[] = {"linear", "sqrt", NULL};

#define XM_IMPACT_DEFAULT_Y 0.8
#define XM_CORR_TOL 1e-12

static const xy_range R_DOF = {2.0, INFINITY, XY_LO_OPEN};
static const xy_range R_CORR = {-1.0, 1.0, 0};
static const xy_range R_HALF_LIFE = {0.0, INFINITY, XY_LO_OPEN | XY_ALLOW_INF};
/* Bounds that keep every product of the engine finite (docs/model.md §7: no NaN or infinity
 * in a result). They are far outside any market: annual volatility 10,000%, drift +-10,000%,
 * a jump of e^10 (22,000x), 100,000 jumps a year, a price of 10^-9 to 10^12 USD, an order
 * book of at least $1,000 (input/limits.h). */
static const xy_range R_IMPACT_USD = {XM_IMPACT_USD_MIN, XM_MONEY_MAX, 0};
static const xy_range R_IMPACT_Y = {0.0, 10.0, XY_LO_OPEN};
static const xy_range R_VOL = {0.0, 100.0, 0};
static const xy_range R_DRIFT = {-100.0, 100.0, 0};
static const xy_range R_JUMP_SIZE = {-10.0, 10.0, 0};
static const xy_range R_JUMP_SD = {0.0, 10.0, 0};
static const xy_range R_JUMP_RATE = {0.0, 1e5, 0};

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

/* A symbol is written into CSV headers and ids: the account-id rule (no control characters,
 * ',' or '"'; xm_account_id_problem), so that paths.csv keeps one column per header name. */
static xm_status check_symbol(const xy_ctx *c, const xy_node *sn, const xy_path *p)
{
    char got[128];
    const char *problem = xm_account_id_problem(sn->text, sn->len);
    if (problem == NULL)
        return XM_OK;
    xy_path sp = XY_KEY(p, "symbol");
    return xy_fail(c, sn, &sp,
                   "expected a symbol (no control characters, commas or double quotes), got %s "
                   "(%s)",
                   xy_describe(sn, got, sizeof got), problem);
}

/* |jump_beta| (|jumps.mean| + jumps.stdev) <= XM_JUMP_LOG_MAX: each factor is bounded on
 * its own, their product too (docs/model.md §7), at jump_beta (or the asset when it takes
 * the default 1). */
static xm_status check_jump_size(const xy_ctx *c, const xy_node *n, const xy_path *p,
                                 double beta, const xm_jumps *j)
{
    double size = fabs(beta) * (fabs(j->mean) + j->stdev);
    if (size <= XM_JUMP_LOG_MAX)
        return XM_OK;
    const xy_node *bn = xy_map_get(n, "jump_beta");
    xy_path bp = XY_KEY(p, "jump_beta");
    return xy_fail(c, bn ? bn : n, &bp,
                   "expected |jump_beta| x (|market.jumps.mean| + market.jumps.stdev) <= %g (one "
                   "jump moves ln S by at most that), got %.15g x (%.15g + %.15g) = %.15g",
                   XM_JUMP_LOG_MAX, fabs(beta), fabs(j->mean), j->stdev, size);
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
    if (s == XM_OK)
        s = check_symbol(c, xy_map_get(n, "symbol"), &p);
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
    s = xy_get_number(c, n, &p, "price", 1, &xm_r_price, &a->price);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "vol", 1, &R_VOL, &a->vol);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "drift", 0, &R_DRIFT, &a->drift);
    if (s == XM_OK)
        s = xy_get_number(c, n, &p, "jump_beta", 0, &R_DRIFT, &a->jump_beta);
    if (s == XM_OK && m->jumps.enabled)
        s = check_jump_size(c, n, &p, a->jump_beta, &m->jumps);
    return s;
}

/* Shape and range, each with the position of the offending entry, into m->corr. */
static xm_status read_correlation(const xy_ctx *c, const xy_node *cn, const xy_path *cp,
                                  xm_market *m)
{
    const size_t n = m->n;
    char what[96];
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
        for (size_t j = 0; j < n && s == XM_OK; j++) {
            xy_path ep = XY_INDEX(&rp, j);
            s = xy_number(c, row->items[j], &ep, &R_CORR, &m->corr[i * n + j]);
        }
        if (s != XM_OK)
            return s;
    }
    return XM_OK;
}

/* Shape, range, unit diagonal and symmetry, each with the position of the offending entry;
 * then copy into m->corr. Positive definiteness is xm_market_prepare's. */
static xm_status load_correlation(const xy_ctx *c, const xy_node *cn, const xy_path *cp,
                                  xm_market *m)
{
    const size_t n = m->n;
    char got[128], mirror[128];
    xm_status s = read_correlation(c, cn, cp, m);
    for (size_t i = 0; i < n && s == XM_OK; i++) {
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
    return s;
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
        s = xm_reject_key(c, n, p, "daily_volume_usd", why);
        if (s == XM_OK)
            s = xm_reject_key(c, n, p, "y", why);
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "depth_1pct_usd", 1, &R_IMPACT_USD, &imp->depth_1pct_usd);
    } else {
        imp->model = XM_IMPACT_SQRT;
        imp->y = XM_IMPACT_DEFAULT_Y;
        s = xm_reject_key(c, n, p, "depth_1pct_usd",
                       "not used by model sqrt (it takes daily_volume_usd, y and "
                       "half_life_minutes)");
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "daily_volume_usd", 1, &R_IMPACT_USD,
                              &imp->daily_volume_usd);
        if (s == XM_OK)
            s = xy_get_number(c, n, p, "y", 0, &R_IMPACT_Y, &imp->y);
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
            return xm_unknown_symbol(c, k, &kp, m);
        s = load_impact_entry(c, n->items[2 * i + 1], &kp, &m->assets[a].impact);
        if (s != XM_OK)
            return s;
    }
    return XM_OK;
}

/* process, dof (student_t only) and jumps (not with bachelier) into m's fields. */
static xm_status load_process(const xy_ctx *c, const xy_node *n, const xy_path *mp,
                              xm_market *m)
{
    int process = 0;
    xm_status s = xy_get_enum(c, n, mp, "process", 1, process_names, &process);
    if (s != XM_OK)
        return s;
    m->process = (xm_process)process;
    if (process == XM_PROCESS_STUDENT_T)
        s = xy_get_number(c, n, mp, "dof", 1, &R_DOF, &m->dof);
    else
        s = xm_reject_key(c, n, mp, "dof",
                          process == XM_PROCESS_GBM
                              ? "not allowed with process gbm (dof is for process student_t)"
                              : "not allowed with process bachelier (dof is for process "
                                "student_t)");
    if (s != XM_OK)
        return s;
    xy_node *jn = xy_map_get(n, "jumps");
    if (jn == NULL)
        return XM_OK;
    if (process == XM_PROCESS_BACHELIER)
        return xm_reject_key(c, n, mp, "jumps",
                             "not allowed with process bachelier (jumps add to ln S: they apply "
                             "to gbm or student_t)");
    xy_path jp = XY_KEY(mp, "jumps");
    return load_jumps(c, jn, &jp, &m->jumps);
}

/* market.assets: a non-empty sequence; allocates m (xm_market_init) and keeps `head` (process,
 * dof, jumps) over the reset. */
static xm_status load_assets(const xy_ctx *c, const xy_node *n, const xy_path *mp,
                             const xm_market *head, xm_market *m)
{
    xy_node *an;
    char got[128];
    xm_status s = xy_require(c, n, mp, "assets", &an);
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
    m->process = head->process;
    m->dof = head->dof;
    m->jumps = head->jumps;
    for (size_t i = 0; i < an->count && s == XM_OK; i++)
        s = load_asset(c, an, i, &ap, m);
    return s;
}

/* market.correlation (required with two assets or more) and market.correlation_repair. */
static xm_status load_correlation_keys(const xy_ctx *c, const xy_node *n, const xy_path *mp,
                                       xm_market *m)
{
    xy_node *cn = xy_map_get(n, "correlation");
    xy_path cp = XY_KEY(mp, "correlation");
    xm_status s = XM_OK;
    if (cn != NULL)
        s = load_correlation(c, cn, &cp, m);
    else if (m->n > 1)
        return xy_fail(c, n, mp,
                       "missing required key 'correlation' (%zu assets need a %zux%zu matrix)",
                       m->n, m->n, m->n);
    int repair = 0;
    if (s == XM_OK)
        s = xy_get_enum(c, n, mp, "correlation_repair", 0, repair_names, &repair);
    if (s == XM_OK)
        m->corr_repair = repair;
    return s;
}

xm_status xm_load_market(const xy_ctx *c, const xy_node *n, const xy_path *mp, xm_market *m)
{
    /* process, dof and jumps first (file order of the checks), kept over xm_market_init */
    xm_market head = {0};
    xm_status s = xy_check_mapping(c, n, mp, "a mapping {process, assets, correlation, ...}",
                                   market_keys, NULL);
    if (s == XM_OK)
        s = load_process(c, n, mp, &head);
    if (s == XM_OK)
        s = load_assets(c, n, mp, &head, m);
    if (s == XM_OK)
        s = load_correlation_keys(c, n, mp, m);
    xy_node *in = xy_map_get(n, "impact");
    if (s == XM_OK && in != NULL) {
        xy_path ip = XY_KEY(mp, "impact");
        s = load_impact(c, in, &ip, m);
    }
    if (s != XM_OK)
        return s;
    char where[512];
    xy_node *cn = xy_map_get(n, "correlation");
    xy_path cp = XY_KEY(mp, "correlation");
    xy_where(c, cn ? cn : n, &cp, where, sizeof where);
    return xm_market_prepare(m, where, c->err);
}
