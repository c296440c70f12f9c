/* test_cascade.c — the cascade engine (src/cascade/cascade.c) and the run driver (src/cascade/cascade_run.c):
 * a cascade hand-computed round by round, impact on/off, the bundled cross-vs-isolated and
 * stress models, determinism across threads, the fast path against the naive one, and the
 * money identities of every path.
 *
 * Known answers say where they come from: a hand computation (the table next to the test),
 * a property of model.md §5, or the Wilson interval of a measured probability. */
#include "xm_test.h"

#include <math.h>
#include <signal.h>
#include <sys/time.h>

#include "xmrisk/cascade.h"
#include "xmrisk/model.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/estimators.h"

#include "cascade/recheck.h"   /* the fast path's index (internal) */

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                  */

/* |a - b| <= 1e-9 |b| (1e-9 absolute when b == 0). */
#define assert_rel(a, b) assert_near((a), (b), (b) == 0.0 ? 1e-9 : 1e-9 * fabs(b))

static xm_model *load(const char *path)
{
    xm_error err;
    xm_model *m = xm_model_load(path, &err);
    if (m == NULL)
        fail_msg("%s: %s", path, err.msg);
    return m;
}

/* A bundled model with one piece of its text replaced (it must occur exactly once), e.g. a
 * smaller population: the test fails loudly if the bundled file no longer has the text. */
static xm_model *load_edited(const char *path, const char *from, const char *to)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot read %s", path);
    static char text[1 << 16], out[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    assert_true(n < sizeof text - 1);
    text[n] = '\0';
    char *at = strstr(text, from);
    if (at == NULL || strstr(at + 1, from) != NULL)
        fail_msg("%s: expected the text \"%s\" exactly once", path, from);
    size_t head = (size_t)(at - text), nf = strlen(from), nt = strlen(to);
    assert_true(n - nf + nt < sizeof out);
    memcpy(out, text, head);
    memcpy(out + head, to, nt);
    memcpy(out + head + nt, at + nf, n - head - nf + 1);
    xm_error err;
    xm_model *m = xm_model_load_string(out, strlen(out), path, &err);
    if (m == NULL)
        fail_msg("%s (edited): %s", path, err.msg);
    return m;
}

#define POP_LINE "\n  accounts: 20000\n"   /* the population size in default/stress.yaml */

static xm_run_result *run(const xm_model *m, uint64_t paths, int threads, int naive)
{
    xm_run_opts o = {.paths = paths, .seed = m->seed, .threads = threads};
    xm_run_result *r = NULL;
    xm_error err;
    xm_status s = xm_run_cascades(m, &o, naive, &r, &err);
    if (s != XM_OK)
        fail_msg("xm_run_cascades: %s", err.msg);
    assert_int_equal(r->paths_done, paths);
    return r;
}

static size_t account_index(const xm_model *m, const char *id)
{
    for (size_t a = 0; a < m->book->n_accounts; a++)
        if (strcmp(xm_accounts_id(m->book, a), id) == 0)
            return a;
    fail_msg("no account %s", id);
    return 0;
}

typedef struct {
    double notional, largest, rounds, bad_debt;
} run_means;

static run_means means(const xm_run_result *r)
{
    run_means s = {0};
    for (uint64_t p = 0; p < r->paths_done; p++) {
        s.notional += r->pm[p].liquidated_notional;
        s.largest += r->pm[p].largest_cascade_usd;
        s.rounds += r->pm[p].cascade_rounds_max;
        s.bad_debt += r->pm[p].bad_debt_usd;
    }
    double n = (double)r->paths_done;
    s.notional /= n;
    s.largest /= n;
    s.rounds /= n;
    s.bad_debt /= n;
    return s;
}

/* Byte-identical results (model.md §2: model, seed and path count only). */
static void assert_same_result(const xm_run_result *a, const xm_run_result *b)
{
    assert_int_equal(a->paths_done, b->paths_done);
    assert_int_equal(a->n_assets, b->n_assets);
    size_t cells = a->paths_done * a->n_assets;
    assert_memory_equal(a->pm, b->pm, a->paths_done * sizeof *a->pm);
    assert_memory_equal(a->min_ratio, b->min_ratio, cells * sizeof(double));
    assert_memory_equal(a->impact_at_min, b->impact_at_min, cells * sizeof(double));
    const xm_cascade_acc *x = a->acc, *y = b->acc;
    assert_int_equal(x->n_accounts, y->n_accounts);
    assert_memory_equal(x->liq_paths, y->liq_paths, x->n_accounts * sizeof *x->liq_paths);
    assert_memory_equal(x->first_step_sum, y->first_step_sum,
                        x->n_accounts * sizeof *x->first_step_sum);
    assert_memory_equal(x->loss_micro, y->loss_micro, x->n_accounts * sizeof *x->loss_micro);
    assert_memory_equal(x->cascade_hist, y->cascade_hist, sizeof x->cascade_hist);
    assert_int_equal(x->cascades, y->cascades);
}

/* ---------------------------------------------------------------------------------------- */
/* 1. A cascade computed by hand                                                            */

