/* fuzz_extremes.c — libFuzzer harness: models whose numbers sit at and near the bounds that
 * keep every result finite (docs/model.md §7.1), run for a few steps.
 *
 *   bytes -> choices -> a model text (1-2 assets, jumps, impact, venue, 1-3 accounts)
 *         -> xm_model_load_string -> (if it loads) 2 paths of xm_cascade_run_path
 *
 * Every number is drawn from its allowed range: one of the two exact bounds, or log-uniform in
 * between (signed ranges: a sign and a log-uniform magnitude, or 0), so the corners the
 * derivation is about are reached in a few thousand inputs. The text is written with %.17g, so
 * the loader reads exactly the drawn values. A model the loader refuses (a product bound such
 * as |jump_beta| x (|mean| + stdev) <= 20, or |qty| x entry above the last cap) is fine: the
 * message must be one located line. A model that loads must give, on every path, finite path
 * metrics, lowest-mark ratios and impacts, and the ledger identity: margin.c's check_ledger
 * asserts it at every settlement (the library is built with -UNDEBUG here).
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmrisk/cascade.h"
#include "xmrisk/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *p;
    size_t n;
} bytes;

/* The next byte, 0 when the input is used up (so short inputs still make a model). */
static unsigned take(bytes *b)
{
    if (b->n == 0)
        return 0;
    b->n--;
    return *b->p++;
}

static double unit(bytes *b)  /* [0, 1] in 1/65535 steps */
{
    unsigned hi = take(b), lo = take(b);
    return (double)(hi << 8 | lo) / 65535.0;
}

/* A number in [lo, hi] (0 < lo <= hi): lo, hi, or log-uniform between. */
static double pick_log(bytes *b, double lo, double hi)
{
    unsigned k = take(b) % 4;
    if (k == 0)
        return lo;
    if (k == 1)
        return hi;
    return fmin(hi, fmax(lo, exp(log(lo) + unit(b) * (log(hi) - log(lo)))));
}

/* A number in [-a, a]: 0, +-a, or a sign and a magnitude log-uniform in [a 1e-6, a]. */
static double pick_signed(bytes *b, double a)
{
    unsigned k = take(b) % 4;
    double sign = (k & 1) ? -1.0 : 1.0;
    if (k == 0)
        return 0.0;
    if (k == 1)
        return sign * a;
    return sign * pick_log(b, a * 1e-6, a);
}

typedef struct {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (w > 0 && (size_t)w < t->cap - t->len)
        t->len += (size_t)w;
}

#define N_MAX 2

/* market: process, jumps, assets, correlation, impact. */
static void market(bytes *b, text *t, size_t n, const double *price)
{
    static const char *const process[] = {"gbm", "student_t", "bachelier"};
    unsigned pr = take(b) % 3;
    put(t, "market:\n  process: %s\n", process[pr]);
    if (pr == 1)
        put(t, "  dof: %.17g\n", 2.0 + pick_log(b, 1e-9, 1e3));
    if (pr != 2 && take(b) % 2)
        put(t, "  jumps: {rate_per_year: %.17g, mean: %.17g, stdev: %.17g}\n",
            take(b) % 2 ? 0.0 : pick_log(b, 1e-3, 1e5), pick_signed(b, 10.0),
            take(b) % 2 ? 0.0 : pick_log(b, 1e-6, 10.0));
    put(t, "  assets:\n");
    for (size_t i = 0; i < n; i++)
        put(t, "    - {symbol: A%zu, price: %.17g, vol: %.17g, drift: %.17g, jump_beta: %.17g}\n",
            i, price[i], take(b) % 4 ? pick_log(b, 1e-6, 100.0) : 0.0, pick_signed(b, 100.0),
            pick_signed(b, 100.0));
    if (n == 2) {
        double r = 0.99 * (2.0 * unit(b) - 1.0);
        put(t, "  correlation: [[1, %.17g], [%.17g, 1]]\n", r, r);
    }
    put(t, "  impact:\n");
    for (size_t i = 0; i < n; i++) {
        double usd = pick_log(b, 1e3, 1e15);
        double half = take(b) % 2 ? pick_log(b, 1e-3, 1e6) : INFINITY;
        if (take(b) % 2)
            put(t, "    A%zu: {model: linear, depth_1pct_usd: %.17g", i, usd);
        else
            put(t, "    A%zu: {model: sqrt, daily_volume_usd: %.17g, y: %.17g", i, usd,
                pick_log(b, 1e-6, 10.0));
        if (isfinite(half))
            put(t, ", half_life_minutes: %.17g", half);
        put(t, "}\n");
    }
}

/* venue: fund, liquidation, adl, one or two tiers per asset (last caps into cap[]). */
static void venue(bytes *b, text *t, size_t n, double *cap)
{
    static const char *const adl[] = {"binance", "bybit", "hyperliquid", "none"};
    put(t, "venue:\n  insurance_fund_usd: %.17g\n", take(b) % 3 ? pick_log(b, 1.0, 1e15) : 0.0);
    if (take(b) % 2)
        put(t, "  liquidation: {mode: partial, fee_rate: %.17g, max_rounds: %u, step: %.17g, "
               "min_partial_notional_usd: %.17g, backstop_ratio: %.17g, remaining_equity: %s}\n",
            0.999 * unit(b), 1 + take(b) % 50, pick_log(b, 1e-6, 1.0), pick_log(b, 1.0, 1e15),
            unit(b), take(b) % 2 ? "keep" : "to_fund");
    else
        put(t, "  liquidation: {mode: full, fee_rate: %.17g, max_rounds: %u}\n", 0.999 * unit(b),
            1 + take(b) % 50);
    put(t, "  adl: {ranking: %s}\n  tiers:\n", adl[take(b) % 4]);
    for (size_t i = 0; i < n; i++) {
        double c0 = pick_log(b, 1.0, 1e15), mmr = pick_log(b, 1e-6, 0.5);
        double lev = pick_log(b, 1.0, 1e3);
        put(t, "    A%zu:\n      - {cap_usd: %.17g, mmr: %.17g, max_leverage: %.17g}\n", i, c0,
            mmr, lev);
        cap[i] = c0;
        if (c0 < 1e15 && take(b) % 2) {
            cap[i] = c0 + (1e15 - c0) * unit(b);
            if (cap[i] > c0)
                put(t, "      - {cap_usd: %.17g, mmr: %.17g, max_leverage: %.17g}\n", cap[i],
                    fmin(0.9, 2 * mmr), fmax(1.0, lev / 2));
            else
                cap[i] = c0;
        }
    }
}

