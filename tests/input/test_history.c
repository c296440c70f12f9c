/* test_history.c — price history files (include/xmrisk/history.h): every file of data/ (rows,
 * interval, gaps), the Binance kline export, quoting and CRLF, unfinished candles, one test
 * per class of error (each checking FILE:LINE:COLUMN and the exit code), alignment of two
 * assets with different starts, day slicing, and the time parser. */
#include "xm_test.h"

#include "xmrisk/history.h"

#define DATA_DIR XM_TEST_DATA_DIR "/../../data"

static char tmpdir[512];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/xmtest-history-XXXXXX", base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char path[700];
    snprintf(path, sizeof path, "%s/h.csv", tmpdir);
    unlink(path);
    snprintf(path, sizeof path, "%s/g.csv", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return 0;
}

/* Write text to tmpdir/name; its path into out (700 bytes). */
static const char *write_tmp(const char *name, const char *text, char *out)
{
    snprintf(out, 700, "%s/%s", tmpdir, name);
    FILE *f = fopen(out, "wb");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        fail_msg("cannot write %s", out);
    return out;
}

/* data/FILE, loaded whole (opts NULL). */
static xm_history *load_data(const char *file)
{
    char path[700];
    xm_error err;
    snprintf(path, sizeof path, "%s/%s", DATA_DIR, file);
    xm_history *h = xm_history_load(path, NULL, &err);
    if (h == NULL)
        fail_msg("%s", err.msg);
    return h;
}

/* ---- the files of data/ ---------------------------------------------------------------- */

/* rows: `wc -l FILE` minus the header; gaps, missing, largest: computed independently with
 * python3 (csv + datetime: the most common step, the steps above it, sum(step / interval - 1)):
 *   t = [strptime(r[0]) for r in rows]; d = [b - a for a, b in zip(t, t[1:])]
 *   iv = Counter(d).most_common(1)[0][0]; gaps = [x for x in d if x > iv] */
static const struct {
    const char *file;
    size_t rows, gaps, missing;
    int64_t interval, largest;
} FILES[] = {
    {"btc_usdt_daily_binance.csv", 3065, 0, 0, 86400, 0},
    {"eth_usdt_daily_binance.csv", 3065, 0, 0, 86400, 0},
    {"sol_usdt_daily_binance.csv", 1975, 0, 0, 86400, 0},
    {"doge_usdt_daily_binance.csv", 2378, 0, 0, 86400, 0},
    {"bnb_usdt_daily_binance.csv", 2984, 0, 0, 86400, 0},
    {"xrp_usdt_daily_binance.csv", 2805, 0, 0, 86400, 0},
    {"btc_usdt_4h_binance.csv", 18371, 8, 16, 14400, 115200},
    {"eth_usdt_4h_binance.csv", 18371, 8, 16, 14400, 115200},
    {"sol_usdt_4h_binance.csv", 11847, 0, 0, 14400, 0},
    {"doge_usdt_4h_binance.csv", 14261, 2, 2, 14400, 28800},
    {"bnb_usdt_4h_binance.csv", 17886, 8, 16, 14400, 115200},
    {"xrp_usdt_4h_binance.csv", 16817, 7, 9, 14400, 43200},
    {"btc_usdt_1h_binance_2022-2025.csv", 34349, 1, 1, 3600, 7200},
    {"eth_usdt_1h_binance_2022-2025.csv", 34349, 1, 1, 3600, 7200},
};

static void test_data_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", DATA_DIR, FILES[i].file);
        xm_error err;
        xm_history *h = xm_history_load(path, NULL, &err);
        if (h == NULL)
            fail_msg("%s", err.msg);
        assert_int_equal(xm_history_n(h), FILES[i].rows);
        assert_int_equal(xm_history_interval(h), FILES[i].interval);
        const xm_history_gap_info *g = xm_history_gaps(h);
        assert_int_equal(g->n_gaps, FILES[i].gaps);
        assert_int_equal(g->n_missing, FILES[i].missing);
        assert_int_equal(g->largest, FILES[i].largest);
        assert_int_equal(xm_history_dropped(h, NULL), 0);
        xm_history_free(h);
        /* the last row (2026-01-06 or 2025-12-02 05:00) is unfinished (data/README.md) */
        xm_history_opts o = {.drop_last = 1};
        h = xm_history_load(path, &o, &err);
        assert_non_null(h);
        assert_int_equal(xm_history_n(h), FILES[i].rows - 1);
        xm_history_free(h);
    }
}

