/* venue_level.c — venue-level calibration (xmrisk/calibrate.h, docs/calibrate.md): the
 * largest leverage cap, or the smallest maintenance rate of one tier, at which the
 * population's probability of bad debt above a threshold (or of any ADL above it) stays at
 * or below the target.
 *
 * Each candidate is a full cascade run (xm_run_cascades) of the model with one rule changed,
 * on the same seed and paths (common random numbers). Leverage cap: every unit above the cap
 * is scaled down to it (xm_cal_apply_leverage_cap), as a venue enforcing a new cap would force
 * (Binance lowers the allowed leverage of open positions by reducing them; see
 * docs/venues.md a.1 on tier limits). Maintenance rate: the tier's
 * rate is replaced and every cum re-derived (model.md §3).
 */
#include "xmrisk/calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/platform.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/estimators.h"

const char *xm_cal_metric_name(xm_cal_metric m)
{
    return m == XM_CAL_METRIC_ADL ? "adl" : "bad_debt";
}

/* Collateral C, gross notional G and unrealized PnL U of the unit starting at position j0
 * (a cross account's positions j0..j1-1, or one isolated position), at S0 with quantities q. */
typedef struct {
    double c, g, u;
} unit_sums;

static unit_sums unit_at(const xm_accounts *b, const xm_market *m, const double *q, size_t a,
                         size_t j0, size_t j1)
{
    unit_sums s = {b->mode[a] == XM_CROSS ? b->wallet[a] : 0.0, 0.0, 0.0};
    for (size_t j = j0; j < j1; j++) {
        double s0 = m->assets[b->asset[j]].price;
        if (b->mode[a] == XM_ISOLATED)
            s.c += b->margin[j];
        s.g += fabs(q[j]) * s0;
        s.u += q[j] * (s0 - b->entry[j]);
    }
    return s;
}

/* End of the unit starting at position j0 of account a: a cross account's positions form one
 * unit, an isolated position is its own. */
static size_t unit_end(const xm_accounts *b, size_t a, size_t j0)
{
    return b->mode[a] == XM_CROSS ? b->first[a + 1] : j0 + 1;
}

double xm_cal_book_max_leverage(const xm_accounts *book, const xm_market *m)
{
    double best = 0.0;
    for (size_t a = 0; a < book->n_accounts; a++)
        for (size_t j0 = book->first[a], j1; j0 < book->first[a + 1]; j0 = j1) {
            j1 = unit_end(book, a, j0);
            unit_sums s = unit_at(book, m, book->qty, a, j0, j1);
            if (s.c + s.u > 0.0)
                best = fmax(best, s.g / (s.c + s.u));
        }
    return best;
}

/* Scale factor bringing the unit's leverage down to `cap`: f G / (C + f U) = cap gives
 * f = cap C / (G - cap U); 1 when the unit is at or below the cap or has no equity. */
static double cap_factor(unit_sums s, double cap)
{
    double den = s.g - cap * s.u;
    if (!(s.c + s.u > 0.0) || !(s.g > cap * (s.c + s.u)) || !(den > 0.0))
        return 1.0;
    double f = cap * s.c / den;
    return f > 0.0 && f < 1.0 ? f : 1.0;
}

uint64_t xm_cal_apply_leverage_cap(const xm_accounts *book, const xm_market *m, double cap,
                                   double *qty)
{
    uint64_t scaled = 0;
    memcpy(qty, book->qty, book->n_positions * sizeof *qty);
    for (size_t a = 0; a < book->n_accounts; a++)
        for (size_t j0 = book->first[a], j1; j0 < book->first[a + 1]; j0 = j1) {
            j1 = unit_end(book, a, j0);
            double f = cap_factor(unit_at(book, m, book->qty, a, j0, j1), cap);
            if (f == 1.0)
                continue;
            for (size_t j = j0; j < j1; j++)
                qty[j] = book->qty[j] * f;
            scaled++;
        }
    return scaled;
}

typedef struct {
    const xm_model *base;
    const xm_cal_venue_req *req;
    xm_model work;            /* shallow copy with `book` and `venue.tiers` replaced */
    xm_accounts book;             /* shallow copy of the base book with qty replaced */
    double *qty;
    xm_tier_table *tiers;     /* deep copy of the venue's tables */
    uint64_t last_scaled;
} venue_ctx;

