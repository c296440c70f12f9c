/* test_model.c — the model-file loader: a full valid model, defaults, and one test per class of
 * error, each checking status, FILE:LINE:COLUMN, key path and the "expected" text. */
#include "xm_test.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>

#include "xmrisk/model.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static xm_model *load_ok(const char *text)
{
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load_string(text, strlen(text), "m.yaml", &err);
    if (m == NULL)
        fail_msg("unexpected error: %s", err.msg);
    assert_int_equal(err.status, XM_OK);
    assert_string_equal(err.msg, "");
    return m;
}

/* Load `text` as "m.yaml"; it must fail with XM_EMODEL, one line, containing every needle
 * (NULL-terminated list). */
static void expect_error_at(int line, const char *text, ...)
{
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load_string(text, strlen(text), "m.yaml", &err);
    if (m != NULL) {
        xm_model_free(m);
        fail_msg("line %d: the model loaded, expected an error", line);
    }
    if (err.status != XM_EMODEL)
        fail_msg("line %d: status %s, expected EMODEL (%s)", line, xm_status_name(err.status),
                 err.msg);
    if (strchr(err.msg, '\n') != NULL)
        fail_msg("line %d: message is not one line: %s", line, err.msg);
    va_list ap;
    va_start(ap, text);
    const char *needle;
    while ((needle = va_arg(ap, const char *)) != NULL) {
        if (strstr(err.msg, needle) == NULL) {
            va_end(ap);
            fail_msg("line %d: expected \"%s\" in \"%s\"", line, needle, err.msg);
        }
    }
    va_end(ap);
}
#define EXPECT_ERROR(text, ...) expect_error_at(__LINE__, text, __VA_ARGS__, (const char *)NULL)

/* A valid two-asset gbm model; line numbers below are those of this text. */
#define HEAD "horizon_days: 1.25\nsteps: 96\n" /* lines 1-2 */

/* ---- valid models ----------------------------------------------------------------------- */

static void test_full_model(void **state)
{
    (void)state;
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load(XM_TEST_DATA_DIR "/models/full.yaml", &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(err.status, XM_OK);

    assert_string_equal(m->name, "full"); /* default: file base name without extension */
    assert_string_equal(m->path, XM_TEST_DATA_DIR "/models/full.yaml");
    assert_true(m->seed == 1);            /* default */
    assert_true(m->paths == 10000);       /* default */
    assert_near(m->horizon_days, 2.385, 0);
    assert_int_equal(m->steps, 277);
    assert_near(xm_model_tau(m), 2.385 / 277 / 365, 1e-18);

    const xm_market *k = &m->market;
    assert_int_equal(k->n, 3);
    assert_int_equal(k->process, XM_PROCESS_STUDENT_T);
    assert_near(k->dof, 4.37, 0);
    assert_int_equal(k->jumps.enabled, 1);
    assert_near(k->jumps.rate_per_year, 3.71, 0);
    assert_near(k->jumps.mean, -0.0613, 0);
    assert_near(k->jumps.stdev, 0.0437, 0);

    assert_string_equal(k->assets[0].symbol, "BTC");
    assert_near(k->assets[0].price, 91234.56, 0);
    assert_near(k->assets[0].vol, 0.5731, 0);
    assert_near(k->assets[0].drift, 0.0, 0);     /* default */
    assert_near(k->assets[0].jump_beta, 1.0, 0); /* default */
    assert_string_equal(k->assets[1].symbol, "ETH");
    assert_near(k->assets[1].price, 3047.19, 0);
    assert_near(k->assets[1].vol, 0.7493, 0);
    assert_near(k->assets[1].drift, 0.0371, 0);
    assert_near(k->assets[1].jump_beta, 1.317, 0);
    assert_string_equal(k->assets[2].symbol, "SOL");
    assert_near(k->assets[2].price, 141.07, 0);
    assert_near(k->assets[2].vol, 0.9813, 0);
    assert_near(k->assets[2].drift, -0.0219, 0);
    assert_near(k->assets[2].jump_beta, 1.0, 0);

    const xm_impact *btc = &k->assets[0].impact, *eth = &k->assets[1].impact;
    assert_int_equal(btc->model, XM_IMPACT_SQRT);
    assert_near(btc->daily_volume_usd, 2.137e10, 0);
    assert_near(btc->y, 0.8, 0); /* default */
    assert_near(btc->half_life_minutes, 31.5, 0);
    assert_int_equal(eth->model, XM_IMPACT_LINEAR);
    assert_near(eth->depth_1pct_usd, 4.19e7, 0);
    assert_true(isinf(eth->half_life_minutes) && eth->half_life_minutes > 0); /* default */
    assert_int_equal(k->assets[2].impact.model, XM_IMPACT_NONE);

    static const double c[9] = {1.0, 0.813, 0.671, 0.813, 1.0, 0.742, 0.671, 0.742, 1.0};
    for (int i = 0; i < 9; i++)
        assert_near(k->corr[i], c[i], 0);
    assert_int_equal(k->corr_repair, 0);
    assert_int_equal(k->corr_repaired, 0);
    assert_true(k->corr_min_eigen > 0.05);
    /* L L^T == C, L lower triangular */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int t = 0; t < 3; t++)
                s += k->chol[i * 3 + t] * k->chol[j * 3 + t];
            assert_near(s, c[i * 3 + j], 1e-12);
            if (j > i)
                assert_near(k->chol[i * 3 + j], 0.0, 0);
        }
    xm_model_free(m);
}

static void test_top_level_values(void **state)
{
    (void)state;
    static const char text[] = "name: majors stress\n"
                               "seed: 18446744073709551615\n"
                               "paths: 23917\n"
                               "horizon_days: 0.731\n"
                               "steps: 1\n"
                               "market:\n"
                               "  process: gbm\n"
                               "  assets: [{symbol: \"1000SHIB\", price: 0.0213, vol: 1.137, "
                               "drift: -0.173}]\n";
    xm_model *m = load_ok(text);
    assert_string_equal(m->name, "majors stress");
    assert_string_equal(m->path, "<string>");
    assert_true(m->seed == UINT64_MAX);
    assert_true(m->paths == 23917);
    assert_int_equal(m->steps, 1);
    assert_near(xm_model_tau(m), 0.731 / 365, 1e-18);
    assert_int_equal(m->market.n, 1);
    assert_int_equal(m->market.process, XM_PROCESS_GBM);
    assert_int_equal(m->market.jumps.enabled, 0);
    assert_string_equal(m->market.assets[0].symbol, "1000SHIB");
    assert_near(m->market.assets[0].drift, -0.173, 0);
    assert_near(m->market.corr[0], 1.0, 0); /* identity without `correlation:` */
    assert_near(m->market.chol[0], 1.0, 0);
    xm_model_free(m);
}

static void test_default_name_from_string_name(void **state)
{
    (void)state;
    static const char text[] = HEAD "market: {process: bachelier, assets: [{symbol: ETH, "
                                    "price: 3047.19, vol: 0.7493}]}\n";
    xm_error err;
    xm_model *m = xm_model_load_string(text, strlen(text), "dir/majors.v2.yaml", &err);
    assert_non_null(m);
    assert_string_equal(m->name, "majors.v2");
    assert_int_equal(m->market.process, XM_PROCESS_BACHELIER);
    xm_model_free(m);
    /* a NULL error record is fine too */
    m = xm_model_load_string(text, strlen(text), NULL, NULL);
    assert_non_null(m);
    xm_model_free(m);
    assert_null(xm_model_load_string("steps: [", 8, NULL, NULL));
}

static void test_numbers_syntax(void **state)
{
    (void)state;
    /* integer and float notations, hex/octal integers, .inf and inf for the half-life */
    static const char text[] = "seed: 0x1F\n"
                               "paths: 0o17\n"
                               "horizon_days: 3\n"
                               "steps: +288\n"
                               "market:\n"
                               "  process: gbm\n"
                               "  jumps: {rate_per_year: 0, mean: -6.13e-2, stdev: .0437}\n"
                               "  assets:\n"
                               "    - {symbol: BTC, price: 9.123456e4, vol: 0}\n"
                               "    - {symbol: ETH, price: 3047., vol: 1E0}\n"
                               "  correlation: [[1, -0.4137], [-0.4137, 1.0]]\n"
                               "  correlation_repair: none\n"
                               "  impact:\n"
                               "    BTC: {model: linear, depth_1pct_usd: 20000, "
                               "half_life_minutes: .inf}\n"
                               "    ETH: {model: sqrt, daily_volume_usd: 1.0e12, y: 0.613, "
                               "half_life_minutes: inf}\n";
    xm_model *m = load_ok(text);
    assert_true(m->seed == 31);
    assert_true(m->paths == 15);
    assert_int_equal(m->steps, 288);
    assert_near(m->horizon_days, 3.0, 0);
    assert_int_equal(m->market.jumps.enabled, 1);
    assert_near(m->market.jumps.mean, -0.0613, 0);
    assert_near(m->market.jumps.stdev, 0.0437, 0);
    assert_near(m->market.assets[0].price, 91234.56, 1e-9);
    assert_near(m->market.assets[1].price, 3047.0, 0);
    assert_near(m->market.assets[1].vol, 1.0, 0);
    assert_near(m->market.corr[1], -0.4137, 0);
    assert_true(isinf(m->market.assets[0].impact.half_life_minutes));
    assert_near(m->market.assets[0].impact.depth_1pct_usd, 20000, 0);
    assert_true(isinf(m->market.assets[1].impact.half_life_minutes));
    assert_near(m->market.assets[1].impact.y, 0.613, 0);
    assert_near(m->market.assets[1].impact.daily_volume_usd, 1.0e12, 0);
    xm_model_free(m);
}

static void test_anchors_and_aliases(void **state)
{
    (void)state;
    static const char text[] = HEAD "market:\n"
                                    "  process: gbm\n"
                                    "  assets:\n"
                                    "    - {symbol: BTC, price: 91234.56, vol: &v 0.5731}\n"
                                    "    - {symbol: WBTC, price: 91201.3, vol: *v}\n"
                                    "  correlation: [&r [1, 0.9713], [0.9713, 1]]\n";
    xm_model *m = load_ok(text);
    assert_near(m->market.assets[1].vol, 0.5731, 0);
    xm_model_free(m);
    EXPECT_ERROR(HEAD "market: &m {process: gbm, assets: *m}\n", "m.yaml:3:", "alias *m");
}

/* ---- I/O and YAML-level errors ---------------------------------------------------------- */

static void test_missing_file(void **state)
{
    (void)state;
    xm_error err;
    xm_error_clear(&err);
    assert_null(xm_model_load("/nonexistent/dir/m.yaml", &err));
    assert_int_equal(err.status, XM_EIO);
    assert_string_equal(err.msg, "/nonexistent/dir/m.yaml: cannot read: No such file or directory");

    xm_error_clear(&err);
    assert_null(xm_model_load(XM_TEST_DATA_DIR "/models", &err)); /* a directory */
    assert_int_equal(err.status, XM_EIO);
    assert_contains(err.msg, "/models: cannot read: ");
}

