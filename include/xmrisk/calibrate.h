/* xmrisk/calibrate.h — inverse questions: the largest leverage (or leverage cap, or the
 * smallest maintenance rate) that keeps a risk probability at or below a target (docs/calibrate.md).
 *
 * Common random numbers: every candidate is evaluated on the same seed and the same paths, so
 * the estimated probability p(x) = k(x) / n is a deterministic step function of the parameter
 * x, monotone wherever the underlying event is monotone in x (always for one position: a higher
 * leverage puts the liquidation price nearer), and the search compares candidates without
 * independent Monte Carlo noise between them.
 *
 * The search (xm_cal_search_run) brackets the answer between a "good" end (metric <= alpha)
 * and a "bad" end (metric > alpha) and bisects (geometrically for leverages, arithmetically
 * for rates) until either
 *   - precision: |bad - good| <= precision |good|, or
 *   - Monte Carlo: the Wilson intervals of both ends contain alpha, so with this many paths
 *     no candidate between them can be told apart from the target.
 * The answer is the good end. Its interval [ci_lo, ci_hi] is the set of parameters not
 * rejected by a test at level z: on the good side the last x with upper bound < alpha, on the
 * bad side the first x with lower bound > alpha (a test-inversion interval; Wilson 1927 bounds).
 */
#ifndef XMRISK_CALIBRATE_H
#define XMRISK_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "xmrisk/error.h"
#include "xmrisk/model.h"
#include "xmrisk/run_opts.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* The bracketing search                                                                    */

/* One candidate: parameter x, k of n paths with the event, k/n and its Wilson interval. */
typedef struct {
    double x;
    uint64_t k, n;
    double p, lo, hi;
    double elapsed_s;    /* time to evaluate it (0 when negligible) */
} xm_cal_point;

typedef enum {
    XM_CAL_STOP_PRECISION = 0,   /* bracket narrower than the requested precision */
    XM_CAL_STOP_MONTE_CARLO,     /* both ends' intervals contain alpha */
    XM_CAL_STOP_RANGE            /* the bad end of the range still meets the target */
} xm_cal_stop;

const char *xm_cal_stop_name(xm_cal_stop s);

/* The metric at x: k of n paths with the event. XM_EINTR and others abort the search. */
typedef xm_status (*xm_cal_eval_fn)(void *ctx, double x, uint64_t *k, uint64_t *n,
                                    xm_error *err);

typedef struct {
    double good, bad;     /* range ends: good is expected to meet the target, bad not */
    int log_scale;        /* bisect geometrically (leverages: good, bad > 0) */
    double alpha;         /* target probability, in (0, 1) */
    double z;             /* normal quantile of the intervals (1.96: 95%) */
    double precision;     /* relative width at which the bracket is fine enough (> 0) */
    int refine_ci;        /* 1: bisect the interval's ends to `precision` too (cheap metrics) */
    unsigned max_evals;   /* safety bound on evaluations; 0: 200 */
    const char *what;     /* name of the parameter in messages ("leverage") */
    /* Called after every evaluation (optional): progress lines for slow metrics. */
    void (*on_point)(void *ctx, const xm_cal_point *pt);
} xm_cal_search_opts;

typedef struct {
    double answer;        /* the good end of the final bracket */
    double bracket_bad;   /* the bad end of the final bracket (== answer when stop is RANGE) */
    double ci_lo, ci_hi;  /* interval of the answer, ci_lo <= ci_hi (parameter units) */
    xm_cal_stop stop;
    int monotone;         /* 1 when k was monotone in x over every evaluated point */
    size_t n_points;
    xm_cal_point *points; /* every evaluation, sorted by x (owned; xm_cal_search_clear) */
} xm_cal_search;

/* Run the search. XM_EUSAGE (exit 2) when the good end misses the target ("no candidate
 * reaches it"); any status of `eval` is passed on. s is filled on success and may hold the
 * points evaluated so far on failure; release it with xm_cal_search_clear() in both cases. */
