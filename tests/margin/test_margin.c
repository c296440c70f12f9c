/* test_margin.c — the margin engine (src/margin/margin.c): health against published liquidation
 * prices, liquidation orders (full, partial, backstop), settlement (fee, surplus, deficit),
 * insurance fund, ADL ranking and fills, socialized loss, and the ledger identities.
 *
 * Known answers cite docs/venues.md ("a.1" etc.); hand-derived ones
 * show their arithmetic in the comment next to them. */
#include "xm_test.h"

#include <math.h>

#include "xmrisk/accounts.h"
#include "xmrisk/margin.h"
#include "xmrisk/venue.h"

typedef struct {
    double cap, lev, mmr;
} tier_row;

/* a.1: Binance BTCUSDT, Mar-2021 announcement, first four tiers. */
static const tier_row btc_binance_2021[] = {
    {50e3, 125, 0.004}, {250e3, 100, 0.005}, {1e6, 50, 0.010}, {10e6, 20, 0.025}};
/* a.1: Binance BTCUSDT, Aug-2025 (the four tiers captured): cum 0, 300, 1,500, 12,000. */
static const tier_row btc_binance_aug2025[] = {
    {300e3, 150, 0.004}, {800e3, 100, 0.005}, {3e6, 75, 0.0065}, {12e6, 50, 0.010}};
/* a.1: the Binance API doc's illustrative ETH bracket 1: 0-10k, 75x, MMR 0.65%. */
static const tier_row eth_binance_api[] = {{10e3, 75, 0.0065}};
/* docs/interface.md's example ETH table: one tier, 0.5%. */
static const tier_row eth_flat[] = {{1e12, 100, 0.005}};
/* a.5: Hyperliquid MM rate 1/(2 maxLev): BTC 40x to 150M then 20x; ETH 25x to 100M then 15x. */
static const tier_row btc_hyperliquid[] = {{150e6, 40, 0.0125}, {1e12, 20, 0.025}};
static const tier_row eth_hyperliquid[] = {{100e6, 25, 0.02}, {1e12, 15, 1.0 / 30.0}};

#define N_OF(a) (sizeof(a) / sizeof *(a))
#define MAX_POS 16

enum { BTC = 0, ETH = 1 };

/* ---------------------------------------------------------------------------------------- */
/* Fixtures                                                                                 */

static void venue_new(xm_venue *v, double fund, const tier_row *btc, size_t nb,
                      const tier_row *eth, size_t ne)
{
    xm_error err;
    assert_int_equal(xm_venue_init(v, 2, &err), XM_OK);
    v->insurance_fund_usd = fund;
    const tier_row *rows[2] = {btc, eth};
    size_t n[2] = {nb, ne};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(xm_tiers_alloc(&v->tiers[i], n[i], &err), XM_OK);
        for (size_t k = 0; k < n[i]; k++)
            v->tiers[i].tier[k] = (xm_tier){rows[i][k].cap, rows[i][k].mmr, rows[i][k].lev, 0.0};
        assert_int_equal(xm_tiers_prepare(&v->tiers[i], i ? "ETH" : "BTC", &err), XM_OK);
    }
}

static void account(xm_accounts *b, const char *id, xm_margin_mode mode, double wallet)
{
    xm_error err;
    assert_int_equal(xm_accounts_add_account(b, id, mode, wallet, &err), XM_OK);
}

static void position(xm_accounts *b, uint16_t asset, double q, double entry, double margin)
{
    xm_error err;
    assert_int_equal(xm_accounts_add_position(b, asset, q, entry, margin, &err), XM_OK);
}

static xm_accounts *book_new(void)
{
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    assert_non_null(b);
    return b;
}

static xm_margin_state *state_new(const xm_accounts *b, const xm_venue *v)
{
    xm_error err;
    assert_true(b->n_positions <= MAX_POS);
    xm_margin_state *s = xm_margin_state_alloc(b, v, &err);
    assert_non_null(s);
    return s;
}

/* margin.h: fund = fund_start + fees + surpluses - fund_paid;
 * deficits = fund_paid + adl_covered + socialized; to 1e-9 relative. */
static void check_identities(const xm_ledger *l)
{
    double scale = fmax(1.0, l->fund_start + l->fees + l->surpluses + l->fund_paid);
    assert_near(l->fund, l->fund_start + l->fees + l->surpluses - l->fund_paid, 1e-9 * scale);
    assert_near(l->deficits, l->fund_paid + l->adl_covered + l->socialized,
                1e-9 * fmax(1.0, l->deficits));
    assert_true(l->fund >= 0.0);
    assert_true(l->fund_min <= l->fund && l->fund_min <= l->fund_start);
}

/* Plan and settle one unit at `exec`; checks the ledger identities afterwards. */
static xm_liq_result liquidate(xm_margin_state *s, size_t a, long pos, const double *marks,
                               const double *exec)
{
    double close[MAX_POS];
    xm_liq_result r;
    assert_true(xm_liq_plan(s, a, pos, marks, close) > 0);
    xm_liq_settle(s, a, pos, close, exec, marks, &r);
    check_identities(&s->ledger);
    return r;
}

/* At `lp` for asset i the unit (cross account a) has E = MM within 0.01 USD (published LPs
 * are rounded to the cent); one cent on the losing side of a position of sign `side` it is
 * liquidatable, one cent on the other side it is not. */
static void check_lp(const xm_margin_state *s, size_t a, double *marks, size_t i, double lp,
                     double side)
{
    marks[i] = lp;
    xm_health h = xm_margin_health(s, a, XM_UNIT_ACCOUNT, marks);
    assert_true(h.open);
    assert_near(h.equity, h.mm, 0.01);
    marks[i] = lp - side * 0.01;
    assert_true(xm_health_liquidatable(xm_margin_health(s, a, XM_UNIT_ACCOUNT, marks)));
    marks[i] = lp + side * 0.01;
    assert_false(xm_health_liquidatable(xm_margin_health(s, a, XM_UNIT_ACCOUNT, marks)));
}

/* ---------------------------------------------------------------------------------------- */
/* Health                                                                                   */

/* a.1, Binance's published cross examples (2020 FAQ, one-way mode).
 * BTC: WB 10.72; short 0.005 BTC @ 9,451.53 (MMR 0.4%, cum 0); the other contract, an ETH
 * long, has TMM1 = 1.3 and UPNL1 = 0.47: here ETH long 1 @ 199.53 at mark 200 under the
 * 0.65% ETH bracket (200 * 0.0065 = 1.3, 200 - 199.53 = 0.47). Published LP 11,383.99.
 * ETH: long 1 @ 199.53 (MMR 0.65%); the other contract has TMM1 = 0.19, UPNL1 = -0.06: here
 * BTC short 0.005 @ 9,488 at mark 9,500 (0.005 * 9500 * 0.004 = 0.19, -0.005 * 12 = -0.06).
 * Published LP 190.29, "190.297 exact". */
