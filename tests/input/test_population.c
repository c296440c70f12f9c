/* test_population.c — the seeded population generator (src/input/population.c).
 *
 * Statistical checks use a fixed seed and a tolerance of 5 standard errors of the statistic
 * (binomial sqrt(p (1 - p) / n) for shares and frequencies, sd / sqrt(n) for means, the
 * normal-theory sigma^2 sqrt(2 / (n - 1)) for a variance); each bound is stated next to it.
 * Lognormal medians and spreads are checked through shares: P(X <= median) = 1/2 and
 * P(X <= median e^sigma) = Phi(1), which clipping to [min, max] does not change as long as
 * both points lie inside [min, max] (clipping is monotone).
 */
#include "xm_test.h"

#include <math.h>
#include <time.h>

#include "xmrisk/accounts.h"
#include "xmrisk/market.h"
#include "xmrisk/population.h"
#include "xmrisk/venue.h"

#define PHI1 0.8413447460685429  /* standard normal cdf at 1 */
#define SEED UINT64_C(20261125)

/* ---- a 7-asset world: 5 drawable assets, one without tiers, one of weight 0 ---- */

/* cap, max leverage, mmr */
static const double binance_2021[][3] = {  /* BTCUSDT, Mar-2021 (docs/venues.md a.1) */
    {5e4, 125, 0.004}, {2.5e5, 100, 0.005}, {1e6, 50, 0.01}, {1e7, 20, 0.025},
    {2e7, 10, 0.05}, {5e7, 5, 0.10}, {1e8, 4, 0.125}, {2e8, 3, 0.15},
    {3e8, 2, 0.25}, {5e8, 1, 0.5}};
static const double binance_2025[][3] = {  /* BTCUSDT, early 2025 (a.1), used here for ETH */
    {5e4, 125, 0.004}, {6e5, 100, 0.005}, {3e6, 75, 0.0065}, {1.2e7, 50, 0.01},
    {7e7, 25, 0.02}, {1e8, 20, 0.025}, {2.3e8, 10, 0.05}, {4.8e8, 5, 0.10},
    {6e8, 4, 0.125}, {8e8, 3, 0.15}, {1.2e9, 2, 0.25}, {1.8e9, 1, 0.5}};
static const double altcoin[][3] = {  /* the 2025 altcoin pattern of a.1, caps 5k..12.5M */
    {5e3, 50, 0.015}, {2.5e4, 25, 0.02}, {1e5, 20, 0.025}, {5e5, 10, 0.05},
    {1e6, 5, 0.10}, {2.5e6, 4, 0.125}, {5e6, 3, 0.1667}, {8e6, 2, 0.25}, {1.25e7, 1, 0.5}};

enum { N_ASSETS = 7, N_DRAWABLE = 5 };
static const char *const symbols[N_ASSETS] = {"BTC", "ETH", "SOL", "XRP", "DOGE", "LINK", "ADA"};
static const double prices[N_ASSETS] = {100000.0, 3500.0, 150.0, 2.5, 0.2, 20.0, 0.8};
static const double weights[N_ASSETS] = {5, 3, 2, 1, 1, 4, 0};  /* LINK: no tiers; ADA: 0 */

typedef struct {
    xm_market m;
    xm_venue v;
} world;

static void set_table(xm_tier_table *t, const double (*rows)[3], size_t n)
{
    xm_error err;
    assert_int_equal(xm_tiers_alloc(t, n, &err), XM_OK);
    for (size_t k = 0; k < n; k++)
        t->tier[k] = (xm_tier){.cap_usd = rows[k][0], .max_leverage = rows[k][1], .mmr = rows[k][2]};
    assert_int_equal(xm_tiers_prepare(t, "test", &err), XM_OK);
}

#define SET_TABLE(t, rows) set_table((t), (rows), sizeof(rows) / sizeof((rows)[0]))