static void test_syntax_error(void **state)
{
    (void)state;
    /* Nothing may reach stderr: send it to a file while loading and check the file is empty. */
    char path[512];
    snprintf(path, sizeof path, "%s", xm_test_write_file("stderr.txt", ""));
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);

    static const char text[] = HEAD "market:\n"
                                    "  process: gbm\n"
                                    "  assets: [{symbol: BTC, price: 1.5, vol: 0.2}\n";
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load_string(text, strlen(text), "m.yaml", &err);
    static const char bad_escape[] = "name: \"a\\qb\"\n";
    xm_error err2;
    xm_model *m2 = xm_model_load_string(bad_escape, strlen(bad_escape), "m.yaml", &err2);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    unlink(path);

    assert_null(m);
    assert_int_equal(err.status, XM_EMODEL);
    assert_contains(err.msg, "m.yaml:6:1: YAML syntax error: ");
    assert_contains(err.msg, "flow sequence without a closing bracket");
    assert_null(strchr(err.msg, '\n'));

    assert_null(m2);
    assert_int_equal(err2.status, XM_EMODEL);
    assert_contains(err2.msg, "m.yaml:1:9: YAML syntax error: ");

    EXPECT_ERROR("horizon_days: 1\n  steps: 2\n", "m.yaml:1:", "YAML syntax error: ");
    EXPECT_ERROR(HEAD "market: {process: gbm}\n---\nsteps: 3\n", "m.yaml:4:1: ",
                 "expected one YAML document");
}

static void test_encoding(void **state)
{
    (void)state;
    /* libfyaml would silently stop at these: the loader refuses them with their position */
    EXPECT_ERROR("horizon_days: 1\nsteps: \x80\x81\n",
                 "m.yaml:2:8: expected UTF-8 text, got the byte 0x80");
    EXPECT_ERROR("name: \xe2\x82\xac\xe2\x82\xac\xc3\x28\n",
                 "m.yaml:1:9: expected UTF-8 text, got the byte 0xC3");
    static const char with_nul[] = "horizon_days: 1\0\nsteps: 2\n";
    xm_error err;
    assert_null(xm_model_load_string(with_nul, sizeof with_nul - 1, "m.yaml", &err));
    assert_int_equal(err.status, XM_EMODEL);
    assert_string_equal(err.msg, "m.yaml:1:16: expected UTF-8 text, got a NUL byte");
    static const char utf16[] = "\xff\xfeh\0:\0 \0001\0";
    assert_null(xm_model_load_string(utf16, sizeof utf16 - 1, "m.yaml", &err));
    assert_int_equal(err.status, XM_EMODEL);
    assert_contains(err.msg, "m.yaml:1:1: expected UTF-8 text, got a UTF-16 or UTF-32 byte-order");
    /* a UTF-8 BOM and CRLF line ends are fine; columns count characters */
    xm_model *m = load_ok("\xef\xbb\xbfhorizon_days: 1.25\r\nsteps: 96\r\nmarket:\r\n"
                          "  process: gbm\r\n"
                          "  assets: [{symbol: \"\xe2\x82\xacX\", price: 1.5, vol: 0.2}]\r\n");
    assert_string_equal(m->market.assets[0].symbol, "\xe2\x82\xacX");
    xm_model_free(m);
    EXPECT_ERROR("\xef\xbb\xbfhorizon_days: 1.25\r\nsteps: 96\r\nmarket:\r\n"
                 "  process: gbm\r\n"
                 "  assets: [{symbol: \"\xe2\x82\xacX\", price: -1.5, vol: 0.2}]\r\n",
                 "m.yaml:5:34: market.assets[0].price: expected a number in [1e-09, 1e+12], got -1.5");
}

static void test_not_a_mapping(void **state)
{
    (void)state;
    EXPECT_ERROR("", "m.yaml:1:1: expected a mapping at the top level", "got an empty document");
    EXPECT_ERROR("# only a comment\n", "m.yaml:1:1: expected a mapping at the top level",
                 "got an empty document");
    EXPECT_ERROR("- 1\n- 2\n", "m.yaml:1:1: expected a mapping at the top level",
                 "got a sequence");
    EXPECT_ERROR("hello\n", "m.yaml:1:1: expected a mapping at the top level", "got 'hello'");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    EXPECT_ERROR(HEAD "steps: 97\n", "m.yaml:3:1: steps: duplicate key (first given at 2:1)");
    EXPECT_ERROR(HEAD "market:\n"
                      "  process: gbm\n"
                      "  assets:\n"
                      "    - {symbol: BTC, price: 1.5, vol: 0.2, price: 1.7}\n",
                 "m.yaml:6:43: market.assets[0].price: duplicate key (first given at 6:21)");
}

/* ---- keys ------------------------------------------------------------------------------- */

static void test_unknown_top_level_key(void **state)
{
    (void)state;
    EXPECT_ERROR(HEAD "horizon: 3\n",
                 "m.yaml:3:1: horizon: unknown key (expected one of: name, seed, paths, "
                 "horizon_days, steps, market, venue, accounts, accounts_csv, population)");
}

/* The margin-engine sections (once reserved) are read: their keys are checked like any. */
#define ONE_MARKET HEAD "market: {process: gbm, assets: [{symbol: BTC, price: 1.5, vol: 0.2}]}\n"

static void test_margin_sections_are_read(void **state)
{
    (void)state;
    EXPECT_ERROR(ONE_MARKET "venue: {insurance_fund: 5.0e7}\n",
                 "m.yaml:4:9: venue.insurance_fund: unknown key (expected one of: "
                 "insurance_fund_usd, liquidation, adl, tiers)");
    EXPECT_ERROR(ONE_MARKET "population: {count: 10}\n",
                 "m.yaml:4:14: population.count: unknown key (expected one of: accounts, "
                 "isolated_share, assets_per_account, asset_weights, leverage, notional_usd, "
                 "long_share, hedged_share, entry_dispersion, id_prefix)");
    EXPECT_ERROR(ONE_MARKET "accounts_csv: {accounts: a.csv}\n",
                 "m.yaml:4:15: accounts_csv: missing required key 'positions'");
    EXPECT_ERROR(ONE_MARKET "accounts: [{id: a}]\n",
                 "m.yaml:4:12: accounts[0]: missing required key 'wallet_usd'");
    /* a model without accounts has no book, and venue defaults */
    xm_model *m = load_ok(ONE_MARKET);
    assert_null(m->book);
    assert_int_equal(m->has_venue, 0);
    assert_int_equal(m->venue.n_assets, 1);
    assert_int_equal(m->venue.tiers[0].n, 0);
    xm_model_free(m);
}

static void test_unknown_nested_keys(void **state)
{
    (void)state;
    EXPECT_ERROR(HEAD "market:\n"
                      "  process: gbm\n"
                      "  assets:\n"
                      "    - symbol: BTC\n"
                      "      price: 91234.56\n"
                      "      volatility: 0.5\n",
                 "m.yaml:8:7: market.assets[0].volatility: unknown key (expected one of: symbol, "
                 "price, vol, drift, jump_beta)");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  correlations: []\n",
                 "m.yaml:5:3: market.correlations: unknown key (expected one of: process, dof, "
                 "jumps, assets, correlation, correlation_repair, impact, history)");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: 4, mean: 0, sd: 1}\n",
                 "m.yaml:5:38: market.jumps.sd: unknown key (expected one of: rate_per_year, "
                 "mean, stdev)");
}

static void test_missing_required_keys(void **state)
{
    (void)state;
    EXPECT_ERROR("horizon_days: 1.25\nmarket: {}\n", "m.yaml:1:1: missing required key 'steps'");
    EXPECT_ERROR("steps: 96\nmarket: {}\n", "m.yaml:1:1: missing required key 'horizon_days'");
    EXPECT_ERROR(HEAD "seed: 5\n", "m.yaml:1:1: missing required key 'market'");
    EXPECT_ERROR(HEAD "market:\n  assets: []\n",
                 "m.yaml:4:3: market: missing required key 'process'");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n",
                 "m.yaml:4:3: market: missing required key 'assets'");
    EXPECT_ERROR(HEAD "market:\n"
                      "  process: gbm\n"
                      "  assets:\n"
                      "    - {symbol: BTC, vol: 0.5}\n",
                 "m.yaml:6:7: market.assets[0]: missing required key 'price'");
    EXPECT_ERROR(HEAD "market:\n"
                      "  process: gbm\n"
                      "  assets:\n"
                      "    - price: 1.5\n"
                      "      vol: 0.5\n",
                 "m.yaml:6:7: market.assets[0]: missing required key 'symbol'");
    EXPECT_ERROR(HEAD "market:\n  process: student_t\n  assets: []\n",
                 "m.yaml:4:3: market: missing required key 'dof'");
    EXPECT_ERROR(HEAD "market:\n"
                      "  process: gbm\n"
                      "  assets:\n"
                      "    - {symbol: BTC, price: 1.5, vol: 0.2}\n"
                      "    - {symbol: ETH, price: 1.7, vol: 0.3}\n",
                 "m.yaml:4:3: market: missing required key 'correlation' (2 assets need a 2x2 "
                 "matrix)");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: 4, mean: -0.06}\n"
                      "  assets: [{symbol: BTC, price: 1.5, vol: 0.2}]\n",
                 "m.yaml:5:10: market.jumps: missing required key 'stdev'");
}

/* ---- types ------------------------------------------------------------------------------ */

#define ONE_ASSET(fields)                                                                     \
    HEAD "market:\n  process: gbm\n  assets:\n    - {symbol: BTC, " fields "}\n"
/* the asset mapping is on line 6; the value of its second field starts at column 28 */