/* tests/data/cascade/known.yaml: one asset X, S0 = 100, bachelier with vol 0 and drift
 * -18.25 over 2 steps of 1 day: S += mu S0 tau = -18.25 * 100 / 365 = -5 exactly each step
 * (model.md §2), so S1 = 95, S2 = 90 on every path. Tier: mmr 2% (one tier). Linear impact
 * dI = 0.01 X / 2000, half-life 1440 min = dt (factor 2^-1 between steps). Fee 0.5%, fund 1,
 * full mode, ADL binance. Accounts, all entries 100: A cross W 65 long 10; B cross W 150
 * long 20; C cross W 820 long 100; D cross W 50 short 3; E cross W 290 long 20; F isolated
 * M 57 long 10. A long with w = W/q is liquidatable at m <= (100 - w)/0.98 (E = W + q(m-100)
 * <= 0.02 q m): A 95.41, F 96.22, B 94.39, C 93.67, E 87.24.
 *
 * Step 1: S = 95, I = 0, m = 95.
 *  r | m (round)          | falls | X = Q m            | dI = 0.01 X / 2000   | p = m e^{dI/2}
 *  1 | 95                 | A, F  | -20 * 95 = -1900   | -0.0095              | 94.54982002387513
 *  2 | 94.10177333207554  | B     | -1882.0354666415108| -0.009410177333207554| 93.66005611907899
 *  3 | 93.22041234305763  | C     | -9322.041234305763 | -0.04661020617152881 | 91.0730208057389
 *  4 | 88.97509579939387  | none (E: m* 87.24 < m; D short, flat after ADL)
 *  Settlement (realized q (p - 100), fee min(0.005 N, max(0, E)), N = |q| p):
 *  unit | E(m) / MM(m)   | realized            | N                  | fee          | left
 *  A    | 15 / 19        | -54.50179976124872  | 945.4982002387512  | 4.7274910012 | 5.7707092376
 *  F    | 7 / 19         | -54.50179976124872  | 945.4982002387512  | 2.4982002388 | 0 (fee capped)
 *  B    | 32.04 / 37.64  | -126.79887761842025 | 1873.2011223815798 | 9.3660056119 | 13.835116770
 *  C    | 142.04 / 186.44| -892.6979194261094  | 9107.30208057389   | 0            | -72.697919426
 *  Fund: 1 + 4.7275 + 2.4982 + 9.3660 = 17.591696851852937 before C. C's deficit
 *  72.69791942610937: the fund pays 17.591696851852937 (fund -> 0 = fund_min); ADL takes the
 *  rest R = 55.10622257425643 from D (short 3, uPnL 3 (100 - 93.22) > 0 at m): bankruptcy price
 *  b = p + R/100 = 91.62408303148148, x = min(3, 100, R/(R/100)) = 3, covered 3 R/100 =
 *  1.6531866772276929, adl notional 3 b = 274.87224909444444; socialized 53.453035897028734.
 *  Step notional 12871.499603432972 (the largest cascade), I = -0.06552038350473637.
 * Step 2: S = 90, I = -0.06552038350473637 / 2 = -0.03276019175236818, m = 87.0993550024514
 *  (decayed impact: without it m would be 84.29). E falls in round 1: X = -1741.987100049028,
 *  dI = -0.008709935500245139, p = 86.72086487470467, realized -265.5827025059065,
 *  N = 1734.4172974940934, fee 8.672086487470468, left 15.745211006623007; end I =
 *  -0.04147012725261332, mark 86.34401947528914 (the path's lowest: min_ratio 0.86344...).
 * Path: events 5 (A, F, B, C, E), accounts 5, notional 14605.916900927066, largest
 *  12871.499603432972, rounds 3, bad debt 72.69791942610937, fund paid 17.591696851852937,
 *  fund_min 0, ADL 274.87224909444444 (1 account), socialized 53.453035897028734, first step 1.
 * Losses (start equity - end equity): A 65 - 5.770709237557525 = 59.229290762442474,
 *  B 150 - 13.835116769671851 = 136.16488323032814, C 820, E 290 - 15.745211006623007 =
 *  274.254788993377, F 57; D (only ADL'd) none. Cascades: 12871.5 -> bin floor(5 log10) = 20,
 *  1734.4 -> bin 16.
 * (Reproduced in double precision by tests/data/cascade/known.py, a step-by-step script of
 * model.md §5 independent of the engine; every entry is asserted to 1e-9 relative.) */
typedef struct {
    double notional, largest, bad_debt, fund_paid, adl_notional, socialized, min_ratio, impact;
    uint32_t rounds, hits;
    uint64_t first_step[6];   /* per account A..F: first step (0: not liquidated) */
    double loss[6];
} known_answer;

static const known_answer known_main = {
    .notional = 14605.916900927066, .largest = 12871.499603432972,
    .bad_debt = 72.69791942610937, .fund_paid = 17.591696851852937,
    .adl_notional = 274.87224909444444, .socialized = 53.453035897028734,
    .min_ratio = 0.8634401947528915, .impact = -0.04147012725261332, .rounds = 3, .hits = 0,
    .first_step = {1, 1, 1, 0, 2, 1},
    .loss = {59.229290762442474, 136.16488323032814, 820.0, 0.0, 274.254788993377, 57.0}};

/* max_rounds 2: C is still liquidatable after round 2 of step 1 (a max-rounds hit) and falls
 * in round 1 of step 2 at m = 90 e^{(-0.0095 - 0.009410177333207554)/2} = 89.15305231240599:
 * X = -8915.3052312406, dI = -0.044576526156203, p = 87.18796615530715, realized
 * -1281.2033844692849, deficit 461.20338446928486; the fund pays 17.591696851852937, D's ADL
 * covers 3 x 4.436116876174319 (b = 91.62408303148148 again: b = 100 - (W + paid)/q), the rest
 * 430.303336988909 is socialized. Its impact drops the mark to 85.26619386693923: E falls in
 * round 2 (p = 84.90345146713405, deficit 11.930970657319051, socialized: the fund is empty
 * and D flat). Step 2 has 2 rounds and nobody left: no hit. */
static const known_answer known_rounds2 = {
    .notional = 14181.063167732478, .largest = 10416.865644873396,
    .bad_debt = 473.1343551266039, .fund_paid = 17.591696851852937,
    .adl_notional = 274.87224909444444, .socialized = 442.23430764622805,
    .min_ratio = 0.8454225225862954, .impact = -0.0625582342095007, .rounds = 2, .hits = 1,
    .first_step = {1, 1, 2, 0, 2, 1},
    .loss = {59.229290762442474, 136.16488323032814, 820.0, 0.0, 290.0, 57.0}};

/* Permanent impact (half-life .inf): step 2's mark is 90 e^{-0.06552038350473637} =
 * 84.2921960204784, E falls there at p = 83.9376848927804 (N = 1678.753697855608) with a
 * deficit of 31.246302144392075, all socialized (fund empty, D flat). */
static const known_answer known_permanent = {
    .notional = 14550.25330128858, .largest = 12871.499603432972,
    .bad_debt = 103.94422157050144, .fund_paid = 17.591696851852937,
    .adl_notional = 274.87224909444444, .socialized = 84.69933804142082,
    .min_ratio = 0.8358466474699524, .impact = -0.07394960310678421, .rounds = 3, .hits = 0,
    .first_step = {1, 1, 1, 0, 2, 1},
    .loss = {59.229290762442474, 136.16488323032814, 820.0, 0.0, 290.0, 57.0}};

