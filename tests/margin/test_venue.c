/* test_venue.c — maintenance-margin tiers (cum derivation, continuity, lookup), tier-table
 * validation, venue defaults and ADL names (src/margin/venue.c).
 *
 * Every published table below is copied from docs/venues.md, whose
 * author checked each cum by hand; the tests re-derive them from caps and rates alone. */
#include "xm_test.h"

#include <math.h>

#include <dirent.h>

#include "xmrisk/model.h"
#include "xmrisk/venue.h"

typedef struct {
    double cap, lev, mmr, cum;  /* cum: as published, for comparison only */
} tier_row;

/* docs/venues.md a.1, Binance BTCUSDT, Mar-2021 announcement [H]. */
static const tier_row binance_2021[] = {
    {50e3, 125, 0.004, 0},           {250e3, 100, 0.005, 50},
    {1e6, 50, 0.010, 1300},          {10e6, 20, 0.025, 16300},
    {20e6, 10, 0.05, 266300},        {50e6, 5, 0.10, 1266300},
    {100e6, 4, 0.125, 2516300},      {200e6, 3, 0.15, 5016300},
    {300e6, 2, 0.25, 25016300},      {500e6, 1, 0.50, 100016300},
};

/* docs/venues.md a.1, Binance BTCUSDT, ~early 2025 [M]. */
static const tier_row binance_2025[] = {
    {50e3, 125, 0.004, 0},           {600e3, 100, 0.005, 50},
    {3e6, 75, 0.0065, 950},          {12e6, 50, 0.010, 11450},
    {70e6, 25, 0.020, 131450},       {100e6, 20, 0.025, 481450},
    {230e6, 10, 0.05, 2981450},      {480e6, 5, 0.10, 14481450},
    {600e6, 4, 0.125, 26481450},     {800e6, 3, 0.15, 41481450},
    {1.2e9, 2, 0.25, 121481450},     {1.8e9, 1, 0.50, 421481450},
};

/* docs/venues.md a.1, Binance BTCUSDT, Aug-2025 (first 4 of 12 tiers captured) [M]. */
static const tier_row binance_aug2025[] = {
    {300e3, 150, 0.004, 0}, {800e3, 100, 0.005, 300},
    {3e6, 75, 0.0065, 1500}, {12e6, 50, 0.010, 12000},
};

/* docs/venues.md a.2, Bybit BTCUSDT risk limits (risk limit / max lev / MMR /
 * deduction) [H]; the reference verified tiers 2-3, these tests all 20. */
static const tier_row bybit_btc[] = {
    {2e6, 100, 0.005, 0},          {2.6e6, 90, 0.0056, 1200},     {3.2e6, 80, 0.0063, 3020},
    {3.8e6, 75, 0.0067, 4300},     {4.4e6, 70, 0.0071, 5820},     {5e6, 65, 0.0077, 8460},
    {5.6e6, 55, 0.0091, 15460},    {8.5e6, 50, 0.010, 20500},     {10e6, 45, 0.013, 46000},
    {14e6, 40, 0.015, 66000},      {20e6, 35, 0.016, 80000},      {28e6, 30, 0.020, 160000},
    {38e6, 25, 0.025, 300000},     {50e6, 20, 0.029, 452000},     {55e6, 19, 0.030, 502000},
    {60e6, 18, 0.035, 777000},     {65e6, 17, 0.036, 837000},     {70e6, 16, 0.038, 967000},
    {75e6, 15, 0.040, 1107000},    {80e6, 14, 0.045, 1482000},
};

/* docs/venues.md a.5, Hyperliquid BTC: 0-150M at 40x, then 20x; MM rate 1/(2 maxLev);
 * the reference derives the deduction above 150M: 150M (2.5% - 1.25%) = 1.875M. */
static const tier_row hyperliquid_btc[] = {{150e6, 40, 0.0125, 0}, {1e12, 20, 0.025, 1.875e6}};

#define N_OF(a) (sizeof(a) / sizeof *(a))

static void fill(xm_tier_table *t, const tier_row *rows, size_t n)
{
    xm_error err;
    assert_int_equal(xm_tiers_alloc(t, n, &err), XM_OK);
    for (size_t k = 0; k < n; k++)
        t->tier[k] = (xm_tier){rows[k].cap, rows[k].mmr, rows[k].lev, -1.0};
}

