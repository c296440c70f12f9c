/* position.c — position-level and tier-table calibration (xmrisk/calibrate.h,
 * docs/calibrate.md).
 *
 * A lone isolated position does not move prices, so it is liquidated on a path exactly when
 * the path's mark crosses its liquidation price at one of the checks (steps 1..N, model.md §5).
 * For a long: min_t S_t <= x(L); for a short: max_t S_t >= x(L), with x(L) from xm_liq_price
 * (Binance's formula with the tier table, docs/venues.md a.1). So the
 * paths are simulated once, each path's extremes are kept sorted, and every candidate
 * leverage costs one liquidation price and one binary search: the same paths for every
 * candidate (common random numbers) and a probability monotone in L by construction.
 */
#include "xmrisk/calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "core/driver.h"
#include "xmrisk/platform.h"
#include "market/path_drive.h"
#include "xmrisk/margin.h"
#include "xmrisk/paths.h"
#include "xmrisk/estimators.h"

#define XM_CAL_CURVE_POINTS 61      /* p(L) grid for plots, log-spaced over the range */
#define XM_CAL_DEFAULT_LEV_CAP 1000.0

/* ---------------------------------------------------------------------------------------- */
/* Extremes                                                                                 */

void xm_cal_extremes_free(xm_cal_extremes *e)
{
    if (e == NULL)
        return;
    free(e->min_sorted);
    free(e->max_sorted);
    free(e);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Path p: its extremes relative to S0 into lo[i * paths + p], hi[i * paths + p]. */
static void extremes_path(xm_path_ws *w, const xm_market *m, uint32_t steps, uint64_t seed,
                          uint64_t p, uint64_t paths, double *lo, double *hi)
{
    size_t n = m->n;
    xm_path_begin(w, seed, p);
    const double *s = xm_path_prices(w);
    for (size_t i = 0; i < n; i++) {
        lo[i * paths + p] = INFINITY;
        hi[i * paths + p] = -INFINITY;
    }
    for (uint32_t t = 0; t < steps; t++) {
        xm_path_step(w);
        for (size_t i = 0; i < n; i++) {
            lo[i * paths + p] = fmin(lo[i * paths + p], s[i]);
            hi[i * paths + p] = fmax(hi[i * paths + p], s[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        lo[i * paths + p] /= m->assets[i].price;
        hi[i * paths + p] /= m->assets[i].price;
    }
}

/* The driver's context (core/driver.h): a path workspace per thread, extremes_path per path. */
typedef struct {
    xm_path_drive pd;  /* first: the workspaces (market/path_drive.h) */
    const xm_model *model;
    xm_cal_extremes *e;
} extremes_ctx;

static xm_status extremes_path_fn(void *ctx, void *ws, uint64_t p)
{
    const extremes_ctx *c = ctx;
    xm_cal_extremes *e = c->e;
    extremes_path(ws, &c->model->market, e->steps, e->seed, p, e->paths, e->min_sorted,
                  e->max_sorted);
    return XM_OK;   /* a market path is short: stops are taken between paths */
}

static xm_status extremes_run(const xm_model *model, xm_cal_extremes *e,
                              const xm_run_opts *opts, xm_error *err)
{
    extremes_ctx c = {{&model->market, e->horizon_days / e->steps / 365.0}, model, e};
    xm_drive_spec s = {.ctx = &c, .ws_alloc = xm_path_drive_ws_alloc,
                       .ws_free = xm_path_drive_ws_free, .path = extremes_path_fn, .chunk = 16,
                       .progress_mask = 255};
    xm_drive_out d;
    xm_status st = xm_drive(&s, opts, 0, e->paths, &d);
    e->threads = d.threads;
    return xm_drive_error(st, "calibrate", "a path workspace", d.done, e->paths, err);
}

xm_status xm_cal_extremes_alloc(const xm_model *model, double horizon_days, uint32_t steps,
                                const xm_run_opts *opts, xm_cal_extremes **out, xm_error *err)
{
    *out = NULL;
    if (opts->paths == 0)
        return xm_error_set(err, XM_EUSAGE, "calibrate: the number of paths must be at least 1");
    size_t n = model->market.n;
    xm_status cs = xm_check_paths_memory("calibrate", opts->paths, 2.0 * sizeof(double) * n,
                                          "use fewer paths", err);
    if (cs != XM_OK)
        return cs;
    if (opts->paths > SIZE_MAX / sizeof(double) / n / 2)
        return xm_error_set(err, XM_ENOMEM, "calibrate: %llu paths x %zu assets do not fit "
                            "in memory", (unsigned long long)opts->paths, n);
    xm_cal_extremes *e = calloc(1, sizeof *e);
    if (e != NULL) {
        e->n_assets = n;
        e->paths = opts->paths;
        e->seed = opts->seed;
        e->horizon_days = horizon_days > 0.0 ? horizon_days : model->horizon_days;
        e->steps = steps > 0 ? steps : model->steps;
        e->min_sorted = malloc(opts->paths * n * sizeof *e->min_sorted);
        e->max_sorted = malloc(opts->paths * n * sizeof *e->max_sorted);
    }
    if (e == NULL || e->min_sorted == NULL || e->max_sorted == NULL) {
        xm_cal_extremes_free(e);
        return xm_error_set(err, XM_ENOMEM, "calibrate: out of memory for %llu paths x %zu "
                            "assets (%.1f MB)", (unsigned long long)opts->paths, n,
                            2.0 * 8.0 * (double)opts->paths * (double)n / 1e6);
    }
    double t0 = xm_now_s();
    xm_status st = extremes_run(model, e, opts, err);
    if (st != XM_OK) {
        xm_cal_extremes_free(e);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        qsort(e->min_sorted + i * e->paths, e->paths, sizeof(double), cmp_double);
        qsort(e->max_sorted + i * e->paths, e->paths, sizeof(double), cmp_double);
    }
    e->elapsed_s = xm_now_s() - t0;
    *out = e;
    return XM_OK;
}

/* Number of x[0..n) <= v (x ascending). */
static uint64_t count_le(const double *x, uint64_t n, double v)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (x[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Number of x[0..n) < v (x ascending). */
static uint64_t count_lt(const double *x, uint64_t n, double v)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (x[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t xm_cal_extremes_count(const xm_cal_extremes *e, size_t asset, int is_long, double r)
{
    if (!(r > 0.0) || asset >= e->n_assets)
        return 0;
    if (is_long)
        return count_le(e->min_sorted + asset * e->paths, e->paths, r);
    return e->paths - count_lt(e->max_sorted + asset * e->paths, e->paths, r);
}

/* ---------------------------------------------------------------------------------------- */
/* Position level                                                                           */

double xm_cal_liq_ratio(const xm_model *model, const xm_tier_table *tiers, size_t asset,
                        int is_long, double notional_usd, double leverage)
{
    const xm_market *m = &model->market;
    double s0 = m->assets[asset].price, x = 0.0;
    xm_tier_table *tabs = calloc(m->n, sizeof *tabs);
    double *marks = malloc(m->n * sizeof *marks);
    xm_accounts *b = xm_accounts_alloc(NULL);
    if (tabs != NULL && marks != NULL && b != NULL &&
        xm_accounts_add_account(b, "calibrate", XM_ISOLATED, 0.0, NULL) == XM_OK &&
        xm_accounts_add_position(b, (uint16_t)asset, (is_long ? 1.0 : -1.0) * notional_usd / s0,
                             s0, notional_usd / leverage, NULL) == XM_OK) {
        for (size_t i = 0; i < m->n; i++)
            marks[i] = m->assets[i].price;
        tabs[asset] = *tiers;
        xm_venue v = model->venue;
        v.n_assets = m->n;
        v.tiers = tabs;
        if (!xm_liq_price(b, &v, 0, marks, &x))
            x = 0.0;
    }
    xm_accounts_free(b);
    free(marks);
    free(tabs);
    return x / s0;
}

typedef struct {
    const xm_model *model;
    const xm_cal_extremes *e;
    const xm_cal_position_req *req;
} position_ctx;

static xm_status position_eval(void *ctx, double lev, uint64_t *k, uint64_t *n, xm_error *err)
{
    (void)err;
    const position_ctx *c = ctx;
    const xm_cal_position_req *q = c->req;
    double r = xm_cal_liq_ratio(c->model, q->tiers, q->asset, q->is_long, q->notional_usd, lev);
    *k = xm_cal_extremes_count(c->e, q->asset, q->is_long, r);
    *n = c->e->paths;
    return XM_OK;
}

void xm_cal_position_res_clear(xm_cal_position_res *r)
{
    if (r == NULL)
        return;
    xm_cal_search_clear(&r->search);
    free(r->curve);
    memset(r, 0, sizeof *r);
}

/* The leverage at which the position is liquidatable at the open: margin N / L = MM(N). */
static double open_liquidation_leverage(const xm_tier_table *t, double notional)
{
    double mm = xm_tier_mm(t, notional, NULL);
    if (!(mm > 0.0))
        return XM_CAL_DEFAULT_LEV_CAP;
    return fmin(notional / mm, XM_CAL_DEFAULT_LEV_CAP);
}

static xm_status position_curve(position_ctx *c, xm_cal_position_res *res, xm_error *err)
{
    res->curve = calloc(XM_CAL_CURVE_POINTS, sizeof *res->curve);
    if (res->curve == NULL)
        return xm_error_set(err, XM_ENOMEM, "calibrate: out of memory");
    res->n_curve = XM_CAL_CURVE_POINTS;
    double a = log(res->lev_min), b = log(res->lev_max);
    for (size_t j = 0; j < res->n_curve; j++) {
        xm_cal_point *p = &res->curve[j];
        p->x = exp(a + (b - a) * (double)j / (double)(res->n_curve - 1));
        if (j == res->n_curve - 1)
            p->x = res->lev_max;
        xm_status st = position_eval(c, p->x, &p->k, &p->n, err);
        if (st != XM_OK)
            return st;
        p->p = (double)p->k / (double)p->n;
        xm_stats_wilson(p->k, p->n, c->req->z, &p->lo, &p->hi);
    }
    return XM_OK;
}

xm_status xm_cal_position_solve(const xm_model *model, const xm_cal_extremes *e,
                                const xm_cal_position_req *req, xm_cal_position_res *res,
                                xm_error *err)
{
    memset(res, 0, sizeof *res);
    if (req->asset >= model->market.n || req->tiers == NULL || req->tiers->n == 0)
        return xm_error_set(err, XM_EUSAGE, "calibrate: no maintenance tiers for the asset "
                            "(give venue.tiers in the model, or --mmr)");
    if (!(req->notional_usd > 0.0) || !isfinite(req->notional_usd))
        return xm_error_set(err, XM_EUSAGE, "calibrate: the notional must be > 0, got %g",
                            req->notional_usd);
    res->lev_min = req->lev_min > 0.0 ? req->lev_min : 1.0;
    res->lev_max = req->lev_max > 0.0 ? req->lev_max
                                      : open_liquidation_leverage(req->tiers, req->notional_usd);
    if (!(res->lev_max > res->lev_min))
        return xm_error_set(err, XM_EUSAGE, "calibrate: empty leverage range [%g, %g]",
                            res->lev_min, res->lev_max);
    position_ctx c = {.model = model, .e = e, .req = req};
    xm_cal_search_opts o = {.good = res->lev_min, .bad = res->lev_max, .log_scale = 1,
                            .alpha = req->alpha, .z = req->z, .precision = req->precision,
                            .refine_ci = 1, .what = "leverage"};
    xm_status st = xm_cal_search_run(&o, position_eval, &c, &res->search, err);
    if (st == XM_OK)
        st = position_curve(&c, res, err);
    if (st == XM_OK)
        res->liq_ratio = xm_cal_liq_ratio(model, req->tiers, req->asset, req->is_long,
                                          req->notional_usd, res->search.answer);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Tier table                                                                               */

double xm_cal_slippage(const xm_model *model, size_t asset, double notional_usd)
{
    const xm_asset *a = &model->market.assets[asset];
    const xm_impact *im = &a->impact;
    double di = 0.0;
    if (im->model == XM_IMPACT_LINEAR && im->depth_1pct_usd > 0.0)
        di = 0.01 * notional_usd / im->depth_1pct_usd;               /* model.md §5 */
    else if (im->model == XM_IMPACT_SQRT && im->daily_volume_usd > 0.0)
        di = im->y * a->vol / sqrt(365.0) * sqrt(notional_usd / im->daily_volume_usd);
    return -expm1(-0.5 * di);
}

/* One step's adverse move at probability alpha: z sigma sqrt(tau), with the Student-t
 * quantile rescaled to unit variance for student_t (model.md §2). Jumps are not included. */
static double step_gap(const xm_model *model, const xm_cal_extremes *e, size_t asset,
                       double alpha)
{
    double tau = e->horizon_days / e->steps / 365.0, z = gsl_cdf_ugaussian_Qinv(alpha);
    if (model->market.process == XM_PROCESS_STUDENT_T) {
        double nu = model->market.dof;
        z = gsl_cdf_tdist_Qinv(alpha, nu) * sqrt((nu - 2.0) / nu);
    }
    return z * model->market.assets[asset].vol * sqrt(tau);
}

void xm_cal_tiers_res_clear(xm_cal_tiers_res *r)
{
    if (r == NULL)
        return;
    for (size_t k = 0; k < r->n && r->row != NULL; k++)
        xm_cal_position_res_clear(&r->row[k].pos);
    free(r->row);
    memset(r, 0, sizeof *r);
}

static double round_up_bp(double x)
{
    return ceil(x * 1e4 - 1e-9) / 1e4;
}

static xm_status tiers_check(const xm_model *model, const xm_cal_tiers_req *req, xm_error *err)
{
    if (req->asset >= model->market.n || req->n == 0 || req->caps_usd == NULL)
        return xm_error_set(err, XM_EUSAGE, "calibrate: tiers need an asset and notionals");
    for (size_t k = 0; k < req->n; k++)
        if (!(req->caps_usd[k] > 0.0) || !isfinite(req->caps_usd[k]) ||
            (k > 0 && !(req->caps_usd[k] > req->caps_usd[k - 1])))
            return xm_error_set(err, XM_EUSAGE, "calibrate: --notionals must be positive and "
                                "increasing (item %zu: %g)", k + 1, req->caps_usd[k]);
    if (!(req->mmr_floor >= 0.0 && req->mmr_floor < 1.0))
        return xm_error_set(err, XM_EUSAGE, "calibrate: --mmr-floor must be in [0, 1), got %g",
                            req->mmr_floor);
    return XM_OK;
}

/* Row k: its rate, the table of rows 0..k, and the position-level answer at cap k. */
static xm_status tiers_row(const xm_model *model, const xm_cal_extremes *e,
                           const xm_cal_tiers_req *req, xm_cal_tiers_res *res,
                           xm_tier_table *t, size_t k, xm_error *err)
{
    xm_cal_tier_row *row = &res->row[k];
    row->cap_usd = req->caps_usd[k];
    row->slippage = xm_cal_slippage(model, req->asset, row->cap_usd);
    row->gap = step_gap(model, e, req->asset, req->alpha);
    row->mmr = fmax(req->mmr_floor, round_up_bp(row->slippage + row->gap));
    if (k > 0)
        row->mmr = fmax(row->mmr, res->row[k - 1].mmr);
    if (!(row->mmr < 1.0))
        return xm_error_set(err, XM_EUSAGE, "calibrate: a notional of %g USD would need a "
                            "maintenance rate of %g (>= 100%%)", row->cap_usd, row->mmr);
    t->n = k + 1;
    t->tier[k] = (xm_tier){.cap_usd = row->cap_usd, .mmr = row->mmr, .max_leverage = 1.0};
    xm_status st = xm_tiers_prepare(t, "calibrate: tiers", err);
    if (st != XM_OK)
        return st;
    row->cum = t->tier[k].cum;
    xm_cal_position_req pq = {.asset = req->asset, .is_long = 1, .notional_usd = row->cap_usd,
                              .alpha = req->alpha, .z = req->z, .precision = req->precision,
                              .tiers = t};
    st = xm_cal_position_solve(model, e, &pq, &row->pos, err);
    if (st != XM_OK)
        return st;
    row->max_leverage = fmax(1.0, floor(row->pos.search.answer));
    if (k > 0)
        row->max_leverage = fmin(row->max_leverage, res->row[k - 1].max_leverage);
    return XM_OK;
}

xm_status xm_cal_tiers_solve(const xm_model *model, const xm_cal_extremes *e,
                             const xm_cal_tiers_req *req, xm_cal_tiers_res *res, xm_error *err)
{
    memset(res, 0, sizeof *res);
    xm_status st = tiers_check(model, req, err);
    if (st != XM_OK)
        return st;
    xm_tier_table t = {0};
    res->row = calloc(req->n, sizeof *res->row);
    if (res->row == NULL || xm_tiers_alloc(&t, req->n, err) != XM_OK) {
        free(t.tier);
        return xm_error_set(err, XM_ENOMEM, "calibrate: out of memory");
    }
    res->asset = req->asset;
    for (size_t k = 0; k < req->n && st == XM_OK; k++) {
        res->n = k + 1;   /* rows are zeroed: clearing a half-done row is safe */
        st = tiers_row(model, e, req, res, &t, k, err);
    }
    free(t.tier);
    return st;
}