static void check_known(const xm_model *m, int naive, const known_answer *k)
{
    xm_error err;
    xm_cascade_ws *w = xm_cascade_ws_alloc(m, naive, &err);
    assert_non_null(w);
    xm_cascade_acc *acc = xm_cascade_acc_alloc(m->book->n_accounts, &err);
    assert_non_null(acc);
    assert_int_equal(m->book->n_accounts, 6);
    /* The path is deterministic: any path index, any seed, the same answer. */
    const uint64_t path_ids[2] = {0, 12345};
    for (int t = 0; t < 2; t++) {
        xm_path_metrics pm;
        double min_ratio[1], impact[1];
        xm_cascade_run_path(w, m->seed + (uint64_t)t, path_ids[t], &pm, min_ratio, impact, acc);
        assert_int_equal(pm.liq_events, 5);
        assert_int_equal(pm.accounts_liquidated, 5);
        assert_rel(pm.liquidated_notional, k->notional);
        assert_rel(pm.largest_cascade_usd, k->largest);
        assert_int_equal(pm.cascade_rounds_max, k->rounds);
        assert_int_equal(pm.max_rounds_hits, k->hits);
        assert_rel(pm.bad_debt_usd, k->bad_debt);
        assert_rel(pm.fund_paid_usd, k->fund_paid);
        assert_true(pm.fund_min_usd == 0.0);   /* the fund paid all it had */
        assert_rel(pm.adl_notional_usd, k->adl_notional);
        assert_int_equal(pm.adl_accounts, 1);
        assert_rel(pm.socialized_usd, k->socialized);
        assert_int_equal(pm.first_liq_step, 1);
        assert_rel(min_ratio[0], k->min_ratio);
        assert_rel(impact[0], k->impact);
    }
    for (size_t a = 0; a < 6; a++) {
        uint64_t hit = k->first_step[a] ? 1 : 0;
        assert_int_equal(acc->liq_paths[a], 2 * hit);
        assert_int_equal(acc->first_step_sum[a], 2 * k->first_step[a]);
        /* loss summed over 2 paths, each rounded to the micro-USD */
        double want = 2.0 * llround(k->loss[a] * 1e6), got = (double)acc->loss_micro[a];
        assert_near(got, want, 2.0);
    }
    assert_int_equal(acc->cascades, 4);
    uint64_t binned = 0;
    for (int b = 0; b < XM_HIST_BINS; b++)
        binned += acc->cascade_hist[b];
    assert_int_equal(binned, 4);
    assert_int_equal(acc->cascade_hist[(int)floor(5.0 * log10(k->largest))], 2);
    xm_cascade_acc_free(acc);
    xm_cascade_ws_free(w);
}

static void test_known_cascade(void **state)
{
    (void)state;
    xm_model *m = load(XM_TEST_DATA_DIR "/cascade/known.yaml");
    for (int naive = 0; naive <= 1; naive++)
        check_known(m, naive, &known_main);
    /* Both cascades' bins: 12871.5 -> 20, 1734.4 -> 16 (5 bins per decade). */
    xm_error err;
    xm_cascade_ws *w = xm_cascade_ws_alloc(m, 0, &err);
    xm_cascade_acc *acc = xm_cascade_acc_alloc(6, &err);
    xm_path_metrics pm;
    double mr[1], im[1];
    xm_cascade_run_path(w, 1, 0, &pm, mr, im, acc);
    assert_int_equal(acc->cascade_hist[20], 1);
    assert_int_equal(acc->cascade_hist[16], 1);
    xm_cascade_acc_free(acc);
    xm_cascade_ws_free(w);

    m->venue.max_rounds = 2;
    for (int naive = 0; naive <= 1; naive++)
        check_known(m, naive, &known_rounds2);
    m->venue.max_rounds = 50;
    m->market.assets[0].impact.half_life_minutes = INFINITY;
    for (int naive = 0; naive <= 1; naive++)
        check_known(m, naive, &known_permanent);
    xm_model_free(m);
}

/* ---------------------------------------------------------------------------------------- */
/* 2-3. Impact off and on                                                                   */

/* model.md §5: without impact the marks do not move between rounds, so every unit
 * liquidatable at a step's marks is found in round 1 and round 2 finds nothing (in full mode,
 * and as long as no ADL fill changes a survivor: the default fund of $50M never runs dry). */
static void test_no_impact_one_round(void **state)
{
    (void)state;
    xm_model *m = load(XM_MODELS_DIR "/default.yaml");
    for (size_t i = 0; i < m->market.n; i++)
        m->market.assets[i].impact.model = XM_IMPACT_NONE;
    xm_run_result *r = run(m, 200, 0, 0);
    uint64_t one = 0;
    for (uint64_t p = 0; p < r->paths_done; p++) {
        const xm_path_metrics *pm = &r->pm[p];
        assert_true(pm->adl_notional_usd == 0.0);
        assert_true(pm->cascade_rounds_max <= 1);
        assert_int_equal(pm->max_rounds_hits, 0);
        one += pm->cascade_rounds_max == 1;
        for (size_t i = 0; i < m->market.n; i++)
            assert_true(r->impact_at_min[p * m->market.n + i] == 0.0);
    }
    assert_true(one > 100);   /* not vacuous: most paths liquidate someone */
    xm_run_result_free(r);
    xm_model_free(m);
}

/* Stronger impact, more liquidations: with the same paths (common random numbers), mean
 * liquidated notional does not decrease as the square-root prefactor Y grows. */
static void test_impact_strength_monotone(void **state)
{
    (void)state;
    xm_model *m = load_edited(XM_MODELS_DIR "/default.yaml", POP_LINE, "\n  accounts: 4000\n");
    const double scale[] = {0.0, 0.5, 1.0, 2.0, 4.0};
    double base_y[16];
    assert_true(m->market.n <= 16);
    for (size_t i = 0; i < m->market.n; i++) {
        assert_int_equal(m->market.assets[i].impact.model, XM_IMPACT_SQRT);
        base_y[i] = m->market.assets[i].impact.y;
    }
    double prev = -1.0, first = 0.0, last = 0.0;
    for (size_t k = 0; k < sizeof scale / sizeof *scale; k++) {
        for (size_t i = 0; i < m->market.n; i++)
            m->market.assets[i].impact.y = base_y[i] * scale[k];
        xm_run_result *r = run(m, 200, 0, 0);
        run_means s = means(r);
        print_message("impact x%.1f: mean liquidated notional %.6g, largest cascade %.6g, "
                      "rounds %.3g\n", scale[k], s.notional, s.largest, s.rounds);
        assert_true(s.notional >= prev);
        prev = s.notional;
        if (k == 0)
            first = s.notional;
        last = s.notional;
        xm_run_result_free(r);
    }
    assert_true(last > first);
    xm_model_free(m);
}

/* ---------------------------------------------------------------------------------------- */
/* 4-5. Bundled models                                                                      */

/* models/cross-vs-isolated.yaml: the same long BTC / short ETH pair (correlation 0.9) as one
 * cross account and as two isolated positions with the collateral split in half. Cross margin
 * only has to absorb the spread, so at the model's own seed and path count its p_liq is lower
 * with non-overlapping 95% Wilson intervals. An isolated account is liquidated on a path when
 * either position is: acc->liq_paths counts paths with any event of the account. */
