/* bench_margin.c — margin checks per second: one pass over a book computing every unit's
 * equity E and maintenance margin MM at fixed marks and counting the liquidatable ones
 * (E <= MM with something open, docs/model.md §4), single-threaded.
 *
 * Book, built in code (not by the population generator): --accounts accounts (default one
 * million) x 4 positions, one per asset (BTC, ETH, SOL, DOGE at the default model's start
 * prices), 20% of accounts isolated; per position a notional log-uniform in $100 .. $2M, long
 * with probability 0.6, entry = mark exp(0.03 u), u uniform in [-1, 1], leverage log-uniform in
 * 2 .. 50 (cross: W = sum notional / leverage of the account's draw; isolated: M_j = notional /
 * leverage of the position's draw). Every asset uses Binance BTCUSDT's early-2025 12-tier table
 * (docs/venues.md a.1).
 *
 * Methods, one full pass each:
 *   direct   E and MM summed here over the book's arrays (the reference "naive" check:
 *            xm_tier_mm per position, a linear scan of the tiers);
 *   health   xm_margin_health() per unit (a cross account, or an isolated position) on an
 *            xm_margin_state allocated before the clock starts.
 * Both must count the same liquidatable units. For scale, a last line times xm_liq_price over
 * every position (what `xmrisk liqprice` computes); it is not a margin check. Each is timed --reps times (default 5) after one
 * untimed warm-up pass; best and median are reported, as accounts/s, positions/s and ns per
 * position, with cpu% = process CPU time / wall time (well under 100: the machine was busy).
 *
 * Usage: bench_margin [--accounts N] [--reps R] [--seed X]
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmrisk/accounts.h"
#include "xmrisk/error.h"
#include "xmrisk/margin.h"
#include "xmrisk/venue.h"

#define N_ASSETS 4
#define MAX_REPS 101

typedef struct {
    long accounts;
    int reps;
    uint64_t seed;
} options;

/* One timed method: a full pass returning the number of liquidatable units and a checksum. */
typedef uint64_t (*pass_fn)(const void *ctx, const double *marks, double *checksum);

typedef struct {
    double best_s, median_s, cpu_share, checksum;
    uint64_t liquidatable;
} bench_result;

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fputs("usage: bench_margin [--accounts N] [--reps R] [--seed X]\n"
          "  --accounts  accounts in the book, 4 positions each (default 1000000)\n"
          "  --reps      timed repetitions per method, after one warm-up (default 5)\n"
          "  --seed      seed of the book (default 20261125)\n",
          f);
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (s == NULL || errno != 0 || *end != '\0' || end == s || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    o->accounts = 1000000;
    o->reps = 5;
    o->seed = 20261125;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        long v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--accounts") == 0 && parse_long(val, 1, 500000000, &v) == 0) {
            o->accounts = v;
        } else if (strcmp(a, "--reps") == 0 && parse_long(val, 1, MAX_REPS, &v) == 0) {
            o->reps = (int)v;
        } else if (strcmp(a, "--seed") == 0 && parse_long(val, 0, INT64_MAX, &v) == 0) {
            o->seed = (uint64_t)v;
        } else {
            fprintf(stderr, "bench_margin: bad argument '%s'%s%s\n", a, val ? " " : "",
                    val ? val : "");
            usage(stderr);
            return -1;
        }
        i++;
    }
    return 0;
}

/* ---- book and venue ---- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s) { return (double)(splitmix64(s) >> 11) * 0x1p-53; }

static double log_unif(uint64_t *s, double lo, double hi)
{
    return exp(log(lo) + (log(hi) - log(lo)) * unif(s));
}

/* docs/venues.md a.1, Binance BTCUSDT ~early 2025: cap, max leverage, MMR. */
static const double binance_2025[][3] = {
    {50e3, 125, 0.004},  {600e3, 100, 0.005}, {3e6, 75, 0.0065},  {12e6, 50, 0.010},
    {70e6, 25, 0.020},   {100e6, 20, 0.025},  {230e6, 10, 0.05},  {480e6, 5, 0.10},
    {600e6, 4, 0.125},   {800e6, 3, 0.15},    {1.2e9, 2, 0.25},   {1.8e9, 1, 0.50},
};

