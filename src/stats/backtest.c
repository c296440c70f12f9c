/* backtest.c — the rolling out-of-sample backtest of today's processes (xmrisk/backtest.h). */
#include "xmrisk/backtest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/driver.h"
#include "market/path_drive.h"
#include "xmrisk/estimators.h"
#include "xmrisk/paths.h"
#include "xmrisk/platform.h"

#define DAY XM_HISTORY_DAY
#define YEAR_S (365.0 * DAY)           /* a 365-day year, as tau (model.md §1) */
#define MAX_PATHS ((uint64_t)1 << 32)  /* path p lives in the low 32 bits of the stream */

/* One day's simulation: the driver's context. */
typedef struct {
    xm_path_drive pd;       /* first member (market/path_drive.h) */
    uint64_t seed, stream0; /* path p draws from stream stream0 + p */
    uint32_t steps;
    size_t n;
    double *lo, *hi;        /* paths * n: min/open and max/open of each path */
} day_sim;

typedef struct {
    const xm_model *m;
    const xm_backtest_opts *o;
    xm_history *const *h;
    xm_history_aligned al;
    int64_t interval;
    size_t per_day;         /* candles in a day */
    xm_market day;          /* the day's market: window estimates, the day's open */
    day_sim sim;
    double *ret, *col;      /* window returns (al.n * n), one asset's path values */
    double *open;           /* n: the day's opens */
} bt_state;

static char *date_text(int64_t t, char buf[24])
{
    xm_history_format_time(t, buf, 24);
    buf[10] = '\0';
    return buf;
}

/* ---- checks ---- */

static xm_status check_model(const xm_model *m, double *steps_per_day, xm_error *err)
{
    if (m->history == NULL)
        return xm_error_set(err, XM_EMODEL, "%s: backtest needs market.history (one price file "
                            "per asset)", m->path);
    for (size_t i = 0; i < m->market.n; i++)
        if (m->history[i] == NULL)
            return xm_error_set(err, XM_EMODEL, "%s: market.history.files: no file for asset "
                                "%s (backtest needs one per asset)", m->path,
                                m->market.assets[i].symbol);
    double spd = m->steps / m->horizon_days;
    if (fabs(spd - nearbyint(spd)) > 1e-9 * spd || nearbyint(spd) < 1.0)
        return xm_error_set(err, XM_EMODEL, "%s: backtest needs a whole number of steps per "
                            "day, got steps / horizon_days = %g", m->path, spd);
    *steps_per_day = nearbyint(spd);
    int64_t iv = xm_history_interval(m->history[0]);
    if (iv <= 0 || iv > DAY || DAY % iv != 0)
        return xm_error_set(err, XM_EMODEL, "%s: backtest needs a data interval that divides a "
                            "day, got %lld s", xm_history_path(m->history[0]), (long long)iv);
    return XM_OK;
}

static xm_status check_opts(const xm_backtest_opts *o, xm_error *err)
{
    char a[24], b[24];
    if (!(o->level > 0.5 && o->level < 1.0))
        return xm_error_set(err, XM_EUSAGE, "--level: expected a number in (0.5, 1), got %g",
                            o->level);
    if (o->paths < 1 || o->paths > MAX_PATHS)
        return xm_error_set(err, XM_EUSAGE, "--paths: expected 1 to 2^32 paths");
    if (o->from % DAY != 0 || o->to % DAY != 0)
        return xm_error_set(err, XM_EUSAGE, "--from and --to: expected days (00:00 UTC)");
    if (o->from > o->to)
        return xm_error_set(err, XM_EUSAGE, "--from %s is after --to %s", date_text(o->from, a),
                            date_text(o->to, b));
    return XM_OK;
}