static void test_cross_vs_isolated(void **state)
{
    (void)state;
    xm_model *m = load(XM_MODELS_DIR "/cross-vs-isolated.yaml");
    size_t cross = account_index(m, "pair-cross"), iso = account_index(m, "pair-isolated");
    assert_int_equal(m->book->mode[cross], XM_CROSS);
    assert_int_equal(m->book->mode[iso], XM_ISOLATED);
    assert_int_equal(m->book->first[iso + 1] - m->book->first[iso], 2);
    xm_run_result *r = run(m, m->paths, 0, 0);
    uint64_t kc = r->acc->liq_paths[cross], ki = r->acc->liq_paths[iso];
    double clo, chi, ilo, ihi;
    xm_stats_wilson(kc, r->paths_done, XM_Z95, &clo, &chi);
    xm_stats_wilson(ki, r->paths_done, XM_Z95, &ilo, &ihi);
    print_message("cross-vs-isolated (%llu paths, seed %llu): cross p_liq %.4f [%.4f, %.4f], "
                  "isolated %.4f [%.4f, %.4f]\n",
                  (unsigned long long)r->paths_done, (unsigned long long)m->seed,
                  (double)kc / (double)r->paths_done, clo, chi,
                  (double)ki / (double)r->paths_done, ilo, ihi);
    assert_true(kc > 0);          /* the cross account is not trivially safe */
    assert_true(chi < ilo);       /* non-overlapping intervals, cross lower */
    xm_run_result_free(r);
    xm_model_free(m);
}

/* models/stress.yaml (depth -90%, correlations 0.95, nu = 3, a crash leg a day, max_rounds 200) vs
 * models/default.yaml, same population (same seed, same population keys) and the same few
 * paths: larger cascades and deeper ones. */
static void test_stress_bigger_than_default(void **state)
{
    (void)state;
    xm_model *d = load(XM_MODELS_DIR "/default.yaml"), *s = load(XM_MODELS_DIR "/stress.yaml");
    /* The two files hold the same population: same accounts, same positions. */
    assert_int_equal(d->book->n_accounts, s->book->n_accounts);
    assert_int_equal(d->book->n_positions, s->book->n_positions);
    assert_memory_equal(d->book->qty, s->book->qty, d->book->n_positions * sizeof(double));
    assert_memory_equal(d->book->entry, s->book->entry, d->book->n_positions * sizeof(double));
    assert_memory_equal(d->book->margin, s->book->margin, d->book->n_positions * sizeof(double));
    assert_memory_equal(d->book->wallet, s->book->wallet, d->book->n_accounts * sizeof(double));
    xm_run_result *rd = run(d, 16, 0, 0), *rs = run(s, 16, 0, 0);
    run_means md = means(rd), ms = means(rs);
    print_message("16 paths: default largest cascade %.4g, rounds %.3g, notional %.4g; "
                  "stress %.4g, %.3g, %.4g\n",
                  md.largest, md.rounds, md.notional, ms.largest, ms.rounds, ms.notional);
    assert_true(ms.largest > md.largest);
    assert_true(ms.rounds > md.rounds);
    assert_true(ms.notional > md.notional);
    assert_true(ms.bad_debt > md.bad_debt);
    xm_run_result_free(rd);
    xm_run_result_free(rs);
    xm_model_free(d);
    xm_model_free(s);
}

/* ---------------------------------------------------------------------------------------- */
/* 6-7. Determinism and the fast path                                                       */

/* cascade.h: results are bit-identical on any number of threads, and path p does not depend
 * on how many paths run. */
static void test_threads_bit_identical(void **state)
{
    (void)state;
    xm_model *m = load(XM_MODELS_DIR "/default.yaml");
    xm_run_result *a = run(m, 24, 1, 0), *b = run(m, 24, 2, 0), *c = run(m, 12, 2, 0);
    assert_int_equal(b->threads, 2);
    assert_same_result(a, b);
    /* a prefix of the paths is the same paths */
    assert_memory_equal(a->pm, c->pm, 12 * sizeof *a->pm);
    assert_memory_equal(a->min_ratio, c->min_ratio, 12 * m->market.n * sizeof(double));
    xm_run_result_free(a);
    xm_run_result_free(b);
    xm_run_result_free(c);
    xm_model_free(m);
}

/* The fast engine (naive = 0) skips units provably far from liquidation; it must find the
 * same liquidatable units at every point as the naive one, hence byte-identical results, with
 * fewer health checks. Default and stress markets and venues with 1,000 of their accounts (the
 * naive engine checks every unit every round). */
static void fast_equals_naive_peer(xm_model *m, uint64_t paths, uint64_t peer_paths)
{
    xm_run_result *fast = run(m, paths, 0, 0), *naive = run(m, paths, 0, 1);
    assert_same_result(fast, naive);
    xm_error err;
    xm_cascade_ws *wf = xm_cascade_ws_alloc(m, 0, &err), *wn = xm_cascade_ws_alloc(m, 1, &err);
    assert_non_null(wf);
    assert_non_null(wn);
    xm_cascade_acc *acc = xm_cascade_acc_alloc(m->book->n_accounts, &err);
    double mr[16], im[16];
    assert_true(m->market.n <= 16);
    uint64_t cf = 0, cn = 0;
    for (uint64_t p = 0; p < peer_paths; p++) {
        xm_path_metrics pf, pn;
        xm_cascade_run_path(wf, m->seed, p, &pf, mr, im, acc);
        cf += xm_cascade_checks(wf);
        xm_cascade_run_path(wn, m->seed, p, &pn, mr, im, acc);
        cn += xm_cascade_checks(wn);
        assert_memory_equal(&pf, &pn, sizeof pf);
        assert_memory_equal(&pf, &fast->pm[p], sizeof pf);
    }
    uint64_t adl = 0, hits = 0, multi = 0;
    for (uint64_t p = 0; p < paths; p++) {
        adl += fast->pm[p].adl_notional_usd > 0.0;
        hits += fast->pm[p].max_rounds_hits > 0;
        multi += fast->pm[p].cascade_rounds_max > 1;
    }
    print_message("%s: %llu checks fast, %llu naive over %llu paths; paths with ADL %llu, "
                  "max-rounds hits %llu, >1 round %llu\n",
                  m->name, (unsigned long long)cf, (unsigned long long)cn,
                  (unsigned long long)peer_paths,
                  (unsigned long long)adl, (unsigned long long)hits, (unsigned long long)multi);
    assert_true(cf < cn);
    xm_cascade_acc_free(acc);
    xm_cascade_ws_free(wf);
    xm_cascade_ws_free(wn);
    xm_run_result_free(fast);
    xm_run_result_free(naive);
}

static void fast_equals_naive(xm_model *m, uint64_t paths)
{
    fast_equals_naive_peer(m, paths, 4);
}