static void test_wrong_types(void **state)
{
    (void)state;
    EXPECT_ERROR(ONE_ASSET("price: abc, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got 'abc'");
    EXPECT_ERROR(ONE_ASSET("price: true, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got true");
    EXPECT_ERROR(ONE_ASSET("price: \"91234\", vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got '91234' "
                 "(quoted: a string, "
                 "not a number)");
    EXPECT_ERROR(ONE_ASSET("price: [1], vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got a sequence");
    EXPECT_ERROR(ONE_ASSET("price: , vol: 0.2"),
                 "market.assets[0].price: expected a number in [1e-09, 1e+12], got an empty value");
    EXPECT_ERROR(ONE_ASSET("price: ~, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got ~");
    EXPECT_ERROR("horizon_days: 1.25\nsteps: 2.5\n",
                 "m.yaml:2:8: steps: expected an integer in [1, 100000000], got 2.5");
    EXPECT_ERROR("horizon_days: 1.25\nsteps: 1.0e3\n",
                 "m.yaml:2:8: steps: expected an integer in [1, 100000000], got 1.0e3");
    EXPECT_ERROR(HEAD "paths: false\n", "m.yaml:3:8: paths: expected an integer >= 1, got false");
    EXPECT_ERROR(HEAD "seed: abc\n", "m.yaml:3:7: seed: expected an integer >= 0, got 'abc'");
    EXPECT_ERROR(HEAD "name: [a]\n", "m.yaml:3:7: name: expected a non-empty string, got a sequence");
    EXPECT_ERROR(HEAD "name: 17\n",
                 "m.yaml:3:7: name: expected a non-empty string, got 17 (quote it to make it a "
                 "string)");
    EXPECT_ERROR(HEAD "market: [gbm]\n",
                 "m.yaml:3:9: market: expected a mapping {process, assets, correlation, ...}, got "
                 "a sequence");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets: {symbol: BTC}\n",
                 "m.yaml:5:11: market.assets: expected a non-empty sequence of assets, got a "
                 "mapping");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets: [BTC]\n",
                 "m.yaml:5:12: market.assets[0]: expected a mapping {symbol, price, vol, drift, "
                 "jump_beta}, got 'BTC'");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: 4\n",
                 "m.yaml:5:10: market.jumps: expected a mapping {rate_per_year, mean, stdev}, "
                 "got 4");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  [a]: 4\n",
                 "m.yaml:5:3: market: expected a key (a non-empty string), got a sequence");
}

/* ---- ranges ----------------------------------------------------------------------------- */

static void test_out_of_range(void **state)
{
    (void)state;
    EXPECT_ERROR(ONE_ASSET("price: 0, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got 0");
    EXPECT_ERROR(ONE_ASSET("price: -91234.5, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got -91234.5");
    EXPECT_ERROR(ONE_ASSET("price: 91234.5, vol: -0.5"),
                 "m.yaml:6:42: market.assets[0].vol: expected a number in [0, 100], got -0.5");
    EXPECT_ERROR(ONE_ASSET("price: 91234.5, vol: .nan"),
                 "m.yaml:6:42: market.assets[0].vol: expected a number in [0, 100], got .nan");
    EXPECT_ERROR(ONE_ASSET("price: .inf, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got .inf");
    EXPECT_ERROR(ONE_ASSET("price: 1e999, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got 1e999");
    EXPECT_ERROR(ONE_ASSET("price: 1.5, vol: 0.2, drift: -.inf"),
                 "m.yaml:6:50: market.assets[0].drift: expected a number in [-100, 100], got -.inf");
    EXPECT_ERROR(ONE_ASSET("price: 1.5, vol: 0.2, jump_beta: nan"),
                 "m.yaml:6:54: market.assets[0].jump_beta: expected a number in [-100, 100], got nan");
    /* Finite but absurd: their squares or exponentials overflow (model.md §7). */
    EXPECT_ERROR(ONE_ASSET("price: 91234.5, vol: 1.3e154"),
                 "m.yaml:6:42: market.assets[0].vol: expected a number in [0, 100], got 1.3e154");
    EXPECT_ERROR(ONE_ASSET("price: 91234.5, vol: 100.5"),
                 "m.yaml:6:42: market.assets[0].vol: expected a number in [0, 100], got 100.5");
    EXPECT_ERROR(ONE_ASSET("price: 2e15, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got 2e15");
    EXPECT_ERROR(ONE_ASSET("price: 1.5, vol: 0.2, drift: 1e300"),
                 "m.yaml:6:50: market.assets[0].drift: expected a number in [-100, 100], got 1e300");
    EXPECT_ERROR(HEAD "market:\n  process: student_t\n  dof: 2\n",
                 "m.yaml:5:8: market.dof: expected a number > 2, got 2");
    EXPECT_ERROR(HEAD "market:\n  process: student_t\n  dof: 1.37\n",
                 "m.yaml:5:8: market.dof: expected a number > 2, got 1.37");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  dof: 4.37\n",
                 "m.yaml:5:3: market.dof: not allowed with process gbm (dof is for process "
                 "student_t)");
    EXPECT_ERROR(HEAD "market:\n  process: bachelier\n  dof: 4.37\n",
                 "m.yaml:5:3: market.dof: not allowed with process bachelier");
    EXPECT_ERROR("horizon_days: 1.25\nsteps: 0\n",
                 "m.yaml:2:8: steps: expected an integer in [1, 100000000], got 0");
    EXPECT_ERROR("horizon_days: 1.25\nsteps: 100000001\n",
                 "m.yaml:2:8: steps: expected an integer in [1, 100000000], got 100000001");
    EXPECT_ERROR(HEAD "paths: 0\n", "m.yaml:3:8: paths: expected an integer >= 1, got 0");
    EXPECT_ERROR("horizon_days: 0\n", "m.yaml:1:15: horizon_days: expected a number > 0, got 0");
    EXPECT_ERROR("horizon_days: -2.385\n",
                 "m.yaml:1:15: horizon_days: expected a number > 0, got -2.385");
    EXPECT_ERROR("horizon_days: .inf\n",
                 "m.yaml:1:15: horizon_days: expected a number > 0, got .inf");
    EXPECT_ERROR("horizon_days: .NaN\n",
                 "m.yaml:1:15: horizon_days: expected a number > 0, got .NaN");
    EXPECT_ERROR(HEAD "seed: -5\n", "m.yaml:3:7: seed: expected an integer >= 0, got -5");
    EXPECT_ERROR(HEAD "seed: 1.5\n", "m.yaml:3:7: seed: expected an integer >= 0, got 1.5");
    EXPECT_ERROR(HEAD "seed: 18446744073709551616\n",
                 "m.yaml:3:7: seed: expected an integer >= 0, got 18446744073709551616 (more "
                 "than 2^64-1)");
    EXPECT_ERROR(HEAD "name: ''\n", "m.yaml:3:", "name: expected a non-empty string, got ''");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets: []\n",
                 "m.yaml:5:11: market.assets: expected a non-empty sequence of assets, got an "
                 "empty sequence");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: -4, mean: 0, stdev: 1}\n",
                 "m.yaml:5:26: market.jumps.rate_per_year: expected a number in [0, 100000], got -4");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: 4, mean: 0, stdev: -1}\n",
                 "m.yaml:5:45: market.jumps.stdev: expected a number in [0, 10], got -1");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: 1e6, mean: 0, stdev: 1}\n",
                 "m.yaml:5:26: market.jumps.rate_per_year: expected a number in [0, 100000], got 1e6");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: 4, mean: 11, stdev: 1}\n",
                 "m.yaml:5:35: market.jumps.mean: expected a number in [-10, 10], got 11");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: 4, mean: 0, stdev: 1e3}\n",
                 "m.yaml:5:45: market.jumps.stdev: expected a number in [0, 10], got 1e3");
}

static void test_unknown_process(void **state)
{
    (void)state;
    EXPECT_ERROR(HEAD "market:\n  process: brownian\n",
                 "m.yaml:4:12: market.process: expected one of gbm, student_t, bachelier, got "
                 "'brownian'");
    EXPECT_ERROR(HEAD "market:\n  process: 3\n",
                 "m.yaml:4:12: market.process: expected one of gbm, student_t, bachelier, got 3");
}

static void test_jumps_with_bachelier(void **state)
{
    (void)state;
    EXPECT_ERROR(HEAD "market:\n"
                      "  process: bachelier\n"
                      "  jumps: {rate_per_year: 4, mean: -0.06, stdev: 0.04}\n"
                      "  assets: [{symbol: BTC, price: 1.5, vol: 0.2}]\n",
                 "m.yaml:5:3: market.jumps: not allowed with process bachelier (jumps add to ln "
                 "S: they apply to gbm or student_t)");
}

/* ---- symbols ---------------------------------------------------------------------------- */

static void test_symbols(void **state)
{
    (void)state;
    EXPECT_ERROR(HEAD "market:\n"
                      "  process: gbm\n"
                      "  assets:\n"
                      "    - {symbol: BTC, price: 1.5, vol: 0.2}\n"
                      "    - {symbol: BTC, price: 1.7, vol: 0.3}\n",
                 "m.yaml:7:16: market.assets[1].symbol: expected a symbol no other asset has, "
                 "got 'BTC' (also market.assets[0] at 6:16)");
    /* 31 characters fit (XM_SYMBOL_MAX - 1), 32 do not */
    xm_model *m = load_ok(HEAD "market:\n  process: gbm\n  assets:\n"
                               "    - {symbol: ABCDEFGHIJKLMNOPQRSTUVWXYZ01234, price: 1.5, "
                               "vol: 0.2}\n");
    assert_string_equal(m->market.assets[0].symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234");
    xm_model_free(m);
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {symbol: ABCDEFGHIJKLMNOPQRSTUVWXYZ012345, price: 1.5, vol: 0.2}\n",
                 "m.yaml:6:16: market.assets[0].symbol: expected a non-empty string of at most 31 "
                 "characters, got 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345' (32 characters)");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {symbol: \"\", price: 1.5, vol: 0.2}\n",
                 "m.yaml:6:16: market.assets[0].symbol: expected a non-empty string of at most "
                 "31 characters, got ''");
    /* the account-id rule (xm_account_id_problem): a symbol names CSV columns */
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {symbol: \"B,TC\", price: 1.5, vol: 0.2}\n",
                 "m.yaml:6:16: market.assets[0].symbol: expected a symbol (no control "
                 "characters, commas or double quotes), got 'B,TC' (it has a comma)");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {symbol: \"B\\nTC\", price: 1.5, vol: 0.2}\n",
                 "m.yaml:6:16: market.assets[0].symbol: expected a symbol",
                 "(it has a control character)");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {symbol: 'B\"TC', price: 1.5, vol: 0.2}\n",
                 "(it has a double quote)");
}

/* ---- correlation ------------------------------------------------------------------------ */

#define THREE_ASSETS                                                                          \
    HEAD "market:\n"                                                                          \
         "  process: gbm\n"                                                                   \
         "  assets:\n"                                                                        \
         "    - {symbol: BTC, price: 91234.56, vol: 0.5731}\n"                                 \
         "    - {symbol: ETH, price: 3047.19, vol: 0.7493}\n"                                  \
         "    - {symbol: SOL, price: 141.07, vol: 0.9813}\n"                                   \
         "  correlation:\n" /* line 9; rows on lines 10-12 */