static void world_init(world *w)
{
    xm_error err;
    memset(w, 0, sizeof *w);
    assert_int_equal(xm_market_init(&w->m, N_ASSETS, &err), XM_OK);
    assert_int_equal(xm_venue_init(&w->v, N_ASSETS, &err), XM_OK);
    for (size_t i = 0; i < N_ASSETS; i++) {
        snprintf(w->m.assets[i].symbol, XM_SYMBOL_MAX, "%s", symbols[i]);
        w->m.assets[i].price = prices[i];
        w->m.assets[i].vol = 0.6;
    }
    SET_TABLE(&w->v.tiers[0], binance_2021);
    SET_TABLE(&w->v.tiers[1], binance_2025);
    SET_TABLE(&w->v.tiers[2], altcoin);
    SET_TABLE(&w->v.tiers[3], altcoin);
    SET_TABLE(&w->v.tiers[4], altcoin);
    SET_TABLE(&w->v.tiers[6], altcoin);  /* LINK (5) keeps an empty table */
}

static void world_clear(world *w)
{
    xm_venue_clear(&w->v);
    xm_market_clear(&w->m);
}

/* Defaults for the world, with its weights and `accounts` accounts. */
static void params_init(xm_population_params *p, uint64_t accounts)
{
    xm_error err;
    assert_int_equal(xm_population_defaults(p, N_ASSETS, &err), XM_OK);
    memcpy(p->asset_weight, weights, sizeof weights);
    p->accounts = accounts;
}

static xm_accounts *generate(const xm_population_params *p, const world *w, uint64_t seed)
{
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    assert_non_null(b);
    xm_status st = xm_population_generate(p, &w->m, &w->v, seed, b, &err);
    if (st != XM_OK)
        fail_msg("generate: %s", err.msg);
    assert_int_equal(b->n_accounts, p->accounts);
    return b;
}

static double notional(const xm_accounts *b, size_t j) { return fabs(b->qty[j]) * b->entry[j]; }

static double tier_lev(const world *w, const xm_accounts *b, size_t j)
{
    const xm_tier_table *t = &w->v.tiers[b->asset[j]];
    long k = xm_tier_index(t, notional(b, j));
    assert_true(k >= 0);
    return t->tier[k].max_leverage;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 5 binomial standard errors around p for n trials. */
static double se5(double p, double n) { return 5.0 * sqrt(p * (1.0 - p) / n); }

/* ---- the shared statistical population (group setup) ---- */

enum { STAT_ACCOUNTS = 200000 };

static world g_world;
static xm_population_params g_params;
static xm_accounts *g_book;

static int group_setup(void **state)
{
    (void)state;
    world_init(&g_world);
    params_init(&g_params, STAT_ACCOUNTS);
    g_params.isolated_share = 0.3;
    g_params.assets_min = 1;
    g_params.assets_max = 4;
    g_params.long_share = 0.6;
    g_params.hedged_share = 0.0;
    g_params.entry_dispersion = 0.02;
    double t0 = now_s();
    g_book = generate(&g_params, &g_world, SEED);
    double t1 = now_s();
    printf("[   INFO   ] population: %d accounts, %zu positions generated in %.3f s\n",
           STAT_ACCOUNTS, g_book->n_positions, t1 - t0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    xm_accounts_free(g_book);
    xm_population_params_clear(&g_params);
    world_clear(&g_world);
    return 0;
}

static void test_isolated_share(void **state)
{
    (void)state;
    const xm_accounts *b = g_book;
    double iso = 0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        iso += b->mode[a] == XM_ISOLATED;
        if (b->mode[a] == XM_ISOLATED)
            assert_true(b->wallet[a] == 0.0);
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++)
            assert_true((b->margin[j] > 0.0) == (b->mode[a] == XM_ISOLATED));
    }
    double n = (double)b->n_accounts;
    assert_near(iso / n, 0.3, se5(0.3, n));  /* binomial, 5 SE */
}

/* Count uniform on {1, 2, 3, 4}: mean 2.5, variance (4^2 - 1)/12; assets distinct. */
static void test_positions_per_account(void **state)
{
    (void)state;
    const xm_accounts *b = g_book;
    for (size_t a = 0; a < b->n_accounts; a++) {
        uint32_t k = b->first[a + 1] - b->first[a];
        assert_true(k >= 1 && k <= 4);
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            assert_true(b->owner[j] == a);
            for (uint32_t i = b->first[a]; i < j; i++)
                assert_true(b->asset[i] != b->asset[j]);
        }
    }
    double n = (double)b->n_accounts;
    assert_near((double)b->n_positions / n, 2.5, 5.0 * sqrt(1.25 / n));
}