static void test_fast_equals_naive(void **state)
{
    (void)state;
    const char *files[] = {XM_MODELS_DIR "/default.yaml", XM_MODELS_DIR "/stress.yaml"};
    for (int k = 0; k < 2; k++) {
        xm_model *m = load_edited(files[k], POP_LINE, "\n  accounts: 1000\n");
        fast_equals_naive(m, 200);
        xm_model_free(m);
    }
    /* The other branches of the engine: ADL fills (a $20k fund; they change other units,
     * which must then all be checked again), max-rounds hits (3 rounds), partial mode (units
     * liquidatable in several rounds), linear impact, remaining equity to the fund, and the
     * Bybit ADL ranking. */
    xm_model *m = load_edited(files[1], POP_LINE, "\n  accounts: 1000\n");
    m->venue.insurance_fund_usd = 2.0e4;
    m->venue.max_rounds = 3;
    fast_equals_naive(m, 100);
    m->venue.mode = XM_LIQ_PARTIAL;
    m->venue.remaining_equity = XM_REMAINING_TO_FUND;
    m->venue.adl = XM_ADL_BYBIT;
    for (size_t i = 0; i < m->market.n; i++)
        m->market.assets[i].impact = (xm_impact){XM_IMPACT_LINEAR, 2.0e6, 0, 0, 45.0};
    fast_equals_naive(m, 100);
    xm_model_free(m);
}

/* The same on the bundled population as it is (20,000 accounts, 24,033 units): the stress
 * market with square-root impact, an empty fund and no fee (every deficit goes to ADL,
 * through the ADL candidate index and the fill log), partial liquidation (units closed over
 * several rounds) with the Hyperliquid ranking, and full liquidation with Binance's. Every
 * path byte-identical, and the fast engine checks far fewer units. */
static void test_fast_equals_naive_population(void **state)
{
    (void)state;
    xm_model *m = load(XM_MODELS_DIR "/stress.yaml");
    assert_int_equal(m->book->n_accounts, 20000);
    m->venue.insurance_fund_usd = 0.0;
    m->venue.fee_rate = 0.0;   /* fees would refill the fund */
    for (int mode = 0; mode < 2; mode++) {
        m->venue.mode = mode ? XM_LIQ_PARTIAL : XM_LIQ_FULL;
        m->venue.adl = mode ? XM_ADL_HYPERLIQUID : XM_ADL_BINANCE;
        xm_run_result *r = run(m, 6, 0, 0);
        uint64_t adl = 0, repeat = 0;
        for (uint64_t p = 0; p < r->paths_done; p++) {
            adl += r->pm[p].adl_accounts > 0;
            repeat += r->pm[p].liq_events > r->pm[p].accounts_liquidated;
        }
        print_message("population, %s mode: %llu of 6 paths with ADL, %llu with units "
                      "liquidated more than once\n", mode ? "partial" : "full",
                      (unsigned long long)adl, (unsigned long long)repeat);
        assert_true(adl >= 2);      /* the ADL branches run */
        assert_true(repeat >= 2);   /* units with several events (partial, isolated) */
        xm_run_result_free(r);
        fast_equals_naive_peer(m, 6, 1);
    }
    xm_model_free(m);
}

/* ---------------------------------------------------------------------------------------- */
/* 8. Money identities of every path                                                        */

/* margin.h's ledger identities seen through the path metrics: bad debt = fund paid + ADL
 * covered + socialized, where ADL covered (not a metric) is >= 0 and 0 without ADL fills; the
 * fund never goes below 0, and once ADL or socialization was needed it ran dry (fund_min = 0).
 * Plus the counting identities between per-path metrics and the per-account sums. */
static void check_identities(const xm_model *m, const xm_run_result *r, int *saw_adl,
                             int *saw_socialized)
{
    uint64_t accounts = 0, steps_with_cascade = 0;
    for (uint64_t p = 0; p < r->paths_done; p++) {
        const xm_path_metrics *pm = &r->pm[p];
        double tol = 1e-9 * fmax(1.0, pm->bad_debt_usd);
        double covered = pm->bad_debt_usd - pm->fund_paid_usd - pm->socialized_usd;
        assert_true(covered >= -tol);
        if (pm->adl_notional_usd == 0.0)
            assert_near(covered, 0.0, tol);
        /* socialized = rest - covered can come out a rounding below 0 (-1.8e-13 seen) */
        assert_true(pm->fund_paid_usd >= 0.0 && pm->socialized_usd >= -tol);
        assert_true(pm->fund_paid_usd <= pm->bad_debt_usd + tol);
        assert_true(pm->fund_min_usd >= 0.0);
        assert_true(pm->fund_min_usd <= m->venue.insurance_fund_usd);
        if (pm->adl_notional_usd > 0.0 || pm->socialized_usd > 0.0)
            assert_true(pm->fund_min_usd == 0.0);
        assert_true((pm->adl_notional_usd > 0.0) == (pm->adl_accounts > 0));
        /* counting */
        assert_true(pm->accounts_liquidated <= pm->liq_events);
        assert_true(pm->accounts_liquidated <= m->book->n_accounts);
        assert_true((pm->liq_events > 0) == (pm->first_liq_step > 0));
        assert_true((pm->liq_events > 0) == (pm->liquidated_notional > 0.0));
        assert_true(pm->first_liq_step <= m->steps);
        assert_true(pm->largest_cascade_usd <= pm->liquidated_notional);
        assert_true(pm->cascade_rounds_max <= m->venue.max_rounds);
        assert_true(pm->max_rounds_hits <= m->steps);
        if (pm->max_rounds_hits > 0)
            assert_int_equal(pm->cascade_rounds_max, m->venue.max_rounds);
        if (pm->bad_debt_usd > 0.0)
            assert_true(pm->liq_events > 0);
        accounts += pm->accounts_liquidated;
        steps_with_cascade += pm->liq_events > 0;
        *saw_adl |= pm->adl_notional_usd > 0.0;
        *saw_socialized |= pm->socialized_usd > 0.0;
    }
    const xm_cascade_acc *acc = r->acc;
    uint64_t liq = 0, binned = 0;
    for (size_t a = 0; a < acc->n_accounts; a++) {
        liq += acc->liq_paths[a];
        assert_true(acc->first_step_sum[a] >= acc->liq_paths[a]);
        assert_true(acc->first_step_sum[a] <= acc->liq_paths[a] * m->steps);
        if (acc->liq_paths[a] == 0)
            assert_true(acc->loss_micro[a] == 0);
    }
    for (int b = 0; b < XM_HIST_BINS; b++)
        binned += acc->cascade_hist[b];
    assert_int_equal(liq, accounts);          /* sum over accounts = sum over paths */
    assert_int_equal(binned, acc->cascades);
    assert_true(acc->cascades >= steps_with_cascade);   /* >= 1 cascade per path with events */
}

