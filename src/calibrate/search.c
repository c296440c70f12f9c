/* calibrate/ — inverse questions: the leverage, cap or tier rate for a target probability. */
/* search.c — the bracketing search of xmrisk/calibrate.h.
 *
 * Invariant: `good` meets the target (k/n <= alpha) and `bad` does not. Each step evaluates
 * the midpoint (geometric on a log scale) and replaces the end on its side. Under common
 * random numbers k(x) is a deterministic function, so the bracket always holds the crossing
 * of k(x)/n with alpha; it stops at the requested precision or when Monte Carlo error can no
 * longer separate the ends from the target (both Wilson intervals contain alpha).
 */
#include "xmrisk/calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"
#include "xmrisk/platform.h"
#include "xmrisk/estimators.h"

#define XM_CAL_DEFAULT_MAX_EVALS 200u

const char *xm_cal_stop_name(xm_cal_stop s)
{
    switch (s) {
    case XM_CAL_STOP_PRECISION: return "precision";
    case XM_CAL_STOP_MONTE_CARLO: return "monte_carlo";
    case XM_CAL_STOP_RANGE: return "search_range";
    }
    return "?";
}

void xm_cal_search_clear(xm_cal_search *s)
{
    if (s == NULL)
        return;
    free(s->points);
    memset(s, 0, sizeof *s);
}

typedef struct {
    const xm_cal_search_opts *o;
    xm_cal_eval_fn eval;
    void *ctx;
    xm_cal_search *s;
    size_t cap;
    unsigned evals;
} searcher;

/* Evaluate x (or reuse an earlier evaluation of the same x) into *pt. */
static xm_status evaluate(searcher *q, double x, xm_cal_point *pt, xm_error *err)
{
    for (size_t i = 0; i < q->s->n_points; i++)
        if (q->s->points[i].x == x) {
            *pt = q->s->points[i];
            return XM_OK;
        }
    if (q->evals >= (q->o->max_evals ? q->o->max_evals : XM_CAL_DEFAULT_MAX_EVALS))
        return xm_error_set(err, XM_ENUMERIC, "calibrate: no answer after %u evaluations",
                            q->evals);
    memset(pt, 0, sizeof *pt);
    pt->x = x;
    double t0 = xm_now_s();
    xm_status st = q->eval(q->ctx, x, &pt->k, &pt->n, err);
    if (st != XM_OK)
        return st;
    q->evals++;
    pt->elapsed_s = xm_now_s() - t0;
    pt->p = pt->n ? (double)pt->k / (double)pt->n : 0.0;
    xm_stats_wilson(pt->k, pt->n, q->o->z, &pt->lo, &pt->hi);
    if (xm_grow((void **)&q->s->points, &q->cap, q->s->n_points + 1, sizeof *q->s->points, 16))
        return xm_error_set(err, XM_ENOMEM, "calibrate: out of memory");
    q->s->points[q->s->n_points++] = *pt;
    if (q->o->on_point != NULL)
        q->o->on_point(q->ctx, pt);
    return XM_OK;
}

static double midpoint(const xm_cal_search_opts *o, double a, double b)
{
    return o->log_scale ? sqrt(a) * sqrt(b) : 0.5 * (a + b);
}

/* |b - a| <= precision |a|: the bracket is fine enough. */
static int narrow(const xm_cal_search_opts *o, double a, double b)
{
    return fabs(b - a) <= o->precision * fabs(a) || midpoint(o, a, b) == a ||
           midpoint(o, a, b) == b;
}

static int contains(const xm_cal_point *p, double alpha)
{
    return p->lo <= alpha && alpha <= p->hi;
}

static int by_x(const void *a, const void *b)
{
    double x = ((const xm_cal_point *)a)->x, y = ((const xm_cal_point *)b)->x;
    return (x > y) - (x < y);
}

/* Bisect [*a, *b], where pred holds at *a and not at *b, until the bracket is narrow; on
 * return *a is the last x seen with pred and *b the first without. */
static xm_status bisect_pred(searcher *q, double *a, double *b,
                             int (*pred)(const xm_cal_point *, double), xm_error *err)
{
    while (!narrow(q->o, *a, *b)) {
        xm_cal_point pt;
        double m = midpoint(q->o, *a, *b);
        xm_status st = evaluate(q, m, &pt, err);
        if (st != XM_OK)
            return st;
        if (pred(&pt, q->o->alpha))
            *a = m;
        else
            *b = m;
    }
    return XM_OK;
}

/* Significantly below the target: the upper bound is below alpha. */
static int upper_below(const xm_cal_point *p, double alpha) { return p->hi < alpha; }
/* Not significantly above the target: the lower bound is at most alpha. */
static int lower_not_above(const xm_cal_point *p, double alpha) { return p->lo <= alpha; }

/* Along the evaluated points from the good end to the bad end, the last point where pred
 * holds (*in; the good end when none) and the first where it fails after it (*out; the bad
 * end when none). */
