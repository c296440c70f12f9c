/* test_accounts_csv.c — accounts and positions from CSV files (src/input/accounts_csv.h): valid files and
 * the book they give, path resolution from a model file, line ends, one test per class of error
 * (each checking FILE:LINE and the column named), the id map, and the speed on a generated
 * file of 200,000 accounts. */
#include "xm_test.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include "input/accounts_csv.h"
#include "xmrisk/model.h"

/* ---- fixtures --------------------------------------------------------------------------- */

static char tmpdir[512];

static int setup_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/xmtest-accounts-XXXXXX", base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void remove_file(const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
}

static int teardown_dir(void **state)
{
    (void)state;
    static const char *const names[] = {"a.csv", "p.csv", "m.yaml", "big-a.csv", "big-p.csv",
                                        NULL};
    for (int i = 0; names[i]; i++)
        remove_file(names[i]);
    rmdir(tmpdir);
    return 0;
}

/* Write `text` (len bytes) to tmpdir/name; the path goes to out. */
static void write_tmp(const char *name, const char *text, size_t len, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
    FILE *f = fopen(out, "wb");
    if (f == NULL)
        fail_msg("cannot write %s", out);
    if (fwrite(text, 1, len, f) != len)
        fail_msg("cannot write %s", out);
    fclose(f);
}

/* Market BTC, ETH, SOL; venue with tiers for BTC (caps 312500, 2.5e6) and ETH (1.93e6). */
typedef struct {
    xm_market m;
    xm_venue v;
} world;

static void world_init(world *w)
{
    xm_error err;
    memset(w, 0, sizeof *w);
    assert_int_equal(xm_market_init(&w->m, 3, &err), XM_OK);
    static const char *const sym[] = {"BTC", "ETH", "SOL"};
    static const double price[] = {91234.56, 3047.19, 141.07};
    for (int i = 0; i < 3; i++) {
        snprintf(w->m.assets[i].symbol, XM_SYMBOL_MAX, "%s", sym[i]);
        w->m.assets[i].price = price[i];
        w->m.assets[i].vol = 0.5;
    }
    assert_int_equal(xm_venue_init(&w->v, 3, &err), XM_OK);
    xm_tier_table *btc = &w->v.tiers[0], *eth = &w->v.tiers[1];
    assert_int_equal(xm_tiers_alloc(btc, 2, &err), XM_OK);
    btc->tier[0] = (xm_tier){312500, 0.0041, 125, 0};
    btc->tier[1] = (xm_tier){2.5e6, 0.0053, 100, 0};
    assert_int_equal(xm_tiers_prepare(btc, "BTC", &err), XM_OK);
    assert_int_equal(xm_tiers_alloc(eth, 1, &err), XM_OK);
    eth->tier[0] = (xm_tier){1.93e6, 0.0061, 75, 0};
    assert_int_equal(xm_tiers_prepare(eth, "ETH", &err), XM_OK);
}

static void world_clear(world *w)
{
    xm_venue_clear(&w->v);
    xm_market_clear(&w->m);
}

/* Load two texts as tmpdir/a.csv and tmpdir/p.csv into `book`. */
static xm_status load_texts(const world *w, const char *acc, const char *pos, xm_accounts *book,
                            xm_error *err)
{
    char ap[700], pp[700];
    write_tmp("a.csv", acc, strlen(acc), ap, sizeof ap);
    write_tmp("p.csv", pos, strlen(pos), pp, sizeof pp);
    return xm_accounts_csv_load(ap, pp, &w->m, &w->v, book, NULL, err);
}

/* The files must fail with XM_EMODEL, one line, containing every needle; "A:" and "P:" at the
 * start of a needle stand for the accounts and positions paths. The book must be unchanged. */
