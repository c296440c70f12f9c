/* test_liqprice.c — today's liquidation price (xm_liq_price, src/margin/liqprice.c).
 *
 * Known answers from docs/venues.md (a.1 Binance, a.5 Hyperliquid),
 * tier switching, several positions in one asset, edge cases, and a property test over random
 * books that checks E = MM at every price returned, with E and MM computed here from the book
 * and xm_tier_mm alone (never through src/margin/margin.c). */
#include "xm_test.h"

#include <math.h>

#include "xmrisk/accounts.h"
#include "xmrisk/margin.h"
#include "xmrisk/venue.h"

typedef struct {
    double cap, lev, mmr;
} tier_row;

#define N_OF(a) (sizeof(a) / sizeof *(a))

/* docs/venues.md a.1, Binance BTCUSDT, Mar-2021 announcement (first tiers). */
static const tier_row binance_2021[] = {
    {50e3, 125, 0.004}, {250e3, 100, 0.005}, {1e6, 50, 0.010}, {10e6, 20, 0.025},
};

/* docs/venues.md a.1, ETHUSDT: the API doc's illustrative bracket 1 (0-10k, 75x,
 * 0.65%); the tiers above it are only there so that the table goes on. */
static const tier_row eth_api_doc[] = {{10e3, 75, 0.0065}, {1e12, 50, 0.010}};

/* docs/venues.md a.1, Binance BTCUSDT, ~early 2025 (12 tiers). */
static const tier_row binance_2025[] = {
    {50e3, 125, 0.004},   {600e3, 100, 0.005}, {3e6, 75, 0.0065},  {12e6, 50, 0.010},
    {70e6, 25, 0.020},    {100e6, 20, 0.025},  {230e6, 10, 0.05},  {480e6, 5, 0.10},
    {600e6, 4, 0.125},    {800e6, 3, 0.15},    {1.2e9, 2, 0.25},   {1.8e9, 1, 0.50},
};

/* docs/venues.md a.1, Binance BTCUSDT, Aug-2025 (the 4 tiers captured): 0.4% cum 0,
 * 0.5% cum 300, 0.65% cum 1,500, 1% cum 12,000. */
static const tier_row binance_aug2025[] = {
    {300e3, 150, 0.004}, {800e3, 100, 0.005}, {3e6, 75, 0.0065}, {12e6, 50, 0.010},
};

/* docs/venues.md a.5, Hyperliquid BTC: 0-150M at 40x (MM rate 1/(2 40) = 1.25%),
 * then 20x (2.5%). */
static const tier_row hyperliquid_btc[] = {{150e6, 40, 0.0125}, {1e12, 20, 0.025}};

/* ---- fixtures built in code ---- */

static void venue_make(xm_venue *v, size_t n_assets)
{
    xm_error err;
    assert_int_equal(xm_venue_init(v, n_assets, &err), XM_OK);
}

static void venue_set(xm_venue *v, size_t asset, const tier_row *rows, size_t n)
{
    xm_error err;
    xm_tier_table *t = &v->tiers[asset];
    assert_int_equal(xm_tiers_alloc(t, n, &err), XM_OK);
    for (size_t k = 0; k < n; k++)
        t->tier[k] = (xm_tier){rows[k].cap, rows[k].mmr, rows[k].lev, 0.0};
    assert_int_equal(xm_tiers_prepare(t, "test", &err), XM_OK);
}

static xm_accounts *book_make(void)
{
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    assert_non_null(b);
    return b;
}

static void account(xm_accounts *b, const char *id, xm_margin_mode mode, double wallet)
{
    xm_error err;
    assert_int_equal(xm_accounts_add_account(b, id, mode, wallet, &err), XM_OK);
}

static void position(xm_accounts *b, uint16_t asset, double qty, double entry, double margin)
{
    xm_error err;
    assert_int_equal(xm_accounts_add_position(b, asset, qty, entry, margin, &err), XM_OK);
}

/* The liquidation price of j, 0 when there is none; checks that the return code agrees. */
static double liq(const xm_accounts *b, const xm_venue *v, size_t j, const double *marks)
{
    double x = -1.0;
    int ok = xm_liq_price(b, v, j, marks, &x);
    if (ok) {
        assert_true(x > 0.0 && isfinite(x));
        return x;
    }
    assert_true(x == 0.0);
    return 0.0;
}

/* ---- the unit's health, computed here (not by src/margin/margin.c) ---- */