static xm_status ctx_init(venue_ctx *c, const xm_model *m, const xm_cal_venue_req *req,
                          xm_error *err)
{
    memset(c, 0, sizeof *c);
    c->base = m;
    c->req = req;
    c->work = *m;
    c->book = *m->book;
    c->qty = malloc((m->book->n_positions ? m->book->n_positions : 1) * sizeof *c->qty);
    c->tiers = calloc(m->venue.n_assets, sizeof *c->tiers);
    if (c->qty == NULL || c->tiers == NULL)
        return xm_error_set(err, XM_ENOMEM, "calibrate: out of memory");
    memcpy(c->qty, m->book->qty, m->book->n_positions * sizeof *c->qty);
    for (size_t i = 0; i < m->venue.n_assets; i++) {
        const xm_tier_table *t = &m->venue.tiers[i];
        if (t->n == 0)
            continue;
        if (xm_tiers_alloc(&c->tiers[i], t->n, err) != XM_OK)
            return XM_ENOMEM;
        memcpy(c->tiers[i].tier, t->tier, t->n * sizeof *t->tier);
    }
    c->book.qty = c->qty;
    c->work.book = &c->book;
    c->work.venue.tiers = c->tiers;
    return XM_OK;
}

static void ctx_clear(venue_ctx *c)
{
    for (size_t i = 0; c->tiers != NULL && i < c->base->venue.n_assets; i++)
        free(c->tiers[i].tier);
    free(c->tiers);
    free(c->qty);
}

/* Set the candidate's rule into the working model. */
static xm_status apply(venue_ctx *c, double x, xm_error *err)
{
    const xm_cal_venue_req *q = c->req;
    if (q->vary == XM_CAL_VARY_LEVERAGE_CAP) {
        c->last_scaled = xm_cal_apply_leverage_cap(c->base->book, &c->base->market, x, c->qty);
        return XM_OK;
    }
    xm_tier_table *t = &c->tiers[q->asset];
    t->tier[q->tier].mmr = x;
    return xm_tiers_prepare(t, "calibrate: tiers", err);
}

static int path_has_event(const xm_cal_venue_req *q, const xm_path_metrics *pm)
{
    double v = q->metric == XM_CAL_METRIC_ADL ? pm->adl_notional_usd : pm->bad_debt_usd;
    return v > q->threshold_usd;
}

static xm_status venue_eval(void *ctx, double x, uint64_t *k, uint64_t *n, xm_error *err)
{
    venue_ctx *c = ctx;
    xm_status st = apply(c, x, err);
    if (st != XM_OK)
        return st;
    xm_run_result *r = NULL;
    st = xm_run_cascades(&c->work, &c->req->sim, 0, &r, err);
    if (st == XM_OK) {
        *n = r->paths_done;
        *k = 0;
        for (uint64_t p = 0; p < r->paths_done; p++)
            *k += (uint64_t)path_has_event(c->req, &r->pm[p]);
    }
    xm_run_result_free(r);
    return st;
}

static void forward_point(void *ctx, const xm_cal_point *pt)
{
    venue_ctx *c = ctx;
    if (c->req->on_point != NULL)
        c->req->on_point(c->req->on_point_ctx, pt);
}

void xm_cal_venue_res_clear(xm_cal_venue_res *r)
{
    if (r == NULL)
        return;
    xm_cal_search_clear(&r->search);
    memset(r, 0, sizeof *r);
}

/* Default ranges: leverage cap from 1 to the book's highest leverage (where the cap changes
 * nothing); a tier's rate from the previous tier's rate (0 for the first) to the next tier's
 * (the table must stay non-decreasing), or 0.5 for the last. */