static void expect_csv_error_at(int line, const char *acc, const char *pos, ...)
{
    world w;
    world_init(&w);
    xm_error err;
    xm_error_clear(&err);
    xm_accounts *book = xm_accounts_alloc(&err);
    assert_non_null(book);
    xm_status s = load_texts(&w, acc, pos, book, &err);
    if (s != XM_EMODEL)
        fail_msg("line %d: status %s, expected EMODEL (%s)", line, xm_status_name(s), err.msg);
    if (strchr(err.msg, '\n') != NULL)
        fail_msg("line %d: message is not one line: %s", line, err.msg);
    assert_int_equal(book->n_accounts, 0);
    assert_int_equal(book->n_positions, 0);
    va_list ap;
    va_start(ap, pos);
    const char *needle;
    while ((needle = va_arg(ap, const char *)) != NULL) {
        char full[1024];
        if (strncmp(needle, "A:", 2) == 0 || strncmp(needle, "P:", 2) == 0)
            snprintf(full, sizeof full, "%s/%s:%s", tmpdir, needle[0] == 'A' ? "a.csv" : "p.csv",
                     needle + 2);
        else
            snprintf(full, sizeof full, "%s", needle);
        if (strstr(err.msg, full) == NULL) {
            va_end(ap);
            fail_msg("line %d: expected \"%s\" in \"%s\"", line, full, err.msg);
        }
    }
    va_end(ap);
    xm_accounts_free(book);
    world_clear(&w);
}
#define EXPECT_CSV_ERROR(acc, pos, ...)                                                       \
    expect_csv_error_at(__LINE__, acc, pos, __VA_ARGS__, (const char *)NULL)

#define ACC_HEADER "id,mode,wallet_usd\n"
#define POS_HEADER "account_id,asset,qty,entry,margin_usd\n"
/* a valid pair to vary one line at a time */
#define ACC_OK ACC_HEADER "whale-7,cross,2500000.75\niso-3,isolated,\n"
#define POS_OK POS_HEADER "whale-7,BTC,1.73,90873.5,\niso-3,ETH,-3.3,3050,1007.75\n"

/* ---- valid files ------------------------------------------------------------------------ */

static void check_fixture_book(const xm_accounts *b, size_t a0, size_t j0)
{
    /* tests/data/csv: accounts in file order, positions grouped by account, file order kept */
    static const char *const ids[] = {"whale-7", "iso-3", "acc-0012", "iso-9"};
    static const uint8_t mode[] = {XM_CROSS, XM_ISOLATED, XM_CROSS, XM_ISOLATED};
    static const double wallet[] = {2500000.75, 0, 13500, 0};
    static const uint32_t count[] = {2, 2, 2, 1};
    static const uint16_t asset[] = {0, 1, 0, 1, 1, 0, 1};
    static const double qty[] = {17.3, -210.5, 0.0421, -3.3, -4.0625, 0.125, 15},
                        entry[] = {90873.5, 3044.1, 91002.7, 3050, 3011.25, 91000, 2999.99},
                        margin[] = {0, 0, 388.19, 1007.75, 0, 0, 4417.5};
    size_t j = j0;
    for (size_t k = 0; k < 4; k++) {
        size_t a = a0 + k;
        assert_string_equal(xm_accounts_id(b, a), ids[k]);
        assert_int_equal(b->mode[a], mode[k]);
        assert_near(b->wallet[a], wallet[k], 0);
        assert_int_equal(b->first[a], j);
        assert_int_equal(b->first[a + 1] - b->first[a], count[k]);
        j += count[k];
    }
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(b->asset[j0 + i], asset[i]);
        assert_near(b->qty[j0 + i], qty[i], 0);
        assert_near(b->entry[j0 + i], entry[i], 0);
        assert_near(b->margin[j0 + i], margin[i], 0);
    }
    assert_int_equal(b->owner[j0 + 6], a0 + 3);
}