static xm_status build_venue(xm_venue *v, xm_error *err)
{
    size_t n = sizeof binance_2025 / sizeof *binance_2025;
    xm_status st = xm_venue_init(v, N_ASSETS, err);
    for (size_t i = 0; st == XM_OK && i < N_ASSETS; i++) {
        st = xm_tiers_alloc(&v->tiers[i], n, err);
        for (size_t k = 0; st == XM_OK && k < n; k++)
            v->tiers[i].tier[k] = (xm_tier){binance_2025[k][0], binance_2025[k][2],
                                            binance_2025[k][1], 0.0};
        if (st == XM_OK)
            st = xm_tiers_prepare(&v->tiers[i], "bench tiers", err);
    }
    return st;
}

static xm_accounts *build_book(const options *o, const double *marks, xm_error *err)
{
    xm_accounts *b = xm_accounts_alloc(err);
    uint64_t s = o->seed;
    char id[32];
    for (long a = 0; b != NULL && a < o->accounts; a++) {
        int iso = unif(&s) < 0.2;
        double lev = log_unif(&s, 2.0, 50.0), wallet = 0.0;
        snprintf(id, sizeof id, "b%07ld", a);
        if (xm_accounts_add_account(b, id, iso ? XM_ISOLATED : XM_CROSS, 0.0, err) != XM_OK)
            goto fail;
        for (uint16_t i = 0; i < N_ASSETS; i++) {
            double notional = log_unif(&s, 100.0, 2e6);
            double entry = marks[i] * exp(0.03 * (2.0 * unif(&s) - 1.0));
            double q = (unif(&s) < 0.6 ? 1.0 : -1.0) * notional / entry;
            double margin = notional / (iso ? log_unif(&s, 2.0, 50.0) : lev);
            if (xm_accounts_add_position(b, i, q, entry, iso ? margin : 0.0, err) != XM_OK)
                goto fail;
            wallet += margin;
        }
        if (!iso)
            b->wallet[a] = wallet;
    }
    return b;
fail:
    xm_accounts_free(b);
    return NULL;
}

/* ---- the two methods ---- */

typedef struct {
    const xm_accounts *book;
    const xm_venue *venue;
    const xm_margin_state *state;
} pass_ctx;

/* E and MM of every unit straight from the book's arrays (model.md §4). */
static uint64_t pass_direct(const void *ctx, const double *marks, double *checksum)
{
    const pass_ctx *c = ctx;
    const xm_accounts *b = c->book;
    const xm_tier_table *t = c->venue->tiers;
    uint64_t n = 0;
    double sum = 0.0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        size_t lo = b->first[a], hi = b->first[a + 1];
        if (b->mode[a] == XM_CROSS) {
            double e = b->wallet[a], mm = 0.0;
            int open = 0;
            for (size_t j = lo; j < hi; j++) {
                double q = b->qty[j], m = marks[b->asset[j]];
                if (q == 0.0)
                    continue;
                e += q * (m - b->entry[j]);
                mm += xm_tier_mm(&t[b->asset[j]], fabs(q) * m, NULL);
                open = 1;
            }
            n += (uint64_t)(open && e <= mm);
            sum += e - mm;
        } else {
            for (size_t j = lo; j < hi; j++) {
                double q = b->qty[j], m = marks[b->asset[j]];
                if (q == 0.0)
                    continue;
                double e = b->margin[j] + q * (m - b->entry[j]);
                double mm = xm_tier_mm(&t[b->asset[j]], fabs(q) * m, NULL);
                n += (uint64_t)(e <= mm);
                sum += e - mm;
            }
        }
    }
    *checksum = sum;
    return n;
}

/* The same through xm_margin_health, one call per unit. */
static uint64_t pass_health(const void *ctx, const double *marks, double *checksum)
{
    const pass_ctx *c = ctx;
    const xm_accounts *b = c->book;
    uint64_t n = 0;
    double sum = 0.0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        if (b->mode[a] == XM_CROSS) {
            xm_health h = xm_margin_health(c->state, a, XM_UNIT_ACCOUNT, marks);
            n += (uint64_t)xm_health_liquidatable(h);
            sum += h.equity - h.mm;
        } else {
            for (size_t j = b->first[a]; j < b->first[a + 1]; j++) {
                xm_health h = xm_margin_health(c->state, a, (long)j, marks);
                if (!h.open)
                    continue;
                n += (uint64_t)xm_health_liquidatable(h);
                sum += h.equity - h.mm;
            }
        }
    }
    *checksum = sum;
    return n;
}

/* Not a margin check: today's liquidation price of every position (xm_liq_price, the work of
 * `xmrisk liqprice`), for scale. Counts the positions with a price. */