/* E and MM of position j's unit at `marks` (docs/model.md §4) and its gross notional
 * sum |q| m: the cross account of j, or j alone when isolated. */
static void unit_health(const xm_accounts *b, const xm_venue *v, size_t j, const double *marks,
                        double *equity, double *mm, double *gross)
{
    size_t a = b->owner[j], lo = b->first[a], hi = b->first[a + 1];
    double e = b->wallet[a];
    if (b->mode[a] == XM_ISOLATED) {
        lo = j;
        hi = j + 1;
        e = b->margin[j];
    }
    double m_sum = 0.0, g = 0.0;
    for (size_t i = lo; i < hi; i++) {
        double m = marks[b->asset[i]], n = fabs(b->qty[i]) * m;
        e += b->qty[i] * (m - b->entry[i]);
        m_sum += xm_tier_mm(&v->tiers[b->asset[i]], n, NULL);
        g += n;
    }
    *equity = e;
    *mm = m_sum;
    *gross = g;
}

/* E - MM of j's unit with j's asset at x, the other marks as given; *gross at that price. */
static double f_at(const xm_accounts *b, const xm_venue *v, size_t j, const double *marks, double x,
                   double *gross)
{
    double m[16], e, mm, g;
    assert_true(v->n_assets <= 16);
    memcpy(m, marks, v->n_assets * sizeof *m);
    m[b->asset[j]] = x;
    unit_health(b, v, j, m, &e, &mm, &g);
    if (gross != NULL)
        *gross = g;
    return e - mm;
}

/* ---- known answers ---- */

/* Binance's published cross example (docs/venues.md a.1, the 2020 FAQ, one-way mode):
 * WB = 10.72 USDT; short 0.005 BTC at 9,451.53 (MMR 0.4%, cum 0) and long 1 ETH at 199.53
 * (MMR 0.65%). For BTC the other contract is ETH with TMM1 = 1.3 and UPNL1 = 0.47: the ETH
 * mark is 200 (0.0065 x 200 = 1.3, 200 - 199.53 = 0.47). For ETH, TMM1 = 0.19 and UPNL1 =
 * -0.06: the BTC mark 9,463.53 gives UPNL1 = 0.005 (9451.53 - 9463.53) = -0.06 exactly and
 * TMM1 = 0.18927 (published rounded to 0.19). Published: LP_BTC = 11,383.99, LP_ETH = 190.29
 * (190.297 with TMM1 = 0.19). Tolerance: the published cent. */
static void test_binance_published_cross(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 2);
    venue_set(&v, 0, binance_2021, N_OF(binance_2021));
    venue_set(&v, 1, eth_api_doc, N_OF(eth_api_doc));
    xm_accounts *b = book_make();
    account(b, "faq-2020", XM_CROSS, 10.72);
    position(b, 0, -0.005, 9451.53, 0.0);
    position(b, 1, 1.0, 199.53, 0.0);
    const double marks[2] = {9463.53, 200.0};

    double btc = liq(b, &v, 0, marks), eth = liq(b, &v, 1, marks);
    assert_near(btc, 11383.99, 0.01);
    assert_near(eth, 190.29, 0.01);
    /* The residual from TMM1 = 0.18927 instead of 0.19: 0.00073 / 0.9935. */
    assert_near(eth, 190.297 - 0.00073 / 0.9935, 1e-3);
    /* Binance's formula with our TMM1, to rounding. */
    assert_near(btc, (10.72 - 1.3 + 0.47 + 0.005 * 9451.53) / (0.005 * 0.004 + 0.005), 1e-8);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* The derived vectors of docs/venues.md a.1 with the Aug-2025 tiers 1/2:
 * WB 10,000, long 1 BTC at 100,000 (tier 1: 0.4%, cum 0) -> 90,361.45, E = MM = 361.45 there;
 * WB 50,000, long 5 BTC at 100,000 (tier 2: 0.5%, cum 300) -> 90,391.96 (451,960 notional:
 * still tier 2). */