/* Derived cum equals the published one, to 1e-9 relative (rounding of cap * rate). */
static void check_cum(const tier_row *rows, size_t n, const char *name)
{
    xm_tier_table t = {0, NULL};
    xm_error err;
    fill(&t, rows, n);
    assert_int_equal(xm_tiers_prepare(&t, name, &err), XM_OK);
    for (size_t k = 0; k < n; k++)
        assert_near(t.tier[k].cum, rows[k].cum, 1e-9 * fmax(1.0, rows[k].cum));
    free(t.tier);
}

static void test_cum_matches_published_tables(void **state)
{
    (void)state;
    check_cum(binance_2021, N_OF(binance_2021), "binance_2021");
    check_cum(binance_2025, N_OF(binance_2025), "binance_2025");
    check_cum(binance_aug2025, N_OF(binance_aug2025), "binance_aug2025");
    check_cum(bybit_btc, N_OF(bybit_btc), "bybit_btc");
    check_cum(hyperliquid_btc, N_OF(hyperliquid_btc), "hyperliquid_btc");
}

/* model.md §3: MM(N) = N mmr_k - cum_k is continuous. At every cap, MM at the cap (tier k,
 * caps inclusive) equals MM just above it (tier k+1) to 1e-9 relative; beyond the last cap
 * the last tier's line continues. */
static void check_continuity(const tier_row *rows, size_t n, const char *name)
{
    xm_tier_table t = {0, NULL};
    xm_error err;
    fill(&t, rows, n);
    assert_int_equal(xm_tiers_prepare(&t, name, &err), XM_OK);
    for (size_t k = 0; k < n; k++) {
        double cap = rows[k].cap, above = nextafter(cap, INFINITY);
        int beyond = 0;
        double left = xm_tier_mm(&t, cap, &beyond);
        assert_int_equal(beyond, 0);
        double right = xm_tier_mm(&t, above, &beyond);
        assert_int_equal(beyond, k + 1 == n);
        assert_int_equal(xm_tier_index(&t, cap), (long)k);
        assert_int_equal(xm_tier_index(&t, above), k + 1 == n ? -1L : (long)(k + 1));
        assert_near(left, right, 1e-9 * fabs(left));
        /* Left limit: the tier's own line, cap mmr_k - cum_k. */
        assert_near(left, cap * rows[k].mmr - rows[k].cum, 1e-9 * fabs(left));
    }
    free(t.tier);
}

static void test_mm_continuous_at_every_cap(void **state)
{
    (void)state;
    check_continuity(binance_2021, N_OF(binance_2021), "binance_2021");
    check_continuity(binance_2025, N_OF(binance_2025), "binance_2025");
    check_continuity(binance_aug2025, N_OF(binance_aug2025), "binance_aug2025");
    check_continuity(bybit_btc, N_OF(bybit_btc), "bybit_btc");
    check_continuity(hyperliquid_btc, N_OF(hyperliquid_btc), "hyperliquid_btc");
}

/* Lookups inside tiers and beyond the last cap (Binance early-2025 table). */
static void test_tier_index_and_mm(void **state)
{
    (void)state;
    xm_tier_table t = {0, NULL};
    xm_error err;
    fill(&t, binance_2025, N_OF(binance_2025));
    assert_int_equal(xm_tiers_prepare(&t, "binance_2025", &err), XM_OK);
    assert_int_equal(xm_tier_index(&t, 0.0), 0);
    assert_int_equal(xm_tier_index(&t, 23456.7), 0);
    assert_int_equal(xm_tier_index(&t, 50e3), 0);
    assert_int_equal(xm_tier_index(&t, 123456.7), 1);
    assert_int_equal(xm_tier_index(&t, 1.8e9), 11);
    assert_int_equal(xm_tier_index(&t, 2.0e9), -1);
    int beyond = 0;
    /* Tier 1: 23,456.7 * 0.4% = 93.8268. */
    assert_near(xm_tier_mm(&t, 23456.7, &beyond), 93.8268, 1e-9);
    /* Tier 2: 123,456.7 * 0.5% - 50 = 567.2835. */
    assert_near(xm_tier_mm(&t, 123456.7, &beyond), 567.2835, 1e-9);
    /* Tier 4: 5,000,000 * 1% - 11,450 = 38,550. */
    assert_near(xm_tier_mm(&t, 5e6, &beyond), 38550.0, 1e-6);
    assert_int_equal(beyond, 0);
    /* Beyond 1.8B: last line, 2e9 * 50% - 421,481,450 = 578,518,550, and *beyond set. */
    assert_near(xm_tier_mm(&t, 2.0e9, &beyond), 578518550.0, 1e-3);
    assert_int_equal(beyond, 1);
    /* NULL beyond is accepted. */
    assert_near(xm_tier_mm(&t, 2.0e9, NULL), 578518550.0, 1e-3);
    free(t.tier);
}