xm_status xm_cal_search_run(const xm_cal_search_opts *o, xm_cal_eval_fn eval, void *ctx,
                            xm_cal_search *s, xm_error *err) XM_MUST_CHECK;
void xm_cal_search_clear(xm_cal_search *s);

/* ---------------------------------------------------------------------------------------- */
/* Path extremes: the sample every position-level question is answered on                   */

/* Per path p and asset i, the lowest and highest S_t / S0 over steps 1..N (the marks at which
 * a lone position is checked: model.md §5, no impact from one small position). */
typedef struct {
    size_t n_assets;
    uint64_t paths, seed;
    uint32_t steps;
    double horizon_days;
    double *min_sorted;   /* [i * paths + r]: asset i's path minima, ascending */
    double *max_sorted;   /* [i * paths + r]: asset i's path maxima, ascending */
    double elapsed_s;
    int threads;
} xm_cal_extremes;

/* Simulate opts->paths paths of the model's market over `steps` steps of length
 * horizon_days / steps (the model's own when horizon_days <= 0). Free with
 * xm_cal_extremes_free(). XM_EINTR when opts->stop was raised. */
xm_status xm_cal_extremes_alloc(const xm_model *model, double horizon_days, uint32_t steps,
                                const xm_run_opts *opts, xm_cal_extremes **out,
                                xm_error *err) XM_MUST_CHECK;
void xm_cal_extremes_free(xm_cal_extremes *e);

/* Paths on which an isolated position on asset i is liquidated, given its liquidation mark
 * as a ratio r of S0: long k = #{min <= r}; short k = #{max >= r}. r <= 0 (long without a
 * liquidation price): 0. */
uint64_t xm_cal_extremes_count(const xm_cal_extremes *e, size_t asset, int is_long, double r);

/* ---------------------------------------------------------------------------------------- */
/* Position level                                                                          */

typedef struct {
    size_t asset;            /* market index */
    int is_long;
    double notional_usd;     /* notional at the open, at S0 (> 0) */
    double alpha, z, precision;
    double lev_min, lev_max; /* search range; lev_max <= 0: where the position would be
                              * liquidatable at the open (notional / MM(notional)) */
    const xm_tier_table *tiers;  /* maintenance rates used (the venue's table for the asset) */
} xm_cal_position_req;

typedef struct {
    xm_cal_search search;    /* search.answer: max_leverage */
    double lev_min, lev_max; /* the range searched */
    double liq_ratio;        /* liquidation mark / S0 at the answer (0: none) */
    size_t n_curve;
    xm_cal_point *curve;     /* p(L) on a log grid over the range, for plots (owned) */
} xm_cal_position_res;

/* The largest leverage at which a position of req->notional_usd on req->asset, opened at S0
 * with margin notional / L, is liquidated on at most alpha of the paths of `e`. */
xm_status xm_cal_position_solve(const xm_model *model, const xm_cal_extremes *e,
                                const xm_cal_position_req *req, xm_cal_position_res *res,
                                xm_error *err) XM_MUST_CHECK;
void xm_cal_position_res_clear(xm_cal_position_res *r);

/* Liquidation mark / S0 of that position at leverage L (0: no price). */
double xm_cal_liq_ratio(const xm_model *model, const xm_tier_table *tiers, size_t asset,
                        int is_long, double notional_usd, double leverage);

/* ---------------------------------------------------------------------------------------- */
/* Tier table                                                                              */

typedef struct {
    size_t asset;
    size_t n;                /* notional caps */
    const double *caps_usd;  /* increasing */
    double alpha, z, precision;
    double mmr_floor;        /* lowest rate recommended */
} xm_cal_tiers_req;

typedef struct {
    double cap_usd, mmr, max_leverage, cum;
    double slippage;         /* price cost of closing cap_usd in one order (impact law) */
    double gap;              /* one monitoring step's adverse move at 1 - alpha */
    xm_cal_position_res pos; /* the position-level answer at cap_usd with this table */
} xm_cal_tier_row;