static void test_csv_fixture(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_error err;
    xm_error_clear(&err);
    xm_accounts *b = xm_accounts_alloc(&err);
    /* an account already in the book stays first; the files' accounts follow */
    assert_int_equal(xm_accounts_add_account(b, "before", XM_CROSS, 17, &err), XM_OK);
    assert_int_equal(xm_accounts_add_position(b, 1, 2.5, 3000, 0, &err), XM_OK);
    xm_status s = xm_accounts_csv_load(XM_TEST_DATA_DIR "/csv/accounts.csv",
                                       XM_TEST_DATA_DIR "/csv/positions.csv", &w.m, &w.v, b, NULL,
                                       &err);
    if (s != XM_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(b->n_accounts, 5);
    assert_int_equal(b->n_positions, 8);
    assert_string_equal(xm_accounts_id(b, 0), "before");
    check_fixture_book(b, 1, 1);

    /* an id of the book is taken: a private id map is seeded with the book's ids */
    s = xm_accounts_csv_load(XM_TEST_DATA_DIR "/csv/accounts.csv",
                             XM_TEST_DATA_DIR "/csv/positions.csv", &w.m, &w.v, b, NULL, &err);
    assert_int_equal(s, XM_EMODEL);
    assert_string_equal(err.msg, XM_TEST_DATA_DIR "/csv/accounts.csv:2: id: expected an id no "
                                 "other account has, got 'whale-7' (also account #1 given before "
                                 "these files)");
    assert_int_equal(b->n_accounts, 5);
    xm_accounts_free(b);
    world_clear(&w);
}

static void test_csv_from_model(void **state)
{
    (void)state;
    /* paths relative to the model file's directory; YAML accounts, then CSV, then population */
    xm_error err;
    xm_error_clear(&err);
    xm_model *m = xm_model_load(XM_TEST_DATA_DIR "/models/with_csv.yaml", &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    const xm_accounts *b = m->book;
    assert_int_equal(b->n_accounts, 1 + 4 + 25);
    assert_string_equal(xm_accounts_id(b, 0), "yaml-1");
    assert_near(b->wallet[0], 1234.5, 0);
    assert_near(b->qty[0], -0.0313, 0);
    check_fixture_book(b, 1, 1);
    assert_string_equal(xm_accounts_id(b, 5), "gen-00");
    assert_string_equal(xm_accounts_id(b, 29), "gen-24");
    xm_model_free(m);

    /* in-memory text: relative to the directory of the name given */
    char ap[700], pp[700], name[700];
    write_tmp("a.csv", ACC_OK, strlen(ACC_OK), ap, sizeof ap);
    write_tmp("p.csv", POS_OK, strlen(POS_OK), pp, sizeof pp);
    snprintf(name, sizeof name, "%s/m.yaml", tmpdir);
    static const char text[] =
        "horizon_days: 1\nsteps: 4\n"
        "market: {process: gbm, assets: [{symbol: BTC, price: 91234.56, vol: 0.5}, "
        "{symbol: ETH, price: 3047.19, vol: 0.7}], correlation: [[1, 0.8], [0.8, 1]]}\n"
        "venue: {insurance_fund_usd: 0, tiers: {BTC: [{cap_usd: 1e6, mmr: 0.004, "
        "max_leverage: 125}], ETH: [{cap_usd: 1e6, mmr: 0.005, max_leverage: 100}]}}\n"
        "accounts_csv: {accounts: a.csv, positions: p.csv}\n";
    m = xm_model_load_string(text, strlen(text), name, &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(m->book->n_accounts, 2);
    assert_string_equal(xm_accounts_id(m->book, 1), "iso-3");
    xm_model_free(m);
    /* absolute paths as given */
    char text2[2048];
    snprintf(text2, sizeof text2, "%.*saccounts_csv: {accounts: %s, positions: %s}\n",
             (int)(strstr(text, "accounts_csv") - text), text, ap, pp);
    m = xm_model_load_string(text2, strlen(text2), "elsewhere/m.yaml", &err);
    if (m == NULL)
        fail_msg("%s", err.msg);
    assert_int_equal(m->book->n_positions, 2);
    xm_model_free(m);

    /* duplicates across sources, named with the first occurrence */
    static const char dup[] =
        "horizon_days: 1\nsteps: 4\n"
        "market: {process: gbm, assets: [{symbol: BTC, price: 91234.56, vol: 0.5}, "
        "{symbol: ETH, price: 3047.19, vol: 0.7}], correlation: [[1, 0.8], [0.8, 1]]}\n"
        "venue: {insurance_fund_usd: 0, tiers: {BTC: [{cap_usd: 1e6, mmr: 0.004, "
        "max_leverage: 125}], ETH: [{cap_usd: 1e6, mmr: 0.005, max_leverage: 100}]}}\n"
        "accounts:\n"
        "  - {id: iso-3, wallet_usd: 5, positions: [{asset: BTC, qty: 0.1, entry: 9e4}]}\n"
        "accounts_csv: {accounts: a.csv, positions: p.csv}\n";
    assert_null(xm_model_load_string(dup, strlen(dup), name, &err));
    assert_int_equal(err.status, XM_EMODEL);
    char want[4096];
    snprintf(want, sizeof want, "%s:3: id: expected an id no other account has, got 'iso-3' "
             "(also accounts[0] at %s:6:10)", ap, name);
    assert_string_equal(err.msg, want);
    /* a population id equal to a CSV id */
    static const char pop[] =
        "horizon_days: 1\nsteps: 4\n"
        "market: {process: gbm, assets: [{symbol: BTC, price: 91234.56, vol: 0.5}, "
        "{symbol: ETH, price: 3047.19, vol: 0.7}], correlation: [[1, 0.8], [0.8, 1]]}\n"
        "venue: {insurance_fund_usd: 0, tiers: {BTC: [{cap_usd: 1e6, mmr: 0.004, "
        "max_leverage: 125}], ETH: [{cap_usd: 1e6, mmr: 0.005, max_leverage: 100}]}}\n"
        "accounts_csv: {accounts: a.csv, positions: p.csv}\n"
        "population: {accounts: 4, id_prefix: iso-}\n";
    assert_null(xm_model_load_string(pop, strlen(pop), name, &err));
    assert_int_equal(err.status, XM_EMODEL);
    snprintf(want, sizeof want, "%s:6:38: population.id_prefix: expected a prefix that gives ids "
             "no other account has, got 'iso-' (the population's 'iso-3' is also %s:3)", name, ap);
    assert_string_equal(err.msg, want);
    /* positions for an account of the model file are an error in the positions file */
    static const char yaml_acc[] =
        "horizon_days: 1\nsteps: 4\n"
        "market: {process: gbm, assets: [{symbol: BTC, price: 91234.56, vol: 0.5}, "
        "{symbol: ETH, price: 3047.19, vol: 0.7}], correlation: [[1, 0.8], [0.8, 1]]}\n"
        "venue: {insurance_fund_usd: 0, tiers: {BTC: [{cap_usd: 1e6, mmr: 0.004, "
        "max_leverage: 125}], ETH: [{cap_usd: 1e6, mmr: 0.005, max_leverage: 100}]}}\n"
        "accounts:\n"
        "  - {id: y, wallet_usd: 5, positions: [{asset: BTC, qty: 0.1, entry: 9e4}]}\n"
        "accounts_csv: {accounts: a.csv, positions: p.csv}\n";
    write_tmp("p.csv", POS_OK "y,BTC,1,90000,\n", strlen(POS_OK "y,BTC,1,90000,\n"), pp,
              sizeof pp);
    assert_null(xm_model_load_string(yaml_acc, strlen(yaml_acc), name, &err));
    snprintf(want, sizeof want, "%s:4: account_id: expected the id of an account of %s, got 'y' "
             "(an account given before these files, at accounts[0] at %s:6:10: its positions are "
             "given with it)", pp, ap, name);
    assert_string_equal(err.msg, want);

    /* unreadable files: XM_EIO naming the path and the key */
    remove_file("p.csv");
    assert_null(xm_model_load_string(text, strlen(text), name, &err));
    assert_int_equal(err.status, XM_EIO);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory (given by "
             "accounts_csv.positions at %s:5:44)", pp, name);
    assert_string_equal(err.msg, want);
}

static void test_csv_line_ends(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    /* CRLF, a UTF-8 byte-order mark, no newline at the end */
    xm_status s = load_texts(&w, "\xEF\xBB\xBFid,mode,wallet_usd\r\nw,cross,17.25\r\n"
                                 "i,isolated,0\r\nc2,cross,0",
                             "\xEF\xBB\xBF" "account_id,asset,qty,entry,margin_usd\r\n"
                             "i,BTC,-0.5,90000,4500\r\nw,ETH,3,3000,\r\nc2,ETH,1,3000,0",
                             b, &err);
    if (s != XM_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(b->n_accounts, 3);
    assert_string_equal(xm_accounts_id(b, 0), "w");
    assert_string_equal(xm_accounts_id(b, 2), "c2");
    assert_near(b->wallet[0], 17.25, 0);
    assert_near(b->margin[1], 4500, 0); /* i's position, second after grouping */
    assert_near(b->qty[2], 1, 0);
    xm_accounts_free(b);
    world_clear(&w);
}

/* ---- errors ----------------------------------------------------------------------------- */

static void test_csv_shape_errors(void **state)
{
    (void)state;
    EXPECT_CSV_ERROR("", POS_OK, "A:1: expected the header 'id,mode,wallet_usd', got an empty "
                                 "file");
    EXPECT_CSV_ERROR("id,mode,wallet\nw,cross,1\n", POS_OK,
                     "A:1: expected the header 'id,mode,wallet_usd' (3 columns, in this order), "
                     "got 'id,mode,wallet'");
    EXPECT_CSV_ERROR(ACC_OK, "account_id,asset,qty,entry\n",
                     "P:1: expected the header 'account_id,asset,qty,entry,margin_usd' (5 "
                     "columns, in this order), got 'account_id,asset,qty,entry'");
    EXPECT_CSV_ERROR(ACC_HEADER, POS_HEADER,
                     "A:2: expected at least one account after the header, got none");
    EXPECT_CSV_ERROR(ACC_OK "x,cross\n", POS_OK,
                     "A:4: expected 3 fields (id,mode,wallet_usd), got 2");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,ETH,1,3000,,\n",
                     "P:4: expected 5 fields (account_id,asset,qty,entry,margin_usd), got 6");
    EXPECT_CSV_ERROR(ACC_HEADER "w,cross,1\n\nx,cross,2\n", POS_OK,
                     "A:3: expected 3 fields (id,mode,wallet_usd), got an empty line");
    EXPECT_CSV_ERROR(ACC_OK "\n", POS_OK, "A:4: expected 3 fields", "got an empty line");
    EXPECT_CSV_ERROR(ACC_OK "\"x,y\",cross,1\n", POS_OK,
                     "A:4: id: expected a field without quotes (quoting is not supported: fields "
                     "are taken as written and cannot hold commas), got '\"x'");
    EXPECT_CSV_ERROR(ACC_OK, POS_HEADER "whale-7,\"BTC\",1,90000,\n",
                     "P:2: asset: expected a field without quotes", "got '\"BTC\"'");
}

static void test_csv_account_errors(void **state)
{
    (void)state;
    EXPECT_CSV_ERROR(ACC_OK ",cross,1\n", POS_OK,
                     "A:4: id: expected an account id (1 to 255 bytes; no control characters, "
                     "commas or double quotes), got an empty field (it is empty)");
    EXPECT_CSV_ERROR(ACC_OK "a\tb,cross,1\n", POS_OK,
                     "A:4: id: expected an account id", "got 'a\\x09b' (it has a control "
                     "character)");
    EXPECT_CSV_ERROR(ACC_HEADER "w,cross,1\nq,cross,5\nw,isolated,\n", POS_OK,
                     "A:4: id: expected an id no other account has, got 'w' (also line 2)");
    EXPECT_CSV_ERROR(ACC_OK "x,Cross,1\n", POS_OK,
                     "A:4: mode: expected cross or isolated, got 'Cross'");
    EXPECT_CSV_ERROR(ACC_OK "x,cross,abc\n", POS_OK,
                     "A:4: wallet_usd: expected a number in [0, 1e+15] (the wallet of a cross account), "
                     "got 'abc'");
    EXPECT_CSV_ERROR(ACC_OK "x,cross,\n", POS_OK,
                     "A:4: wallet_usd: expected a number in [0, 1e+15]", "got an empty field");
    EXPECT_CSV_ERROR(ACC_OK "x,cross,-0.5\n", POS_OK,
                     "A:4: wallet_usd: expected a number in [0, 1e+15]", "got '-0.5'");
    EXPECT_CSV_ERROR(ACC_OK "x,cross, 12\n", POS_OK,
                     "A:4: wallet_usd: expected a number in [0, 1e+15]", "got ' 12'");
    EXPECT_CSV_ERROR(ACC_OK "x,cross,1e999\n", POS_OK,
                     "A:4: wallet_usd: expected a number in [0, 1e+15]", "got '1e999'");
    EXPECT_CSV_ERROR(ACC_OK "x,cross,inf\n", POS_OK,
                     "A:4: wallet_usd: expected a number in [0, 1e+15]", "got 'inf'");
    EXPECT_CSV_ERROR(ACC_OK "x,isolated,250\n", POS_OK,
                     "A:4: wallet_usd: expected an empty field or 0 (an isolated account has no "
                     "wallet: its margins are the positions' margin_usd), got '250'");
    EXPECT_CSV_ERROR(ACC_OK "x,cross,17\n", POS_OK,
                     "A:4: id: expected an account with at least one position in ",
                     "p.csv, got 'x' with none");
}

static void test_csv_position_errors(void **state)
{
    (void)state;
    EXPECT_CSV_ERROR(ACC_OK, POS_OK ",BTC,1,90000,\n",
                     "P:4: account_id: expected the id of an account of ",
                     "a.csv, got an empty field");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-8,BTC,1,90000,\n",
                     "P:4: account_id: expected the id of an account of ", "a.csv, got 'whale-8'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,DOGE,1,0.2,\n",
                     "P:4: asset: expected the symbol of an asset (BTC, ETH, SOL), got 'DOGE'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,btc,1,90000,\n",
                     "P:4: asset: expected the symbol of an asset (BTC, ETH, SOL), got 'btc'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,SOL,1,141,\n",
                     "P:4: asset: expected an asset with a maintenance-margin tier table, got "
                     "'SOL' (venue.tiers has no table for SOL)");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,0,90000,\n",
                     "P:4: qty: expected a non-zero finite number (base units, > 0 long, < 0 "
                     "short), got '0'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,-0.000,90000,\n",
                     "P:4: qty: expected a non-zero finite number", "got '-0.000'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,nan,90000,\n",
                     "P:4: qty: expected a non-zero finite number", "got 'nan'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,-1e400,90000,\n",
                     "P:4: qty: expected a non-zero finite number", "got '-1e400'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,0x10,90000,\n",
                     "P:4: qty: expected a non-zero finite number", "got '0x10'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,1,0,\n",
                     "P:4: entry: expected a number in [1e-09, 1e+12] (USD per base unit), got '0'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,1,-90000,\n",
                     "P:4: entry: expected a number in [1e-09, 1e+12]", "got '-90000'");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,1,,\n",
                     "P:4: entry: expected a number in [1e-09, 1e+12]", "got an empty field");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "iso-3,BTC,0.1,90000,\n",
                     "P:4: margin_usd: expected a number in (0, 1e+15], got an empty field (account "
                     "'iso-3' is isolated: each position has its own margin)");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "iso-3,BTC,0.1,90000,0\n",
                     "P:4: margin_usd: expected a number in (0, 1e+15], got '0' (account 'iso-3' is "
                     "isolated");
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,0.1,90000,512.5\n",
                     "P:4: margin_usd: expected an empty field or 0, got '512.5' (account "
                     "'whale-7' is cross: its wallet_usd is the margin of all its positions)");
    /* beyond the last tier cap: 27.9 * 90000 = 2511000 > 2.5e6 */
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,-27.9,90000,\n",
                     "P:4: qty: expected |qty| * entry <= 2500000 USD (the last tier cap of BTC in "
                     "venue.tiers, model.md §3), got 2511000");
    /* Rows of one cross account, asset and side are one position (xmrisk/accounts.h, Lots):
     * each row is within the cap, line 5 takes their sum, 1.73 x 90873.5 + 20 x 90000 +
     * 7 x 90000 = 2587211.155, over it; line 4 of the other account does not count. */
    EXPECT_CSV_ERROR(ACC_OK, POS_OK "whale-7,BTC,20,90000,\niso-3,BTC,25,90000,1000\n"
                                    "whale-7,BTC,7,90000,\n",
                     "P:6: qty: expected |qty| * entry <= 2500000 USD (the last tier cap of BTC "
                     "in venue.tiers, model.md §3) for the account's position in the asset on "
                     "that side, which this row adds to",
                     "got 2587211.15");
}