static void test_long_share(void **state)
{
    (void)state;
    const xm_accounts *b = g_book;
    double longs = 0;
    for (size_t j = 0; j < b->n_positions; j++) {
        assert_true(b->qty[j] != 0.0);
        longs += b->qty[j] > 0.0;
    }
    double n = (double)b->n_positions;
    assert_near(longs / n, 0.6, se5(0.6, n));  /* sides independent: binomial, 5 SE */
}

/* First draw of every account: P(i) = w_i / W exactly. Accounts of two positions: P(i in the
 * pair) = p_i + sum_{j != i} p_j w_i / (W - w_j) (successive sampling). Never LINK nor ADA. */
static void test_asset_frequencies(void **state)
{
    (void)state;
    const xm_accounts *b = g_book;
    double first[N_ASSETS] = {0}, pair[N_ASSETS] = {0}, n_pairs = 0;
    for (size_t j = 0; j < b->n_positions; j++)
        assert_true(b->asset[j] < N_DRAWABLE);
    for (size_t a = 0; a < b->n_accounts; a++) {
        first[b->asset[b->first[a]]] += 1;
        if (b->first[a + 1] - b->first[a] == 2) {
            n_pairs += 1;
            pair[b->asset[b->first[a]]] += 1;
            pair[b->asset[b->first[a] + 1]] += 1;
        }
    }
    double W = 0, n = (double)b->n_accounts;
    for (size_t i = 0; i < N_DRAWABLE; i++)
        W += weights[i];
    for (size_t i = 0; i < N_DRAWABLE; i++) {
        double p = weights[i] / W, incl = p;
        for (size_t j = 0; j < N_DRAWABLE; j++)
            if (j != i)
                incl += weights[j] / W * weights[i] / (W - weights[j]);
        assert_near(first[i] / n, p, se5(p, n));
        assert_near(pair[i] / n_pairs, incl, se5(incl, n_pairs));
    }
    assert_true(first[5] == 0 && first[6] == 0 && pair[5] == 0 && pair[6] == 0);
}

/* Notional: P(N <= 5000) = 1/2, P(N <= 5000 e^1.5) = Phi(1); binomial, 5 SE. */
static void test_notional_law(void **state)
{
    (void)state;
    const xm_accounts *b = g_book;
    const xm_lognormal *l = &g_params.notional_usd;
    double below_med = 0, below_hi = 0, hi = l->median * exp(l->sigma);
    for (size_t j = 0; j < b->n_positions; j++) {
        double x = notional(b, j);
        below_med += x <= l->median;
        below_hi += x <= hi;
    }
    double n = (double)b->n_positions;
    assert_near(below_med / n, 0.5, se5(0.5, n));
    assert_near(below_hi / n, PHI1, se5(PHI1, n));
}

/* Leverage: one draw per isolated position (N/M) and per cross account (sum N / W). Only
 * draws where every tier cap involved is above median e^sigma count: there the tier clip
 * cannot move a value across either test point. Binomial, 5 SE. */
static void test_leverage_law(void **state)
{
    (void)state;
    const xm_accounts *b = g_book;
    const xm_lognormal *l = &g_params.leverage;
    double hi = l->median * exp(l->sigma), below_med = 0, below_hi = 0, n = 0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        double sum_n = 0;
        int clean = 1;
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            int ok = tier_lev(&g_world, b, j) > hi;
            if (b->mode[a] == XM_ISOLATED) {
                if (ok) {
                    double lev = notional(b, j) / b->margin[j];
                    below_med += lev <= l->median;
                    below_hi += lev <= hi;
                    n += 1;
                }
            } else {
                sum_n += notional(b, j);
                clean &= ok;
            }
        }
        if (b->mode[a] == XM_CROSS && clean) {
            double lev = sum_n / b->wallet[a];
            below_med += lev <= l->median;
            below_hi += lev <= hi;
            n += 1;
        }
    }
    assert_true(n > 0.99 * (double)b->n_accounts);
    assert_near(below_med / n, 0.5, se5(0.5, n));
    assert_near(below_hi / n, PHI1, se5(PHI1, n));
}