typedef struct {
    size_t asset, n;
    xm_cal_tier_row *row;    /* owned */
} xm_cal_tiers_res;

/* A recommended table for one asset: for each cap N_k, mmr_k = max(floor, slip(N_k) + gap)
 * rounded up to 1e-4 (non-decreasing), then the position-level answer at notional N_k with
 * the table so far, rounded down to an integer leverage (non-increasing). See
 * docs/calibrate.md for the sources. */
xm_status xm_cal_tiers_solve(const xm_model *model, const xm_cal_extremes *e,
                             const xm_cal_tiers_req *req, xm_cal_tiers_res *res,
                             xm_error *err) XM_MUST_CHECK;
void xm_cal_tiers_res_clear(xm_cal_tiers_res *r);

/* Relative price cost of one market order of `notional_usd` on asset i under the model's
 * impact law, executed at m exp(dI / 2) (model.md §5): 1 - exp(-|dI| / 2). 0 without impact. */
double xm_cal_slippage(const xm_model *model, size_t asset, double notional_usd);

/* ---------------------------------------------------------------------------------------- */
/* Venue level                                                                             */

typedef enum { XM_CAL_METRIC_BAD_DEBT = 0, XM_CAL_METRIC_ADL } xm_cal_metric;
typedef enum { XM_CAL_VARY_LEVERAGE_CAP = 0, XM_CAL_VARY_MMR } xm_cal_vary;

const char *xm_cal_metric_name(xm_cal_metric m);

typedef struct {
    xm_cal_metric metric;
    double threshold_usd;    /* event: the path's bad debt (or ADL notional) > threshold */
    xm_cal_vary vary;
    size_t asset, tier;      /* XM_CAL_VARY_MMR: which tier's rate (0-based) */
    double lo, hi;           /* parameter range; <= 0: defaults (docs/calibrate.md) */
    double alpha, z, precision;
    int refine_ci;           /* 1: bisect the interval's ends too (more full runs) */
    xm_run_opts sim;         /* paths, seed, threads, stop (progress is not used) */
    void (*on_point)(void *ctx, const xm_cal_point *pt);
    void *on_point_ctx;
} xm_cal_venue_req;

typedef struct {
    xm_cal_search search;    /* answer: max leverage cap, or min maintenance rate */
    double lo, hi;           /* the range searched */
    double book_max_leverage;  /* highest account leverage in the book at S0 */
    uint64_t accounts_capped;  /* accounts scaled down at the answer (leverage cap) */
    double elapsed_s;
} xm_cal_venue_res;

xm_status xm_cal_venue_solve(const xm_model *model, const xm_cal_venue_req *req,
                             xm_cal_venue_res *res, xm_error *err) XM_MUST_CHECK;
void xm_cal_venue_res_clear(xm_cal_venue_res *r);

/* One candidate x (leverage cap or rate) of the request, outside any search: a full run on
 * req->sim's seed and paths. For scans and plots. */
xm_status xm_cal_venue_eval(const xm_model *model, const xm_cal_venue_req *req, double x,
                            xm_cal_point *pt, xm_error *err) XM_MUST_CHECK;

/* Scale the quantities `qty` (n_positions, from book->qty) so that no unit's leverage at the
 * start prices exceeds `cap`: a unit (cross account, or isolated position) with collateral C
 * (wallet or margin), gross notional G = sum |q| S0 and unrealized PnL U = sum q (S0 - e) at
 * S0 has leverage G / (C + U); above the cap all its quantities are multiplied by
 * s = cap C / (G - cap U), which makes s G / (C + s U) = cap exactly. Units with C + U <= 0
 * are left alone. Returns the number of units scaled. */
uint64_t xm_cal_apply_leverage_cap(const xm_accounts *book, const xm_market *m, double cap,
                                   double *qty);

/* Highest unit leverage G / (C + U) in the book at S0 (units with C + U <= 0 skipped). */
double xm_cal_book_max_leverage(const xm_accounts *book, const xm_market *m);

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CALIBRATE_H */