static xm_status venue_range(const xm_model *m, const xm_cal_venue_req *q,
                             xm_cal_venue_res *res, xm_error *err)
{
    if (q->vary == XM_CAL_VARY_LEVERAGE_CAP) {
        res->lo = q->lo > 0.0 ? q->lo : 1.0;
        res->hi = q->hi > 0.0 ? q->hi : res->book_max_leverage;
        if (!(res->hi > res->lo))
            return xm_error_set(err, XM_EUSAGE, "calibrate: leverage cap range [%g, %g] is "
                                "empty (the book's highest leverage is %.4g)", res->lo,
                                res->hi, res->book_max_leverage);
        return XM_OK;
    }
    const xm_tier_table *t = &m->venue.tiers[q->asset];
    if (q->asset >= m->venue.n_assets || q->tier >= t->n)
        return xm_error_set(err, XM_EUSAGE, "calibrate: the asset has no tier %zu (it has %zu)",
                            q->tier + 1, q->asset < m->venue.n_assets ? t->n : 0);
    res->lo = q->lo > 0.0 ? q->lo : q->tier > 0 ? t->tier[q->tier - 1].mmr : 0.0;
    res->hi = q->hi > 0.0 ? q->hi : q->tier + 1 < t->n ? t->tier[q->tier + 1].mmr : 0.5;
    if (!(res->hi > res->lo) || !(res->hi < 1.0))
        return xm_error_set(err, XM_EUSAGE, "calibrate: maintenance rate range [%g, %g] is "
                            "empty or reaches 1 (give --mmr-min/--mmr-max)", res->lo, res->hi);
    return XM_OK;
}

xm_status xm_cal_venue_eval(const xm_model *model, const xm_cal_venue_req *req, double x,
                            xm_cal_point *pt, xm_error *err)
{
    memset(pt, 0, sizeof *pt);
    pt->x = x;
    if (model->book == NULL || model->book->n_accounts == 0)
        return xm_error_set(err, XM_EUSAGE, "calibrate: venue-level questions need accounts "
                            "in the model (accounts, accounts_csv or population)");
    if (req->vary == XM_CAL_VARY_MMR && (req->asset >= model->venue.n_assets ||
                                         req->tier >= model->venue.tiers[req->asset].n))
        return xm_error_set(err, XM_EUSAGE, "calibrate: the asset has no tier %zu",
                            req->tier + 1);
    venue_ctx c;
    double t0 = xm_now_s();
    xm_status st = ctx_init(&c, model, req, err);
    if (st == XM_OK)
        st = venue_eval(&c, x, &pt->k, &pt->n, err);
    ctx_clear(&c);
    pt->elapsed_s = xm_now_s() - t0;
    pt->p = pt->n ? (double)pt->k / (double)pt->n : 0.0;
    xm_stats_wilson(pt->k, pt->n, req->z, &pt->lo, &pt->hi);
    return st;
}

xm_status xm_cal_venue_solve(const xm_model *model, const xm_cal_venue_req *req,
                             xm_cal_venue_res *res, xm_error *err)
{
    memset(res, 0, sizeof *res);
    if (model->book == NULL || model->book->n_accounts == 0)
        return xm_error_set(err, XM_EUSAGE, "calibrate: venue-level questions need accounts "
                            "in the model (accounts, accounts_csv or population)");
    if (!(req->threshold_usd >= 0.0) || !isfinite(req->threshold_usd))
        return xm_error_set(err, XM_EUSAGE, "calibrate: --threshold-usd must be >= 0, got %g",
                            req->threshold_usd);
    res->book_max_leverage = xm_cal_book_max_leverage(model->book, &model->market);
    xm_status st = venue_range(model, req, res, err);
    if (st != XM_OK)
        return st;
    venue_ctx c;
    st = ctx_init(&c, model, req, err);
    int cap = req->vary == XM_CAL_VARY_LEVERAGE_CAP;
    /* Leverage cap: the metric grows with the cap, the good end is the low cap. Rate: the
     * metric falls as the rate rises, the good end is the high rate. */
    xm_cal_search_opts o = {.good = cap ? res->lo : res->hi, .bad = cap ? res->hi : res->lo,
                            .log_scale = cap, .alpha = req->alpha, .z = req->z,
                            .precision = req->precision, .refine_ci = req->refine_ci,
                            .what = cap ? "leverage cap" : "maintenance rate",
                            .on_point = forward_point};
    double t0 = xm_now_s();
    if (st == XM_OK)
        st = xm_cal_search_run(&o, venue_eval, &c, &res->search, err);
    if (st == XM_OK && cap)
        res->accounts_capped = xm_cal_apply_leverage_cap(model->book, &model->market,
                                                         res->search.answer, c.qty);
    res->elapsed_s = xm_now_s() - t0;
    ctx_clear(&c);
    return st;
}