/* ln(e / S0) ~ N(0, d^2): mean within 5 d / sqrt(n), variance within 5 d^2 sqrt(2 / (n-1)). */
static void test_entry_dispersion(void **state)
{
    (void)state;
    const xm_accounts *b = g_book;
    double d = g_params.entry_dispersion, s1 = 0, s2 = 0, n = (double)b->n_positions;
    for (size_t j = 0; j < b->n_positions; j++) {
        double x = log(b->entry[j] / prices[b->asset[j]]);
        s1 += x;
        s2 += x * x;
    }
    double mean = s1 / n, var = (s2 - n * mean * mean) / (n - 1);
    assert_near(mean, 0.0, 5.0 * d / sqrt(n));
    assert_near(var, d * d, 5.0 * d * d * sqrt(2.0 / (n - 1)));
}

/* Every clip: notional in [min, min(max, last cap)]; leverage in [min, max] and never above
 * the tier's max_leverage at the booked notional (isolated: N / M; cross: the wallet covers
 * sum N_j / min(max, T_j) at least and sum N_j / min(min, T_j) at most). Relative slack 1e-12
 * covers the rounding of q = N / e and of the sums. */
static void check_clips(const world *w, const xm_population_params *p, const xm_accounts *b)
{
    const double eps = 1e-12;
    const xm_lognormal *ln = &p->notional_usd, *ll = &p->leverage;
    for (size_t a = 0; a < b->n_accounts; a++) {
        double lo = 0, hi = 0;
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            const xm_tier_table *t = &w->v.tiers[b->asset[j]];
            double x = notional(b, j), cap = t->tier[t->n - 1].cap_usd;
            double tl = tier_lev(w, b, j);
            assert_true(x <= cap && x <= ln->max);
            assert_true(x >= fmin(ln->min, cap) * (1 - eps));
            double lmax = fmin(ll->max, tl), lmin = fmin(ll->min, tl);
            if (b->mode[a] == XM_ISOLATED) {
                double lev = x / b->margin[j];
                assert_true(lev <= lmax * (1 + eps));
                assert_true(lev >= lmin * (1 - eps));
            } else {
                lo += x / lmax;
                hi += x / lmin;
            }
        }
        if (b->mode[a] == XM_CROSS) {
            assert_true(b->wallet[a] >= lo * (1 - eps));
            assert_true(b->wallet[a] <= hi * (1 + eps));
        }
    }
}

/* Equity at entry prices is the wallet (cross) or the margin (isolated): strictly above the
 * maintenance margin at the booked notional, and no position starts beyond the tiers. */
static void check_not_liquidatable(const world *w, const xm_accounts *b)
{
    for (size_t a = 0; a < b->n_accounts; a++) {
        double mm = 0;
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            int beyond = 0;
            double mmj = xm_tier_mm(&w->v.tiers[b->asset[j]], notional(b, j), &beyond);
            assert_int_equal(beyond, 0);
            if (b->mode[a] == XM_ISOLATED && !(b->margin[j] > mmj))
                fail_msg("account %s position %u: margin %g <= MM %g", xm_accounts_id(b, a),
                         (unsigned)j, b->margin[j], mmj);
            mm += mmj;
        }
        if (b->mode[a] == XM_CROSS && !(b->wallet[a] > mm))
            fail_msg("account %s: wallet %g <= MM %g", xm_accounts_id(b, a), b->wallet[a], mm);
    }
}

static void test_clips_respected(void **state)
{
    (void)state;
    check_clips(&g_world, &g_params, g_book);
}

static void test_not_liquidatable_at_entry(void **state)
{
    (void)state;
    check_not_liquidatable(&g_world, g_book);
}

/* ---- tests with their own populations ---- */