static void crossing(const xm_cal_search *s, const xm_cal_search_opts *o,
                     int (*pred)(const xm_cal_point *, double), double *in, double *out)
{
    int up = o->bad > o->good;
    *in = o->good;
    *out = o->bad;
    for (size_t j = 0; j < s->n_points; j++) {
        const xm_cal_point *p = &s->points[up ? j : s->n_points - 1 - j];
        if (!pred(p, o->alpha)) {
            *out = p->x;
            return;
        }
        *in = p->x;
    }
}

/* The answer's interval: from the last point significantly below the target (upper bound
 * < alpha) to the first point significantly above it (lower bound > alpha), both taken on
 * the outer side so that the interval is conservative; with refine_ci both crossings are
 * bisected to the precision first. Points must be sorted by x. */
static xm_status interval(searcher *q, xm_error *err)
{
    const xm_cal_search_opts *o = q->o;
    xm_cal_search *s = q->s;
    double g_in, g_out, b_in, b_out;
    qsort(s->points, s->n_points, sizeof *s->points, by_x);
    crossing(s, o, upper_below, &g_in, &g_out);
    crossing(s, o, lower_not_above, &b_in, &b_out);
    xm_status st = XM_OK;
    if (o->refine_ci) {
        xm_cal_point pt;
        st = evaluate(q, g_in, &pt, err);
        if (st == XM_OK && upper_below(&pt, o->alpha))
            st = bisect_pred(q, &g_in, &g_out, upper_below, err);
        if (st == XM_OK)
            st = evaluate(q, b_out, &pt, err);
        if (st == XM_OK && !lower_not_above(&pt, o->alpha))
            st = bisect_pred(q, &b_in, &b_out, lower_not_above, err);
        qsort(s->points, s->n_points, sizeof *s->points, by_x);
    }
    s->ci_lo = fmin(g_in, b_out);
    s->ci_hi = fmax(g_in, b_out);
    return st;
}

/* 1 when k is monotone along x in the direction good -> bad (non-decreasing). */
static int check_monotone(const xm_cal_search *s, int up)
{
    for (size_t i = 1; i < s->n_points; i++) {
        uint64_t a = s->points[i - 1].k, b = s->points[i].k;
        if (up ? b < a : b > a)
            return 0;
    }
    return 1;
}

static xm_status check_opts(const xm_cal_search_opts *o, xm_error *err)
{
    if (!(o->alpha > 0.0 && o->alpha < 1.0))
        return xm_error_set(err, XM_EUSAGE, "calibrate: target probability must be in (0, 1), "
                            "got %g", o->alpha);
    if (!(o->precision > 0.0) || !(o->z > 0.0) || !isfinite(o->good) || !isfinite(o->bad) ||
        o->good == o->bad || (o->log_scale && !(o->good > 0.0 && o->bad > 0.0)))
        return xm_error_set(err, XM_EUSAGE, "calibrate: bad search range [%g, %g] for %s",
                            o->good, o->bad, o->what ? o->what : "the parameter");
    return XM_OK;
}

static xm_status bracket(searcher *q, xm_error *err)
{
    const xm_cal_search_opts *o = q->o;
    const char *what = o->what ? o->what : "parameter";
    xm_cal_point g, b;
    xm_status st = evaluate(q, o->good, &g, err);
    if (st != XM_OK)
        return st;
    if (g.p > o->alpha)
        return xm_error_set(err, XM_EUSAGE,
                            "calibrate: target not reached: even at %s %g (the end of the "
                            "search range) the probability is %.4g [%.4g, %.4g] > %g",
                            what, g.x, g.p, g.lo, g.hi, o->alpha);
    st = evaluate(q, o->bad, &b, err);
    if (st != XM_OK)
        return st;
    if (b.p <= o->alpha) {
        q->s->answer = q->s->bracket_bad = o->bad;
        q->s->stop = XM_CAL_STOP_RANGE;
        return XM_OK;
    }
    for (;;) {
        if (narrow(o, g.x, b.x)) {
            q->s->stop = XM_CAL_STOP_PRECISION;
            break;
        }
        if (contains(&g, o->alpha) && contains(&b, o->alpha)) {
            q->s->stop = XM_CAL_STOP_MONTE_CARLO;
            break;
        }
        xm_cal_point m;
        st = evaluate(q, midpoint(o, g.x, b.x), &m, err);
        if (st != XM_OK)
            return st;
        if (m.p <= o->alpha)
            g = m;
        else
            b = m;
    }
    q->s->answer = g.x;
    q->s->bracket_bad = b.x;
    return XM_OK;
}

xm_status xm_cal_search_run(const xm_cal_search_opts *o, xm_cal_eval_fn eval, void *ctx,
                            xm_cal_search *s, xm_error *err)
{
    memset(s, 0, sizeof *s);
    xm_status st = check_opts(o, err);
    if (st != XM_OK)
        return st;
    searcher q = {.o = o, .eval = eval, .ctx = ctx, .s = s};
    st = bracket(&q, err);
    if (st == XM_OK)
        st = interval(&q, err);
    if (st == XM_OK) {
        qsort(s->points, s->n_points, sizeof *s->points, by_x);
        s->monotone = check_monotone(s, o->bad > o->good);
    }
    return st;
}