static void test_binance_derived_vectors(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, binance_aug2025, N_OF(binance_aug2025));
    xm_accounts *b = book_make();
    account(b, "one-btc", XM_CROSS, 10000.0);
    position(b, 0, 1.0, 100000.0, 0.0);
    account(b, "five-btc", XM_CROSS, 50000.0);
    position(b, 0, 5.0, 100000.0, 0.0);
    const double marks[1] = {100000.0};

    double x1 = liq(b, &v, 0, marks), x5 = liq(b, &v, 1, marks);
    assert_near(x1, 90361.45, 0.01);
    assert_near(x5, 90391.96, 0.01);
    double e, mm, g;
    const double at1[1] = {x1};
    unit_health(b, &v, 0, at1, &e, &mm, &g);
    assert_near(e, 361.45, 0.01);
    assert_near(mm, 361.45, 0.01);
    assert_int_equal(xm_tier_index(&v.tiers[0], 5.0 * x5), 1);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Hyperliquid (docs/venues.md a.5): liq = price - side margin_available / size /
 * (1 - l side), l = 1/(2 40) = 1.25%; account 10k, long 1 BTC at 100k -> 91,139.24, with
 * E = MM = 1,139.24 there. Isolated with the same margin gives the same answer. */
static void test_hyperliquid_example(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, hyperliquid_btc, N_OF(hyperliquid_btc));
    xm_accounts *b = book_make();
    account(b, "hl-cross", XM_CROSS, 10000.0);
    position(b, 0, 1.0, 100000.0, 0.0);
    account(b, "hl-iso", XM_ISOLATED, 0.0);
    position(b, 0, 1.0, 100000.0, 10000.0);
    const double marks[1] = {100000.0};

    double x = liq(b, &v, 0, marks);
    assert_near(x, 91139.24, 0.01);
    assert_near(x, 100000.0 - (10000.0 - 1250.0) / 1.0 / (1.0 - 0.0125), 1e-8);
    assert_near(liq(b, &v, 1, marks), x, 1e-9);
    double e, mm, g;
    const double at[1] = {x};
    unit_health(b, &v, 0, at, &e, &mm, &g);
    assert_near(e, 1139.24, 0.01);
    assert_near(mm, 1139.24, 0.01);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ---- tiers ---- */

/* Binance's one-way formula in tier k (what a single pass would answer). */
static double formula(const xm_tier_table *t, size_t k, double c, double q, double e)
{
    return (q * e - c - t->tier[k].cum) / (q - fabs(q) * t->tier[k].mmr);
}

/* Checks x is the consistent answer: E = MM at x, in the tier of |q| x, and the tier at the
 * current mark is another one whose formula gives something else. */
static void check_switch(const xm_accounts *b, const xm_venue *v, size_t j, const double *marks,
                         double expect)
{
    const xm_tier_table *t = &v->tiers[b->asset[j]];
    double q = fabs(b->qty[j]), x = liq(b, v, j, marks), g;
    assert_near(x, expect, 1e-9 * expect);
    assert_near(f_at(b, v, j, marks, x, &g), 0.0, 1e-9 * g);
    long k_now = xm_tier_index(t, q * marks[b->asset[j]]), k_at = xm_tier_index(t, q * x);
    if (k_at < 0)
        k_at = (long)t->n - 1;
    assert_true(k_now != k_at);
    double c = b->mode[b->owner[j]] == XM_ISOLATED ? b->margin[j] : b->wallet[b->owner[j]];
    assert_near(formula(t, (size_t)k_at, c, b->qty[j], b->entry[j]), x, 1e-9 * x);
    double naive = formula(t, (size_t)(k_now < 0 ? (long)t->n - 1 : k_now), c, b->qty[j],
                           b->entry[j]);
    assert_true(fabs(naive - x) > 1.0);
}

/* Aug-2025 tiers. Long 4 BTC at 100k (400k: tier 2) with W = 121,120: tier 2's formula gives
 * 69,994.97, whose notional 279,980 is tier 1; tier 1 gives 70,000 (280k: tier 1), where
 * E = 1,120 = 0.4% of 280k. Short 2 BTC at 100k (200k: tier 1) with W = 201,700: tier 1 gives
 * 200,049.8 (tier 2); tier 2 gives 200,000 (400k: tier 2) where E = 1,700 = 0.5% 400k - 300.
 * Long 40 BTC (4M: tier 4) with W = 2,011,500 falls to 50,000 (2M: tier 3). */
static void test_tier_switching(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, binance_aug2025, N_OF(binance_aug2025));
    xm_accounts *b = book_make();
    account(b, "down-a-tier", XM_CROSS, 121120.0);
    position(b, 0, 4.0, 100000.0, 0.0);
    account(b, "up-a-tier", XM_CROSS, 201700.0);
    position(b, 0, -2.0, 100000.0, 0.0);
    account(b, "iso-down", XM_ISOLATED, 0.0);
    position(b, 0, 40.0, 100000.0, 2011500.0);
    const double marks[1] = {100000.0};

    check_switch(b, &v, 0, marks, 70000.0);
    check_switch(b, &v, 1, marks, 200000.0);
    check_switch(b, &v, 2, marks, 50000.0);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Beyond the last cap the last tier is used (xm_tier_mm's rule): short 100 BTC at 100k (10M,
 * tier 4 of the 4 captured Aug-2025 tiers) with W = 5,138,000 reaches 150,000 (15M > 12M),
 * where E = 138,000 = 1% 15M - 12,000. */