static void test_defaults(void **state)
{
    (void)state;
    xm_population_params p;
    xm_error err;
    assert_int_equal(xm_population_defaults(&p, N_ASSETS, &err), XM_OK);
    assert_true(p.accounts >= 1);
    assert_true(p.n_assets == N_ASSETS);
    for (size_t i = 0; i < N_ASSETS; i++)
        assert_true(p.asset_weight[i] == 1.0);
    assert_true(p.isolated_share == 0.2 && p.long_share == 0.6 && p.hedged_share == 0.0);
    assert_true(p.assets_min == 1 && p.assets_max == 3);
    assert_true(p.leverage.median == 10 && p.leverage.sigma == 0.7 && p.leverage.min == 1 &&
                p.leverage.max == 125);
    assert_true(p.notional_usd.median == 5000 && p.notional_usd.sigma == 1.5 &&
                p.notional_usd.min == 10 && p.notional_usd.max == 5e7);
    assert_true(p.entry_dispersion == 0.0);
    assert_string_equal(p.id_prefix, "pop-");

    /* The defaults generate (LINK has no table: equal weights still work, it is skipped). */
    world w;
    world_init(&w);
    p.accounts = 1000;
    xm_accounts *b = generate(&p, &w, SEED);
    assert_string_equal(xm_accounts_id(b, 0), "pop-000");
    assert_string_equal(xm_accounts_id(b, 999), "pop-999");
    for (size_t j = 0; j < b->n_positions; j++)
        assert_true(b->asset[j] != 5);
    check_not_liquidatable(&w, b);
    xm_accounts_free(b);
    world_clear(&w);

    xm_population_params_clear(&p);
    assert_null(p.asset_weight);
    assert_true(p.n_assets == 0 && p.accounts == 0);
    xm_population_params_clear(NULL);

    assert_int_equal(xm_population_defaults(&p, 2, &err), XM_OK);
    assert_true(p.assets_max == 2);
    xm_population_params_clear(&p);
}

static int books_identical(const xm_accounts *a, const xm_accounts *b)
{
    size_t na = a->n_accounts, np = a->n_positions;
    return na == b->n_accounts && np == b->n_positions && a->ids_len == b->ids_len &&
           !memcmp(a->mode, b->mode, na * sizeof *a->mode) &&
           !memcmp(a->wallet, b->wallet, na * sizeof *a->wallet) &&
           !memcmp(a->first, b->first, (na + 1) * sizeof *a->first) &&
           !memcmp(a->id_off, b->id_off, na * sizeof *a->id_off) &&
           !memcmp(a->ids, b->ids, a->ids_len) &&
           !memcmp(a->owner, b->owner, np * sizeof *a->owner) &&
           !memcmp(a->asset, b->asset, np * sizeof *a->asset) &&
           !memcmp(a->qty, b->qty, np * sizeof *a->qty) &&
           !memcmp(a->entry, b->entry, np * sizeof *a->entry) &&
           !memcmp(a->margin, b->margin, np * sizeof *a->margin);
}

static void test_seed_determines_population(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_population_params p;
    params_init(&p, 20000);
    p.hedged_share = 0.25;
    p.isolated_share = 0.3;
    xm_accounts *a = generate(&p, &w, SEED), *b = generate(&p, &w, SEED);
    xm_accounts *c = generate(&p, &w, SEED + 1);
    assert_true(books_identical(a, b));
    assert_false(books_identical(a, c));
    size_t same = 0, n = a->n_positions < c->n_positions ? a->n_positions : c->n_positions;
    for (size_t j = 0; j < n; j++)
        same += a->qty[j] == c->qty[j];
    assert_true(same == 0);
    xm_accounts_free(a);
    xm_accounts_free(b);
    xm_accounts_free(c);
    xm_population_params_clear(&p);
    world_clear(&w);
}

/* Regression pin: the first accounts of seed 20261125 with the world's weights, recorded from
 * this implementation when the draw order was fixed. A change here changes every published
 * population: document it. Doubles to 1e-12 relative (libm's exp may differ in the last bit). */