/* A full window before `from`, candles through the end of `to`. */
static xm_status check_range(const xm_model *m, const xm_backtest_opts *o,
                             const xm_history_aligned *al, int64_t iv, xm_error *err)
{
    char a[24], b[24], c[24];
    int64_t window = (int64_t)m->history_window_days * DAY;
    if (al->n == 0)
        return xm_error_set(err, XM_EMODEL, "%s: market.history: the files have no time in "
                            "common", m->path);
    int64_t first = al->t[0], last_end = al->t[al->n - 1] + iv;
    if (o->from - window < first)
        return xm_error_set(err, XM_EUSAGE, "--from %s: outside the history (the assets' common "
                            "history starts %s; a %u-day window first fits on %s)",
                            date_text(o->from, a), date_text(first, b), m->history_window_days,
                            date_text(first + window + (DAY - first % DAY) % DAY, c));
    if (o->to + DAY > last_end)
        return xm_error_set(err, XM_EUSAGE, "--to %s: outside the history (the assets' common "
                            "history ends %s)", date_text(o->to, a),
                            xm_history_format_time(last_end, b, sizeof b));
    return XM_OK;
}

static xm_status check_all(const xm_model *m, const xm_backtest_opts *o,
                           xm_history_aligned *al, double *spd, xm_error *err)
{
    xm_status s = check_opts(o, err);
    if (s == XM_OK)
        s = check_model(m, spd, err);
    if (s == XM_OK)
        s = xm_history_align((const xm_history *const *)m->history, m->market.n, al, err);
    if (s == XM_OK)
        s = check_range(m, o, al, xm_history_interval(m->history[0]), err);
    return s;
}

xm_status xm_backtest_check(const xm_model *m, const xm_backtest_opts *o, xm_error *err)
{
    xm_history_aligned al = {0};
    double spd;
    xm_status s = check_all(m, o, &al, &spd, err);
    xm_history_aligned_clear(&al);
    return s;
}

/* ---- the window: volatility and correlation ---- */

/* The window's log returns into b->ret (row r: the n assets); their number. */
static size_t window_returns(bt_state *b, int64_t d)
{
    const xm_history_aligned *al = &b->al;
    size_t n = b->day.n, m = 0;
    int64_t start = d - (int64_t)b->m->history_window_days * DAY;
    size_t k0 = xm_history_lower_bound(al->t, al->n, start);
    size_t k1 = xm_history_lower_bound(al->t, al->n, d - b->interval + 1);  /* ending by d */
    for (size_t k = k0 + 1; k < k1; k++) {
        if (al->t[k] - al->t[k - 1] != b->interval)
            continue;
        for (size_t i = 0; i < n; i++) {
            const double *c = xm_history_close(b->h[i]);
            b->ret[m * n + i] = log(c[al->row[k * n + i]] / c[al->row[(k - 1) * n + i]]);
        }
        m++;
    }
    return m;
}

/* Sample sd (divisor m - 1) x sqrt(intervals a year) into day.assets[].vol, Pearson
 * correlation into day.corr (0 off the diagonal for an asset of zero variance). */
static void window_estimates(bt_state *b, size_t m)
{
    size_t n = b->day.n;
    double *mean = b->open + n;  /* scratch after the opens: n means, n sums of squares */
    double *ss = mean + n;
    for (size_t i = 0; i < n; i++) {
        mean[i] = 0.0;
        for (size_t r = 0; r < m; r++)
            mean[i] += b->ret[r * n + i];
        mean[i] /= (double)m;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double acc = 0.0;
            for (size_t r = 0; r < m; r++)
                acc += (b->ret[r * n + i] - mean[i]) * (b->ret[r * n + j] - mean[j]);
            b->day.corr[i * n + j] = acc;
            if (i == j)
                ss[i] = acc;
        }
    double per_year = YEAR_S / (double)b->interval;
    for (size_t i = 0; i < n; i++) {
        b->day.assets[i].vol = sqrt(ss[i] / (double)(m - 1) * per_year);
        for (size_t j = 0; j < i; j++) {
            double den = sqrt(ss[i] * ss[j]);
            double r = den > 0.0 ? b->day.corr[i * n + j] / den : 0.0;
            r = r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
            b->day.corr[i * n + j] = b->day.corr[j * n + i] = r;
        }
        b->day.corr[i * n + i] = 1.0;
    }
}

/* ---- the day ---- */