static void test_money_identities(void **state)
{
    (void)state;
    int adl = 0, soc = 0;
    /* The stress market with 1,000 accounts and a fund of $20k: the fund runs dry, ADL fills,
     * and (with ADL off) losses are socialized. */
    xm_model *m = load_edited(XM_MODELS_DIR "/stress.yaml", POP_LINE, "\n  accounts: 1000\n");
    m->venue.insurance_fund_usd = 2.0e4;
    xm_run_result *r = run(m, 200, 0, 0);
    check_identities(m, r, &adl, &soc);
    assert_true(adl);
    xm_run_result_free(r);
    m->venue.adl = XM_ADL_NONE;
    r = run(m, 200, 0, 0);
    int adl_none = 0;
    check_identities(m, r, &adl_none, &soc);
    assert_false(adl_none);
    assert_true(soc);
    xm_run_result_free(r);
    xm_model_free(m);
    /* The default model as bundled. */
    m = load(XM_MODELS_DIR "/default.yaml");
    r = run(m, 64, 0, 0);
    check_identities(m, r, &adl, &soc);
    xm_run_result_free(r);
    xm_model_free(m);
}

/* ---------------------------------------------------------------------------------------- */
/* Edge: prices through zero                                                                */

/* A bachelier price can go below 0 (model.md §2); marks are floored at XM_PRICE_FLOOR_REL S0
 * and the floorings counted (model.md §7). Fast and naive engines agree there too. */