static void test_beyond_last_tier(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, binance_aug2025, N_OF(binance_aug2025));
    xm_accounts *b = book_make();
    account(b, "whale", XM_CROSS, 5138000.0);
    position(b, 0, -100.0, 100000.0, 0.0);
    const double marks[1] = {100000.0};
    double x = liq(b, &v, 0, marks), g;
    assert_near(x, 150000.0, 1e-9 * 150000.0);
    assert_int_equal(xm_tier_index(&v.tiers[0], 100.0 * x), -1);
    assert_near(f_at(b, &v, 0, marks, x, &g), 0.0, 1e-9 * g);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ---- rows of one account, asset and side: one position (xmrisk/accounts.h, Lots) ---- */

/* Two long rows of 1 BTC at 100k and 90k, W = 10,000, 0.4% tiers, fold into one position:
 * Q = 2, E = 190,000 / 2 = 95,000 (exact). 10,000 + 2x - 190,000 - 0.008 x = 0 ->
 * x = 180,000 / 1.992 = 90,361.45. Holding the second row at the mark 100k instead
 * (C = 10,000 + 10,000 - 400) would give 80,400 / 0.996 = 80,722.89. */
static void test_same_asset_moves_together(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, binance_aug2025, N_OF(binance_aug2025));
    xm_accounts *b = book_make();
    account(b, "two-longs", XM_CROSS, 10000.0);
    position(b, 0, 1.0, 100000.0, 0.0);
    position(b, 0, 1.0, 90000.0, 0.0);
    assert_int_equal(b->n_positions, 1);
    assert_int_equal(b->n_folded, 1);
    assert_true(b->qty[0] == 2.0 && b->entry[0] == 95000.0);
    const double marks[1] = {100000.0};
    double x0 = liq(b, &v, 0, marks), g;
    assert_near(x0, 180000.0 / 1.992, 1e-9 * x0);
    assert_near(f_at(b, &v, 0, marks, x0, &g), 0.0, 1e-9 * g);
    /* Not the answer with the other row held at its mark. */
    assert_true(fabs(x0 - (100000.0 - 19600.0) / 0.996) > 1000.0);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Issue 14's figures. A two-tier table of Binance's shape: 0.5% up to $1M, 5% above, with
 * cum = 1e6 (0.05 - 0.005) = 45,000 (docs/venues.md a.0's cum rule). Mark and entry 100,000,
 * cross wallet 600,000, long 100 BTC. One row: notional 1e7 in tier 2, MM = 455,000, and a.1's
 * formula gives LP = (600,000 - 45,000 - 100 x 100,000) / (100 x 0.05 - 100) = 9,355,000 / 95
 * = 98,473.68. Tiered row by row, 11 rows (10 of 9 BTC, 1 of 10 BTC: each <= $1M, tier 1)
 * gave MM = 50,000 and LP = 9,400,000 / 99.5 = 94,472.36. Folded, the 11 rows are the one row
 * exactly (integer sums, entry 9e6 k / 9 k = 1e5): the same price, bit for bit. */
static void test_lots_issue_figures(void **state)
{
    (void)state;
    static const tier_row two_tiers[] = {{1e6, 100, 0.005}, {1e9, 10, 0.05}};
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, two_tiers, N_OF(two_tiers));
    assert_near(v.tiers[0].tier[1].cum, 45000.0, 1e-6);
    xm_accounts *one = book_make(), *lots = book_make();
    account(one, "one-row", XM_CROSS, 600000.0);
    position(one, 0, 100.0, 100000.0, 0.0);
    account(lots, "eleven-rows", XM_CROSS, 600000.0);
    for (int k = 0; k < 11; k++)
        position(lots, 0, k < 10 ? 9.0 : 10.0, 100000.0, 0.0);
    assert_int_equal(lots->n_positions, 1);
    assert_int_equal(lots->n_folded, 10);
    assert_true(lots->qty[0] == 100.0 && lots->entry[0] == 100000.0);
    assert_near(xm_tier_mm(&v.tiers[0], 1e7, NULL), 455000.0, 1e-6);
    const double marks[1] = {100000.0};
    double x1 = liq(one, &v, 0, marks), x11 = liq(lots, &v, 0, marks);
    assert_near(x1, 9355000.0 / 95.0, 1e-9 * x1);
    assert_near(x1, 98473.68, 0.005);
    assert_true(x11 == x1);
    /* What row-by-row tiering gave (no longer reachable through the book). */
    assert_near(9400000.0 / 99.5, 94472.36, 0.005);
    xm_accounts_free(one);
    xm_accounts_free(lots);
    xm_venue_clear(&v);
}