static uint64_t pass_liq_price(const void *ctx, const double *marks, double *checksum)
{
    const pass_ctx *c = ctx;
    uint64_t n = 0;
    double sum = 0.0, x;
    for (size_t j = 0; j < c->book->n_positions; j++)
        if (xm_liq_price(c->book, c->venue, j, marks, &x)) {
            n++;
            sum += x;
        }
    *checksum = sum;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(pass_fn fn, const pass_ctx *ctx, const double *marks, int reps,
                    bench_result *r)
{
    double t[MAX_REPS], cpu0, wall = 0.0;
    r->liquidatable = fn(ctx, marks, &r->checksum);  /* warm-up */
    cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (int k = 0; k < reps; k++) {
        double sum, t0 = clock_s(CLOCK_MONOTONIC);
        uint64_t n = fn(ctx, marks, &sum);
        t[k] = clock_s(CLOCK_MONOTONIC) - t0;
        wall += t[k];
        if (n != r->liquidatable || sum != r->checksum) {
            fprintf(stderr, "bench_margin: repetition %d disagrees with the warm-up\n", k);
            exit(1);
        }
    }
    r->cpu_share = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / wall;
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    r->best_s = t[0];
    r->median_s = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
}

static void print_row(const char *name, const xm_accounts *b, const bench_result *r)
{
    double na = (double)b->n_accounts, np = (double)b->n_positions;
    printf("%-8s %12.3f %12.3f %14.0f %14.0f %10.2f %10.2f %5.0f %12llu\n", name,
           1e3 * r->median_s, 1e3 * r->best_s, na / r->median_s, np / r->median_s,
           1e9 * r->median_s / np, 1e9 * r->best_s / np, 100.0 * r->cpu_share,
           (unsigned long long)r->liquidatable);
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) != 0)
        return 2;
    /* Start prices of models/default.yaml (Binance closes of 2026-01-05). */
    const double marks[N_ASSETS] = {93859.71, 3224.99, 137.90, 0.15171};
    xm_error err;
    xm_error_clear(&err);
    xm_venue v;
    if (build_venue(&v, &err) != XM_OK) {
        fprintf(stderr, "bench_margin: %s\n", err.msg);
        return 1;
    }
    double t0 = clock_s(CLOCK_MONOTONIC);
    xm_accounts *b = build_book(&o, marks, &err);
    xm_margin_state *s = b ? xm_margin_state_alloc(b, &v, &err) : NULL;
    if (s == NULL) {
        fprintf(stderr, "bench_margin: %s\n", err.msg);
        xm_accounts_free(b);
        xm_venue_clear(&v);
        return 1;
    }
    size_t n_iso = 0;
    for (size_t a = 0; a < b->n_accounts; a++)
        n_iso += b->mode[a] == XM_ISOLATED;
    size_t n_units = (b->n_accounts - n_iso) + 4 * n_iso;
    printf("book: %zu accounts (%zu isolated), %zu positions, %zu units; built in %.2f s\n",
           b->n_accounts, n_iso, b->n_positions, n_units, clock_s(CLOCK_MONOTONIC) - t0);
    printf("single thread, %d timed repetitions after one warm-up\n\n", o.reps);
    printf("%-8s %12s %12s %14s %14s %10s %10s %5s %12s\n", "method", "median ms", "best ms",
           "accounts/s", "positions/s", "ns/pos", "(best)", "cpu%", "liquidatable");

    pass_ctx ctx = {b, &v, s};
    bench_result direct, health;
    measure(pass_direct, &ctx, marks, o.reps, &direct);
    print_row("direct", b, &direct);
    measure(pass_health, &ctx, marks, o.reps, &health);
    print_row("health", b, &health);

    int same = direct.liquidatable == health.liquidatable;
    printf("\nliquidatable units: direct %llu, health %llu (%s); sum of E - MM: direct %.17g, "
           "health %.17g\n",
           (unsigned long long)direct.liquidatable, (unsigned long long)health.liquidatable,
           same ? "equal" : "DIFFERENT", direct.checksum, health.checksum);
    printf("health / direct time (median): %.2f\n", health.median_s / direct.median_s);

    bench_result lp;
    measure(pass_liq_price, &ctx, marks, o.reps, &lp);
    printf("\nfor scale, xm_liq_price of every position (xmrisk liqprice): median %.1f ms, best "
           "%.1f ms, %.2f ns/position (median), %llu positions with a price\n",
           1e3 * lp.median_s, 1e3 * lp.best_s, 1e9 * lp.median_s / (double)b->n_positions,
           (unsigned long long)lp.liquidatable);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
    return same ? 0 : 1;
}