static void test_health_binance_published_examples(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_2021, N_OF(btc_binance_2021), eth_binance_api,
              N_OF(eth_binance_api));
    xm_accounts *b = book_new();
    account(b, "faq-btc", XM_CROSS, 10.72);
    position(b, BTC, -0.005, 9451.53, 0.0);
    position(b, ETH, 1.0, 199.53, 0.0);
    account(b, "faq-eth", XM_CROSS, 10.72);
    position(b, ETH, 1.0, 199.53, 0.0);
    position(b, BTC, -0.005, 9488.0, 0.0);
    xm_margin_state *s = state_new(b, &v);

    /* The ETH leg alone gives the published TMM1 and UPNL1 (BTC at its entry: no uPnL). */
    double marks[2] = {9451.53, 200.0};
    xm_health h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
    assert_near(h.equity, 10.72 + 0.47, 1e-12);
    assert_near(h.mm, 1.3 + 0.005 * 9451.53 * 0.004, 1e-12);
    assert_int_equal(h.beyond_tiers, 0);

    /* Exact root of the published formula (WB - TMM1 + UPNL1 + cum + Q EP) / (Q MMR + Q). */
    double root = (10.72 - 1.3 + 0.47 + 0.005 * 9451.53) / (0.005 * 0.004 + 0.005);
    assert_near(root, 11383.99, 0.005);
    marks[BTC] = root;
    h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
    assert_near(h.equity - h.mm, 0.0, 1e-9);
    check_lp(s, 0, marks, BTC, 11383.99, -1.0);

    /* ETH: (WB - TMM1 + UPNL1 - Q EP) / (Q MMR - Q) = 190.297 exact. */
    marks[BTC] = 9500.0;
    root = (10.72 - 0.19 - 0.06 - 199.53) / (0.0065 - 1.0);
    assert_near(root, 190.297, 0.0005);
    marks[ETH] = root;
    h = xm_margin_health(s, 1, XM_UNIT_ACCOUNT, marks);
    assert_near(h.equity - h.mm, 0.0, 1e-9);
    check_lp(s, 1, marks, ETH, 190.29, 1.0);

    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* a.1 test vectors derived from the published formula and the 2025 tiers 1/2 (Aug-2025 table:
 * 300k at 0.4%, 800k at 0.5% with cum 300):
 *  - WB 10,000, long 1 BTC @ 100,000 -> LP 90,361.45, where E = MM = 361.45;
 *  - WB 50,000, long 5 BTC @ 100,000 -> LP 90,391.96 (notional 451,960: tier 2).
 * And a notional beyond the last captured cap (12M) sets beyond_tiers. */