/* Lots with different entries. Exact case: rows 1, 1, 2, 4 BTC at 100,000, 96,000, 99,000,
 * 101,000 have running sums that are powers of two and integer numerators, so every weighted
 * mean is exact (98,000, 98,500, 99,750): the folded book is the one row {8, 99,750} bit for
 * bit. General case (rows 0.37, 1.13, 2.9 at 97,123.45, 101,987.6, 94,321.09): the price of the
 * folded position solves E = MM with E summed over the rows, sum q_i (x - e_i), to 1e-9 of the
 * notional (the weighted mean carries a few ulps). */
static void test_lots_weighted_entry(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, binance_2025, N_OF(binance_2025));
    const double marks[1] = {100000.0};
    xm_accounts *b = book_make();
    account(b, "dyadic", XM_CROSS, 60000.0);
    static const double q4[] = {1, 1, 2, 4}, e4[] = {100000, 96000, 99000, 101000};
    for (int k = 0; k < 4; k++)
        position(b, 0, q4[k], e4[k], 0.0);
    account(b, "one-row", XM_CROSS, 60000.0);
    position(b, 0, 8.0, 99750.0, 0.0);
    assert_true(b->qty[0] == 8.0 && b->entry[0] == 99750.0);
    assert_true(liq(b, &v, 0, marks) == liq(b, &v, 1, marks));

    account(b, "fills", XM_CROSS, 25000.0);
    static const double q3[] = {0.37, 1.13, 2.9}, e3[] = {97123.45, 101987.6, 94321.09};
    double qsum = 0.0, pnl_at = 0.0, x;
    for (int k = 0; k < 3; k++) {
        position(b, 0, q3[k], e3[k], 0.0);
        qsum += q3[k];
    }
    assert_int_equal(b->n_positions, 3);
    x = liq(b, &v, 2, marks);
    for (int k = 0; k < 3; k++)
        pnl_at += q3[k] * (x - e3[k]);
    double mm = xm_tier_mm(&v.tiers[0], qsum * x, NULL);
    assert_near(25000.0 + pnl_at - mm, 0.0, 1e-9 * qsum * x);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* What does not fold: a short beside a long (hedge mode: two positions, each tiered), rows of
 * an isolated account (each has its own margin), rows of two accounts. A later long row folds
 * into the first long even with a short between them. */
static void test_lots_what_folds(void **state)
{
    (void)state;
    xm_accounts *b = book_make();
    account(b, "hedge", XM_CROSS, 1000.0);
    position(b, 0, 1.0, 100.0, 0.0);
    position(b, 0, -2.0, 110.0, 0.0);
    position(b, 1, 3.0, 10.0, 0.0);
    position(b, 0, 3.0, 120.0, 0.0);
    position(b, 0, -2.0, 90.0, 0.0);
    assert_int_equal(b->n_positions, 3);
    assert_true(b->qty[0] == 4.0 && b->entry[0] == 115.0);
    assert_true(b->qty[1] == -4.0 && b->entry[1] == 100.0);
    assert_true(b->qty[2] == 3.0);
    account(b, "iso", XM_ISOLATED, 0.0);
    position(b, 0, 1.0, 100.0, 50.0);
    position(b, 0, 1.0, 100.0, 50.0);
    account(b, "other", XM_CROSS, 1000.0);
    position(b, 0, 1.0, 100.0, 0.0);
    assert_int_equal(b->n_positions, 6);
    assert_int_equal(b->n_folded, 2);
    assert_int_equal(xm_accounts_fold_target(b, 0, 2.0), 5);
    assert_int_equal(xm_accounts_fold_target(b, 0, -2.0), 6);
    xm_accounts_free(b);
}