/* BTC 4h: the largest gap is 2018-02-08 00:00 -> 2018-02-09 08:00 (data/README.md); the first
 * row 2017-08-17 04:00:00,4261.48,4349.99,4261.32,4349.99 (head -2). */
static void test_btc_4h_values(void **state)
{
    (void)state;
    xm_history *h = load_data("btc_usdt_4h_binance.csv");
    assert_non_null(h);
    int64_t t;
    assert_int_equal(xm_history_parse_time("2018-02-08 00:00:00", 19, &t), 0);
    assert_int_equal(xm_history_gaps(h)->largest_from, t);
    assert_int_equal(xm_history_parse_time("2017-08-17 04:00:00", 19, &t), 0);
    assert_int_equal(xm_history_t(h)[0], t);
    assert_true(xm_history_open(h)[0] == 4261.48 && xm_history_high(h)[0] == 4349.99);
    assert_true(xm_history_low(h)[0] == 4261.32 && xm_history_close(h)[0] == 4349.99);
    xm_history_free(h);
}

/* ---- formats ----------------------------------------------------------------------------- */

static void test_binance_export(void **state)
{
    (void)state;
    xm_error err;
    xm_history *h = xm_history_load(XM_TEST_DATA_DIR "/history/binance_klines_1h.csv", NULL, &err);
    if (h == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(xm_history_n(h), 4);
    assert_int_equal(xm_history_interval(h), 3600);
    assert_int_equal(xm_history_t(h)[0], 1640995200); /* 2022-01-01 00:00 UTC (python) */
    assert_true(xm_history_close(h)[3] == 46813.2);
    /* the same candles as the project's hourly file */
    xm_history *p = load_data("btc_usdt_1h_binance_2022-2025.csv");
    assert_non_null(p);
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(xm_history_t(h)[k], xm_history_t(p)[k]);
        assert_true(xm_history_low(h)[k] == xm_history_low(p)[k]);
        assert_true(xm_history_high(h)[k] == xm_history_high(p)[k]);
    }
    xm_history_free(p);
    xm_history_free(h);
}