static void test_correlation_shape(void **state)
{
    (void)state;
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - [0.81, 1.0, 0.74]\n",
                 "m.yaml:10:5: market.correlation: expected 3 rows (one per asset), got 2");
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - [0.81, 1.0]\n"
                              "    - [0.67, 0.74, 1.0]\n",
                 "m.yaml:11:7: market.correlation[1]: expected 3 entries (one per asset), got 2");
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - {a: 1}\n"
                              "    - [0.67, 0.74, 1.0]\n",
                 "m.yaml:11:7: market.correlation[1]: expected a sequence of 3 numbers (one per "
                 "asset), got a mapping");
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - [0.81, 1.0, 1.74]\n"
                              "    - [0.67, 0.74, 1.0]\n",
                 "m.yaml:11:19: market.correlation[1][2]: expected a number in [-1, 1], got 1.74");
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - [0.81, 1.0, x]\n"
                              "    - [0.67, 0.74, 1.0]\n",
                 "m.yaml:11:19: market.correlation[1][2]: expected a number in [-1, 1], got 'x'");
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - [0.81, 0.99, 0.74]\n"
                              "    - [0.67, 0.74, 1.0]\n",
                 "m.yaml:11:14: market.correlation[1][1]: expected 1 on the diagonal, got 0.99");
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - [0.81, 1.0, 0.74]\n"
                              "    - [0.67, 0.73, 1.0]\n",
                 "m.yaml:12:14: market.correlation[2][1]: expected 0.74 as at "
                 "market.correlation[1][2] (11:19; the matrix must be symmetric), got 0.73");
    EXPECT_ERROR(THREE_ASSETS "    7\n",
                 "m.yaml:10:5: market.correlation: expected a sequence of 3 rows of 3 numbers "
                 "(one per asset), got 7");
    EXPECT_ERROR(THREE_ASSETS "    - [1.0, 0.81, 0.67]\n"
                              "    - [0.81, 1.0, 0.74]\n"
                              "    - [0.67, 0.74, 1.0]\n"
                              "  correlation_repair: nearest\n",
                 "m.yaml:13:23: market.correlation_repair: expected one of none, higham, got "
                 "'nearest'");
}

#define NOT_PD                                                                                \
    THREE_ASSETS "    - [1.0, 0.9, 0.1]\n"                                                    \
                 "    - [0.9, 1.0, 0.9]\n"                                                    \
                 "    - [0.1, 0.9, 1.0]\n"

static void test_correlation_not_positive_definite(void **state)
{
    (void)state;
    xm_error err;
    xm_error_clear(&err);
    assert_null(xm_model_load_string(NOT_PD, strlen(NOT_PD), "m.yaml", &err));
    assert_int_equal(err.status, XM_EMODEL);
    assert_contains(err.msg, "m.yaml:10:5: market.correlation: ");
    /* eigenvalues: 0.9 and (2.1 -+ sqrt(6.49)) / 2, the smallest -0.2237742... */
    assert_contains(err.msg, "smallest eigenvalue -0.22377");
    assert_contains(err.msg, "(smallest eigenvalue above the cutoff 1e-10)");
    assert_contains(err.msg, "higham");
    assert_null(strchr(err.msg, '\n'));
}

static void test_correlation_repair(void **state)
{
    (void)state;
    xm_model *m = load_ok(NOT_PD "  correlation_repair: higham\n");
    const xm_market *k = &m->market;
    assert_int_equal(k->corr_repair, 1);
    assert_int_equal(k->corr_repaired, 1);
    assert_near(k->corr_min_eigen, (2.1 - sqrt(6.49)) / 2, 1e-12);
    assert_true(k->corr_repair_max_abs_change > 0.01);
    assert_true(k->corr_repair_frobenius > 0.01);
    for (int i = 0; i < 3; i++) {
        assert_near(k->corr[i * 3 + i], 1.0, 1e-9);
        for (int j = 0; j < 3; j++)
            assert_near(k->corr[i * 3 + j], k->corr[j * 3 + i], 1e-12);
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int t = 0; t < 3; t++)
                s += k->chol[i * 3 + t] * k->chol[j * 3 + t];
            assert_near(s, k->corr[i * 3 + j], 1e-12);
        }
    xm_model_free(m);
}

/* ---- impact ----------------------------------------------------------------------------- */

#define IMPACT(entries)                                                                       \
    HEAD "market:\n"                                                                          \
         "  process: gbm\n"                                                                   \
         "  assets: [{symbol: BTC, price: 91234.56, vol: 0.5731}]\n"                           \
         "  impact:\n" entries /* entries start on line 7 */

static void test_impact_errors(void **state)
{
    (void)state;
    EXPECT_ERROR(IMPACT("    BTC: {model: linear, depth_1pct_usd: 4.19e7}\n"
                        "    DOGE: {model: linear, depth_1pct_usd: 4.19e7}\n"),
                 "m.yaml:8:5: market.impact.DOGE: expected the symbol of an asset (BTC), got "
                 "'DOGE'");
    EXPECT_ERROR(IMPACT("    BTC: {depth_1pct_usd: 4.19e7}\n"),
                 "m.yaml:7:10: market.impact.BTC: missing required key 'model'");
    EXPECT_ERROR(IMPACT("    BTC: {model: cubic}\n"),
                 "m.yaml:7:18: market.impact.BTC.model: expected one of linear, sqrt, got "
                 "'cubic'");
    EXPECT_ERROR(IMPACT("    BTC: {model: linear}\n"),
                 "m.yaml:7:10: market.impact.BTC: missing required key 'depth_1pct_usd'");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, y: 0.7}\n"),
                 "m.yaml:7:10: market.impact.BTC: missing required key 'daily_volume_usd'");
    EXPECT_ERROR(IMPACT("    BTC: {model: linear, depth_1pct_usd: 4.19e7, y: 0.7}\n"),
                 "m.yaml:7:50: market.impact.BTC.y: not used by model linear (it takes "
                 "depth_1pct_usd and half_life_minutes)");
    EXPECT_ERROR(IMPACT("    BTC: {model: linear, daily_volume_usd: 2e10, depth_1pct_usd: 4e7}\n"),
                 "m.yaml:7:26: market.impact.BTC.daily_volume_usd: not used by model linear");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 2e10, depth_1pct_usd: 4e7}\n"),
                 "m.yaml:7:48: market.impact.BTC.depth_1pct_usd: not used by model sqrt (it "
                 "takes daily_volume_usd, y and half_life_minutes)");
    EXPECT_ERROR(IMPACT("    BTC: {model: linear, depth_1pct_usd: 0}\n"),
                 "m.yaml:7:42: market.impact.BTC.depth_1pct_usd: expected a number in [1000, 1e+15], got 0");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 2e10, y: -0.8}\n"),
                 "m.yaml:7:51: market.impact.BTC.y: expected a number in (0, 10], got -0.8");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 2e10, half_life_minutes: 0}\n"),
                 "m.yaml:7:67: market.impact.BTC.half_life_minutes: expected a number > 0 or "
                 ".inf, got 0");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 2e10, half_life_minutes: -.inf}\n"),
                 "market.impact.BTC.half_life_minutes: expected a number > 0 or .inf, got -.inf");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 2e10, halflife: 30}\n"),
                 "m.yaml:7:48: market.impact.BTC.halflife: unknown key (expected one of: model, "
                 "depth_1pct_usd, daily_volume_usd, y, half_life_minutes)");
    EXPECT_ERROR(IMPACT("    BTC: {model: linear, depth_1pct_usd: 4.19e7}\n"
                        "    BTC: {model: linear, depth_1pct_usd: 4.19e7}\n"),
                 "m.yaml:8:5: market.impact.BTC: duplicate key (first given at 7:5)");
    EXPECT_ERROR(IMPACT("    - BTC\n"),
                 "m.yaml:7:5: market.impact: expected a mapping of asset symbol to impact model, "
                 "got a sequence");
}

/* ---- every error path frees everything (run under ASan) --------------------------------- */

static void test_error_after_allocation(void **state)
{
    (void)state;
    /* fails after the market and the name are allocated */
    EXPECT_ERROR("name: n\n" HEAD "market:\n"
                 "  process: gbm\n"
                 "  assets: [{symbol: BTC, price: 1.5, vol: 0.2}]\n"
                 "  impact: {ETH: {model: linear, depth_1pct_usd: 1}}\n",
                 "m.yaml:7:12: market.impact.ETH");
}

/* ---- venue, accounts, population (model.md §3-§4) --------------------------------------- */

/* A three-asset market on lines 3-9, then (TIERS) a venue on lines 10-16 with tiers for BTC and
 * ETH but none for SOL. */
#define MARGIN_MARKET                                                                         \
    HEAD "market:\n"                                                                          \
         "  process: gbm\n"                                                                   \
         "  assets:\n"                                                                        \
         "    - {symbol: BTC, price: 91234.56, vol: 0.5731}\n"                                 \
         "    - {symbol: ETH, price: 3047.19, vol: 0.7493}\n"                                  \
         "    - {symbol: SOL, price: 141.07, vol: 0.9813}\n"                                   \
         "  correlation: [[1, 0.81, 0.67], [0.81, 1, 0.74], [0.67, 0.74, 1]]\n"
#define TIERS                                                                                 \
    "venue:\n"                                                                                \
    "  insurance_fund_usd: 4.731e7\n"                                                         \
    "  tiers:\n"                                                                              \
    "    BTC:\n"                                                                              \
    "      - {cap_usd: 312500, mmr: 0.0041, max_leverage: 125}\n"                              \
    "      - {cap_usd: 812500, mmr: 0.0053, max_leverage: 100}\n"                              \
    "    ETH: [{cap_usd: 1.93e6, mmr: 0.0061, max_leverage: 75}]\n"
/* the venue body starts on line 11 */
#define VENUE(body) MARGIN_MARKET "venue:\n" body
/* liquidation settings on line 12 */
#define LIQ(map) VENUE("  insurance_fund_usd: 0\n  liquidation: " map "\n")
/* tier tables from line 13 */
#define TIER_TABLES(body) VENUE("  insurance_fund_usd: 0\n  tiers:\n" body)
/* account entries from line 18 */
#define ACCOUNTS(entries) MARGIN_MARKET TIERS "accounts:\n" entries
/* population settings on line 17 */
#define POPULATION(map) MARGIN_MARKET TIERS "population: " map "\n"