static void test_fast_equals_naive_bachelier_below_zero(void **state)
{
    (void)state;
    static const char text[] =
        "name: below-zero\nseed: 77\npaths: 300\nhorizon_days: 30\nsteps: 30\n"
        "market:\n  process: bachelier\n"
        "  assets:\n    - {symbol: X, price: 100, vol: 4.0}\n"
        "  impact:\n    X: {model: linear, depth_1pct_usd: 5.0e4, half_life_minutes: 720}\n"
        "venue:\n  insurance_fund_usd: 100\n"
        "  tiers:\n    X:\n      - {cap_usd: 1.0e9, mmr: 0.01, max_leverage: 50}\n"
        "accounts:\n"
        "  - {id: L1, wallet_usd: 9000, positions: [{asset: X, qty: 100, entry: 100}]}\n"
        "  - {id: L2, wallet_usd: 8000, positions: [{asset: X, qty: 100, entry: 100}]}\n"
        "  - {id: L3, wallet_usd: 9900, positions: [{asset: X, qty: 100, entry: 100}]}\n"
        "  - {id: S1, wallet_usd: 5000, positions: [{asset: X, qty: -50, entry: 100}]}\n"
        "  - id: I1\n    mode: isolated\n"
        "    positions: [{asset: X, qty: 100, entry: 100, margin_usd: 9500}]\n";
    xm_error err;
    xm_model *m = xm_model_load_string(text, sizeof text - 1, "below-zero.yaml", &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    xm_run_result *r = run(m, m->paths, 1, 1);
    uint64_t below = 0;
    for (uint64_t p = 0; p < r->paths_done; p++) {
        below += r->pm[p].price_floor_hits > 0;
        assert_true(r->min_ratio[p] >= XM_PRICE_FLOOR_REL);   /* never below the floor */
        assert_true((r->pm[p].price_floor_hits > 0) == (r->min_ratio[p] == XM_PRICE_FLOOR_REL));
    }
    assert_true(below > 10);   /* the case is exercised */
    xm_run_result_free(r);
    fast_equals_naive(m, m->paths);
    xm_model_free(m);
}

/* A notional that prices carry beyond its asset's last tier cap is a liquidation at run time
 * (model.md §3), counted per path; the fast engine must watch rising longs for it too. */
static void test_beyond_last_tier(void **state)
{
    (void)state;
    static const char text[] =
        "name: beyond\nseed: 78\npaths: 300\nhorizon_days: 10\nsteps: 40\n"
        "market:\n  process: gbm\n"
        "  assets:\n    - {symbol: X, price: 100, vol: 1.0}\n    - {symbol: Y, price: 10, vol: 0.8}\n"
        "  correlation:\n    - [1, 0.5]\n    - [0.5, 1]\n"
        "venue:\n  insurance_fund_usd: 1.0e6\n"
        "  tiers:\n    X:\n      - {cap_usd: 5.0e5, mmr: 0.01, max_leverage: 50}\n"
        "      - {cap_usd: 1.0e6, mmr: 0.02, max_leverage: 25}\n"
        "    Y:\n      - {cap_usd: 1.0e9, mmr: 0.01, max_leverage: 50}\n"
        "accounts:\n"
        "  - {id: L, wallet_usd: 4.0e5, positions: [{asset: X, qty: 9000, entry: 100}]}\n"
        "  - {id: LS, wallet_usd: 4.0e5, positions: [{asset: X, qty: 9000, entry: 100},\n"
        "                                           {asset: Y, qty: -1000, entry: 10}]}\n"
        "  - {id: S, wallet_usd: 4.0e5, positions: [{asset: X, qty: -9000, entry: 100}]}\n"
        "  - id: I\n    mode: isolated\n"
        "    positions: [{asset: X, qty: 9500, entry: 100, margin_usd: 3.0e5}]\n"
        "  - {id: far, wallet_usd: 1.0e4, positions: [{asset: Y, qty: 100, entry: 10}]}\n";
    xm_error err;
    xm_model *m = xm_model_load_string(text, sizeof text - 1, "beyond.yaml", &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    xm_run_result *r = run(m, m->paths, 1, 1);
    uint64_t hit = 0;
    for (uint64_t p = 0; p < r->paths_done; p++)
        hit += r->pm[p].beyond_tier_events > 0;
    printf("paths with a beyond-last-tier liquidation: %llu of %llu\n", (unsigned long long)hit,
           (unsigned long long)r->paths_done);
    assert_true(hit > 30 && hit < r->paths_done);   /* the case is exercised */
    xm_run_result_free(r);
    fast_equals_naive(m, m->paths);
    xm_model_free(m);
}

/* ---------------------------------------------------------------------------------------- */
/* The fast path's index (src/cascade/recheck.h) against a brute-force model of it                    */

#define W_UNITS 300
#define W_DIMS 6
#define W_MAX_LIVE 16

static uint64_t w_rng = 0x9e3779b97f4a7c15u;

static double w_unif(void)   /* splitmix64 -> [0, 1) */
{
    uint64_t z = (w_rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

/* The model: per unit its live entries and whether it is queued; base filing kept apart. */
typedef struct {
    size_t n_live[W_UNITS], dim[W_UNITS][W_MAX_LIVE];
    double key[W_UNITS][W_MAX_LIVE];
    int queued[W_UNITS];
} watch_model;

static void model_add(watch_model *wm, uint32_t u, size_t d, double key)
{
    assert_true(wm->n_live[u] < W_MAX_LIVE);
    wm->dim[u][wm->n_live[u]] = d;
    wm->key[u][wm->n_live[u]++] = key;
}

/* Units due at x: queued, or with a live entry reached (NaN counts as +inf), ascending. */
static size_t model_collect(watch_model *wm, const double *x, uint32_t *out)
{
    size_t n = 0;
    for (uint32_t u = 0; u < W_UNITS; u++) {
        int due = wm->queued[u];
        for (size_t k = 0; k < wm->n_live[u]; k++) {
            double xd = x[wm->dim[u][k]];
            due |= isnan(xd) || wm->key[u][k] <= xd;
        }
        if (due) {
            out[n++] = u;
            wm->n_live[u] = 0;
            wm->queued[u] = 0;
        }
    }
    return n;
}

/* recheck.h: random base filings, then paths of random points; at every point the index
 * returns exactly the model's due units, in order, whatever was filed, queued, forgotten or
 * voided before; far-away keys pile up void entries, and compactions (forced every 10 points)
 * drop them without losing a live one; keys beyond a dimension's band go to its far list and
 * come back when the coordinate reaches them. */
static void test_watch_matches_brute_force(void **state)
{
    (void)state;
    xm_error err;
    xm_recheck *w = xm_recheck_alloc(W_UNITS, W_DIMS, &err);
    assert_non_null(w);
    for (size_t d = 0; d + 1 < W_DIMS; d++)   /* far lists: narrow and wide bands, one without */
        xm_recheck_set_band(w, d, d % 2 ? 0.02 : 0.2);
    watch_model base, wm;
    memset(&base, 0, sizeof base);
    for (uint32_t u = 0; u < W_UNITS; u++) {
        if (w_unif() < 0.1) {
            xm_recheck_base_due(w, u);
            base.queued[u] = 1;
            continue;
        }
        for (int k = 1 + (int)(3 * w_unif()); k > 0; k--) {
            size_t d = (size_t)(W_DIMS * w_unif());
            double key = 4.0 * w_unif() - 1.0;
            xm_recheck_base_add(w, d, key, u);
            model_add(&base, u, d, key);
        }
    }
    assert_int_equal(xm_recheck_base_seal(w), 0);
    uint32_t got[W_UNITS], want[W_UNITS];
    int compactions = 0;
    for (int path = 0; path < 4; path++) {
        xm_recheck_begin(w);
        wm = base;
        double x[W_DIMS] = {0};
        for (int point = 0; point < 200; point++) {
            for (size_t d = 0; d < W_DIMS; d++)
                x[d] += 0.1 * (w_unif() - 0.45);
            if (point % 37 == 5)
                x[point % W_DIMS] = NAN;   /* everything in that dimension is due */
            size_t n = xm_recheck_collect(w, x, got), nw = model_collect(&wm, x, want);
            assert_int_equal(n, nw);
            assert_memory_equal(got, want, n * sizeof *got);
            for (size_t d = 0; d < W_DIMS; d++)
                x[d] = isnan(x[d]) ? 0.0 : x[d];
            if (point % 10 == 9)
                w->heap_limit = 1;   /* force a compaction at the next filing */
            for (size_t k = 0; k < n; k++) {
                double r = w_unif();
                if (r < 0.2) {
                    xm_recheck_due_next(w, got[k]);
                    wm.queued[got[k]] = 1;
                    continue;
                }
                for (int f = (int)(4 * r); f > 0; f--) {
                    size_t d = (size_t)(W_DIMS * w_unif());
                    double key = x[d] + (w_unif() < 0.5 ? 0.3 * w_unif() : 1e6);
                    xm_recheck_file(w, got[k], d, key);
                    model_add(&wm, got[k], d, key);
                }
            }
            for (int k = 0; k < 5; k++) {   /* queue (and void) some units not due */
                uint32_t u = (uint32_t)(W_UNITS * w_unif());
                xm_recheck_due_next(w, u);
                wm.n_live[u] = 0;
                wm.queued[u] = 1;
            }
            for (int k = 0; k < 5; k++) {   /* forget some, queued or not, then maybe requeue */
                uint32_t u = (uint32_t)(W_UNITS * w_unif());
                xm_recheck_forget(w, u);
                wm.n_live[u] = 0;
                wm.queued[u] = 0;
                if (w_unif() < 0.3) {
                    xm_recheck_due_next(w, u);
                    wm.queued[u] = 1;
                }
            }
            assert_true(w->n_next <= W_UNITS);
            compactions += point % 10 == 9 && w->heap_limit > 1;
            assert_false(w->failed);
        }
    }
    print_message("watch: %d compactions, %zu heap entries at the end\n", compactions,
                  w->heap_total);
    assert_true(compactions > 0);
    xm_recheck_free(w);
    xm_recheck_free(NULL);
}

static int cmp_u32_test(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* xm_sort_u32 (radix, 1-3 passes by the largest value) agrees with qsort. */
static void test_sort_u32(void **state)
{
    (void)state;
    static uint32_t a[5000], b[5000], tmp[5000];
    const uint32_t tops[] = {100, 2000, 4000000, UINT32_MAX};
    const size_t sizes[] = {0, 1, 50, 65, 5000};
    for (size_t t = 0; t < 4; t++)
        for (size_t k = 0; k < 5; k++) {
            size_t n = sizes[k];
            for (size_t i = 0; i < n; i++)
                a[i] = b[i] = (uint32_t)(w_unif() * ((double)tops[t] + 1.0));
            xm_sort_u32(a, tmp, n);
            qsort(b, n, sizeof *b, cmp_u32_test);
            assert_memory_equal(a, b, n * sizeof *a);
        }
}

/* ---------------------------------------------------------------------------------------- */
/* Stops inside a path (xm_cascade_ws_set_stop)                                             */

static volatile sig_atomic_t g_alarm_stop;   /* raised by SIGALRM: a signal handler needs it */

static void on_alarm(int sig)
{
    (void)sig;
    g_alarm_stop = 1;
}

/* SIGALRM in `ms` milliseconds raises g_alarm_stop, as SIGINT raises the program's flag. */
static void arm_alarm(long ms)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    g_alarm_stop = 0;
    struct itimerval t = {{0, 0}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &t, NULL);
}

static int acc_is_zero(const xm_cascade_acc *a)
{
    int zero = a->cascades == 0;
    for (int k = 0; k < XM_HIST_BINS; k++)
        zero &= a->cascade_hist[k] == 0;
    for (size_t k = 0; k < a->n_accounts; k++)
        zero &= a->liq_paths[k] == 0 && a->first_step_sum[k] == 0 && a->loss_micro[k] == 0;
    return zero;
}

/* Paths [0, n) on w and on a fresh workspace give the same bytes and the same sums. */
static void assert_same_as_fresh(const xm_model *m, xm_cascade_ws *w, uint64_t n)
{
    xm_error err;
    xm_cascade_ws *fresh = xm_cascade_ws_alloc(m, 0, &err);
    size_t na = m->book->n_accounts, n_assets = m->market.n;
    xm_cascade_acc *a = xm_cascade_acc_alloc(na, &err), *b = xm_cascade_acc_alloc(na, &err);
    double mr[2][8], im[2][8];
    assert_true(n_assets <= 8);
    for (uint64_t p = 0; p < n; p++) {
        xm_path_metrics pa, pb;
        assert_int_equal(xm_cascade_run_path(w, m->seed, p, &pa, mr[0], im[0], a), XM_OK);
        assert_int_equal(xm_cascade_run_path(fresh, m->seed, p, &pb, mr[1], im[1], b), XM_OK);
        assert_memory_equal(&pa, &pb, sizeof pa);
        assert_memory_equal(mr[0], mr[1], n_assets * sizeof(double));
        assert_memory_equal(im[0], im[1], n_assets * sizeof(double));
    }
    assert_memory_equal(a->cascade_hist, b->cascade_hist, sizeof a->cascade_hist);
    assert_int_equal(a->cascades, b->cascades);
    assert_memory_equal(a->liq_paths, b->liq_paths, na * sizeof *a->liq_paths);
    assert_memory_equal(a->loss_micro, b->loss_micro, na * sizeof *a->loss_micro);
    xm_cascade_acc_free(a);
    xm_cascade_acc_free(b);
    xm_cascade_ws_free(fresh);
}

/* A stop already raised: the path returns XM_EINTR before its first round (no unit checked)
 * and leaves its outputs and the accumulator untouched; the workspace then runs paths exactly
 * as a fresh one (stress: cascades of many rounds on most paths). */
static void test_stop_before_path(void **state)
{
    (void)state;
    xm_model *m = load_edited(XM_MODELS_DIR "/stress.yaml", POP_LINE, "\n  accounts: 2000\n");
    xm_error err;
    xm_cascade_ws *w = xm_cascade_ws_alloc(m, 0, &err);
    xm_cascade_acc *acc = xm_cascade_acc_alloc(m->book->n_accounts, &err);
    volatile sig_atomic_t stop = 1;
    xm_cascade_ws_set_stop(w, &stop);
    xm_path_metrics pm, untouched;
    double mr[4], im[4], mr0[4];
    memset(&pm, 0xab, sizeof pm);
    memset(mr, 0xab, sizeof mr);
    memcpy(&untouched, &pm, sizeof pm);
    memcpy(mr0, mr, sizeof mr);
    assert_int_equal(xm_cascade_run_path(w, m->seed, 0, &pm, mr, im, acc), XM_EINTR);
    assert_int_equal(xm_cascade_checks(w), 0);
    assert_memory_equal(&pm, &untouched, sizeof pm);
    assert_memory_equal(mr, mr0, sizeof mr);
    assert_true(acc_is_zero(acc));
    stop = 0;
    assert_same_as_fresh(m, w, 6);
    xm_cascade_acc_free(acc);
    xm_cascade_ws_free(w);
    xm_model_free(m);
}

/* A stop raised while a path runs (its one step would need ~3e11 rounds: endless.yaml): the
 * path returns XM_EINTR and leaves no trace; the workspace, stopped mid-round, then runs
 * paths exactly as a fresh one. Through the run driver: the run is XM_EINTR with no path
 * counted and empty sums. Nothing here depends on when the alarm comes. */
static void test_stop_inside_path(void **state)
{
    (void)state;
    xm_model *m = load(XM_TEST_DATA_DIR "/cascade/endless.yaml");
    xm_error err;
    xm_cascade_ws *w = xm_cascade_ws_alloc(m, 0, &err);
    xm_cascade_acc *acc = xm_cascade_acc_alloc(1, &err);
    xm_cascade_ws_set_stop(w, &g_alarm_stop);
    xm_path_metrics pm;
    double mr[1] = {-1.0}, im[1];
    memset(&pm, 0, sizeof pm);
    arm_alarm(20);
    assert_int_equal(xm_cascade_run_path(w, m->seed, 0, &pm, mr, im, acc), XM_EINTR);
    assert_true(xm_cascade_checks(w) > 1);   /* it was inside the rounds */
    assert_int_equal(pm.liq_events, 0);
    assert_true(mr[0] == -1.0);
    assert_true(acc_is_zero(acc));
    g_alarm_stop = 0;
    m->venue.max_rounds = 1000;   /* now the paths end (max_rounds_hits = 1) */
    assert_same_as_fresh(m, w, 2);
    /* Steps after a finished cascade: with 2^32 - 1 steps of the workspace's one-day move
     * (tau was fixed at allocation), step 1 ends at max_rounds, step 2 closes the account, and
     * the rest run on; the cascades of steps 1-2 must not reach the accumulator either. */
    m->steps = UINT32_MAX;
    arm_alarm(20);
    assert_int_equal(xm_cascade_run_path(w, m->seed, 0, &pm, mr, im, acc), XM_EINTR);
    assert_true(acc_is_zero(acc));
    m->steps = 1;
    xm_cascade_ws_free(w);
    xm_cascade_acc_free(acc);

    m->venue.max_rounds = UINT32_MAX;
    for (int binned = 0; binned <= 1; binned++) {
        xm_run_opts o = {.paths = 4, .seed = 1, .threads = 2, .stop = &g_alarm_stop,
                         .binned = binned};
        xm_run_result *r = NULL;
        arm_alarm(20);
        assert_int_equal(xm_run_cascades(m, &o, 0, &r, &err), XM_EINTR);
        assert_int_equal(r->paths_done, 0);
        assert_true(acc_is_zero(r->acc));
        if (binned)
            assert_int_equal(r->ps->paths, 0);
        xm_run_result_free(r);
    }
    xm_model_free(m);
}

/* ---------------------------------------------------------------------------------------- */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_cascade),
        cmocka_unit_test(test_no_impact_one_round),
        cmocka_unit_test(test_impact_strength_monotone),
        cmocka_unit_test(test_cross_vs_isolated),
        cmocka_unit_test(test_stress_bigger_than_default),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_fast_equals_naive),
        cmocka_unit_test(test_fast_equals_naive_population),
        cmocka_unit_test(test_money_identities),
        cmocka_unit_test(test_fast_equals_naive_bachelier_below_zero),
        cmocka_unit_test(test_beyond_last_tier),
        cmocka_unit_test(test_watch_matches_brute_force),
        cmocka_unit_test(test_sort_u32),
        cmocka_unit_test(test_stop_before_path),
        cmocka_unit_test(test_stop_inside_path),
    };
    return xm_run_tests(tests, NULL, NULL);
}