static void test_pinned_population(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_population_params p;
    params_init(&p, 6);
    p.isolated_share = 0.5;
    p.hedged_share = 0.3;
    p.entry_dispersion = 0.02;  /* the default when the pin was recorded */
    xm_accounts *b = generate(&p, &w, SEED);
    /* Accounts 0, 1 cross; 2, 3, 4 isolated; 5 a cross hedged pair (BTC long, ETH short). */
    static const uint8_t mode[6] = {0, 0, 1, 1, 1, 0};
    static const uint32_t first[7] = {0, 2, 4, 5, 8, 11, 13};
    static const uint16_t asset[13] = {1, 2, 2, 0, 0, 3, 1, 0, 4, 2, 0, 0, 1};
    static const double wallet[6] = {24106.605251538553, 3975.4122717633427, 0, 0, 0,
                                     37.14409476300338};
    static const double qty[13] = {
        62.900015649056044, 58.736885490088433, -59.699917632569949, -0.049835274401705189,
        0.0047201357333876834, 550.86684158913715, -0.02096634903554093, 0.058450123634271184,
        41895.25789100246, -37.845029353484769, 0.51724952725811379, 0.0038296824546664616,
        -0.11215829008811311};
    static const double entry[13] = {
        3476.377141574349, 150.83160910708315, 151.11922923871606, 103118.37863294604,
        101084.48737163049, 2.5915527682497359, 3434.0528525125383, 101610.53377996494,
        0.19573471194205486, 146.55300214499587, 98404.311104608962, 101388.95276220818,
        3461.9598175524188};
    static const double margin[13] = {0, 0, 0, 0, 57.044383704725327, 59.18740272144742,
                                      35.207696063913829, 1458.8302902406301,
                                      1097.2527957287027, 1234.3999595182474,
                                      3366.9818806248527, 0, 0};
    assert_int_equal(b->n_positions, 13);
    for (size_t a = 0; a < 6; a++) {
        assert_int_equal(b->mode[a], mode[a]);
        assert_near(b->wallet[a], wallet[a], 1e-12 * wallet[a]);
        assert_int_equal(b->first[a + 1], first[a + 1]);
    }
    assert_string_equal(xm_accounts_id(b, 5), "pop-5");
    for (size_t j = 0; j < 13; j++) {
        assert_int_equal(b->asset[j], asset[j]);
        assert_near(b->qty[j], qty[j], 1e-12 * fabs(qty[j]));
        assert_near(b->entry[j], entry[j], 1e-12 * entry[j]);
        assert_near(b->margin[j], margin[j], 1e-12 * margin[j]);
    }
    xm_accounts_free(b);
    xm_population_params_clear(&p);
    world_clear(&w);
}

/* Appending keeps what the book holds and continues its numbering of accounts/positions. */
static void test_appends_to_book(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_population_params p;
    params_init(&p, 100);
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    assert_int_equal(xm_accounts_add_account(b, "manual", XM_CROSS, 1000.0, &err), XM_OK);
    assert_int_equal(xm_accounts_add_position(b, 0, 0.01, 100000.0, 0.0, &err), XM_OK);
    assert_int_equal(xm_population_generate(&p, &w.m, &w.v, SEED, b, &err), XM_OK);
    assert_int_equal(b->n_accounts, 101);
    assert_string_equal(xm_accounts_id(b, 0), "manual");
    assert_true(b->wallet[0] == 1000.0 && b->first[1] == 1 && b->qty[0] == 0.01);
    assert_string_equal(xm_accounts_id(b, 1), "pop-00");
    assert_string_equal(xm_accounts_id(b, 100), "pop-99");
    assert_true(b->first[101] == b->n_positions);
    for (size_t a = 1; a < b->n_accounts; a++)
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++)
            assert_true(b->owner[j] == a);

    /* The population appended is the population generated alone. */
    xm_accounts *alone = generate(&p, &w, SEED);
    assert_true(b->n_positions == alone->n_positions + 1);
    assert_memory_equal(b->qty + 1, alone->qty, alone->n_positions * sizeof *b->qty);
    assert_memory_equal(b->wallet + 1, alone->wallet, 100 * sizeof *b->wallet);
    xm_accounts_free(alone);
    xm_accounts_free(b);
    xm_population_params_clear(&p);
    world_clear(&w);
}

/* Hedged pairs: only cross accounts, hedged share of cross accounts within 5 SE (binomial);
 * two different assets, one long and one short, same notional (1e-12 relative); the first
 * drawn asset is the long leg with probability long_share (5 SE). */