static void test_margin_model(void **state)
{
    (void)state;
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load(XM_TEST_DATA_DIR "/models/margin.yaml", &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(m->name, "margin-full");
    assert_true(m->seed == 7340117);
    assert_int_equal(m->market.n, 3);

    const xm_venue *v = &m->venue;
    assert_int_equal(m->has_venue, 1);
    assert_near(v->insurance_fund_usd, 4.731e7, 0);
    assert_int_equal(v->mode, XM_LIQ_PARTIAL);
    assert_near(v->fee_rate, 0.0117, 0);
    assert_int_equal(v->max_rounds, 37);
    assert_near(v->step, 0.173, 0);
    assert_near(v->min_partial_notional_usd, 87300, 0);
    assert_near(v->backstop_ratio, 0.613, 0);
    assert_int_equal(v->remaining_equity, XM_REMAINING_TO_FUND);
    assert_int_equal(v->adl, XM_ADL_BYBIT);
    assert_int_equal(v->n_assets, 3);

    const xm_tier_table *btc = &v->tiers[0], *eth = &v->tiers[1];
    assert_int_equal(btc->n, 3);
    static const double bcap[] = {312500, 812500, 2.7e6}, bmmr[] = {0.0041, 0.0053, 0.0071},
                        blev[] = {125, 100, 75};
    for (int k = 0; k < 3; k++) {
        assert_near(btc->tier[k].cap_usd, bcap[k], 0);
        assert_near(btc->tier[k].mmr, bmmr[k], 0);
        assert_near(btc->tier[k].max_leverage, blev[k], 0);
    }
    /* cum_1 = 0, cum_k = cum_{k-1} + cap_{k-1} (mmr_k - mmr_{k-1}): 375, 375 + 1462.5 */
    assert_near(btc->tier[0].cum, 0.0, 0);
    assert_near(btc->tier[1].cum, 375.0, 1e-9);
    assert_near(btc->tier[2].cum, 1837.5, 1e-9);
    assert_int_equal(eth->n, 2);
    assert_near(eth->tier[0].cap_usd, 517000, 0);
    assert_near(eth->tier[1].cap_usd, 1.93e6, 0);
    assert_near(eth->tier[0].mmr, 0.0047, 0);
    assert_near(eth->tier[1].mmr, 0.0061, 0);
    assert_near(eth->tier[0].max_leverage, 100, 0);
    assert_near(eth->tier[1].max_leverage, 75, 0);
    assert_near(eth->tier[1].cum, 517000 * (0.0061 - 0.0047), 1e-9); /* 723.8 */
    assert_int_equal(v->tiers[2].n, 0);                              /* SOL: none */

    const xm_accounts *b = m->book;
    assert_non_null(b);
    assert_int_equal(b->n_accounts, 3);
    assert_int_equal(b->n_positions, 5);
    assert_string_equal(xm_accounts_id(b, 0), "hedged-pair");
    assert_string_equal(xm_accounts_id(b, 1), "iso-long");
    assert_string_equal(xm_accounts_id(b, 2), "cross default mode");
    assert_int_equal(b->mode[0], XM_CROSS);
    assert_int_equal(b->mode[1], XM_ISOLATED);
    assert_int_equal(b->mode[2], XM_CROSS); /* default */
    assert_near(b->wallet[0], 10437.25, 0);
    assert_near(b->wallet[1], 0.0, 0);
    assert_near(b->wallet[2], 0.0, 0);
    static const uint32_t first[] = {0, 2, 4, 5};
    for (int a = 0; a < 4; a++)
        assert_int_equal(b->first[a], first[a]);
    static const uint32_t owner[] = {0, 0, 1, 1, 2};
    static const uint16_t asset[] = {0, 1, 0, 1, 1};
    static const double qty[] = {1.137, -30.71, 0.5173, -2.31, 4.19},
                        entry[] = {90412.5, 3021.4, 91873.2, 3107.9, 2987.6},
                        margin[] = {0, 0, 4718.31, 713.17, 0};
    for (int j = 0; j < 5; j++) {
        assert_int_equal(b->owner[j], owner[j]);
        assert_int_equal(b->asset[j], asset[j]);
        assert_near(b->qty[j], qty[j], 0);
        assert_near(b->entry[j], entry[j], 0);
        assert_near(b->margin[j], margin[j], 0);
    }
    xm_model_free(m);
}

static void test_venue_defaults(void **state)
{
    (void)state;
    /* without the section: Binance defaults (docs/venues.md a.1), no tiers */
    xm_model *m = load_ok(MARGIN_MARKET);
    const xm_venue *v = &m->venue;
    assert_int_equal(m->has_venue, 0);
    assert_near(v->insurance_fund_usd, 0.0, 0);
    assert_int_equal(v->mode, XM_LIQ_FULL);
    assert_near(v->fee_rate, 0.0125, 0);
    assert_int_equal(v->max_rounds, 50);
    assert_near(v->step, 0.2, 0);
    assert_near(v->min_partial_notional_usd, 1e5, 0);
    assert_near(v->backstop_ratio, 2.0 / 3.0, 0);
    assert_int_equal(v->remaining_equity, XM_REMAINING_KEEP);
    assert_int_equal(v->adl, XM_ADL_BINANCE);
    assert_int_equal(v->n_assets, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(v->tiers[i].n, 0);
    assert_null(m->book);
    xm_model_free(m);

    /* only the fund: the rest keeps its defaults */
    m = load_ok(VENUE("  insurance_fund_usd: 0\n  liquidation: {fee_rate: 0.0093}\n"
                      "  adl: {ranking: none}\n"));
    assert_int_equal(m->has_venue, 1);
    assert_near(m->venue.insurance_fund_usd, 0.0, 0);
    assert_near(m->venue.fee_rate, 0.0093, 0);
    assert_int_equal(m->venue.mode, XM_LIQ_FULL);
    assert_int_equal(m->venue.max_rounds, 50);
    assert_int_equal(m->venue.adl, XM_ADL_NONE);
    xm_model_free(m);

    m = load_ok(LIQ("{mode: partial, max_rounds: 4294967295}"));
    assert_int_equal(m->venue.mode, XM_LIQ_PARTIAL);
    assert_true(m->venue.max_rounds == UINT32_MAX);
    assert_near(m->venue.step, 0.2, 0); /* partial settings keep their defaults */
    assert_near(m->venue.backstop_ratio, 2.0 / 3.0, 0);
    xm_model_free(m);
    m = load_ok(VENUE("  insurance_fund_usd: 1\n  adl: {ranking: hyperliquid}\n"));
    assert_int_equal(m->venue.adl, XM_ADL_HYPERLIQUID);
    xm_model_free(m);
}

static void test_venue_errors(void **state)
{
    (void)state;
    EXPECT_ERROR(MARGIN_MARKET "venue: 5\n",
                 "m.yaml:10:8: venue: expected a mapping {insurance_fund_usd, liquidation, adl, "
                 "tiers}, got 5");
    EXPECT_ERROR(VENUE("  liquidation: {mode: full}\n"),
                 "m.yaml:11:3: venue: missing required key 'insurance_fund_usd'");
    EXPECT_ERROR(VENUE("  insurance_fund_usd: -1\n"),
                 "m.yaml:11:23: venue.insurance_fund_usd: expected a number in [0, 1e+15], got -1");
    EXPECT_ERROR(VENUE("  insurance_fund_usd: .inf\n"),
                 "m.yaml:11:23: venue.insurance_fund_usd: expected a number in [0, 1e+15], got .inf");
    EXPECT_ERROR(VENUE("  insurance_fund_usd: 0\n  fund: 1\n"),
                 "m.yaml:12:3: venue.fund: unknown key (expected one of: insurance_fund_usd, "
                 "liquidation, adl, tiers)");
    EXPECT_ERROR(LIQ("{mode: half}"),
                 "m.yaml:12:23: venue.liquidation.mode: expected one of full, partial, got "
                 "'half'");
    EXPECT_ERROR(LIQ("{fee_rate: 1}"),
                 "m.yaml:12:27: venue.liquidation.fee_rate: expected a number in [0, 1), got 1");
    EXPECT_ERROR(LIQ("{fee_rate: -0.0125}"),
                 "m.yaml:12:27: venue.liquidation.fee_rate: expected a number in [0, 1), got "
                 "-0.0125");
    EXPECT_ERROR(LIQ("{max_rounds: 0}"),
                 "m.yaml:12:29: venue.liquidation.max_rounds: expected an integer in [1, "
                 "4294967295], got 0");
    EXPECT_ERROR(LIQ("{max_rounds: 4294967296}"),
                 "m.yaml:12:29: venue.liquidation.max_rounds: expected an integer in [1, "
                 "4294967295], got 4294967296");
    EXPECT_ERROR(LIQ("{max_rounds: 2.5}"),
                 "m.yaml:12:29: venue.liquidation.max_rounds: expected an integer in");
    EXPECT_ERROR(LIQ("{remaining_equity: burn}"),
                 "m.yaml:12:35: venue.liquidation.remaining_equity: expected one of keep, to_fund, "
                 "got 'burn'");
    EXPECT_ERROR(LIQ("{mode: partial, step: 0}"),
                 "m.yaml:12:38: venue.liquidation.step: expected a number in (0, 1], got 0");
    EXPECT_ERROR(LIQ("{mode: partial, step: 1.01}"),
                 "m.yaml:12:38: venue.liquidation.step: expected a number in (0, 1], got 1.01");
    EXPECT_ERROR(LIQ("{mode: partial, min_partial_notional_usd: -5}"),
                 "m.yaml:12:58: venue.liquidation.min_partial_notional_usd: expected a number in "
                 "[0, 1e+15], got -5");
    EXPECT_ERROR(LIQ("{mode: partial, backstop_ratio: 1.5}"),
                 "m.yaml:12:48: venue.liquidation.backstop_ratio: expected a number in [0, 1], "
                 "got 1.5");
    /* partial settings with mode full (given or default) are refused, not ignored */
    EXPECT_ERROR(LIQ("{mode: full, fee_rate: 0.01, backstop_ratio: 0.6}"),
                 "m.yaml:12:45: venue.liquidation.backstop_ratio: not used by mode full (step, "
                 "min_partial_notional_usd and backstop_ratio are for mode partial)");
    EXPECT_ERROR(LIQ("{step: 0.2}"), "m.yaml:12:17: venue.liquidation.step: not used by mode full");
    EXPECT_ERROR(LIQ("{mode: partial, steps: 0.2}"),
                 "m.yaml:12:32: venue.liquidation.steps: unknown key (expected one of: mode, "
                 "fee_rate, max_rounds, step, min_partial_notional_usd, backstop_ratio, "
                 "remaining_equity)");
    EXPECT_ERROR(LIQ("[full]"),
                 "m.yaml:12:16: venue.liquidation: expected a mapping {mode, fee_rate, "
                 "max_rounds, remaining_equity, step, min_partial_notional_usd, "
                 "backstop_ratio}, got a sequence");
    EXPECT_ERROR(VENUE("  insurance_fund_usd: 0\n  adl: {ranking: okx}\n"),
                 "m.yaml:12:18: venue.adl.ranking: expected one of binance, bybit, hyperliquid, "
                 "none, got 'okx'");
    EXPECT_ERROR(VENUE("  insurance_fund_usd: 0\n  adl: {}\n"),
                 "m.yaml:12:8: venue.adl: missing required key 'ranking'");
    EXPECT_ERROR(VENUE("  insurance_fund_usd: 0\n  adl: binance\n"),
                 "m.yaml:12:8: venue.adl: expected a mapping {ranking}, got 'binance'");
}

static void test_tier_errors(void **state)
{
    (void)state;
    EXPECT_ERROR(TIER_TABLES("    DOGE: [{cap_usd: 1e6, mmr: 0.01, max_leverage: 20}]\n"),
                 "m.yaml:13:5: venue.tiers.DOGE: expected the symbol of an asset (BTC, ETH, SOL), "
                 "got 'DOGE'");
    EXPECT_ERROR(TIER_TABLES("    - BTC\n"),
                 "m.yaml:13:5: venue.tiers: expected a mapping of asset symbol to a sequence of "
                 "tiers, got a sequence");
    EXPECT_ERROR(TIER_TABLES("    BTC: {cap_usd: 1e6, mmr: 0.01, max_leverage: 20}\n"),
                 "m.yaml:13:10: venue.tiers.BTC: expected a non-empty sequence of tiers {cap_usd, "
                 "mmr, max_leverage}, got a mapping");
    EXPECT_ERROR(TIER_TABLES("    BTC: []\n"),
                 "m.yaml:13:10: venue.tiers.BTC: expected a non-empty sequence of tiers {cap_usd, "
                 "mmr, max_leverage}, got an empty sequence");
    EXPECT_ERROR(TIER_TABLES("    BTC: [{cap_usd: 1e6, max_leverage: 20}]\n"),
                 "m.yaml:13:11: venue.tiers.BTC[0]: missing required key 'mmr'");
    EXPECT_ERROR(TIER_TABLES("    BTC: [{cap_usd: 1e6, mmr: 0.01, max_leverage: 20, cum: 0}]\n"),
                 "m.yaml:13:55: venue.tiers.BTC[0].cum: unknown key (expected one of: cap_usd, "
                 "mmr, max_leverage)");
    EXPECT_ERROR(TIER_TABLES("    BTC: [{cap_usd: 0, mmr: 0.01, max_leverage: 20}]\n"),
                 "m.yaml:13:21: venue.tiers.BTC[0].cap_usd: expected a number in (0, 1e+15], got 0");
    EXPECT_ERROR(TIER_TABLES("    BTC: [{cap_usd: .inf, mmr: 0.01, max_leverage: 20}]\n"),
                 "m.yaml:13:21: venue.tiers.BTC[0].cap_usd: expected a number in (0, 1e+15], got .inf");
    EXPECT_ERROR(TIER_TABLES("    BTC: [{cap_usd: 1e6, mmr: 1, max_leverage: 20}]\n"),
                 "m.yaml:13:31: venue.tiers.BTC[0].mmr: expected a number in [0, 1), got 1");
    EXPECT_ERROR(TIER_TABLES("    BTC: [{cap_usd: 1e6, mmr: 0.01, max_leverage: 0.5}]\n"),
                 "m.yaml:13:51: venue.tiers.BTC[0].max_leverage: expected a number >= 1, got 0.5");
    /* order: xm_tiers_prepare's messages at the table, naming the tier */
    EXPECT_ERROR(TIER_TABLES("    ETH: [{cap_usd: 1e6, mmr: 0.01, max_leverage: 20}]\n"
                             "    BTC:\n"
                             "      - {cap_usd: 312500, mmr: 0.0041, max_leverage: 125}\n"
                             "      - {cap_usd: 300000, mmr: 0.0053, max_leverage: 100}\n"),
                 "m.yaml:15:7: venue.tiers.BTC[1].cap_usd: expected a finite cap above 312500, "
                 "got 300000");
    EXPECT_ERROR(TIER_TABLES("    BTC:\n"
                             "      - {cap_usd: 312500, mmr: 0.0041, max_leverage: 125}\n"
                             "      - {cap_usd: 812500, mmr: 0.0037, max_leverage: 100}\n"),
                 "m.yaml:14:7: venue.tiers.BTC[1].mmr: expected a rate in [0.0041, 1), got 0.0037");
    EXPECT_ERROR(TIER_TABLES("    BTC:\n"
                             "      - {cap_usd: 312500, mmr: 0.0041, max_leverage: 125}\n"
                             "      - {cap_usd: 812500, mmr: 0.0053, max_leverage: 150}\n"),
                 "m.yaml:14:7: venue.tiers.BTC[1].max_leverage: expected at least 1 and at most "
                 "125, got 150");
    EXPECT_ERROR(TIER_TABLES("    BTC: [{cap_usd: 1e6, mmr: 0.01, max_leverage: 20}]\n"
                             "    BTC: [{cap_usd: 2e6, mmr: 0.01, max_leverage: 20}]\n"),
                 "m.yaml:14:5: venue.tiers.BTC: duplicate key (first given at 13:5)");
}

static void test_account_errors(void **state)
{
    (void)state;
    EXPECT_ERROR(MARGIN_MARKET TIERS "accounts: {id: a}\n",
                 "m.yaml:17:11: accounts: expected a non-empty sequence of accounts {id, mode, "
                 "wallet_usd, positions}, got a mapping");
    EXPECT_ERROR(MARGIN_MARKET TIERS "accounts: []\n",
                 "m.yaml:17:11: accounts: expected a non-empty sequence of accounts", 
                 "got an empty sequence");
    EXPECT_ERROR(ACCOUNTS("  - whale\n"),
                 "m.yaml:18:5: accounts[0]: expected a mapping {id, mode, wallet_usd, "
                 "positions}, got 'whale'");
    EXPECT_ERROR(ACCOUNTS("  - {wallet_usd: 1, positions: []}\n"),
                 "m.yaml:18:5: accounts[0]: missing required key 'id'");
    EXPECT_ERROR(ACCOUNTS("  - {id: 17, wallet_usd: 1}\n"),
                 "m.yaml:18:10: accounts[0].id: expected a non-empty string, got 17 (quote it to "
                 "make it a string)");
    EXPECT_ERROR(ACCOUNTS("  - {id: \"a,b\", wallet_usd: 1}\n"),
                 "m.yaml:18:10: accounts[0].id: expected an account id (1 to 255 bytes; no "
                 "control characters, commas or double quotes), got 'a,b' (it has a comma)");
    EXPECT_ERROR(ACCOUNTS("  - {id: \"a\\tb\", wallet_usd: 1}\n"),
                 "m.yaml:18:10: accounts[0].id: expected an account id", "got 'a\\tb' (it has a "
                 "control character)");
    EXPECT_ERROR(ACCOUNTS("  - {id: whale-7, wallet_usd: 1, positions: [{asset: BTC, qty: 1, "
                          "entry: 90000}]}\n"
                          "  - {id: iso-3, mode: isolated, positions: [{asset: BTC, qty: 1, "
                          "entry: 90000, margin_usd: 1}]}\n"
                          "  - id: whale-7\n"),
                 "m.yaml:20:9: accounts[2].id: expected an id no other account has, got "
                 "'whale-7' (also accounts[0] at m.yaml:18:10)");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, mode: portfolio}\n"),
                 "m.yaml:18:19: accounts[0].mode: expected one of cross, isolated, got "
                 "'portfolio'");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, mode: cross, positions: []}\n"),
                 "m.yaml:18:5: accounts[0]: missing required key 'wallet_usd'");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, wallet_usd: -0.01}\n"),
                 "m.yaml:18:25: accounts[0].wallet_usd: expected a number in [0, 1e+15], got -0.01");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, mode: isolated, wallet_usd: 0, positions: []}\n"),
                 "m.yaml:18:29: accounts[0].wallet_usd: not used by mode isolated (each position "
                 "has its own margin_usd)");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, wallet_usd: 1}\n"),
                 "m.yaml:18:5: accounts[0]: missing required key 'positions'");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, wallet_usd: 1, positions: []}\n"),
                 "m.yaml:18:39: accounts[0].positions: expected a non-empty sequence of positions "
                 "{asset, qty, entry, ...}, got an empty sequence");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, wallet_usd: 1, positions: {asset: BTC}}\n"),
                 "m.yaml:18:39: accounts[0].positions: expected a non-empty sequence of "
                 "positions {asset, qty, entry, ...}, got a mapping");
    EXPECT_ERROR(ACCOUNTS("  - {id: a, wallet_usd: 1, positions: [{asset: BTC, qty: 1, entry: 9, "
                          "lev: 20}]}\n"),
                 "m.yaml:18:71: accounts[0].positions[0].lev: unknown key (expected one of: "
                 "asset, qty, entry, margin_usd)");
}