/* Every asset has the day's full set of candles: opens into b->open; 1, else 0. */
static int day_complete(bt_state *b, int64_t d)
{
    for (size_t i = 0; i < b->day.n; i++) {
        size_t first;
        size_t k = xm_history_day(b->h[i], d, &first);
        if (k != b->per_day || xm_history_t(b->h[i])[first] != d)
            return 0;
        b->open[i] = xm_history_open(b->h[i])[first];
    }
    return 1;
}

static xm_status sim_path(void *ctx, void *ws, uint64_t p)
{
    day_sim *d = ctx;
    xm_path_ws *w = ws;
    size_t n = d->n;
    double *lo = d->lo + p * n, *hi = d->hi + p * n;
    xm_path_begin(w, d->seed, d->stream0 + p);
    const double *s = xm_path_prices(w);
    for (size_t i = 0; i < n; i++)
        lo[i] = hi[i] = s[i];
    for (uint32_t k = 0; k < d->steps; k++) {
        xm_path_step(w);
        for (size_t i = 0; i < n; i++) {
            lo[i] = s[i] < lo[i] ? s[i] : lo[i];
            hi[i] = s[i] > hi[i] ? s[i] : hi[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        double open = d->pd.market->assets[i].price;
        lo[i] /= open;
        hi[i] /= open;
    }
    return XM_OK;
}

/* The day's market (estimates, opens) prepared, then the paths. */
static xm_status simulate_day(bt_state *b, int64_t d, size_t m, xm_error *err)
{
    char where[64], date[24];
    window_estimates(b, m);
    for (size_t i = 0; i < b->day.n; i++)
        b->day.assets[i].price = b->open[i];
    snprintf(where, sizeof where, "backtest %s: window correlation", date_text(d, date));
    xm_status s = xm_market_prepare(&b->day, where, err);
    if (s != XM_OK)
        return s;
    b->sim.stream0 = (uint64_t)(d / DAY) << 32;
    xm_drive_spec spec = {.ctx = &b->sim, .ws_alloc = xm_path_drive_ws_alloc,
                          .ws_free = xm_path_drive_ws_free, .path = sim_path};
    xm_run_opts ro = {.threads = b->o->threads, .stop = b->o->stop};
    xm_drive_out out;
    s = xm_drive(&spec, &ro, 0, b->o->paths, &out);
    return xm_drive_error(s, "backtest", "a path workspace", out.done, b->o->paths, err);
}

/* Predicted quantiles, realized ratios and exceedances of asset i on day d into *row. */
static void score_asset(bt_state *b, int64_t d, size_t i, xm_backtest_row *row)
{
    size_t n = b->day.n, np = b->o->paths, first;
    double level = b->o->level;
    for (size_t p = 0; p < np; p++)
        b->col[p] = b->sim.lo[p * n + i];
    xm_stats_sort(b->col, np);
    row->pred_low = xm_stats_quantile_sorted(b->col, np, 1.0 - level);
    for (size_t p = 0; p < np; p++)
        b->col[p] = b->sim.hi[p * n + i];
    xm_stats_sort(b->col, np);
    row->pred_high = xm_stats_quantile_sorted(b->col, np, level);
    size_t k = xm_history_day(b->h[i], d, &first);
    const double *lo = xm_history_low(b->h[i]) + first, *hi = xm_history_high(b->h[i]) + first;
    double low = lo[0], high = hi[0];
    for (size_t j = 1; j < k; j++) {
        low = lo[j] < low ? lo[j] : low;
        high = hi[j] > high ? hi[j] : high;
    }
    row->day = d;
    row->asset = i;
    row->low = low / b->open[i];
    row->high = high / b->open[i];
    row->exceeded_low = row->low < row->pred_low;
    row->exceeded_high = row->high > row->pred_high;
}

/* ---- the run ---- */

static xm_status state_init(bt_state *b, const xm_model *m, const xm_backtest_opts *o,
                            double spd, size_t n_days, xm_backtest_result *r, xm_error *err)
{
    size_t n = m->market.n;
    b->m = m;
    b->o = o;
    b->h = m->history;
    b->interval = xm_history_interval(m->history[0]);
    b->per_day = (size_t)(DAY / b->interval);
    xm_status s = xm_market_init(&b->day, n, err);
    if (s != XM_OK)
        return s;
    b->day.process = m->market.process;
    b->day.dof = m->market.dof;
    b->day.jumps = m->market.jumps;
    b->day.corr_repair = 1;
    for (size_t i = 0; i < n; i++) {
        b->day.assets[i] = m->market.assets[i];
        b->day.assets[i].drift = 0.0;
    }
    b->sim = (day_sim){.pd = {&b->day, 1.0 / (spd * 365.0)}, .seed = o->seed,
                       .steps = (uint32_t)spd, .n = n};
    b->sim.lo = malloc(o->paths * n * sizeof(double));
    b->sim.hi = malloc(o->paths * n * sizeof(double));
    b->col = malloc(o->paths * sizeof(double));
    b->ret = malloc((b->al.n + 1) * n * sizeof(double));
    b->open = malloc(3 * n * sizeof(double));
    r->n_assets = n;
    r->rows = malloc(n_days * n * sizeof *r->rows);
    r->cov = calloc(2 * n, sizeof *r->cov);
    if (!b->sim.lo || !b->sim.hi || !b->col || !b->ret || !b->open || !r->rows || !r->cov)
        return xm_error_set(err, XM_ENOMEM, "backtest: out of memory");
    return XM_OK;
}

static void state_clear(bt_state *b)
{
    xm_market_clear(&b->day);
    xm_history_aligned_clear(&b->al);
    free(b->sim.lo);
    free(b->sim.hi);
    free(b->col);
    free(b->ret);
    free(b->open);
}

/* Kupiec and Christoffersen per asset and side over the days evaluated. */
static xm_status coverage(const xm_backtest_opts *o, xm_backtest_result *r, xm_error *err)
{
    size_t n = r->n_assets;
    uint8_t *ind = malloc(r->n_days);
    if (ind == NULL)
        return xm_error_set(err, XM_ENOMEM, "backtest: out of memory");
    xm_status s = XM_OK;
    for (size_t k = 0; k < 2 * n && s == XM_OK; k++) {
        for (size_t d = 0; d < r->n_days; d++) {
            const xm_backtest_row *row = &r->rows[d * n + k / 2];
            ind[d] = k % 2 == 0 ? row->exceeded_low : row->exceeded_high;
        }
        s = xm_coverage_from_indicators(ind, r->n_days, 1.0 - o->level, &r->cov[k], err);
    }
    free(ind);
    return s;
}

static xm_status run_days(bt_state *b, xm_backtest_result *r, xm_error *err)
{
    const xm_backtest_opts *o = b->o;
    xm_status s = XM_OK;
    for (int64_t d = o->from; d <= o->to && s == XM_OK; d += DAY) {
        size_t m = window_returns(b, d);
        if (m < 2 || !day_complete(b, d)) {
            r->skipped_days++;
            continue;
        }
        s = simulate_day(b, d, m, err);
        for (size_t i = 0; i < b->day.n && s == XM_OK; i++)
            score_asset(b, d, i, &r->rows[r->n_days * b->day.n + i]);
        if (s == XM_OK)
            r->n_days++;
    }
    if (s == XM_OK && r->n_days == 0)
        return xm_error_set(err, XM_EMODEL, "backtest: no day of the range has full data "
                            "(%zu skipped)", r->skipped_days);
    return s == XM_OK ? coverage(o, r, err) : s;
}

xm_status xm_backtest_run(const xm_model *m, const xm_backtest_opts *o, xm_backtest_result *r,
                          xm_error *err)
{
    bt_state b = {0};
    double spd = 0.0;
    memset(r, 0, sizeof *r);
    double t0 = xm_now_s();
    xm_status s = check_all(m, o, &b.al, &spd, err);
    if (s == XM_OK)
        s = state_init(&b, m, o, spd, (size_t)((o->to - o->from) / DAY + 1), r, err);
    if (s == XM_OK)
        s = run_days(&b, r, err);
    state_clear(&b);
    if (s != XM_OK)
        xm_backtest_result_clear(r);
    else
        r->elapsed_s = xm_now_s() - t0;
    return s;
}

void xm_backtest_result_clear(xm_backtest_result *r)
{
    free(r->rows);
    free(r->cov);
    memset(r, 0, sizeof *r);
}