/* Rows of one cross account, asset and side fold into one position, wherever they are in the
 * file; a short beside a long (hedge mode) and isolated rows stay apart, each within the cap. */
static void test_csv_lots(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    xm_status s = load_texts(&w, ACC_OK,
                             POS_OK "whale-7,BTC,-27,90000,\niso-3,ETH,-3.3,3050,1007.75\n"
                                    "whale-7,BTC,2.27,90000,\n",
                             b, &err);
    if (s != XM_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(b->n_positions, 4);
    assert_int_equal(b->n_folded, 1);
    assert_near(b->qty[0], 4.0, 1e-15);
    assert_near(b->entry[0], (1.73 * 90873.5 + 2.27 * 90000.0) / 4.0, 1e-9);
    assert_true(b->qty[1] == -27.0 && b->qty[2] == -3.3 && b->qty[3] == -3.3);
    xm_accounts_free(b);
    world_clear(&w);
}

static void test_csv_io_errors(void **state)
{
    (void)state;
    world w;
    world_init(&w);
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    xm_status s = xm_accounts_csv_load("/nonexistent/a.csv", XM_TEST_DATA_DIR "/csv/positions.csv",
                                       &w.m, &w.v, b, NULL, &err);
    assert_int_equal(s, XM_EIO);
    assert_string_equal(err.msg, "/nonexistent/a.csv: cannot read: No such file or directory");
    s = xm_accounts_csv_load(XM_TEST_DATA_DIR "/csv/accounts.csv", XM_TEST_DATA_DIR, &w.m, &w.v,
                             b, NULL, &err);
    assert_int_equal(s, XM_EIO);
    assert_string_equal(err.msg, XM_TEST_DATA_DIR ": cannot read: Is a directory");
    assert_int_equal(b->n_accounts, 0);
    xm_accounts_free(b);
    world_clear(&w);
}

/* ---- id map ----------------------------------------------------------------------------- */

static void test_idmap(void **state)
{
    (void)state;
    xm_idmap m;
    xm_idmap_init(&m);
    xm_error err;
    char id[32];
    uint32_t prev;
    assert_int_equal(xm_idmap_get(&m, "x", 1), XM_IDMAP_NONE);
    for (uint32_t i = 0; i < 50000; i++) {
        int n = snprintf(id, sizeof id, "acct-%u", i * 7919u);
        assert_int_equal(xm_idmap_put(&m, id, (size_t)n, i, &prev, &err), XM_OK);
        assert_int_equal(prev, XM_IDMAP_NONE);
    }
    for (uint32_t i = 0; i < 50000; i++) {
        int n = snprintf(id, sizeof id, "acct-%u", i * 7919u);
        assert_int_equal(xm_idmap_get(&m, id, (size_t)n), i);
    }
    assert_int_equal(xm_idmap_put(&m, "acct-7919", 9, 5, &prev, &err), XM_OK);
    assert_int_equal(prev, 1); /* kept, not replaced */
    assert_int_equal(xm_idmap_get(&m, "acct-7919", 9), 1);
    assert_int_equal(xm_idmap_get(&m, "acct-791", 8), XM_IDMAP_NONE); /* a prefix */
    assert_int_equal(xm_idmap_get(&m, "acct-79191", 10), XM_IDMAP_NONE);
    assert_int_equal(m.n, 50000);
    xm_idmap_clear(&m);
    assert_null(xm_account_id_problem("pop-000017", 10));
    assert_null(xm_account_id_problem("user 17 \xe2\x82\xac", 11));
    assert_string_equal(xm_account_id_problem("", 0), "it is empty");
    assert_string_equal(xm_account_id_problem("a\"b", 3), "it has a double quote");
    char longid[300];
    memset(longid, 'x', sizeof longid);
    assert_null(xm_account_id_problem(longid, 255));
    assert_non_null(xm_account_id_problem(longid, 256));
}

/* ---- numbers ---------------------------------------------------------------------------- */

static void test_csv_numbers(void **state)
{
    (void)state;
    /* every accepted notation gives strtod's value exactly (fast path or not); values beyond
     * the bounds (|qty| x entry within the last cap 2.5e6 with entry >= 1e-9; wallet <= 1e15,
     * docs/model.md §7) are refused with the bound in the message */
    static const char *const ok[] = {"1",        "+3",           "0.1",         ".5",
                                     "5.",       "-2.5E+3",      "13.5e3",      "1e-7",
                                     "91234.56", "0.0000000417", "3.1415926535897932384626",
                                     "123456789012345678901234", "9007199254740993",
                                     "4.9e-324", "1.7976931348623157e308", "2999.99",
                                     "0.30000000000000004", NULL};
    world w;
    world_init(&w);
    xm_error err;
    for (int i = 0; ok[i]; i++) {
        char acc[256], pos[256];
        double want = strtod(ok[i], NULL);
        if (!(want > 0) || !isfinite(want))
            want = fabs(want);
        snprintf(acc, sizeof acc, ACC_HEADER "w,cross,%s\n", ok[i][0] == '-' ? ok[i] + 1 : ok[i]);
        snprintf(pos, sizeof pos, POS_HEADER "w,BTC,%s,1e-9,\n", ok[i]);
        xm_accounts *b = xm_accounts_alloc(&err);
        xm_status s = load_texts(&w, acc, pos, b, &err);
        double q = strtod(ok[i], NULL);
        if (fabs(q) > 1e15) {
            assert_int_equal(s, XM_EMODEL);
            assert_contains(err.msg, "wallet_usd: expected a number in [0, 1e+15]");
            xm_accounts_free(b);
            continue;
        }
        if (fabs(q) * 1e-9 > 2.5e6) {
            assert_int_equal(s, XM_EMODEL);
            assert_contains(err.msg, "expected |qty| * entry <=");
            xm_accounts_free(b);
            continue;
        }
        if (s != XM_OK)
            fail_msg("%s: %s", ok[i], err.msg);
        if (b->qty[0] != q)
            fail_msg("qty %s: got %.17g, strtod %.17g", ok[i], b->qty[0], q);
        if (b->wallet[0] != fabs(q))
            fail_msg("wallet %s: got %.17g, strtod %.17g", ok[i], b->wallet[0], fabs(q));
        xm_accounts_free(b);
    }
    static const char *const bad[] = {"1e",  "e5",  ".",   "--1", "1.2.3", "1_000", "+",
                                      "1e+", "1,5", "0x1", "1 ",  "١",     "Inf",   NULL};
    for (int i = 0; bad[i]; i++) {
        char acc[256];
        snprintf(acc, sizeof acc, ACC_HEADER "w,cross,%s\n", bad[i]);
        xm_accounts *b = xm_accounts_alloc(&err);
        xm_status s = load_texts(&w, acc, POS_HEADER "w,BTC,1,1,\n", b, &err);
        if (s != XM_EMODEL)
            fail_msg("'%s' accepted", bad[i]);
        xm_accounts_free(b);
    }
    world_clear(&w);
}

/* ---- size ------------------------------------------------------------------------------- */

static void test_csv_large(void **state)
{
    (void)state;
    enum { N_ACC = 200000, PER = 4 };
    char ap[700], pp[700];
    snprintf(ap, sizeof ap, "%s/big-a.csv", tmpdir);
    snprintf(pp, sizeof pp, "%s/big-p.csv", tmpdir);
    FILE *fa = fopen(ap, "w"), *fp = fopen(pp, "w");
    assert_true(fa && fp);
    fputs(ACC_HEADER, fa);
    fputs(POS_HEADER, fp);
    for (unsigned a = 0; a < N_ACC; a++) {
        if (a % 5 == 3)
            fprintf(fa, "u%07u,isolated,\n", a * 3u);
        else
            fprintf(fa, "u%07u,cross,%u.%02u\n", a * 3u, 1000 + a % 7919, a % 100);
    }
    /* positions interleaved across accounts (round p of every account, then round p+1); the
     * four rounds of an account are four (asset, side) pairs, so no row folds into another */
    for (unsigned r = 0; r < PER; r++)
        for (unsigned a = 0; a < N_ACC; a++) {
            unsigned k = (unsigned)((uint64_t)a * 35761u % N_ACC); /* a permutation */
            int iso = k % 5 == 3;
            fprintf(fp, "u%07u,%s,%s%u.%03u,%u.%u,%s\n", k * 3u, (k + r) % 2 ? "ETH" : "BTC",
                    r / 2 % 2 ? "-" : "", 1 + (k + r) % 3, (k * 37 + r) % 1000,
                    (k + r) % 2 ? 3000 + k % 97 : 90000 + k % 997, r, iso ? "1234.5" : "");
        }
    fclose(fa);
    fclose(fp);

    world w;
    world_init(&w);
    xm_error err;
    xm_accounts *b = xm_accounts_alloc(&err);
    xm_status s = xm_accounts_csv_load(ap, pp, &w.m, &w.v, b, NULL, &err);
    if (s != XM_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(b->n_accounts, N_ACC);
    assert_int_equal(b->n_positions, N_ACC * PER);
    /* grouping: account a holds its PER positions, in file (round) order */
    for (unsigned a = 0; a < N_ACC; a += 997) {
        char id[16];
        snprintf(id, sizeof id, "u%07u", a * 3u);
        assert_string_equal(xm_accounts_id(b, a), id);
        assert_int_equal(b->first[a], a * PER);
        assert_int_equal(b->mode[a], a % 5 == 3 ? XM_ISOLATED : XM_CROSS);
        for (unsigned r = 0; r < PER; r++) {
            uint32_t j = b->first[a] + r;
            assert_int_equal(b->owner[j], a);
            assert_int_equal(b->asset[j], (a + r) % 2);
            double q = (1 + (a + r) % 3) + ((a * 37 + r) % 1000) / 1000.0;
            assert_near(b->qty[j], r / 2 % 2 ? -q : q, 1e-12);
            assert_near(b->margin[j], a % 5 == 3 ? 1234.5 : 0.0, 0);
        }
    }
    xm_accounts_free(b);
    world_clear(&w);
    remove_file("big-a.csv");
    remove_file("big-p.csv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_fixture),
        cmocka_unit_test(test_csv_from_model),
        cmocka_unit_test(test_csv_line_ends),
        cmocka_unit_test(test_csv_shape_errors),
        cmocka_unit_test(test_csv_account_errors),
        cmocka_unit_test(test_csv_position_errors),
        cmocka_unit_test(test_csv_lots),
        cmocka_unit_test(test_csv_io_errors),
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_csv_numbers),
        cmocka_unit_test(test_csv_large),
    };
    return xm_run_tests(tests, setup_dir, teardown_dir);
}