/* One position of a cross account (line 18; the position mapping at column 40). */
#define CROSS_POS(fields) ACCOUNTS("  - {id: a, wallet_usd: 1, positions: [{" fields "}]}\n")
/* One position of an isolated account (line 18; the position mapping at column 41). */
#define ISO_POS(fields) ACCOUNTS("  - {id: a, mode: isolated, positions: [{" fields "}]}\n")

static void test_position_errors(void **state)
{
    (void)state;
    EXPECT_ERROR(CROSS_POS("asset: DOGE, qty: 1, entry: 0.2"),
                 "m.yaml:18:48: accounts[0].positions[0].asset: expected the symbol of an asset "
                 "(BTC, ETH, SOL), got 'DOGE'");
    EXPECT_ERROR(CROSS_POS("asset: SOL, qty: 1, entry: 141"),
                 "m.yaml:18:48: accounts[0].positions[0].asset: expected an asset with a "
                 "maintenance-margin tier table, got 'SOL' (venue.tiers has no table for SOL)");
    EXPECT_ERROR(MARGIN_MARKET "accounts:\n  - {id: a, wallet_usd: 1, positions: [{asset: BTC, "
                               "qty: 1, entry: 90000}]}\n",
                 "m.yaml:11:48: accounts[0].positions[0].asset: expected an asset with a "
                 "maintenance-margin tier table, got 'BTC' (the model has no venue: section; "
                 "give venue.tiers.BTC)");
    EXPECT_ERROR(CROSS_POS("qty: 1, entry: 9"),
                 "m.yaml:18:40: accounts[0].positions[0]: missing required key 'asset'");
    EXPECT_ERROR(CROSS_POS("asset: BTC, qty: 0, entry: 90000"),
                 "m.yaml:18:58: accounts[0].positions[0].qty: expected a non-zero finite number "
                 "(base units, > 0 long, < 0 short), got 0");
    EXPECT_ERROR(CROSS_POS("asset: BTC, qty: -0.0, entry: 90000"),
                 "m.yaml:18:58: accounts[0].positions[0].qty: expected a non-zero finite number",
                 "got -0.0");
    EXPECT_ERROR(CROSS_POS("asset: BTC, qty: -.inf, entry: 90000"),
                 "m.yaml:18:58: accounts[0].positions[0].qty: expected a non-zero finite number",
                 "got -.inf");
    EXPECT_ERROR(CROSS_POS("asset: BTC, qty: one, entry: 90000"),
                 "m.yaml:18:58: accounts[0].positions[0].qty: expected a non-zero finite number",
                 "got 'one'");
    EXPECT_ERROR(CROSS_POS("asset: BTC, qty: 1"),
                 "m.yaml:18:40: accounts[0].positions[0]: missing required key 'entry'");
    EXPECT_ERROR(CROSS_POS("asset: BTC, qty: 1, entry: 0"),
                 "m.yaml:18:68: accounts[0].positions[0].entry: expected a number in [1e-09, 1e+12], got 0");
    EXPECT_ERROR(CROSS_POS("asset: BTC, qty: 1, entry: 90000, margin_usd: 4500"),
                 "m.yaml:18:75: accounts[0].positions[0].margin_usd: not used by mode cross (the "
                 "account's wallet_usd is the margin of all its positions)");
    EXPECT_ERROR(ISO_POS("asset: BTC, qty: 1, entry: 90000"),
                 "m.yaml:18:41: accounts[0].positions[0]: missing required key 'margin_usd'");
    EXPECT_ERROR(ISO_POS("asset: BTC, qty: 1, entry: 90000, margin_usd: 0"),
                 "m.yaml:18:88: accounts[0].positions[0].margin_usd: expected a number in (0, 1e+15], got 0");
    /* beyond the last tier cap (ETH: 1.93e6): |-651.3| * 3000 = 1953900 */
    EXPECT_ERROR(CROSS_POS("asset: ETH, qty: -651.3, entry: 3000"),
                 "m.yaml:18:40: accounts[0].positions[0]: expected |qty| * entry <= 1930000 USD "
                 "(the last tier cap of ETH in venue.tiers, model.md §3), got 1953900");
    /* two positions of one cross account, asset and side are one position (xmrisk/accounts.h,
     * Lots): 400 x 3000 + 251.3 x 3000 = 1953900, the second pushes it over */
    EXPECT_ERROR(CROSS_POS("asset: ETH, qty: -400, entry: 3000}, {asset: ETH, qty: -251.3, "
                           "entry: 3000"),
                 "m.yaml:18:78: accounts[0].positions[1]: expected |qty| * entry <= 1930000 USD "
                 "(the last tier cap of ETH in venue.tiers, model.md §3) for the account's "
                 "position in the asset on that side, which this one adds to (positions of one "
                 "cross account, asset and side are one position), got 1953900");
    /* exactly at the cap is fine (caps are inclusive) */
    xm_model *m = load_ok(CROSS_POS("asset: ETH, qty: -643.3, entry: 3000"));
    assert_int_equal(m->book->n_positions, 1);
    assert_near(m->book->qty[0], -643.3, 0);
    xm_model_free(m);
    m = load_ok(CROSS_POS("asset: BTC, qty: 2.5, entry: 325000"));
    assert_near(fabs(m->book->qty[0]) * m->book->entry[0], 812500, 0);
    xm_model_free(m);
}

