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
                 "m.yaml:5:34: market.assets[0].price: expected a number > 0, got -1.5");
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
                 "horizon_days, steps, market)");
}

static void test_reserved_keys(void **state)
{
    (void)state;
    EXPECT_ERROR(HEAD "venue:\n  insurance_fund_usd: 5.0e7\n",
                 "m.yaml:3:1: venue: `venue` is not supported yet by this version of xmrisk "
                 "(the margin engine is not built)");
    EXPECT_ERROR("accounts: []\n" HEAD,
                 "m.yaml:1:1: accounts: `accounts` is not supported yet by this version of "
                 "xmrisk (the margin engine is not built)");
    EXPECT_ERROR(HEAD "population: {count: 10}\n", "m.yaml:3:1: population: `population` is not");
    EXPECT_ERROR(HEAD "accounts_csv: {accounts: a.csv}\n", "m.yaml:3:1: accounts_csv: `accounts_csv`");
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
                 "jumps, assets, correlation, correlation_repair, impact)");
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
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got 'abc'");
    EXPECT_ERROR(ONE_ASSET("price: true, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got true");
    EXPECT_ERROR(ONE_ASSET("price: \"91234\", vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got '91234' "
                 "(quoted: a string, "
                 "not a number)");
    EXPECT_ERROR(ONE_ASSET("price: [1], vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got a sequence");
    EXPECT_ERROR(ONE_ASSET("price: , vol: 0.2"),
                 "market.assets[0].price: expected a number > 0, got an empty value");
    EXPECT_ERROR(ONE_ASSET("price: ~, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got ~");
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
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got 0");
    EXPECT_ERROR(ONE_ASSET("price: -91234.5, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got -91234.5");
    EXPECT_ERROR(ONE_ASSET("price: 91234.5, vol: -0.5"),
                 "m.yaml:6:42: market.assets[0].vol: expected a number >= 0, got -0.5");
    EXPECT_ERROR(ONE_ASSET("price: 91234.5, vol: .nan"),
                 "m.yaml:6:42: market.assets[0].vol: expected a number >= 0, got .nan");
    EXPECT_ERROR(ONE_ASSET("price: .inf, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got .inf");
    EXPECT_ERROR(ONE_ASSET("price: 1e999, vol: 0.2"),
                 "m.yaml:6:28: market.assets[0].price: expected a number > 0, got 1e999");
    EXPECT_ERROR(ONE_ASSET("price: 1.5, vol: 0.2, drift: -.inf"),
                 "m.yaml:6:50: market.assets[0].drift: expected a finite number, got -.inf");
    EXPECT_ERROR(ONE_ASSET("price: 1.5, vol: 0.2, jump_beta: nan"),
                 "m.yaml:6:54: market.assets[0].jump_beta: expected a finite number, got nan");
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
                 "m.yaml:5:26: market.jumps.rate_per_year: expected a number >= 0, got -4");
    EXPECT_ERROR(HEAD "market:\n  process: gbm\n  jumps: {rate_per_year: 4, mean: 0, stdev: -1}\n",
                 "m.yaml:5:45: market.jumps.stdev: expected a number >= 0, got -1");
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
                 "m.yaml:7:42: market.impact.BTC.depth_1pct_usd: expected a number > 0, got 0");
    EXPECT_ERROR(IMPACT("    BTC: {model: sqrt, daily_volume_usd: 2e10, y: -0.8}\n"),
                 "m.yaml:7:51: market.impact.BTC.y: expected a number > 0, got -0.8");
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
        cmocka_unit_test(test_reserved_keys),
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