static void test_health_binance_derived_vectors(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    account(b, "one", XM_CROSS, 10000.0);
    position(b, BTC, 1.0, 100000.0, 0.0);
    account(b, "five", XM_CROSS, 50000.0);
    position(b, BTC, 5.0, 100000.0, 0.0);
    account(b, "whale", XM_CROSS, 1.0e6);
    position(b, BTC, 150.0, 100000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {90361.45, 3000.0};

    xm_health h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
    assert_near(h.equity, 361.45, 0.01);
    assert_near(h.mm, 361.45, 0.01);
    check_lp(s, 0, marks, BTC, 90361.45, 1.0);

    marks[BTC] = 90391.96;
    h = xm_margin_health(s, 1, XM_UNIT_ACCOUNT, marks);
    assert_near(h.mm, 5 * 90391.96 * 0.005 - 300.0, 1e-9);   /* tier 2 */
    check_lp(s, 1, marks, BTC, 90391.96, 1.0);

    /* 150 BTC at 90,000 = 13.5M > 12M: the last line, 13.5M * 1% - 12,000 = 123,000. */
    marks[BTC] = 90000.0;
    h = xm_margin_health(s, 2, XM_UNIT_ACCOUNT, marks);
    assert_int_equal(h.beyond_tiers, 1);
    assert_near(h.mm, 123000.0, 1e-6);
    assert_near(h.equity, 1.0e6 - 150.0 * 10000.0, 1e-6);

    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* a.5, Hyperliquid (derived there from the published liquidation-price formula): account
 * 10k, long 1 BTC @ 100k, MM rate 1.25% -> 91,139.24, where equity = MM = 1,139.24. */
static void test_health_hyperliquid_vector(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 0.0, btc_hyperliquid, N_OF(btc_hyperliquid), eth_hyperliquid,
              N_OF(eth_hyperliquid));
    xm_accounts *b = book_new();
    account(b, "hl", XM_CROSS, 10000.0);
    position(b, BTC, 1.0, 100000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {91139.24, 3000.0};
    xm_health h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
    assert_near(h.equity, 1139.24, 0.01);
    assert_near(h.mm, 1139.24, 0.01);
    check_lp(s, 0, marks, BTC, 91139.24, 1.0);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ---------------------------------------------------------------------------------------- */
/* Isolated positions, fees, surplus                                                        */

/* model.md §4: an isolated loss beyond M_j is a deficit; the account's other positions and
 * its wallet are never touched. Long 1 BTC @ 100k with M = 2,000, mark 95,000
 * (E = 2,000 - 5,000 < 0), closed at 94,500: M = 2,000 - 5,500 = -3,500 -> deficit 3,500,
 * paid by the fund (1M). */
static void test_isolated_loss_never_leaks(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 1.0e6, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    account(b, "iso", XM_ISOLATED, 0.0);
    position(b, BTC, 1.0, 100000.0, 2000.0);
    position(b, ETH, -10.0, 3000.0, 1500.0);
    account(b, "bystander", XM_CROSS, 5000.0);
    position(b, BTC, 0.1, 95000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {95000.0, 3000.0}, exec[2] = {94500.0, 3000.0};

    xm_health h = xm_margin_health(s, 0, 0, marks);
    assert_near(h.equity, -3000.0, 1e-9);
    assert_true(xm_health_liquidatable(h));
    h = xm_margin_health(s, 0, 1, marks);
    assert_near(h.equity, 1500.0, 0.0);
    assert_near(h.mm, 150.0, 1e-9);   /* 30,000 * 0.5% */
    assert_false(xm_health_liquidatable(h));

    /* Only the unit's entries are written. */
    double close[MAX_POS] = {0.0, 12345.0, 12345.0};
    assert_int_equal(xm_liq_plan(s, 0, 0, marks, close), 1);
    assert_near(close[0], -1.0, 0.0);
    assert_near(close[1], 12345.0, 0.0);
    xm_liq_result r;
    xm_liq_settle(s, 0, 0, close, exec, marks, &r);
    check_identities(&s->ledger);
    assert_near(r.notional, 94500.0, 0.0);
    assert_near(r.fee, 0.0, 0.0);
    assert_near(r.deficit, 3500.0, 1e-9);
    assert_near(r.fund_paid, 3500.0, 1e-9);
    assert_near(r.adl_covered + r.socialized, 0.0, 0.0);
    assert_int_equal(r.closed_all, 1);
    assert_near(r.equity_after, 0.0, 0.0);

    assert_near(s->qty[0], 0.0, 0.0);
    assert_near(s->margin[0], 0.0, 0.0);
    assert_near(s->qty[1], -10.0, 0.0);
    assert_near(s->margin[1], 1500.0, 0.0);
    assert_near(s->wallet[0], 0.0, 0.0);
    assert_near(s->wallet[1], 5000.0, 0.0);
    assert_near(s->qty[2], 0.1, 0.0);
    assert_near(s->ledger.fund, 1.0e6 - 3500.0, 1e-6);
    assert_near(s->ledger.fund_min, 1.0e6 - 3500.0, 1e-6);
    assert_int_equal(s->ledger.events, 1);
    assert_near(s->ledger.liquidated_notional, 94500.0, 0.0);
    /* The closed position is flat: never liquidatable again, whatever its equity. */
    h = xm_margin_health(s, 0, 0, marks);
    assert_false(h.open);
    assert_false(xm_health_liquidatable(h));
    h = xm_margin_health(s, 0, 1, marks);
    assert_near(h.equity, 1500.0, 0.0);

    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* model.md §3: fee = min(fee_rate N, equity left). WB 10,000, long 1 BTC @ 100k, mark 90,361
 * (E = 361 <= MM = 361.444), closed at 90,350: W = 10,000 - 9,650 = 350.
 *  (a) fee 1.25% (a.1 default): 1,129.375 > 350 -> fee 350, the account keeps 0 (a.1: small
 *      accounts "are already bankrupt when first entering liquidation");
 *  (b) fee 0.2%: 180.7, the account keeps 169.3 (keep mode, Binance);
 *  (c) same with remaining_equity to_fund (a.2, Bybit): 169.3 is a surplus to the fund. */
static void test_cross_fee_and_remaining_equity(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 1000.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    account(b, "cross", XM_CROSS, 10000.0);
    position(b, BTC, 1.0, 100000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {90361.0, 3000.0}, exec[2] = {90350.0, 3000.0};
    assert_true(xm_health_liquidatable(xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks)));

    xm_liq_result r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.fee, 350.0, 1e-9);
    assert_near(s->wallet[0], 0.0, 1e-9);
    assert_near(s->ledger.fund, 1350.0, 1e-9);
    assert_near(s->ledger.fees, 350.0, 1e-9);
    assert_int_equal(r.closed_all, 1);

    v.fee_rate = 0.002;
    xm_margin_state_reset(s);
    r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.fee, 180.7, 1e-9);
    assert_near(r.surplus, 0.0, 0.0);
    assert_near(r.equity_after, 169.3, 1e-9);
    assert_near(s->wallet[0], 169.3, 1e-9);
    assert_near(s->ledger.fund, 1180.7, 1e-9);

    v.remaining_equity = XM_REMAINING_TO_FUND;
    xm_margin_state_reset(s);
    r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.fee, 180.7, 1e-9);
    assert_near(r.surplus, 169.3, 1e-9);
    assert_near(r.equity_after, 0.0, 0.0);
    assert_near(s->wallet[0], 0.0, 0.0);
    assert_near(s->ledger.surpluses, 169.3, 1e-9);
    assert_near(s->ledger.fund, 1350.0, 1e-9);
    assert_near(s->ledger.deficits, 0.0, 0.0);
    assert_int_equal(s->ledger.events, 1);
    assert_near(s->ledger.liquidated_notional, 90350.0, 0.0);

    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ---------------------------------------------------------------------------------------- */
/* Partial mode (a.5, Hyperliquid: 20% of positions above $100k, backstop below 2/3 MM)     */

static void venue_partial(xm_venue *v, double fee_rate)
{
    venue_new(v, 1.0e6, btc_hyperliquid, N_OF(btc_hyperliquid), eth_hyperliquid,
              N_OF(eth_hyperliquid));
    v->mode = XM_LIQ_PARTIAL;
    v->fee_rate = fee_rate;   /* a.5: Hyperliquid charges no clearance fee */
}

/* The mark at which a single long (q @ e, wallet W, MM rate r) has E = ratio * MM:
 * W + q (m - e) = ratio r q m  ->  m = (q e - W) / (q (1 - ratio r)). */
static double mark_at_ratio(const xm_margin_state *s, double ratio)
{
    double q = s->qty[0], e = s->book->entry[0], w = s->wallet[0];
    return (q * e - w) / (q * (1.0 - ratio * 0.0125));
}

/* W 110,000, long 10 BTC @ 100k. Each round the mark puts E at 0.9 MM (liquidatable, above
 * the backstop): 20% closes at the mark, q = 8, 6.4, 5.12, 4.096 (all above $100k). Then at
 * E = 0.5 MM < 2/3 MM the backstop closes the rest and the account keeps E. */
static void test_partial_steps_then_backstop(void **state)
{
    (void)state;
    xm_venue v;
    venue_partial(&v, 0.0);
    xm_accounts *b = book_new();
    account(b, "big", XM_CROSS, 110000.0);
    position(b, BTC, 10.0, 100000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {0.0, 3000.0}, close[MAX_POS];
    xm_liq_result r;
    double expect_q = 10.0;
    for (int k = 0; k < 4; k++) {
        marks[BTC] = mark_at_ratio(s, 0.9);
        xm_health h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
        assert_true(xm_health_liquidatable(h));
        assert_true(h.equity >= v.backstop_ratio * h.mm);
        assert_int_equal(xm_liq_plan(s, 0, XM_UNIT_ACCOUNT, marks, close), 1);
        assert_near(close[0], -0.2 * expect_q, 1e-12 * expect_q);
        xm_liq_settle(s, 0, XM_UNIT_ACCOUNT, close, marks, marks, &r);
        check_identities(&s->ledger);
        expect_q *= 0.8;
        assert_near(s->qty[0], expect_q, 1e-12 * expect_q);
        assert_int_equal(r.closed_all, 0);
        assert_near(r.fee, 0.0, 0.0);
        assert_near(r.equity_after, h.equity, 1e-9 * h.equity);   /* closed at the mark */
    }
    assert_near(s->qty[0], 4.096, 1e-12);
    marks[BTC] = mark_at_ratio(s, 0.5);
    xm_health h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
    assert_true(h.equity < v.backstop_ratio * h.mm);
    assert_int_equal(xm_liq_plan(s, 0, XM_UNIT_ACCOUNT, marks, close), 1);
    assert_near(close[0], -s->qty[0], 0.0);
    xm_liq_settle(s, 0, XM_UNIT_ACCOUNT, close, marks, marks, &r);
    check_identities(&s->ledger);
    assert_int_equal(r.closed_all, 1);
    assert_near(s->qty[0], 0.0, 0.0);
    assert_near(s->wallet[0], h.equity, 1e-9 * h.equity);
    assert_near(s->wallet[0], 0.5 * h.mm, 1e-6);
    assert_int_equal(s->ledger.events, 5);
    assert_near(s->ledger.deficits, 0.0, 0.0);
    /* Flat now: the plan has nothing to send. */
    assert_int_equal(xm_liq_plan(s, 0, XM_UNIT_ACCOUNT, marks, close), 0);
    assert_near(close[0], 0.0, 0.0);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Long 10 BTC @ 100k and 20 ETH @ 3,000, W 114,000. Marks 90,000 / 2,800: E = 10,000,
 * MM = 900k * 1.25% + 56k * 2% = 12,370, and 10,000 >= 2/3 * 12,370: BTC (900k) steps 20%,
 * ETH (56k < 100k) closes in full. At BTC 89,000, E = 0 < 2/3 MM: the backstop closes all. */
static void test_partial_small_positions_close_in_full(void **state)
{
    (void)state;
    xm_venue v;
    venue_partial(&v, 0.0);
    xm_accounts *b = book_new();
    account(b, "mixed", XM_CROSS, 114000.0);
    position(b, BTC, 10.0, 100000.0, 0.0);
    position(b, ETH, 20.0, 3000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {90000.0, 2800.0}, close[MAX_POS];
    xm_health h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
    assert_near(h.equity, 10000.0, 1e-9);
    assert_near(h.mm, 12370.0, 1e-9);
    assert_true(xm_health_liquidatable(h));
    assert_int_equal(xm_liq_plan(s, 0, XM_UNIT_ACCOUNT, marks, close), 2);
    assert_near(close[0], -2.0, 1e-12);
    assert_near(close[1], -20.0, 0.0);

    marks[BTC] = 89000.0;
    h = xm_margin_health(s, 0, XM_UNIT_ACCOUNT, marks);
    assert_near(h.equity, 0.0, 1e-9);
    assert_int_equal(xm_liq_plan(s, 0, XM_UNIT_ACCOUNT, marks, close), 2);
    assert_near(close[0], -10.0, 0.0);
    assert_near(close[1], -20.0, 0.0);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* A partial close at a bad price can leave E < 0 with positions open: no deficit is booked
 * (and no fee: equity left is negative); the next round's plan is below the backstop and
 * closes everything, and that settlement books the deficit (docs/margin.md).
 * W 110,000, long 10 @ 100k, mark 90,000: E = 10,000, MM = 11,250 -> close 2 at 84,000:
 * W = 110,000 - 32,000 = 78,000, E = 78,000 - 80,000 = -2,000. Next: close 8 at 89,000:
 * W = 78,000 - 88,000 = -10,000 -> deficit 10,000, paid by the fund. */
static void test_partial_negative_equity_waits_for_backstop(void **state)
{
    (void)state;
    xm_venue v;
    venue_partial(&v, 0.0125);
    xm_accounts *b = book_new();
    account(b, "big", XM_CROSS, 110000.0);
    position(b, BTC, 10.0, 100000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {90000.0, 3000.0}, exec[2] = {84000.0, 3000.0};
    xm_liq_result r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(s->qty[0], 8.0, 0.0);
    assert_near(r.equity_after, -2000.0, 1e-9);
    assert_near(r.fee, 0.0, 0.0);
    assert_near(r.deficit, 0.0, 0.0);
    assert_int_equal(r.closed_all, 0);
    assert_near(s->ledger.deficits, 0.0, 0.0);

    exec[BTC] = 89000.0;
    r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_int_equal(r.closed_all, 1);
    assert_near(r.deficit, 10000.0, 1e-9);
    assert_near(r.fund_paid, 10000.0, 1e-9);
    assert_near(s->ledger.fund_min, 1.0e6 - 10000.0, 1e-6);
    assert_int_equal(s->ledger.events, 2);
    assert_near(s->ledger.liquidated_notional, 2 * 84000.0 + 8 * 89000.0, 1e-6);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ---------------------------------------------------------------------------------------- */
/* Bankruptcy: fund, ADL, socialized loss                                                   */

/* Counterparties of the chain and ranking tests, all cross. BTC mark 89,000, tier 1 (0.4%):
 *  X short 0.4 @ 90,000, W 3,000: uPnL 400, E 3,400, MM 142.4
 *  Y short 0.8 @ 105,000, W 8,000: uPnL 12,800, E 20,800, MM 284.8
 *  Z short 0.4 @ 110,000, W 20,000: uPnL 8,400, E 28,400, MM 142.4
 * Scores (docs/venues.md b):
 *  binance (uPnL/W)(MM/E): X 0.13333*0.041882 = 0.0055843, Y 1.6*0.013692 = 0.021908,
 *                          Z 0.42*0.0050141 = 0.0021059               -> Y, X, Z
 *  bybit ((e-m)/e)(|q|m/E): X 0.011111*10.471 = 0.11634, Y 0.15238*3.4231 = 0.52161,
 *                          Z 0.19091*1.2535 = 0.23931                 -> Y, Z, X
 *  hyperliquid (e/m)(|q|m/E): X 1.01124*10.471 = 10.588, Y 1.17978*3.4231 = 4.0385,
 *                          Z 1.23596*1.2535 = 1.5493                  -> X, Y, Z
 * Chosen so that dropping a factor changes who is closed: Binance without /W, or without
 * MM/E, ranks Y, Z, X; Bybit without EffLev ranks Z, Y, X. */
enum { POS_X = 0, POS_Y, POS_Z };
static void add_counterparties(xm_accounts *b)
{
    account(b, "X", XM_CROSS, 3000.0);
    position(b, BTC, -0.4, 90000.0, 0.0);
    account(b, "Y", XM_CROSS, 8000.0);
    position(b, BTC, -0.8, 105000.0, 0.0);
    account(b, "Z", XM_CROSS, 20000.0);
    position(b, BTC, -0.4, 110000.0, 0.0);
}

/* Fund 5,000; every bankrupt is a long BTC closed at 88,000 (mark 89,000).
 * (1) A: W 10,000, long 1 @ 100k -> W = -2,000: the fund pays it (fund 3,000).
 * (2) B: W 5,000, long 1 @ 100k -> W = -7,000: the fund pays 3,000 (fund 0), R = 4,000;
 *     b = 88,000 + 4,000/1 = 92,000. Ranking Y, X, Z: Y closes 0.8 (realizes
 *     0.8 (105,000 - 92,000) = 10,400), X closes the remaining capacity 0.2 (realizes
 *     0.2 (90,000 - 92,000) = -400); covered 0.8*4,000 + 0.2*4,000 = 4,000; Z untouched.
 * (3) D: W 1,000, long 2 @ 100k -> W = -23,000: fund 0, R = 23,000, b = 88,000 + 11,500 =
 *     99,500. Z (0.0021059) now ranks before X (0.2 left, W 2,600: (200/2,600)(71.2/2,800)
 *     = 0.0019560); both close in full: Z 0.4 (realizes 0.4 (110,000 - 99,500) = 4,200),
 *     X 0.2 (realizes 0.2 (90,000 - 99,500) = -1,900); covered 0.6*11,500 = 6,900 of 23,000
 *     (capacity 2 BTC, 0.6 offered): socialized 16,100.
 * Non-candidates: L long 0.5 @ 80k (same side as the bankrupt), U short 0.5 @ 85k (uPnL < 0),
 * E short 10 ETH @ 4,000 (other asset). */
static void test_bankruptcy_chain(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 5000.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    add_counterparties(b);                       /* accounts 0-2, positions 0-2 */
    account(b, "A", XM_CROSS, 10000.0);          /* 3 */
    position(b, BTC, 1.0, 100000.0, 0.0);
    account(b, "B", XM_CROSS, 5000.0);           /* 4 */
    position(b, BTC, 1.0, 100000.0, 0.0);
    account(b, "D", XM_CROSS, 1000.0);           /* 5 */
    position(b, BTC, 2.0, 100000.0, 0.0);
    account(b, "L", XM_CROSS, 5000.0);           /* 6, position 6 */
    position(b, BTC, 0.5, 80000.0, 0.0);
    account(b, "U", XM_CROSS, 5000.0);           /* 7, position 7 */
    position(b, BTC, -0.5, 85000.0, 0.0);
    account(b, "E", XM_CROSS, 5000.0);           /* 8, position 8 */
    position(b, ETH, -10.0, 4000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    const xm_ledger *l = &s->ledger;
    double marks[2] = {89000.0, 3000.0}, exec[2] = {88000.0, 3000.0};

    /* (1) */
    xm_liq_result r = liquidate(s, 3, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.deficit, 2000.0, 1e-9);
    assert_near(r.fund_paid, 2000.0, 1e-9);
    assert_near(r.adl_covered + r.socialized, 0.0, 0.0);
    assert_near(l->fund, 3000.0, 1e-9);
    assert_near(l->fund_min, 3000.0, 1e-9);
    assert_int_equal(l->adl_fills, 0);
    assert_near(s->wallet[3], 0.0, 0.0);

    /* (2) */
    r = liquidate(s, 4, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.deficit, 7000.0, 1e-9);
    assert_near(r.fund_paid, 3000.0, 1e-9);
    assert_near(r.adl_covered, 4000.0, 1e-9);
    assert_near(r.socialized, 0.0, 0.0);
    assert_near(l->fund, 0.0, 0.0);
    assert_near(l->fund_min, 0.0, 0.0);
    assert_near(s->qty[POS_Y], 0.0, 0.0);
    assert_near(s->wallet[POS_Y], 8000.0 + 10400.0, 1e-9);
    assert_near(s->qty[POS_X], -0.2, 1e-12);
    assert_near(s->wallet[POS_X], 3000.0 - 400.0, 1e-9);
    assert_near(s->qty[POS_Z], -0.4, 0.0);
    assert_near(s->wallet[POS_Z], 20000.0, 0.0);
    assert_int_equal(l->adl_fills, 2);
    assert_near(l->adl_notional, 1.0 * 92000.0, 1e-6);   /* all fills at b = 92,000 */

    /* (3) */
    r = liquidate(s, 5, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.deficit, 23000.0, 1e-9);
    assert_near(r.fund_paid, 0.0, 0.0);
    assert_near(r.adl_covered, 6900.0, 1e-9);
    assert_near(r.socialized, 16100.0, 1e-9);
    assert_near(s->qty[POS_X], 0.0, 0.0);
    assert_near(s->wallet[POS_X], 2600.0 - 1900.0, 1e-9);
    assert_near(s->qty[POS_Z], 0.0, 0.0);
    assert_near(s->wallet[POS_Z], 20000.0 + 4200.0, 1e-9);
    assert_int_equal(l->adl_fills, 4);
    assert_near(l->adl_notional, 92000.0 + 0.6 * 99500.0, 1e-6);

    /* Totals: 2,000 + 7,000 + 23,000 = 5,000 (fund) + 10,900 (ADL) + 16,100 (socialized). */
    assert_near(l->deficits, 32000.0, 1e-9);
    assert_near(l->fund_paid, 5000.0, 1e-9);
    assert_near(l->adl_covered, 10900.0, 1e-9);
    assert_near(l->socialized, 16100.0, 1e-9);
    assert_int_equal(l->events, 3);
    assert_near(l->liquidated_notional, 4 * 88000.0, 1e-6);
    /* Non-candidates untouched. */
    for (size_t j = 6; j <= 8; j++) {
        assert_near(s->qty[j], b->qty[j], 0.0);
        assert_near(s->wallet[j], 5000.0, 0.0);
    }

    /* Reset: the book as loaded and a fresh ledger. */
    xm_margin_state_reset(s);
    assert_memory_equal(s->wallet, b->wallet, b->n_accounts * sizeof(double));
    assert_memory_equal(s->qty, b->qty, b->n_positions * sizeof(double));
    assert_memory_equal(s->margin, b->margin, b->n_positions * sizeof(double));
    assert_near(l->fund, 5000.0, 0.0);
    assert_near(l->fund_start, 5000.0, 0.0);
    assert_near(l->fund_min, 5000.0, 0.0);
    assert_true(l->fees == 0.0 && l->surpluses == 0.0 && l->deficits == 0.0);
    assert_true(l->fund_paid == 0.0 && l->adl_covered == 0.0 && l->socialized == 0.0);
    assert_true(l->liquidated_notional == 0.0 && l->adl_notional == 0.0);
    assert_int_equal(l->events, 0);
    assert_int_equal(l->adl_fills, 0);
    /* And the same path again gives the same ledger. */
    r = liquidate(s, 3, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(l->fund, 3000.0, 1e-9);

    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* The same three counterparties under each ranking. Fund 0; B (W 5,000, long 1 @ 100k)
 * closed at 88,000: R = 7,000, b = 95,000, capacity 1 BTC of the 1.6 offered. The first in
 * rank closes in full, the second the rest of the capacity:
 *  binance Y 0.8, X 0.2; bybit Y 0.8, Z 0.2; hyperliquid X 0.4, Y 0.6; none: all socialized.
 * Realized per BTC at 95,000: X 90,000 - 95,000 = -5,000; Y 10,000; Z 15,000. */
static void test_adl_rankings(void **state)
{
    (void)state;
    static const struct {
        xm_adl_ranking adl;
        double closed[3];   /* X, Y, Z */
    } cases[] = {
        {XM_ADL_BINANCE, {0.2, 0.8, 0.0}},
        {XM_ADL_BYBIT, {0.0, 0.8, 0.2}},
        {XM_ADL_HYPERLIQUID, {0.4, 0.6, 0.0}},
        {XM_ADL_NONE, {0.0, 0.0, 0.0}},
    };
    const double size[3] = {0.4, 0.8, 0.4}, wallet[3] = {3000.0, 8000.0, 20000.0};
    const double per_btc[3] = {-5000.0, 10000.0, 15000.0};
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    add_counterparties(b);
    account(b, "B", XM_CROSS, 5000.0);
    position(b, BTC, 1.0, 100000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {89000.0, 3000.0}, exec[2] = {88000.0, 3000.0};
    for (size_t c = 0; c < N_OF(cases); c++) {
        v.adl = cases[c].adl;
        xm_margin_state_reset(s);
        xm_liq_result r = liquidate(s, 3, XM_UNIT_ACCOUNT, marks, exec);
        int none = cases[c].adl == XM_ADL_NONE;
        assert_near(r.deficit, 7000.0, 1e-9);
        assert_near(r.adl_covered, none ? 0.0 : 7000.0, 1e-9);
        assert_near(r.socialized, none ? 7000.0 : 0.0, 1e-9);
        assert_int_equal(s->ledger.adl_fills, none ? 0 : 2);
        assert_near(s->ledger.adl_notional, none ? 0.0 : 95000.0, 1e-6);
        for (size_t k = 0; k < 3; k++) {
            assert_near(s->qty[k], -(size[k] - cases[c].closed[k]), 1e-12);
            assert_near(s->wallet[k], wallet[k] + cases[c].closed[k] * per_btc[k], 1e-9);
        }
    }
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Bankrupt: W 1,000, long 0.5 BTC @ 100k, closed at 88,000 (mark 89,000): W = -5,000, fund 0,
 * R = 5,000, b = 88,000 + 5,000/0.5 = 98,000; capacity 0.5: the first in rank takes it all. */
static xm_accounts *book_with_small_bankrupt(void)
{
    xm_accounts *b = book_new();
    account(b, "bankrupt", XM_CROSS, 1000.0);
    position(b, BTC, 0.5, 100000.0, 0.0);
    return b;
}

/* Hyperliquid's mark/entry factor decides: A short 0.5 @ 95,000, W 7,000 (E 10,000) and
 * B short 0.5 @ 110,000, W 500 (E 11,000). Score (e/m)(|q|m/E) = |q|e/E: A 4.75, B 5.0 -> B
 * closes (realizes 0.5 (110,000 - 98,000) = 6,000); without the factor A (4.45) would beat
 * B (4.045). */
static void test_adl_hyperliquid_entry_factor(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    v.adl = XM_ADL_HYPERLIQUID;
    xm_accounts *b = book_with_small_bankrupt();
    account(b, "A", XM_CROSS, 7000.0);
    position(b, BTC, -0.5, 95000.0, 0.0);
    account(b, "B", XM_CROSS, 500.0);
    position(b, BTC, -0.5, 110000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {89000.0, 3000.0}, exec[2] = {88000.0, 3000.0};
    xm_liq_result r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.adl_covered, 5000.0, 1e-9);
    assert_near(s->qty[1], -0.5, 0.0);
    assert_near(s->qty[2], 0.0, 0.0);
    assert_near(s->wallet[2], 500.0 + 6000.0, 1e-9);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* Equal scores rank by lower position index: of five identical shorts (0.5 @ 95,000,
 * W 7,000), only the first closes (realizes 0.5 (95,000 - 98,000) = -1,500). */
static void test_adl_ties_by_position_index(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_with_small_bankrupt();
    const char *ids[5] = {"T1", "T2", "T3", "T4", "T5"};
    for (size_t k = 0; k < 5; k++) {
        account(b, ids[k], XM_CROSS, 7000.0);
        position(b, BTC, -0.5, 95000.0, 0.0);
    }
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {89000.0, 3000.0}, exec[2] = {88000.0, 3000.0};
    xm_liq_result r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.adl_covered, 5000.0, 1e-9);
    assert_near(s->qty[1], 0.0, 0.0);
    assert_near(s->wallet[1], 7000.0 - 1500.0, 1e-9);
    for (size_t j = 2; j <= 5; j++) {
        assert_near(s->qty[j], -0.5, 0.0);
        assert_near(s->wallet[j], 7000.0, 0.0);
    }
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* ADL never uses the bankrupt account (here its other isolated position, a profitable short)
 * nor positions on the bankrupt's side; a bankrupt short's bankruptcy price is below p.
 * Fund 0, marks 89,000, exec 88,000 (longs) / 90,000 (short):
 *  iso long 1 @ 100k, M 2,000 -> M = -10,000; b = 98,000; its own short is skipped, L (a long)
 *    is skipped, Z closes 0.2 (realizes 0.2 (110,000 - 98,000) = 2,400), covers 2,000;
 *    socialized 8,000.
 *  S short 1 @ 80k, M 3,000 -> closed at 90,000: M = -7,000; b = 90,000 - 7,000 = 83,000;
 *    L (long 0.5 @ 80k) closes 0.5 (realizes 0.5 (83,000 - 80,000) = 1,500), covers 3,500;
 *    socialized 3,500. */
static void test_adl_excludes_bankrupt_account_and_same_side(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    account(b, "iso", XM_ISOLATED, 0.0);   /* positions 0, 1 */
    position(b, BTC, 1.0, 100000.0, 2000.0);
    position(b, BTC, -0.5, 100000.0, 5000.0);
    account(b, "Z", XM_CROSS, 10000.0);    /* position 2 */
    position(b, BTC, -0.2, 110000.0, 0.0);
    account(b, "L", XM_CROSS, 5000.0);     /* position 3 */
    position(b, BTC, 0.5, 80000.0, 0.0);
    account(b, "S", XM_ISOLATED, 0.0);     /* position 4 */
    position(b, BTC, -1.0, 80000.0, 3000.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {89000.0, 3000.0}, exec[2] = {88000.0, 3000.0};

    xm_liq_result r = liquidate(s, 0, 0, marks, exec);
    assert_near(r.deficit, 10000.0, 1e-9);
    assert_near(r.adl_covered, 2000.0, 1e-9);
    assert_near(r.socialized, 8000.0, 1e-9);
    assert_near(s->qty[1], -0.5, 0.0);
    assert_near(s->margin[1], 5000.0, 0.0);
    assert_near(s->qty[2], 0.0, 0.0);
    assert_near(s->wallet[1], 12400.0, 1e-9);
    assert_near(s->qty[3], 0.5, 0.0);

    exec[BTC] = 90000.0;
    r = liquidate(s, 3, 4, marks, exec);
    assert_near(r.deficit, 7000.0, 1e-9);
    assert_near(r.adl_covered, 3500.0, 1e-9);
    assert_near(r.socialized, 3500.0, 1e-9);
    assert_near(s->qty[3], 0.0, 0.0);
    assert_near(s->wallet[2], 5000.0 + 1500.0, 1e-9);
    assert_near(s->ledger.adl_notional, 0.2 * 98000.0 + 0.5 * 83000.0, 1e-6);
    assert_near(s->ledger.socialized, 11500.0, 1e-9);
    assert_near(s->qty[1], -0.5, 0.0);   /* still untouched */
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* A cross bankrupt in two assets: R is split by closed notional, and each asset is
 * deleveraged on its own (a.5/b: Hyperliquid's Oct-2025 ADL was strictly per asset).
 * W 6,000, long 1 BTC @ 100k and 10 ETH @ 3,000, closed at 88,000 / 2,600:
 * W = 6,000 - 12,000 - 4,000 = -10,000, fund 0, R = 10,000; N = 88,000 + 26,000.
 * BTC: R_b = R 88/114, b = 88,000 + R_b; only Y (0.8 of the 1 BTC capacity) -> covers 0.8 R_b,
 *      0.2 R_b socialized. ETH: R_e = R 26/114, b = 2,600 + R_e/10; Q (short 20 @ 3,000)
 *      closes 10 and covers R_e. */
static void test_adl_splits_by_asset_notional(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    account(b, "M", XM_CROSS, 6000.0);
    position(b, BTC, 1.0, 100000.0, 0.0);
    position(b, ETH, 10.0, 3000.0, 0.0);
    account(b, "Y", XM_CROSS, 8000.0);
    position(b, BTC, -0.8, 110000.0, 0.0);
    account(b, "Q", XM_CROSS, 10000.0);
    position(b, ETH, -20.0, 3000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {89000.0, 2700.0}, exec[2] = {88000.0, 2600.0};
    double rb = 10000.0 * 88000.0 / 114000.0, re = 10000.0 * 26000.0 / 114000.0;

    xm_liq_result r = liquidate(s, 0, XM_UNIT_ACCOUNT, marks, exec);
    assert_near(r.deficit, 10000.0, 1e-9);
    assert_near(r.adl_covered, 0.8 * rb + re, 1e-9);
    assert_near(r.socialized, 0.2 * rb, 1e-9);
    assert_near(s->qty[2], 0.0, 0.0);
    assert_near(s->wallet[1], 8000.0 + 0.8 * (110000.0 - (88000.0 + rb)), 1e-9);
    assert_near(s->qty[3], -10.0, 1e-12);
    assert_near(s->wallet[2], 10000.0 + 10.0 * (3000.0 - (2600.0 + re / 10.0)), 1e-9);
    assert_int_equal(s->ledger.adl_fills, 2);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* A close larger than the position (ADL shrank it after the plan) only closes what is open;
 * one within 1e-12 relative of it leaves the position exactly flat; a NULL result is
 * accepted; an empty book gives a state. */
static void test_settle_clamps_and_edges(void **state)
{
    (void)state;
    xm_venue v;
    venue_new(&v, 100.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    xm_accounts *b = book_new();
    account(b, "c", XM_CROSS, 20000.0);
    position(b, BTC, 1.0, 100000.0, 0.0);
    xm_margin_state *s = state_new(b, &v);
    double marks[2] = {90000.0, 3000.0}, close[1] = {-1.5};
    xm_liq_settle(s, 0, XM_UNIT_ACCOUNT, close, marks, marks, NULL);
    check_identities(&s->ledger);
    assert_near(s->qty[0], 0.0, 0.0);
    assert_near(s->ledger.liquidated_notional, 90000.0, 0.0);
    /* 20,000 - 10,000 = 10,000 left, fee 1.25% of 90,000 = 1,125. */
    assert_near(s->wallet[0], 10000.0 - 1125.0, 1e-9);
    /* Nothing open: a settle with no order changes nothing and is no event. */
    xm_liq_settle(s, 0, XM_UNIT_ACCOUNT, close, marks, marks, NULL);
    assert_int_equal(s->ledger.events, 1);
    xm_margin_state_free(s);
    xm_accounts_free(b);

    b = book_new();
    account(b, "dust", XM_CROSS, 20000.0);
    position(b, BTC, 2.0, 100000.0, 0.0);
    s = state_new(b, &v);
    close[0] = -(2.0 - 1e-13);
    xm_liq_result r;
    xm_liq_settle(s, 0, XM_UNIT_ACCOUNT, close, marks, marks, &r);
    assert_true(s->qty[0] == 0.0);
    assert_int_equal(r.closed_all, 1);
    xm_margin_state_free(s);
    xm_accounts_free(b);

    xm_accounts *empty = book_new();
    xm_error err;
    s = xm_margin_state_alloc(empty, &v, &err);
    assert_non_null(s);
    assert_near(s->ledger.fund, 100.0, 0.0);
    xm_margin_state_free(s);
    xm_margin_state_free(NULL);
    xm_accounts_free(empty);
    xm_venue_clear(&v);
}

/* ---------------------------------------------------------------------------------------- */
/* ADL candidate index, fill log, partial restore                                           */

static uint64_t rng_state = 20261125;

static double unif(void)   /* splitmix64 -> [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

/* docs/margin.md's Binance score, computed here from its definition. */
static double binance_score(const xm_margin_state *s, size_t j, const double *marks)
{
    const xm_accounts *b = s->book;
    size_t a = b->owner[j];
    int cross = b->mode[a] == XM_CROSS;
    xm_health h = xm_margin_health(s, a, cross ? XM_UNIT_ACCOUNT : (long)j, marks);
    double upnl = s->qty[j] * (marks[b->asset[j]] - b->entry[j]);
    double w = cross ? s->wallet[a] : s->margin[j];
    return fmax(0.0, upnl) / fmax(1.0, w) * (h.equity > 0.0 ? h.mm / h.equity : 0.0);
}

/* docs/margin.md's score of venue->adl (Binance above; Bybit, Hyperliquid), from its
 * definition. */
static double doc_score(const xm_margin_state *s, size_t j, const double *marks)
{
    const xm_accounts *b = s->book;
    size_t a = b->owner[j];
    double q = s->qty[j], e = b->entry[j], m = marks[b->asset[j]];
    long unit = b->mode[a] == XM_CROSS ? XM_UNIT_ACCOUNT : (long)j;
    double eq = fmax(xm_margin_health(s, a, unit, marks).equity, 1e-12);
    if (s->venue->adl == XM_ADL_BYBIT) {
        double pct = (q > 0.0 ? 1.0 : -1.0) * (m - e) / e, lev = fabs(q) * m / eq;
        return pct > 0.0 ? pct * lev : pct / lev;
    }
    if (s->venue->adl == XM_ADL_HYPERLIQUID)
        return (q > 0.0 ? m / e : e / m) * fabs(q) * m / eq;
    return binance_score(s, j, marks);
}

/* The ranking by a scan of the book: positions of asset i on side `sign`, in profit, outside
 * `account`, by score descending then position index. Returns how many. */
static size_t scan_ranking(const xm_margin_state *s, size_t account, size_t i, double sign,
                           const double *marks, uint32_t *out, double *score)
{
    const xm_accounts *b = s->book;
    size_t n = 0;
    for (size_t j = 0; j < b->n_positions; j++) {
        double q = s->qty[j];
        if (b->asset[j] != i || b->owner[j] == account || q * sign <= 0.0 ||
            !(q * (marks[i] - b->entry[j]) > 0.0))
            continue;
        score[j] = doc_score(s, j, marks);
        size_t k = n++;
        for (; k > 0 && (score[out[k - 1]] < score[j] ||
                         (score[out[k - 1]] == score[j] && out[k - 1] > j)); k--)
            out[k] = out[k - 1];
        out[k] = (uint32_t)j;
    }
    return n;
}

/* 400 random accounts (cross and isolated, long and short BTC and ETH, entries scattered
 * around the marks with many exact ties, some flat), then two bankrupts, each large enough
 * for ADL to close every candidate in full: the fill log must list exactly the scan's
 * candidates in the scan's ranking (the index visits only the positions in profit, in
 * another order), with their quantities before the fill. Then restoring the accounts the two
 * settlements touched gives back a reset state. */
static void test_adl_index_matches_scan(void **state)
{
    (void)state;
    enum { N_ACC = 400 };
    xm_venue v;
    venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat, N_OF(eth_flat));
    v.fee_rate = 0.0;
    const double marks[2] = {89000.0, 3000.0};
    xm_accounts *b = book_new();
    char id[16];
    for (int a = 0; a < N_ACC; a++) {
        int iso = unif() < 0.3;
        snprintf(id, sizeof id, "r%03d", a);
        account(b, id, iso ? XM_ISOLATED : XM_CROSS, iso ? 0.0 : 2000.0 + 50000.0 * unif());
        for (int k = 1 + (unif() < 0.4); k > 0; k--) {
            uint16_t i = unif() < 0.5 ? BTC : ETH;
            double e = marks[i] * exp(0.1 * (unif() - 0.5));
            e = unif() < 0.3 ? round(e / (marks[i] / 100.0)) * (marks[i] / 100.0) : e;
            double q = (unif() < 0.5 ? 1.0 : -1.0) * (1000.0 + 20000.0 * unif()) / e;
            position(b, i, q, e, iso ? 1000.0 + 5000.0 * unif() : 0.0);
        }
    }
    double short_btc = 0.0, long_eth = 0.0;
    for (size_t j = 0; j < b->n_positions; j++) {
        short_btc += b->asset[j] == BTC && b->qty[j] < 0.0 ? -b->qty[j] : 0.0;
        long_eth += b->asset[j] == ETH && b->qty[j] > 0.0 ? b->qty[j] : 0.0;
    }
    account(b, "bankrupt-long", XM_CROSS, 1000.0);    /* sells BTC far below its entry */
    position(b, BTC, short_btc + 1.0, 120000.0, 0.0);
    account(b, "bankrupt-short", XM_CROSS, 1000.0);   /* buys ETH far above its entry */
    position(b, ETH, -(long_eth + 100.0), 2000.0, 0.0);
    xm_error err;
    xm_margin_state *s = xm_margin_state_alloc(b, &v, &err);
    double *close = calloc(b->n_positions, sizeof *close);
    uint32_t *want = calloc(b->n_positions, sizeof *want);
    double *score = calloc(b->n_positions, sizeof *score);
    assert_true(s && close && want && score);
    const double exec[2] = {88000.0, 3100.0};
    const struct { size_t account; size_t asset; double side; } bk[2] = {
        {N_ACC, BTC, -1.0}, {N_ACC + 1, ETH, 1.0}};
    for (int k = 0; k < 2; k++) {
        size_t n = scan_ranking(s, bk[k].account, bk[k].asset, bk[k].side, marks, want, score);
        double *before = calloc(n ? n : 1, sizeof *before);
        for (size_t c = 0; c < n; c++)
            before[c] = s->qty[want[c]];
        assert_true(xm_liq_plan(s, bk[k].account, XM_UNIT_ACCOUNT, marks, close) == 1);
        xm_liq_settle(s, bk[k].account, XM_UNIT_ACCOUNT, close, exec, marks, NULL);
        check_identities(&s->ledger);
        print_message("bankrupt %d: %zu candidates in profit, %zu filled\n", k, n, s->n_adl);
        assert_true(n > 20);
        assert_int_equal(s->n_adl, n);
        assert_memory_equal(s->adl_pos, want, n * sizeof *want);
        assert_memory_equal(s->adl_qty_before, before, n * sizeof *before);
        for (size_t c = 0; c < n; c++)
            assert_true(s->qty[want[c]] == 0.0);
        free(before);
    }
    /* Restore what the settlements touched: the bankrupts and every ADL counterparty. */
    for (size_t j = 0; j < b->n_positions; j++)
        if (s->qty[j] != b->qty[j] || s->margin[j] != b->margin[j])
            xm_margin_state_restore(s, b->owner[j]);
    for (size_t a = 0; a < b->n_accounts; a++)
        if (s->wallet[a] != b->wallet[a])
            xm_margin_state_restore(s, a);
    xm_margin_state_reset_ledger(s);
    xm_margin_state *fresh = xm_margin_state_alloc(b, &v, &err);
    assert_non_null(fresh);
    assert_memory_equal(s->wallet, fresh->wallet, b->n_accounts * sizeof *s->wallet);
    assert_memory_equal(s->qty, fresh->qty, b->n_positions * sizeof *s->qty);
    assert_memory_equal(s->margin, fresh->margin, b->n_positions * sizeof *s->margin);
    assert_memory_equal(&s->ledger, &fresh->ledger, sizeof s->ledger);
    assert_int_equal(s->n_adl, 0);
    xm_margin_state_free(fresh);
    free(close);
    free(want);
    free(score);
    xm_margin_state_free(s);
    xm_accounts_free(b);
    xm_venue_clear(&v);
}

/* A random book for test_adl_rank_matches_rescore: n_acc accounts in runs of 1-3 identical
 * ones (equal scores, so ties go to the lower index), cross and isolated, long and short BTC
 * and ETH with entries within 10% of the marks (many exact ties), some hedged; then n_bk
 * bankrupts, each one losing position 30% under water: cross with a small wallet, or
 * isolated beside a small opposite position of the same account in profit (which ADL must
 * skip). Returns the book; bk[k] is bankrupt k's account. */
static xm_accounts *random_adl_book(int n_acc, int n_bk, const double *marks, size_t *bk)
{
    xm_accounts *b = book_new();
    char id[24];
    for (int a = 0; a < n_acc;) {
        int iso = unif() < 0.3, copies = 1 + (int)(3.0 * unif()), npos = 1 + (unif() < 0.4);
        double w = 2000.0 + 50000.0 * unif(), spec[2][4];
        for (int k = 0; k < npos; k++) {
            uint16_t i = unif() < 0.5 ? BTC : ETH;
            double e = marks[i] * exp(0.1 * (unif() - 0.5));
            e = unif() < 0.3 ? round(e / (marks[i] / 100.0)) * (marks[i] / 100.0) : e;
            spec[k][0] = i;
            spec[k][1] = (unif() < 0.5 ? 1.0 : -1.0) * (1000.0 + 20000.0 * unif()) / e;
            spec[k][2] = e;
            spec[k][3] = iso ? 1000.0 + 5000.0 * unif() : 0.0;
        }
        for (int c = 0; c < copies && a < n_acc; c++, a++) {
            snprintf(id, sizeof id, "r%04d", a);
            account(b, id, iso ? XM_ISOLATED : XM_CROSS, iso ? 0.0 : w);
            for (int k = 0; k < npos; k++)
                position(b, (uint16_t)spec[k][0], spec[k][1], spec[k][2], spec[k][3]);
        }
    }
    for (int k = 0; k < n_bk; k++) {
        int iso = k % 3 == 2;
        uint16_t i = k % 2 ? ETH : BTC;
        double side = k % 4 < 2 ? 1.0 : -1.0, e = marks[i] * (1.0 + 0.3 * side);
        double q = side * (20000.0 + 200000.0 * unif()) / e;
        bk[k] = b->n_accounts;
        snprintf(id, sizeof id, "bankrupt%02d", k);
        account(b, id, iso ? XM_ISOLATED : XM_CROSS, iso ? 0.0 : 100.0);
        position(b, i, q, e, iso ? 100.0 : 0.0);
        if (iso)
            position(b, i, -0.01 * q, marks[i] * (1.0 + 0.05 * side), 1000.0);
    }
    return b;
}

/* Liquidate bankrupt account a (its first position's unit) at marks, selling (buying) 0.5%
 * under (over) the mark: the fill log must be the prefix of the ranking a full re-score of
 * the book gives at that moment (scan_ranking, the scores' definitions), with the quantities
 * before each fill. Returns the number of fills. */
static size_t settle_against_rescore(xm_margin_state *s, size_t a, const double *marks,
                                     uint32_t *want, double *score)
{
    const xm_accounts *b = s->book;
    size_t j0 = b->first[a], i = b->asset[j0];
    long unit = b->mode[a] == XM_CROSS ? XM_UNIT_ACCOUNT : (long)j0;
    double side = b->qty[j0] > 0.0 ? 1.0 : -1.0, exec[2] = {marks[0], marks[1]};
    exec[i] *= 1.0 - 0.005 * side;
    size_t n = scan_ranking(s, a, i, -side, marks, want, score);
    double *before = calloc(n ? n : 1, sizeof *before);
    double *close = calloc(b->n_positions, sizeof *close);
    assert_true(before && close);
    for (size_t c = 0; c < n; c++)
        before[c] = s->qty[want[c]];
    assert_true(xm_liq_plan(s, a, unit, marks, close) >= 1);
    xm_liq_settle(s, a, unit, close, exec, marks, NULL);
    check_identities(&s->ledger);
    assert_true(s->n_adl <= n);
    assert_memory_equal(s->adl_pos, want, s->n_adl * sizeof *want);
    assert_memory_equal(s->adl_qty_before, before, s->n_adl * sizeof *before);
    free(before);
    free(close);
    return s->n_adl;
}

/* The kept ranking (src/margin/adl.c: heaps kept across settlements at the same marks,
 * re-scoring only touched units) against a full re-score before every settlement, for the
 * three rankings, on random books with ties: 40 bankrupts in rounds at marks A, B, A again
 * and C (a new epoch each time), partly covered deficits (partial fills leave positions in
 * the heaps), an account restored in the middle (the rank must notice). */
static void test_adl_rank_matches_rescore(void **state)
{
    (void)state;
    enum { N_ACC = 600, N_BK = 40 };
    const xm_adl_ranking rankings[3] = {XM_ADL_BINANCE, XM_ADL_BYBIT, XM_ADL_HYPERLIQUID};
    const double base[2] = {89000.0, 3000.0};
    const double round_marks[4][2] = {
        {89000.0, 3000.0}, {88123.5, 3011.25}, {89000.0, 3000.0}, {89700.0, 2990.5}};
    for (int r = 0; r < 3; r++) {
        xm_venue v;
        venue_new(&v, 0.0, btc_binance_aug2025, N_OF(btc_binance_aug2025), eth_flat,
                  N_OF(eth_flat));
        v.fee_rate = 0.0;
        v.adl = rankings[r];
        size_t bk[N_BK], fills = 0, partial = 0;
        xm_accounts *b = random_adl_book(N_ACC, N_BK, base, bk);
        xm_error err;
        xm_margin_state *s = xm_margin_state_alloc(b, &v, &err);
        uint32_t *want = calloc(b->n_positions, sizeof *want);
        double *score = calloc(b->n_positions, sizeof *score);
        assert_true(s && want && score);
        for (int k = 0; k < N_BK; k++) {
            const double *marks = round_marks[k * 4 / N_BK];
            if (k == N_BK / 2 && s->n_adl > 0)   /* undo the last fills' first counterparty */
                xm_margin_state_restore(s, b->owner[s->adl_pos[0]]);
            size_t nf = settle_against_rescore(s, bk[k], marks, want, score);
            fills += nf;
            partial += nf > 0 && s->qty[s->adl_pos[nf - 1]] != 0.0;
        }
        print_message("ranking %d: %zu fills, %zu walks ending in a partial fill\n", r, fills,
                      partial);
        assert_true(fills > 200 && partial > 5);
        free(want);
        free(score);
        xm_margin_state_free(s);
        xm_accounts_free(b);
        xm_venue_clear(&v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_binance_published_examples),
        cmocka_unit_test(test_health_binance_derived_vectors),
        cmocka_unit_test(test_health_hyperliquid_vector),
        cmocka_unit_test(test_isolated_loss_never_leaks),
        cmocka_unit_test(test_cross_fee_and_remaining_equity),
        cmocka_unit_test(test_partial_steps_then_backstop),
        cmocka_unit_test(test_partial_small_positions_close_in_full),
        cmocka_unit_test(test_partial_negative_equity_waits_for_backstop),
        cmocka_unit_test(test_bankruptcy_chain),
        cmocka_unit_test(test_adl_rankings),
        cmocka_unit_test(test_adl_hyperliquid_entry_factor),
        cmocka_unit_test(test_adl_ties_by_position_index),
        cmocka_unit_test(test_adl_excludes_bankrupt_account_and_same_side),
        cmocka_unit_test(test_adl_splits_by_asset_notional),
        cmocka_unit_test(test_settle_clamps_and_edges),
        cmocka_unit_test(test_adl_index_matches_scan),
        cmocka_unit_test(test_adl_rank_matches_rescore),
    };
    return xm_run_tests(tests, NULL, NULL);
}