/* A valid 3-tier table with one field broken must fail with XM_EMODEL and a message that
 * names `where`, the tier and the field. */
static void expect_prepare_error(size_t k, const char *field, double value, const char *needle)
{
    static const tier_row good[] = {
        {50e3, 125, 0.004, 0}, {250e3, 100, 0.005, 50}, {1e6, 50, 0.01, 1300}};
    xm_tier_table t = {0, NULL};
    xm_error err;
    fill(&t, good, N_OF(good));
    assert_int_equal(xm_tiers_prepare(&t, "venue.tiers.BTC", &err), XM_OK);
    if (strcmp(field, "cap_usd") == 0)
        t.tier[k].cap_usd = value;
    else if (strcmp(field, "mmr") == 0)
        t.tier[k].mmr = value;
    else
        t.tier[k].max_leverage = value;
    xm_error_clear(&err);
    assert_int_equal(xm_tiers_prepare(&t, "venue.tiers.BTC", &err), XM_EMODEL);
    assert_int_equal(err.status, XM_EMODEL);
    assert_contains(err.msg, needle);
    free(t.tier);
}

static void test_prepare_errors(void **state)
{
    (void)state;
    /* Caps: not increasing, equal, not positive, not finite. */
    expect_prepare_error(1, "cap_usd", 40e3,
                         "venue.tiers.BTC[1].cap_usd: expected a finite cap above 50000, "
                         "got 40000");
    expect_prepare_error(2, "cap_usd", 250e3, "venue.tiers.BTC[2].cap_usd");
    expect_prepare_error(0, "cap_usd", 0.0, "venue.tiers.BTC[0].cap_usd");
    expect_prepare_error(2, "cap_usd", INFINITY, "venue.tiers.BTC[2].cap_usd");
    /* Rates: decreasing, >= 1, negative. */
    expect_prepare_error(2, "mmr", 0.0045,
                         "venue.tiers.BTC[2].mmr: expected a rate in [0.005, 1), got 0.0045");
    expect_prepare_error(2, "mmr", 1.0, "venue.tiers.BTC[2].mmr");
    expect_prepare_error(0, "mmr", -0.001, "venue.tiers.BTC[0].mmr");
    /* Leverage: below 1, increasing. */
    expect_prepare_error(0, "max_leverage", 0.5,
                         "venue.tiers.BTC[0].max_leverage: expected at least 1");
    expect_prepare_error(1, "max_leverage", 150,
                         "venue.tiers.BTC[1].max_leverage: expected at least 1 and at most 125, "
                         "got 150");
    /* Empty table. */
    xm_tier_table t = {0, NULL};
    xm_error err;
    assert_int_equal(xm_tiers_prepare(&t, "venue.tiers.ETH", &err), XM_EMODEL);
    assert_contains(err.msg, "venue.tiers.ETH: expected at least one tier");
    /* NULL error record: the status alone. */
    assert_int_equal(xm_tiers_prepare(&t, "x", NULL), XM_EMODEL);
}

/* A single tier and flat rates are valid (equal mmr, equal leverage allowed). */
static void test_prepare_accepts_flat_rates(void **state)
{
    (void)state;
    static const tier_row flat[] = {{1e6, 20, 0.01, 0}, {2e6, 20, 0.01, 0}};
    xm_tier_table t = {0, NULL};
    xm_error err;
    fill(&t, flat, N_OF(flat));
    assert_int_equal(xm_tiers_prepare(&t, "flat", &err), XM_OK);
    assert_near(t.tier[1].cum, 0.0, 0.0);
    assert_near(xm_tier_mm(&t, 1.5e6, NULL), 15000.0, 1e-9);
    free(t.tier);
}

/* venue.h defaults: Binance's (docs/venues.md a.1, b), partial-mode numbers
 * Hyperliquid's (a.5). */