static void test_accounts_csv_keys(void **state)
{
    (void)state;
    EXPECT_ERROR(MARGIN_MARKET TIERS "accounts_csv: data/accounts.csv\n",
                 "m.yaml:17:15: accounts_csv: expected a mapping {accounts, positions} of CSV "
                 "file paths, got 'data/accounts.csv'");
    EXPECT_ERROR(MARGIN_MARKET TIERS "accounts_csv: {positions: p.csv}\n",
                 "m.yaml:17:15: accounts_csv: missing required key 'accounts'");
    EXPECT_ERROR(MARGIN_MARKET TIERS "accounts_csv: {accounts: 5, positions: p.csv}\n",
                 "m.yaml:17:26: accounts_csv.accounts: expected a non-empty string, got 5");
    EXPECT_ERROR(MARGIN_MARKET TIERS "accounts_csv: {accounts: a.csv, positions: p.csv, x: 1}\n",
                 "m.yaml:17:51: accounts_csv.x: unknown key (expected one of: accounts, "
                 "positions)");
    /* an unreadable file: XM_EIO naming the path and the key that gave it */
    static const char text[] = MARGIN_MARKET TIERS
        "accounts_csv: {accounts: no-such-dir/a.csv, positions: p.csv}\n";
    xm_error err;
    xm_error_clear(&err);
    assert_null(xm_model_load_string(text, strlen(text), "/nonexistent/m.yaml", &err));
    assert_int_equal(err.status, XM_EIO);
    assert_string_equal(err.msg, "/nonexistent/no-such-dir/a.csv: cannot read: No such file or "
                                 "directory (given by accounts_csv.accounts at "
                                 "/nonexistent/m.yaml:17:26)");
}

static void test_population(void **state)
{
    (void)state;
    static const char text[] =
        POPULATION("\n"
                   "  accounts: 57\n"
                   "  isolated_share: 0.31\n"
                   "  assets_per_account: {min: 1, max: 2}\n"
                   "  asset_weights: {BTC: 3, ETH: 1.5}\n"
                   "  leverage: {median: 7.3, sigma: 0.41, min: 1.5, max: 40}\n"
                   "  notional_usd: {median: 2713, sigma: 1.1, min: 20, max: 1.0e6}\n"
                   "  long_share: 0.57\n"
                   "  hedged_share: 0.13\n"
                   "  entry_dispersion: 0.017\n"
                   "  id_prefix: p7-");
    xm_model *m = load_ok(text);
    const xm_accounts *b = m->book;
    assert_non_null(b);
    assert_int_equal(b->n_accounts, 57);
    assert_string_equal(xm_accounts_id(b, 0), "p7-00"); /* zero-padded to the width of 56 */
    assert_string_equal(xm_accounts_id(b, 56), "p7-56");
    size_t isolated = 0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        size_t k = b->first[a + 1] - b->first[a];
        assert_true(k >= 1 && k <= 2);
        isolated += b->mode[a] == XM_ISOLATED;
        double notional = 0.0;
        for (uint32_t j = b->first[a]; j < b->first[a + 1]; j++) {
            assert_true(b->asset[j] <= 1); /* BTC or ETH, never SOL (weight 0, no tiers) */
            double n = fabs(b->qty[j]) * b->entry[j];
            assert_true(n <= 1.0e6 * (1 + 1e-12));
            assert_true(n >= 20 * 0.999);
            if (b->mode[a] == XM_ISOLATED) /* M = N / L with L in [1.5, 40] */
                assert_true(b->margin[j] >= n / 40 * 0.999 && b->margin[j] <= n / 1.5 * 1.001);
            notional += n;
        }
        if (b->mode[a] == XM_CROSS)
            assert_true(b->wallet[a] >= notional / 40 * 0.999 &&
                        b->wallet[a] <= notional / 1.5 * 1.001);
    }
    assert_true(isolated > 5 && isolated < 35);
    /* the same seed gives the same population */
    xm_model *m2 = load_ok(text);
    assert_int_equal(m2->book->n_positions, b->n_positions);
    for (size_t j = 0; j < b->n_positions; j++) {
        assert_true(m2->book->qty[j] == b->qty[j]);
        assert_true(m2->book->entry[j] == b->entry[j]);
    }
    xm_model_free(m2);
    xm_model_free(m);

    /* defaults: SOL (no tiers) is not drawn; the population follows the explicit accounts */
    m = load_ok(ACCOUNTS("  - {id: pop-x, wallet_usd: 100, positions: [{asset: BTC, qty: 0.01, "
                         "entry: 90000}]}\n") "population: {accounts: 40}\n");
    assert_int_equal(m->book->n_accounts, 41);
    assert_string_equal(xm_accounts_id(m->book, 0), "pop-x");
    assert_string_equal(xm_accounts_id(m->book, 1), "pop-00");
    for (size_t j = 0; j < m->book->n_positions; j++)
        assert_true(m->book->asset[j] <= 1);
    xm_model_free(m);
}