/* A hedged pair in one asset (long 1, short 1 at 100k, W = 1,000): PnL cancels, MM grows with
 * the price, so the account is liquidated by a rise: 1,000 = 2 x 0.004 x -> 125,000, for both
 * legs. */
static void test_same_asset_hedged(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, binance_aug2025, N_OF(binance_aug2025));
    xm_accounts *b = book_make();
    account(b, "hedge-mode", XM_CROSS, 1000.0);
    position(b, 0, 1.0, 100000.0, 0.0);
    position(b, 0, -1.0, 100000.0, 0.0);
    const double marks[1] = {100000.0};
    assert_near(liq(b, &v, 0, marks), 125000.0, 1e-6);
    assert_near(liq(b, &v, 1, marks), 125000.0, 1e-6);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Mixed legs with two roots: tiers 10% to 100k, then 40% (cum 30,000). Long 2, short 1 at
 * 100, W = 50: f(x) = 0.7 x - 50 below x = 50,000 (root 71.43), 0.1 x + 29,950 between 50k
 * and 100k, -0.2 x + 59,950 above (root 299,750). The root nearest the mark is reported: at
 * mark 100 the lower, at mark 250,000 the upper. */
static void test_same_asset_two_roots(void **state)
{
    (void)state;
    static const tier_row steep[] = {{100e3, 5, 0.10}, {1e12, 2, 0.40}};
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, steep, N_OF(steep));
    xm_accounts *b = book_make();
    account(b, "mixed", XM_CROSS, 50.0);
    position(b, 0, 2.0, 100.0, 0.0);
    position(b, 0, -1.0, 100.0, 0.0);
    const double low[1] = {100.0}, high[1] = {250000.0};
    double g;
    for (size_t j = 0; j < 2; j++) {
        assert_near(liq(b, &v, j, low), 50.0 / 0.7, 1e-9);
        assert_near(liq(b, &v, j, high), 299750.0, 1e-6);
        assert_near(f_at(b, &v, j, low, 50.0 / 0.7, &g), 0.0, 1e-9 * g);
        assert_near(f_at(b, &v, j, high, 299750.0, &g), 0.0, 1e-9 * g);
    }
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Isolated positions are units of their own, even in one asset: long 1 and short 1 at 100k
 * with 10,000 each (0.4%): 90,000 / 0.996 and 110,000 / 1.004. */