static void test_venue_defaults(void **state)
{
    (void)state;
    xm_venue v;
    xm_error err;
    assert_int_equal(xm_venue_init(&v, 3, &err), XM_OK);
    assert_int_equal(v.mode, XM_LIQ_FULL);
    assert_near(v.fee_rate, 0.0125, 0.0);
    assert_int_equal(v.max_rounds, 50);
    assert_near(v.step, 0.2, 0.0);
    assert_near(v.min_partial_notional_usd, 1.0e5, 0.0);
    assert_near(v.backstop_ratio, 2.0 / 3.0, 0.0);
    assert_int_equal(v.remaining_equity, XM_REMAINING_KEEP);
    assert_int_equal(v.adl, XM_ADL_BINANCE);
    assert_near(v.insurance_fund_usd, 0.0, 0.0);
    assert_int_equal(v.n_assets, 3);
    assert_non_null(v.tiers);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(v.tiers[i].n, 0);
        assert_null(v.tiers[i].tier);
    }
    fill(&v.tiers[1], hyperliquid_btc, N_OF(hyperliquid_btc));
    assert_int_equal(xm_tiers_prepare(&v.tiers[1], "BTC", &err), XM_OK);
    /* Re-allocating a table frees the old tiers (ASan would see a leak). */
    fill(&v.tiers[1], binance_aug2025, N_OF(binance_aug2025));
    assert_int_equal(v.tiers[1].n, N_OF(binance_aug2025));
    xm_venue_clear(&v);
    assert_null(v.tiers);
    assert_int_equal(v.n_assets, 0);
    xm_venue_clear(&v);   /* twice is harmless */
    xm_venue_clear(NULL);
    /* No assets still gives a usable venue. */
    assert_int_equal(xm_venue_init(&v, 0, &err), XM_OK);
    xm_venue_clear(&v);
}

static void test_adl_names(void **state)
{
    (void)state;
    assert_string_equal(xm_adl_ranking_name(XM_ADL_BINANCE), "binance");
    assert_string_equal(xm_adl_ranking_name(XM_ADL_BYBIT), "bybit");
    assert_string_equal(xm_adl_ranking_name(XM_ADL_HYPERLIQUID), "hyperliquid");
    assert_string_equal(xm_adl_ranking_name(XM_ADL_NONE), "none");
    assert_string_equal(xm_adl_ranking_name((xm_adl_ranking)42), "?");
}

/* MM(N) = N mmr_k - cum_k is continuous at every cap of every tier table bundled in models/
 * (model.md §3): the left and right formulas agree at each cap to 1e-9 relative. The BTC
 * table of default.yaml is Binance's early-2025 BTCUSDT ladder, whose published cum column
 * (docs/venues.md a.1) the derivation must reproduce exactly. */
static void check_table_continuity(const char *file, const char *sym, const xm_tier_table *t)
{
    for (size_t k = 0; k + 1 < t->n; k++) {
        double cap = t->tier[k].cap_usd;
        double left = cap * t->tier[k].mmr - t->tier[k].cum;
        double right = cap * t->tier[k + 1].mmr - t->tier[k + 1].cum;
        if (fabs(left - right) > 1e-9 * fmax(1.0, fabs(left)))
            fail_msg("%s %s: MM jumps at cap %g: %.17g vs %.17g", file, sym, cap, left, right);
    }
}

static void test_bundled_tables_continuous(void **state)
{
    (void)state;
    DIR *d = opendir(XM_MODELS_DIR);
    assert_non_null(d);
    int tables = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", XM_MODELS_DIR, e->d_name);
        xm_error err;
        xm_model *m = xm_model_load(path, &err);
        if (m == NULL)
            fail_msg("%s", err.msg);
        for (size_t i = 0; i < m->venue.n_assets; i++)
            if (m->venue.tiers[i].n > 0) {
                check_table_continuity(e->d_name, m->market.assets[i].symbol, &m->venue.tiers[i]);
                tables++;
            }
        if (strcmp(e->d_name, "default.yaml") == 0) {
            static const double cum[12] = {0, 50, 950, 11450, 131450, 481450, 2981450,
                                           14481450, 26481450, 41481450, 121481450, 421481450};
            const xm_tier_table *btc = &m->venue.tiers[xm_market_find(&m->market, "BTC")];
            assert_int_equal(btc->n, 12);
            for (size_t k = 0; k < 12; k++)
                assert_near(btc->tier[k].cum, cum[k], 1e-6);
        }
        xm_model_free(m);
    }
    closedir(d);
    assert_true(tables >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cum_matches_published_tables),
        cmocka_unit_test(test_bundled_tables_continuous),
        cmocka_unit_test(test_mm_continuous_at_every_cap),
        cmocka_unit_test(test_tier_index_and_mm),
        cmocka_unit_test(test_prepare_errors),
        cmocka_unit_test(test_prepare_accepts_flat_rates),
        cmocka_unit_test(test_venue_defaults),
        cmocka_unit_test(test_adl_names),
    };
    return xm_run_tests(tests, NULL, NULL);
}