/* 1-3 accounts, cross or isolated, with |qty| x entry within the last cap. */
static void accounts(bytes *b, text *t, size_t n, const double *cap)
{
    unsigned na = 1 + take(b) % 3;
    put(t, "accounts:\n");
    for (unsigned k = 0; k < na; k++) {
        int iso = take(b) % 2;
        put(t, "  - id: a%u\n    mode: %s\n", k, iso ? "isolated" : "cross");
        if (!iso)
            put(t, "    wallet_usd: %.17g\n", take(b) % 4 ? pick_log(b, 1e-6, 1e15) : 0.0);
        put(t, "    positions:\n");
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && take(b) % 2)
                continue;
            double entry = pick_log(b, 1e-9, 1e12);
            double notional = cap[i] * pick_log(b, 1e-9, 1.0);
            double qty = (take(b) % 2 ? -1.0 : 1.0) * notional / entry * (1.0 - 1e-12);
            put(t, "      - {asset: A%zu, qty: %.17g, entry: %.17g", i, qty, entry);
            if (iso)
                put(t, ", margin_usd: %.17g", pick_log(b, 1e-6, 1e15));
            put(t, "}\n");
        }
    }
}

static void require_finite(double v, const char *what)
{
    if (!isfinite(v)) {
        fprintf(stderr, "fuzz_extremes: %s is not finite (%g)\n", what, v);
        abort();
    }
}

static void check_path(const xm_path_metrics *pm, const double *min_ratio, const double *imp,
                       size_t n)
{
    require_finite(pm->liquidated_notional, "liquidated_notional");
    require_finite(pm->largest_cascade_usd, "largest_cascade_usd");
    require_finite(pm->bad_debt_usd, "bad_debt_usd");
    require_finite(pm->fund_paid_usd, "fund_paid_usd");
    require_finite(pm->fund_min_usd, "fund_min_usd");
    require_finite(pm->adl_notional_usd, "adl_notional_usd");
    require_finite(pm->socialized_usd, "socialized_usd");
    for (size_t i = 0; i < n; i++) {
        require_finite(min_ratio[i], "min_ratio");
        require_finite(imp[i], "impact_at_min");
    }
    /* the parts of bad debt never exceed it (the rest is ADL's, model.md §3) */
    if (pm->fund_paid_usd + pm->socialized_usd > pm->bad_debt_usd * (1 + 1e-9) + 1e-6) {
        fprintf(stderr, "fuzz_extremes: fund_paid %g + socialized %g > bad debt %g\n",
                pm->fund_paid_usd, pm->socialized_usd, pm->bad_debt_usd);
        abort();
    }
}

static void run(const xm_model *m, uint64_t seed, int naive)
{
    xm_error err;
    xm_cascade_ws *w = xm_cascade_ws_alloc(m, naive, &err);
    xm_cascade_acc *acc = xm_cascade_acc_alloc(m->book->n_accounts, &err);
    if (w == NULL || acc == NULL) {
        xm_cascade_ws_free(w);
        xm_cascade_acc_free(acc);
        return;
    }
    double min_ratio[N_MAX], imp[N_MAX];
    for (uint64_t path = 0; path < 2; path++) {
        xm_path_metrics pm;
        xm_cascade_run_path(w, seed, path, &pm, min_ratio, imp, acc);
        check_path(&pm, min_ratio, imp, m->market.n);
    }
    xm_cascade_ws_free(w);
    xm_cascade_acc_free(acc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bytes b = {data, size};
    text t = {malloc(16384), 0, 16384};
    if (t.s == NULL)
        return 0;
    size_t n = 1 + take(&b) % N_MAX;
    double price[N_MAX], cap[N_MAX];
    put(&t, "horizon_days: %.17g\nsteps: %u\nseed: %u\npaths: 2\n", pick_log(&b, 1e-6, 3650.0),
        1 + take(&b) % 4, take(&b));
    for (size_t i = 0; i < n; i++)
        price[i] = pick_log(&b, 1e-9, 1e12);
    market(&b, &t, n, price);
    venue(&b, &t, n, cap);
    accounts(&b, &t, n, cap);
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load_string(t.s, t.len, "extremes.yaml", &err);
    if (getenv("XM_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "%.*s-> %s\n", (int)t.len, t.s, m ? "loaded" : err.msg);
    if (m == NULL) {
        if (err.msg[0] == '\0' || strchr(err.msg, '\n') != NULL ||
            strncmp(err.msg, "extremes.yaml:", 14) != 0)
            abort();
    } else {
        run(m, m->seed, (int)(size & 1));
        xm_model_free(m);
    }
    free(t.s);
    return 0;
}