static void test_isolated_same_asset_independent(void **state)
{
    (void)state;
    xm_venue v;
    venue_make(&v, 1);
    venue_set(&v, 0, binance_aug2025, N_OF(binance_aug2025));
    xm_accounts *b = book_make();
    account(b, "iso-pair", XM_ISOLATED, 0.0);
    position(b, 0, 1.0, 100000.0, 10000.0);
    position(b, 0, -1.0, 100000.0, 10000.0);
    const double marks[1] = {100000.0};
    assert_near(liq(b, &v, 0, marks), 90000.0 / 0.996, 1e-8);
    assert_near(liq(b, &v, 1, marks), 110000.0 / 1.004, 1e-8);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ---- edges ---- */

/* True when E - MM keeps one sign over 241 prices from mark 1e-6 to mark 1e6 (no root). */
static int no_crossing(const xm_accounts *b, const xm_venue *v, size_t j, const double *marks,
                       int *always_liquidatable)
{
    int pos = 0, neg = 0;
    double m = marks[b->asset[j]];
    for (int i = -120; i <= 120; i++) {
        double g, f = f_at(b, v, j, marks, m * pow(10.0, i / 20.0), &g);
        if (f > 1e-9 * g)
            pos++;
        else if (f < -1e-9 * g)
            neg++;
    }
    if (always_liquidatable != NULL)
        *always_liquidatable = pos == 0;
    return pos == 0 || neg == 0;
}

static void test_edges(void **state)
{
    (void)state;
    static const tier_row one[] = {{1e12, 100, 0.005}};
    xm_venue v;
    venue_make(&v, 3);
    for (size_t i = 0; i < 3; i++)
        venue_set(&v, i, one, N_OF(one));
    xm_accounts *b = book_make();
    /* 0: isolated long with margin above its notional: root (100 - 150) / 0.995 < 0. */
    account(b, "iso-over", XM_ISOLATED, 0.0);
    position(b, 0, 1.0, 100.0, 150.0);
    /* 1: isolated long with margin equal to its notional: root 0, not a positive price. */
    account(b, "iso-full", XM_ISOLATED, 0.0);
    position(b, 0, 1.0, 100.0, 100.0);
    /* 2: a short with ten times its notional as margin still has a price: a linear short
     * loses without bound, (1,000 + 100) / 1.005. */
    account(b, "iso-short", XM_ISOLATED, 0.0);
    position(b, 0, -1.0, 100.0, 1000.0);
    /* 3, 4: a cross short whose account is underwater at every price of its asset: W = 100,
     * ETH long 1 at 3,000 marked 1,000 (C = 100 - 2,000 - 5 = -1,905), short 0.01 BTC at
     * 100,000: C + |q| e = -905 < 0, so no BTC price reaches E = MM: liquidatable at all. */
    account(b, "cross-under", XM_CROSS, 100.0);
    position(b, 2, -0.01, 100000.0, 0.0);
    position(b, 1, 1.0, 3000.0, 0.0);
    /* 5: a cross long covered by its wallet: W = 200 >= q e = 100. */
    account(b, "cross-covered", XM_CROSS, 200.0);
    position(b, 0, 1.0, 100.0, 0.0);
    const double marks[3] = {100.0, 1000.0, 100000.0};
    int always;

    assert_true(liq(b, &v, 0, marks) == 0.0);
    assert_true(no_crossing(b, &v, 0, marks, &always) && !always);
    assert_true(liq(b, &v, 1, marks) == 0.0);
    assert_true(no_crossing(b, &v, 1, marks, &always) && !always);
    assert_near(liq(b, &v, 2, marks), 1100.0 / 1.005, 1e-9);
    assert_true(liq(b, &v, 3, marks) == 0.0);
    assert_true(no_crossing(b, &v, 3, marks, &always) && always);
    /* The same account's ETH leg has one: C = 100 - 5 (BTC at its entry), 95 + (x - 3,000)
     * = 0.005 x -> 2,905 / 0.995 (a rise of ETH would rescue it; it is underwater now). */
    assert_near(liq(b, &v, 4, marks), 2905.0 / 0.995, 1e-9);
    assert_true(liq(b, &v, 5, marks) == 0.0);
    assert_true(no_crossing(b, &v, 5, marks, &always) && !always);

    /* Out of range, NULL price pointer, an asset without a tier table. */
    double x = -1.0;
    assert_int_equal(xm_liq_price(b, &v, b->n_positions, marks, &x), 0);
    assert_true(x == 0.0);
    assert_int_equal(xm_liq_price(b, &v, 2, marks, NULL), 1);
    xm_venue empty;
    venue_make(&empty, 3);
    assert_int_equal(xm_liq_price(b, &empty, 0, marks, &x), 0);
    xm_venue_clear(&empty);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ---- property test over random books ---- */

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

/* 1 when the positions of j's unit in j's asset have mixed signs. */
static int mixed_group(const xm_accounts *b, size_t j)
{
    size_t a = b->owner[j];
    if (b->mode[a] == XM_ISOLATED)
        return 0;
    for (size_t i = b->first[a]; i < b->first[a + 1]; i++)
        if (b->asset[i] == b->asset[j] && (b->qty[i] > 0) != (b->qty[j] > 0))
            return 1;
    return 0;
}

/* Several thousand accounts (seed fixed): 30% isolated, 1-4 positions on 4 assets (repeats
 * allowed, so cross accounts hold same-asset legs), 60% long, notional log-uniform 20 .. 5e8
 * (crossing the Binance early-2025 tiers), entries within +-8% of the marks, leverage
 * log-uniform 0.7 .. 125 (some longs over-collateralised). For every position:
 *  - with a price x: E - MM of its unit at x is 0 to 1e-9 relative to the unit's gross
 *    notional sum |q| m at x; 1 bp safer (x (1 + 1e-4) for a long, x (1 - 1e-4) for a short;
 *    for mixed legs, 1 bp towards the mark) gives E > MM; and E - MM does not change sign
 *    between the mark and x (x is the boundary nearest the mark);
 *  - without: E - MM keeps one sign over prices mark 1e-6 .. mark 1e6. */
static void test_property_random_books(void **state)
{
    (void)state;
    enum { N_ACCOUNTS = 6000, N_ASSETS = 4 };
    const double marks[N_ASSETS] = {100000.0, 3000.0, 150.0, 0.25};
    xm_venue v;
    venue_make(&v, N_ASSETS);
    for (size_t i = 0; i < N_ASSETS; i++)
        venue_set(&v, i, binance_2025, N_OF(binance_2025));
    xm_accounts *b = book_make();
    uint64_t s = 20261125;
    char id[32];
    for (int a = 0; a < N_ACCOUNTS; a++) {
        int iso = unif(&s) < 0.3, n = 1 + (int)(unif(&s) * 4);
        double lev = log_unif(&s, 0.7, 125.0), wallet = 0.0;
        snprintf(id, sizeof id, "r%d", a);
        /* The wallet is only known after the positions: write it afterwards. */
        account(b, id, iso ? XM_ISOLATED : XM_CROSS, 0.0);
        for (int k = 0; k < n; k++) {
            uint16_t asset = (uint16_t)(unif(&s) * N_ASSETS);
            double notional = log_unif(&s, 20.0, 5e8);
            double entry = marks[asset] * exp(0.08 * (2.0 * unif(&s) - 1.0));
            double q = (unif(&s) < 0.6 ? 1.0 : -1.0) * notional / entry;
            double margin = notional / (iso ? log_unif(&s, 0.7, 125.0) : lev);
            position(b, asset, q, entry, iso ? margin : 0.0);
            wallet += margin;
        }
        if (!iso)
            b->wallet[b->n_accounts - 1] = wallet * (0.5 + unif(&s));
    }

    size_t n_price = 0, n_none = 0, n_none_always = 0, n_switch = 0, n_mixed = 0;
    for (size_t j = 0; j < b->n_positions; j++) {
        double x = liq(b, &v, j, marks), m = marks[b->asset[j]], g;
        int mixed = mixed_group(b, j);
        if (x == 0.0) {
            int always;
            if (!no_crossing(b, &v, j, marks, &always))
                fail_msg("position %zu: no price, but E - MM changes sign", j);
            n_none++;
            n_none_always += (size_t)always;
            continue;
        }
        n_price++;
        n_mixed += (size_t)mixed;
        double f = f_at(b, &v, j, marks, x, &g);
        if (!(fabs(f) <= 1e-9 * g))
            fail_msg("position %zu: E - MM = %g at x = %.17g (gross %g)", j, f, x, g);
        double safe;
        if (mixed)
            safe = m > x ? x * (1.0 + 1e-4) : x * (1.0 - 1e-4);
        else
            safe = b->qty[j] > 0 ? x * (1.0 + 1e-4) : x * (1.0 - 1e-4);
        double f_m = f_at(b, &v, j, marks, m, NULL);
        if ((!mixed || (f_m > 0.0 && fabs(m - x) > 2e-4 * x)) &&
            !(f_at(b, &v, j, marks, safe, NULL) > 0.0))
            fail_msg("position %zu: 1 bp safer than x = %.17g is not safe", j, x);
        for (int i = 1; i < 64; i++) {
            double y = m + (x - m) * i / 64.0, fy = f_at(b, &v, j, marks, y, &g);
            if ((f_m > 0.0 && fy < -1e-9 * g) || (f_m < 0.0 && fy > 1e-9 * g))
                fail_msg("position %zu: E - MM changes sign between mark %g and x = %g", j, m, x);
        }
        const xm_tier_table *t = &v.tiers[b->asset[j]];
        n_switch += (size_t)(xm_tier_index(t, fabs(b->qty[j]) * m) !=
                             xm_tier_index(t, fabs(b->qty[j]) * x));
    }
    print_message("random books: %zu positions, %zu with a price (%zu in another tier than at "
                  "the mark, %zu mixed same-asset legs), %zu without (%zu liquidatable at "
                  "every price)\n",
                  b->n_positions, n_price, n_switch, n_mixed, n_none, n_none_always);
    assert_true(b->n_positions > 10000);
    assert_true(n_price > 5000);
    assert_true(n_switch > 100);
    assert_true(n_mixed > 50);
    assert_true(n_none > 20);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binance_published_cross),
        cmocka_unit_test(test_binance_derived_vectors),
        cmocka_unit_test(test_hyperliquid_example),
        cmocka_unit_test(test_tier_switching),
        cmocka_unit_test(test_beyond_last_tier),
        cmocka_unit_test(test_same_asset_moves_together),
        cmocka_unit_test(test_lots_issue_figures),
        cmocka_unit_test(test_lots_weighted_entry),
        cmocka_unit_test(test_lots_what_folds),
        cmocka_unit_test(test_same_asset_hedged),
        cmocka_unit_test(test_same_asset_two_roots),
        cmocka_unit_test(test_isolated_same_asset_independent),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_property_random_books),
    };
    return xm_run_tests(tests, NULL, NULL);
}