static void test_hedged_pairs(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_population_params p;
    params_init(&p, 100000);
    p.isolated_share = 0.3;
    p.hedged_share = 0.4;
    p.long_share = 0.7;
    xm_accounts *b = generate(&p, &w, SEED);
    double cross = 0, hedged = 0, first_long = 0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        uint32_t j = b->first[a], k = b->first[a + 1] - j;
        int pair = k == 2 && (b->qty[j] > 0) != (b->qty[j + 1] > 0) &&
                   fabs(notional(b, j) - notional(b, j + 1)) <= 1e-12 * notional(b, j);
        if (b->mode[a] == XM_ISOLATED) {
            assert_false(pair);
            continue;
        }
        cross += 1;
        if (pair) {
            hedged += 1;
            first_long += b->qty[j] > 0;
            assert_true(b->asset[j] != b->asset[j + 1]);
        }
    }
    assert_near(cross / (double)b->n_accounts, 0.7, se5(0.7, (double)b->n_accounts));
    assert_near(hedged / cross, 0.4, se5(0.4, cross));
    assert_near(first_long / hedged, 0.7, se5(0.7, hedged));
    check_clips(&w, &p, b);
    check_not_liquidatable(&w, b);
    xm_accounts_free(b);

    /* All cross and all hedged: every account is a pair. */
    p.isolated_share = 0.0;
    p.hedged_share = 1.0;
    p.accounts = 5000;
    b = generate(&p, &w, SEED);
    assert_int_equal(b->n_positions, 2 * b->n_accounts);
    for (size_t a = 0; a < b->n_accounts; a++) {
        uint32_t j = b->first[a];
        assert_true((b->qty[j] > 0) != (b->qty[j + 1] > 0));
        assert_true(fabs(notional(b, j) - notional(b, j + 1)) <= 1e-12 * notional(b, j));
    }
    xm_accounts_free(b);

    /* A single drawable asset cannot be hedged: one position each. */
    for (size_t i = 1; i < N_ASSETS; i++)
        p.asset_weight[i] = 0.0;
    b = generate(&p, &w, SEED);
    assert_int_equal(b->n_positions, b->n_accounts);
    for (size_t j = 0; j < b->n_positions; j++)
        assert_true(b->asset[j] == 0);
    xm_accounts_free(b);
    xm_population_params_clear(&p);
    world_clear(&w);
}

/* Large notionals and leverages against the altcoin table (last cap 12.5M at 1x): the cap
 * and the tier's max_leverage win over [min, max]; still nobody starts liquidatable. */
static void test_clips_at_the_tiers(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_population_params p;
    params_init(&p, 50000);
    p.isolated_share = 0.5;
    p.notional_usd = (xm_lognormal){.median = 1e6, .sigma = 2.0, .min = 2e5, .max = 1e8};
    p.leverage = (xm_lognormal){.median = 20, .sigma = 1.0, .min = 3, .max = 60};
    xm_accounts *b = generate(&p, &w, SEED);
    check_clips(&w, &p, b);
    check_not_liquidatable(&w, b);
    size_t at_cap = 0, at_1x = 0;
    for (size_t a = 0; a < b->n_accounts; a++)
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            if (b->asset[j] < 2)
                continue;
            int capped = notional(b, j) >= 1.25e7 * (1 - 1e-15);
            at_cap += capped;
            if (capped && b->mode[a] == XM_ISOLATED) {
                assert_near(notional(b, j) / b->margin[j], 1.0, 1e-12);  /* 1x, below min 3 */
                at_1x++;
            }
        }
    assert_true(at_cap > 100 && at_1x > 50);
    xm_accounts_free(b);
    xm_population_params_clear(&p);
    world_clear(&w);
}

/* Counts above the number of drawable assets are capped at it: with counts uniform on 3..10
 * and 5 drawable assets, P(5) = 6/8 (5 SE); with assets_min 7, every account holds all 5. */
static void test_count_capped(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_population_params p;
    params_init(&p, 20000);
    p.assets_min = 3;
    p.assets_max = 10;
    xm_accounts *b = generate(&p, &w, SEED);
    double five = 0, n = (double)b->n_accounts;
    for (size_t a = 0; a < b->n_accounts; a++) {
        uint32_t k = b->first[a + 1] - b->first[a];
        assert_true(k >= 3 && k <= 5);
        five += k == 5;
    }
    assert_near(five / n, 0.75, se5(0.75, n));
    xm_accounts_free(b);
    p.assets_min = 7;
    b = generate(&p, &w, SEED);
    assert_int_equal(b->n_positions, 5 * b->n_accounts);
    xm_accounts_free(b);
    xm_population_params_clear(&p);
    world_clear(&w);
}