static void test_population_errors(void **state)
{
    (void)state;
    EXPECT_ERROR(MARGIN_MARKET "population: {accounts: 10}\n",
                 "m.yaml:10:13: population: expected a model with a venue: section (tier tables "
                 "for the assets the population draws), got none");
    EXPECT_ERROR(POPULATION("{isolated_share: 0.2}"),
                 "m.yaml:17:13: population: missing required key 'accounts'");
    EXPECT_ERROR(POPULATION("{accounts: 0}"),
                 "m.yaml:17:24: population.accounts: expected an integer in [1, 100000000], got 0");
    /* A population that cannot fit: refused with the estimate (64 + 96 x 4 bytes per account
     * of up to 3 positions: 35.2 GB for 1e8), unless this machine really has that much. */
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
    if ((double)pages * (double)psize < 35.2e9)
        EXPECT_ERROR(POPULATION("{accounts: 100000000, assets_per_account: {min: 1, max: 3}}"),
                     "m.yaml:17:24: population.accounts: expected a population that fits in "
                          "memory: 100000000 accounts of up to 3 positions need about 35.2 GB, "
                          "this machine has ");
    else
        printf("skipped: this machine has more than 35.2 GB\n");
    EXPECT_ERROR(POPULATION("{accounts: 10, isolated_share: 1.2}"),
                 "m.yaml:17:44: population.isolated_share: expected a number in [0, 1], got 1.2");
    EXPECT_ERROR(POPULATION("{accounts: 10, long_share: -0.1}"),
                 "m.yaml:17:40: population.long_share: expected a number in [0, 1], got -0.1");
    EXPECT_ERROR(POPULATION("{accounts: 10, assets_per_account: {min: 3, max: 2}}"),
                 "m.yaml:17:62: population.assets_per_account.max: expected an integer >= min "
                 "(3), got 2");
    /* min 3 with the default max (3 assets): fine; the generator caps the count at the
     * assets it can draw (BTC and ETH) */
    xm_model *m = load_ok(POPULATION("{accounts: 10, assets_per_account: {min: 3}}"));
    for (size_t a = 0; a < m->book->n_accounts; a++)
        assert_int_equal(m->book->first[a + 1] - m->book->first[a], 2);
    xm_model_free(m);
    EXPECT_ERROR(POPULATION("{accounts: 10, assets_per_account: {max: 4}}"),
                 "m.yaml:17:54: population.assets_per_account.max: expected an integer in [1, 3], "
                 "got 4");
    EXPECT_ERROR(POPULATION("{accounts: 10, asset_weights: {DOGE: 1}}"),
                 "m.yaml:17:44: population.asset_weights.DOGE: expected the symbol of an asset "
                 "(BTC, ETH, SOL), got 'DOGE'");
    EXPECT_ERROR(POPULATION("{accounts: 10, asset_weights: {BTC: -1}}"),
                 "m.yaml:17:49: population.asset_weights.BTC: expected a number >= 0, got -1");
    EXPECT_ERROR(POPULATION("{accounts: 10, asset_weights: {BTC: 0, ETH: 0}}"),
                 "m.yaml:17:43: population.asset_weights: expected at least one weight > 0, got "
                 "none");
    EXPECT_ERROR(POPULATION("{accounts: 10, asset_weights: {BTC: 1, SOL: 0.5}}"),
                 "m.yaml:17:57: population.asset_weights.SOL: expected 0 for an asset without a "
                 "tier table (venue.tiers has no table for SOL), got 0.5");
    EXPECT_ERROR(POPULATION("{accounts: 10, asset_weights: {ETH: 1}, hedged_share: 0.25}"),
                 "m.yaml:17:67: population.hedged_share: expected 0 when the population can draw "
                 "only one asset");
    EXPECT_ERROR(POPULATION("{accounts: 10, leverage: {min: 0.5}}"),
                 "m.yaml:17:44: population.leverage.min: expected a number >= 1, got 0.5");
    EXPECT_ERROR(POPULATION("{accounts: 10, leverage: {median: 200}}"),
                 "m.yaml:17:47: population.leverage.median: expected a number in [min, max] = "
                 "[1, 125], got 200");
    EXPECT_ERROR(POPULATION("{accounts: 10, leverage: {max: 5}}"),
                 "m.yaml:17:38: population.leverage: expected min <= median <= max, got min 1, "
                 "max 5 and the default median 10 (give a median)");
    EXPECT_ERROR(POPULATION("{accounts: 10, leverage: {sigma: -0.7}}"),
                 "m.yaml:17:46: population.leverage.sigma: expected a number >= 0, got -0.7");
    EXPECT_ERROR(POPULATION("{accounts: 10, notional_usd: {min: 2e8}}"),
                 "m.yaml:17:48: population.notional_usd.min: expected a number <= max (50000000, "
                 "the default), got 2e8");
    EXPECT_ERROR(POPULATION("{accounts: 10, notional_usd: {min: 100, max: 50}}"),
                 "m.yaml:17:58: population.notional_usd.max: expected a number >= min (100), got "
                 "50");
    EXPECT_ERROR(POPULATION("{accounts: 10, notional_usd: 5000}"),
                 "m.yaml:17:42: population.notional_usd: expected a mapping {median, sigma, min, "
                 "max}, got 5000");
    EXPECT_ERROR(POPULATION("{accounts: 10, entry_dispersion: -0.02}"),
                 "m.yaml:17:46: population.entry_dispersion: expected a number in [0, 2], got -0.02");
    EXPECT_ERROR(POPULATION("{accounts: 10, id_prefix: \"a,\"}"),
                 "m.yaml:17:39: population.id_prefix: expected an id prefix without control "
                 "characters, commas or double quotes, got 'a,' (it has a comma)");
    EXPECT_ERROR(POPULATION("{accounts: 10, id_prefix: abcdefghijklmnop}"),
                 "m.yaml:17:39: population.id_prefix: expected a non-empty string of at most 15 "
                 "characters, got 'abcdefghijklmnop' (16 characters)");
    /* population ids clash with an id given before */
    EXPECT_ERROR(ACCOUNTS("  - {id: pop-3, wallet_usd: 100, positions: [{asset: BTC, qty: 0.01, "
                          "entry: 90000}]}\n") "population: {accounts: 10}\n",
                 "m.yaml:19:13: population: expected ids no other account has, got 'pop-3' "
                 "(from the default id_prefix 'pop-'; also accounts[0] at m.yaml:18:10): set "
                 "population.id_prefix");
    EXPECT_ERROR(ACCOUNTS("  - {id: w12, wallet_usd: 100, positions: [{asset: BTC, qty: 0.01, "
                          "entry: 90000}]}\n") "population: {accounts: 13, id_prefix: w}\n",
                 "m.yaml:19:39: population.id_prefix: expected a prefix that gives ids no other "
                 "account has, got 'w' (the population's 'w12' is also accounts[0] at "
                 "m.yaml:18:10)");
}

/* ---- bounds that keep every result finite (docs/model.md §7) ------------------------------ */

/* The inputs of issue 14 point 4 that broke the books are refused where they are written. */
static void test_finite_bounds(void **state)
{
    (void)state;
    EXPECT_ERROR(IMPACT("    BTC: {model: linear, depth_1pct_usd: 1e-3}\n"),
                 "m.yaml:7:42: market.impact.BTC.depth_1pct_usd: expected a number in [1000, "
                 "1e+15], got 1e-3");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 1e-6}\n"),
                 "m.yaml:7:42: market.impact.BTC.daily_volume_usd: expected a number in [1000, "
                 "1e+15], got 1e-6");
    xm_model_free(load_ok(IMPACT("    BTC: {model: linear, depth_1pct_usd: 1000}\n")));
    xm_model_free(load_ok(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 1e15, y: 10}\n")));
    /* jump_beta 100 and jumps.mean 10 are each within their bounds, not their product */
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n"
                      "  jumps: {rate_per_year: 4, mean: 10, stdev: 0}\n"
                      "  assets: [{symbol: BTC, price: 91234.56, vol: 0.5, jump_beta: 100}]\n",
                 "m.yaml:6:64: market.assets[0].jump_beta: expected |jump_beta| x "
                 "(|market.jumps.mean| + market.jumps.stdev) <= 20 (one jump moves ln S by at "
                 "most that), got 100 x (10 + 0) = 1000");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n"
                      "  jumps: {rate_per_year: 4, mean: -10, stdev: 1}\n"
                      "  assets: [{symbol: BTC, price: 91234.56, vol: 0.5, jump_beta: -2}]\n",
                 "got 2 x (10 + 1) = 22");
    /* at the bound: beta 1 (default) x (10 + 10) = 20 */
    xm_model_free(load_ok(HEAD "market:\n  process: gbm\n"
                               "  jumps: {rate_per_year: 4, mean: -10, stdev: 10}\n"
                               "  assets: [{symbol: BTC, price: 91234.56, vol: 0.5}]\n"));
    EXPECT_ERROR(VENUE("  insurance_fund_usd: 1e308\n"),
                 "m.yaml:11:23: venue.insurance_fund_usd: expected a number in [0, 1e+15], got "
                 "1e308");
    EXPECT_ERROR(ONE_ASSET("price: 1e-10, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got "
                 "1e-10");
}

/* steps: !!float 24 is refused as integer keys refuse 24.0, and the message shows the tag. */
static void test_tagged_integer(void **state)
{
    (void)state;
    EXPECT_ERROR("horizon_days: 1\nsteps: !!float 24\n",
                 "m.yaml:2:16: steps: expected an integer in [1, 100000000], got !!float 24");
    xm_model *m = load_ok("horizon_days: 1\nsteps: !!int 24\n"
                          "market: {process: gbm, assets: [{symbol: BTC, price: 1.5, vol: 0.2}]}\n");
    assert_int_equal(m->steps, 24);
    xm_model_free(m);
}

/* YAML 1.1 merge keys (<<): a mapping or a sequence of mappings, explicit keys win, the
 * earlier mapping of a sequence wins; messages point where a merged value was written. */
static void test_merge_keys(void **state)
{
    (void)state;
    xm_model *m = load_ok(HEAD "market:\n  process: gbm\n  assets:\n"
                               "    - &b {symbol: BTC, price: 91234.56, vol: 0.5, drift: 0.1}\n"
                               "    - <<: *b\n"
                               "      symbol: ETH\n"
                               "      price: 3000\n"
                               "    - <<: [{symbol: SOL, vol: 0.9}, *b]\n"
                               "  correlation: [[1, 0, 0], [0, 1, 0], [0, 0, 1]]\n");
    /* symbol, price, vol, drift of assets 1 and 2 */
    static const struct {
        const char *symbol;
        double v[3];
    } want[] = {{"ETH", {3000, 0.5, 0.1}}, {"SOL", {91234.56, 0.9, 0.1}}};
    for (int i = 0; i < 2; i++) {
        const xm_asset *a = &m->market.assets[i + 1];
        double got[3] = {a->price, a->vol, a->drift};
        assert_string_equal(a->symbol, want[i].symbol);
        for (int j = 0; j < 3; j++)
            assert_near(got[j], want[i].v[j], 0);
    }
    xm_model_free(m);
    /* a merged value out of range: located at its own line (6), not at the << (7) */
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - &b {symbol: BTC, price: -1, vol: 0.5}\n"
                      "    - <<: *b\n"
                      "      symbol: ETH\n",
                 "m.yaml:6:31: market.assets[0].price: expected a number in [1e-09, 1e+12], got "
                 "-1");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {symbol: BTC, price: 1.5, vol: 0.2}\n"
                      "    - <<: 5\n",
                 "m.yaml:7:11: <<: expected a mapping or a sequence of mappings to merge (YAML "
                 "merge key <<), got 5");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {symbol: BTC, price: 1.5, vol: 0.2}\n"
                      "    - <<: [{vol: 1}, [2]]\n",
                 "m.yaml:7:22: <<: expected a mapping or a sequence of mappings to merge (YAML "
                 "merge key <<), got a sequence holding a sequence");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {<<: {vol: 1}, symbol: BTC, <<: {price: 2}}\n",
                 "m.yaml:6:35: <<: duplicate key (first given at 6:8)");
    /* a quoted '<<' is an ordinary key */
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  assets:\n"
                      "    - {'<<': {vol: 1}, symbol: BTC, price: 1.5, vol: 0.2}\n",
                 "m.yaml:6:8: market.assets[0].<<: unknown key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_model),
        cmocka_unit_test(test_top_level_values),
        cmocka_unit_test(test_default_name_from_string_name),
        cmocka_unit_test(test_numbers_syntax),
        cmocka_unit_test(test_anchors_and_aliases),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_not_a_mapping),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_unknown_top_level_key),
        cmocka_unit_test(test_margin_sections_are_read),
        cmocka_unit_test(test_unknown_nested_keys),
        cmocka_unit_test(test_missing_required_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_unknown_process),
        cmocka_unit_test(test_jumps_with_bachelier),
        cmocka_unit_test(test_symbols),
        cmocka_unit_test(test_correlation_shape),
        cmocka_unit_test(test_correlation_not_positive_definite),
        cmocka_unit_test(test_correlation_repair),
        cmocka_unit_test(test_impact_errors),
        cmocka_unit_test(test_error_after_allocation),
        cmocka_unit_test(test_finite_bounds),
        cmocka_unit_test(test_tagged_integer),
        cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_margin_model),
        cmocka_unit_test(test_venue_defaults),
        cmocka_unit_test(test_venue_errors),
        cmocka_unit_test(test_tier_errors),
        cmocka_unit_test(test_account_errors),
        cmocka_unit_test(test_position_errors),
        cmocka_unit_test(test_accounts_csv_keys),
        cmocka_unit_test(test_population),
        cmocka_unit_test(test_population_errors),
    };
    return xm_run_tests(tests, NULL, NULL);
}