/* A header in another order with extra columns, quotes, CRLF, a BOM, ms times, no final EOL. */
static void test_header_quotes_crlf(void **state)
{
    (void)state;
    char path[700];
    write_tmp("h.csv",
              "\xEF\xBB\xBF" "ticker,\"Close\",low,HIGH,open,Open Time\r\n"
              "\"A,B\",2,1,3,1.5,1640995200000\r\n"
              "x,\"2.5\",2,3,2,\"1640998800000\"\r\n"
              "y,2.5,2.5,2.5,2.5,2022-01-01T02:00Z",
              path);
    xm_error err;
    xm_history *h = xm_history_load(path, NULL, &err);
    if (h == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(xm_history_n(h), 3);
    assert_int_equal(xm_history_interval(h), 3600);
    assert_true(xm_history_open(h)[0] == 1.5 && xm_history_close(h)[1] == 2.5);
    assert_int_equal(xm_history_t(h)[2], 1640995200 + 7200);
    xm_history_free(h);
}

static const char ROWS[] = "timestamp,open,high,low,close,volume\n"
                           "2022-01-01 00:00:00,10,12,9,11,1\n"
                           "2022-01-01 01:00:00,11,12,10,11,1\n"
                           "2022-01-01 03:00:00,11,13,10,12,1\n" /* 02:00 removed */
                           "2022-01-01 04:00:00,12,13,11,12,1\n"
                           "2022-01-01 05:00:00,12,14,11,13,1\n";

static void test_gap_and_unfinished(void **state)
{
    (void)state;
    char path[700];
    write_tmp("g.csv", ROWS, path);
    xm_error err;
    xm_history *h = xm_history_load(path, NULL, &err);
    assert_non_null(h);
    assert_int_equal(xm_history_n(h), 5);
    const xm_history_gap_info *g = xm_history_gaps(h);
    assert_int_equal(g->n_gaps, 1);
    assert_int_equal(g->n_missing, 1);
    assert_int_equal(g->largest, 7200);
    assert_int_equal(g->largest_from, 1640995200 + 3600);
    xm_history_free(h);
    /* until 05:30: the 05:00 candle ends at 06:00, after it: dropped */
    xm_history_opts o = {.has_until = 1, .until = 1640995200 + 5 * 3600 + 1800};
    h = xm_history_load(path, &o, &err);
    int64_t first;
    assert_int_equal(xm_history_n(h), 4);
    assert_int_equal(xm_history_dropped(h, &first), 1);
    assert_int_equal(first, 1640995200 + 5 * 3600);
    char buf[512];
    assert_contains(xm_history_describe(h, buf, sizeof buf),
                    "4 rows of 1h, 2022-01-01 00:00:00 -> 2022-01-01 04:00:00; 1 gap (1 candles "
                    "missing, largest 2h after 2022-01-01 01:00:00); 1 unfinished candle from "
                    "2022-01-01 05:00:00 dropped");
    xm_history_free(h);
    /* until 04:00 exactly: the 04:00 and 05:00 candles end later */
    o.until = 1640995200 + 4 * 3600;
    h = xm_history_load(path, &o, &err);
    assert_int_equal(xm_history_n(h), 3);
    xm_history_free(h);
}

/* ---- errors ------------------------------------------------------------------------------ */

/* The file `text` fails with `status` and a message "PATH<where>" containing `what`. */
static void expect_error(const char *text, xm_status status, const char *where, const char *what)
{
    char path[700], want[800];
    write_tmp("h.csv", text, path);
    xm_error err;
    xm_error_clear(&err);
    assert_null(xm_history_load(path, NULL, &err));
    assert_int_equal(err.status, status);
    snprintf(want, sizeof want, "%s%s", path, where);
    if (strncmp(err.msg, want, strlen(want)) != 0)
        fail_msg("expected the message to start with \"%s\", got \"%s\"", want, err.msg);
    assert_contains(err.msg, what);
    assert_int_equal(xm_status_exit_code(err.status), status == XM_EIO ? 1 : 2);
}

#define HDR "timestamp,open,high,low,close,volume\n"
#define R1 "2022-01-01 00:00:00,10,12,9,11,1\n"

static void test_errors(void **state)
{
    (void)state;
    expect_error(HDR R1 "2022-01-01 01:00:00,11,12,10,11.5,1\n2022-01-01 02:00:00,11,12,12,11,1\n",
                 XM_EMODEL, ":4:27: low: ", "expected a price <= min(open, close) = 11, got '12'");
    expect_error(HDR R1 "2022-01-01 01:00:00,11,11.4,10,11.5,1\n", XM_EMODEL, ":3:24: high: ",
                 "expected a price >= max(open, close) = 11.5, got '11.4'");
    expect_error(HDR R1 "2022-01-01 01:00:00,-1,12,10,11,1\n", XM_EMODEL, ":3:21: open: ",
                 "expected a price (a finite decimal number > 0), got '-1'");
    expect_error(HDR R1 "2022-01-01 01:00:00,11,12,10,1e999,1\n", XM_EMODEL, ":3:30: close: ",
                 "got '1e999'");
    expect_error(HDR R1 "2022-01-01 01:00:00,11,12,,11,1\n", XM_EMODEL, ":3:27: low: ",
                 "got an empty field");
    expect_error(HDR R1 "2022-01-01 01:00:00,nan,12,10,11,1\n", XM_EMODEL, ":3:21: open: ",
                 "got 'nan'");
    expect_error(HDR R1 "2022-02-30 01:00:00,11,12,10,11,1\n", XM_EMODEL, ":3:1: timestamp: ",
                 "expected a UTC time");
    expect_error(HDR R1 "2022-01-01 24:00:00,11,12,10,11,1\n", XM_EMODEL, ":3:1: timestamp: ",
                 "got '2022-01-01 24:00:00'");
    expect_error(HDR R1 "2022-01-01 01:00:00,11,12,10,11,1\n2022-01-01 01:00:00,11,12,10,11,1\n",
                 XM_EMODEL, ":4:1: timestamp: ",
                 "expected a time later than the previous row's (2022-01-01 01:00:00)");
    expect_error(HDR R1 "2022-01-01 01:00:00,11,12,10,11,1\n2022-01-01 02:00:00,11,12,10,11,1\n"
                        "2022-01-01 02:30:00,11,12,10,11,1\n",
                 XM_EMODEL, ":5:1: timestamp: ",
                 "expected a time a whole number of intervals (1h) after the previous row's");
    expect_error(HDR R1 "2022-01-01 01:00:00,11,12,10,11\n", XM_EMODEL, ":3:1: ",
                 "expected 6 fields (as the header), got 5");
    expect_error(HDR R1 "\n2022-01-01 01:00:00,11,12,10,11,1\n", XM_EMODEL, ":3:1: ",
                 "got an empty line");
    expect_error(HDR R1 "2022-01-01 01:00:00,\"11,12,10,11,1\n", XM_EMODEL, ":3:21: ",
                 "expected a quoted field closed by");
    expect_error("1640995200000,1,2,1,2,5\n", XM_EMODEL, ":1:1: ",
                 "expected 12 fields (a Binance kline row), got 6");
    expect_error("time,open,high,close\n", XM_EMODEL, ":1:1: ", "no column 'low'");
    expect_error("", XM_EMODEL, ":1:1: ", "got an empty file");
    expect_error(HDR R1, XM_EMODEL, ": ", "expected at least 2 rows (to find the interval), got 1");
    expect_error(HDR "1970-01-01 00:00:00,1,1,1,1,1\n1970-01-01 00:00:30,1,1,1,1,1\n", XM_EMODEL,
                 ": ", "expected candles a whole number of minutes apart, got a most common "
                       "step of 30s");
    char dir[700];
    snprintf(dir, sizeof dir, "%s", tmpdir);
    xm_error err;
    assert_null(xm_history_load(dir, NULL, &err));
    assert_int_equal(err.status, XM_EIO);
    assert_contains(err.msg, ": cannot read: ");
    assert_int_equal(xm_status_exit_code(err.status), 1);
}

/* ---- alignment and days ------------------------------------------------------------------ */

static xm_history *load_text(const char *name, const char *text)
{
    char path[700];
    xm_error err;
    xm_history *h = xm_history_load(write_tmp(name, text, path), NULL, &err);
    if (h == NULL)
        fail_msg("%s", err.msg);
    return h;
}

static void test_align(void **state)
{
    (void)state;
    xm_history *a = load_text("h.csv", ROWS); /* 00, 01, 03, 04, 05 */
    xm_history *b = load_text("g.csv", HDR "2022-01-01 01:00:00,1,1,1,1,1\n"
                                           "2022-01-01 02:00:00,1,1,1,1,1\n"
                                           "2022-01-01 03:00:00,1,1,1,1,1\n"
                                           "2022-01-01 05:00:00,1,1,1,1,1\n"
                                           "2022-01-01 06:00:00,1,1,1,1,1\n");
    const xm_history *hs[2] = {a, b};
    xm_history_aligned al;
    xm_error err;
    assert_int_equal(xm_history_align(hs, 2, &al, &err), XM_OK);
    /* common: 01 (rows 1, 0), 03 (2, 2), 05 (4, 3) */
    assert_int_equal(al.n, 3);
    static const size_t rows[] = {1, 0, 2, 2, 4, 3};
    for (size_t k = 0; k < 6; k++)
        assert_int_equal(al.row[k], rows[k]);
    assert_int_equal(al.t[0], 1640995200 + 3600);
    assert_int_equal(al.t[2], 1640995200 + 5 * 3600);
    xm_history_aligned_clear(&al);
    /* the real files: ETH 4h and SOL 4h (SOL starts 2020-08-11 04:00, no gaps): the common
     * times are SOL's 11847 rows */
    xm_history *e = load_data("eth_usdt_4h_binance.csv");
    xm_history *s = load_data("sol_usdt_4h_binance.csv");
    const xm_history *es[2] = {e, s};
    assert_int_equal(xm_history_align(es, 2, &al, &err), XM_OK);
    assert_int_equal(al.n, 11847);
    assert_int_equal(al.t[0], xm_history_t(s)[0]);
    assert_int_equal(xm_history_t(e)[al.row[0]], xm_history_t(s)[0]);
    assert_int_equal(al.row[1], 0);
    xm_history_aligned_clear(&al);
    /* different intervals */
    xm_history *d = load_data("sol_usdt_daily_binance.csv");
    const xm_history *ed[2] = {e, d};
    assert_int_equal(xm_history_align(ed, 2, &al, &err), XM_EMODEL);
    assert_contains(err.msg, "sol_usdt_daily_binance.csv: interval 1d, but ");
    assert_contains(err.msg, "eth_usdt_4h_binance.csv has 4h");
    xm_history_free(d);
    xm_history_free(e);
    xm_history_free(s);
    xm_history_free(a);
    xm_history_free(b);
}

static void test_day(void **state)
{
    (void)state;
    xm_history *h = load_data("btc_usdt_1h_binance_2022-2025.csv");
    assert_non_null(h);
    int64_t t;
    size_t first;
    /* 2025-10-10: 24 hours, from row 24 * days(2022-01-01 .. 2025-10-10) - 1 (the missing hour
     * 2023-03-24 13:00); python: (date(2025,10,10) - date(2022,1,1)).days = 1378 */
    assert_int_equal(xm_history_parse_time("2025-10-10 17:30", 16, &t), 0);
    assert_int_equal(xm_history_day(h, t, &first), 24);
    assert_int_equal(first, 24 * 1378 - 1);
    assert_int_equal(xm_history_t(h)[first], 1760054400);
    /* 2025-10-10 21:00, the crash hour: low 102000 (data README) */
    assert_true(xm_history_low(h)[first + 21] == 102000.0);
    /* 2023-03-24 has 23 hours */
    assert_int_equal(xm_history_parse_time("2023-03-24", 10, &t), 0);
    assert_int_equal(xm_history_day(h, t, &first), 23);
    /* the last day, 2025-12-02: 00:00-05:00, six rows; a day after the file: none */
    assert_int_equal(xm_history_parse_time("2025-12-02", 10, &t), 0);
    assert_int_equal(xm_history_day(h, t, &first), 6);
    assert_int_equal(xm_history_day(h, t + 86400, &first), 0);
    assert_int_equal(first, xm_history_n(h));
    xm_history_free(h);
}

/* Epoch seconds from python: datetime.fromisoformat(S).replace(tzinfo=utc).timestamp(). */
static void test_times(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t t;
    } ok[] = {{"2022-01-01", 1640995200},           {"2000-02-29 12:34:56", 951827696},
              {"1969-12-31 23:00:00", -3600},        {"2025-10-10", 1760054400},
              {"2025-10-10T00:00:00Z", 1760054400}, {"1760054400000", 1760054400},
              {"1760054400000000", 1760054400},     {"1760054400", 1760054400}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t = 0;
        assert_int_equal(xm_history_parse_time(ok[i].s, strlen(ok[i].s), &t), 0);
        assert_int_equal(t, ok[i].t);
    }
    static const char *const bad[] = {"2023-02-29", "2022-13-01", "2022-01-01 00:60",
                                      "2022-1-01",  "1760054400001", "2022-01-01 00:00:00+01",
                                      "",           "-5",            "2022-01-01x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        if (xm_history_parse_time(bad[i], strlen(bad[i]), &t) == 0)
            fail_msg("'%s' accepted", bad[i]);
    }
    char buf[32];
    assert_string_equal(xm_history_format_time(951827696, buf, sizeof buf), "2000-02-29 12:34:56");
    assert_string_equal(xm_history_format_time(-3600, buf, sizeof buf), "1969-12-31 23:00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_files),  cmocka_unit_test(test_btc_4h_values),
        cmocka_unit_test(test_binance_export), cmocka_unit_test(test_header_quotes_crlf),
        cmocka_unit_test(test_gap_and_unfinished), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_align),       cmocka_unit_test(test_day),
        cmocka_unit_test(test_times),
    };
    return xm_run_tests(tests, setup_dir, teardown_dir);
}