/* Every parameter error: XM_EMODEL, "population: " and the parameter's name; book untouched. */
static void test_parameter_errors(void **state)
{
    (void)state;
    static const char *const names[] = {
        "accounts", "accounts", "isolated_share", "isolated_share", "long_share",
        "hedged_share", "assets_min", "assets_max", "leverage.min", "leverage.max",
        "leverage.median", "leverage.sigma", "notional_usd.median", "notional_usd.median",
        "notional_usd.sigma", "notional_usd.min", "entry_dispersion", "entry_dispersion",
        "asset_weight[2]", "asset_weight[0]", "asset_weight", "n_assets", "id_prefix",
        "asset_weight"};
    world w;
    world_init(&w);
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    for (size_t c = 0; c < sizeof names / sizeof names[0]; c++) {
        xm_population_params p;
        params_init(&p, 10);
        double *saved = p.asset_weight;
        switch (c) {
        case 0: p.accounts = 0; break;
        case 1: p.accounts = UINT64_MAX; break;
        case 2: p.isolated_share = 1.5; break;
        case 3: p.isolated_share = NAN; break;
        case 4: p.long_share = -0.1; break;
        case 5: p.hedged_share = 2.0; break;
        case 6: p.assets_min = 0; break;
        case 7: p.assets_min = 3; p.assets_max = 2; break;
        case 8: p.leverage.min = 0.0; break;
        case 9: p.leverage.max = 0.5; break;
        case 10: p.leverage.median = 200.0; break;
        case 11: p.leverage.sigma = -0.1; break;
        case 12: p.notional_usd.median = 1.0; break;
        case 13: p.notional_usd.median = NAN; break;
        case 14: p.notional_usd.sigma = INFINITY; break;
        case 15: p.notional_usd.min = -1.0; break;
        case 16: p.entry_dispersion = -0.01; break;
        case 17: p.entry_dispersion = NAN; break;
        case 18: p.asset_weight[2] = -1.0; break;
        case 19: p.asset_weight[0] = INFINITY; break;
        case 20: p.asset_weight = NULL; break;
        case 21: p.n_assets = N_ASSETS - 1; break;
        case 22: memset(p.id_prefix, 'x', sizeof p.id_prefix); break;
        case 23:  /* only LINK (no tier table) and ADA (weight 0) left */
            for (size_t i = 0; i < N_DRAWABLE; i++)
                p.asset_weight[i] = 0.0;
            break;
        }
        xm_error_clear(&err);
        assert_int_equal(xm_population_generate(&p, &w.m, &w.v, SEED, b, &err), XM_EMODEL);
        assert_int_equal(err.status, XM_EMODEL);
        assert_true(strncmp(err.msg, "population: ", 12) == 0);
        assert_contains(err.msg, names[c]);
        assert_int_equal(b->n_accounts, 0);
        assert_int_equal(b->n_positions, 0);
        p.asset_weight = saved;
        xm_population_params_clear(&p);
    }
    xm_accounts_free(b);
    world_clear(&w);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(test_isolated_share),
        cmocka_unit_test(test_positions_per_account),
        cmocka_unit_test(test_long_share),
        cmocka_unit_test(test_asset_frequencies),
        cmocka_unit_test(test_notional_law),
        cmocka_unit_test(test_leverage_law),
        cmocka_unit_test(test_entry_dispersion),
        cmocka_unit_test(test_clips_respected),
        cmocka_unit_test(test_not_liquidatable_at_entry),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_seed_determines_population),
        cmocka_unit_test(test_pinned_population),
        cmocka_unit_test(test_appends_to_book),
        cmocka_unit_test(test_hedged_pairs),
        cmocka_unit_test(test_clips_at_the_tiers),
        cmocka_unit_test(test_count_capped),
        cmocka_unit_test(test_parameter_errors),
    };
    int failed = xm_run_tests_name("population statistics", shared, group_setup, group_teardown);
    failed += xm_run_tests_name("population", own, NULL, NULL);
    return failed != 0;
}
