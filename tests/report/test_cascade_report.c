/* test_cascade_report.c — the result files and the human summary of a cascade run, from results
 * built by hand (the engine has its own tests): every field of summary.json, accounts.csv and
 * paths.csv against hand values, atomic publication, no NaN/inf ever, the printed summary. */
#include "xm_test.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include "xmrisk/cascade.h"
#include "xmrisk/model.h"
#include "xmrisk/outfile.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/estimators.h"

#define NP 10 /* paths */
#define NA 2  /* assets */
#define NACC 3

/* ---- fixtures ---- */

static xm_model *make_model(void)
{
    xm_model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    xm_error err;
    assert_int_equal(xm_market_init(&m->market, NA, &err), XM_OK);
    const char *sym[] = {"BTC", "ETH"};
    const double price[] = {90000, 3000};
    for (int i = 0; i < NA; i++) {
        strcpy(m->market.assets[i].symbol, sym[i]);
        m->market.assets[i].price = price[i];
        m->market.assets[i].vol = 0.5;
        m->market.assets[i].jump_beta = 1.0;
    }
    assert_int_equal(xm_market_prepare(&m->market, "test", &err), XM_OK);
    assert_int_equal(xm_venue_init(&m->venue, NA, &err), XM_OK);
    m->has_venue = 1;
    m->venue.insurance_fund_usd = 1e6;
    m->venue.max_rounds = 50;
    m->book = xm_accounts_alloc(&err);
    assert_non_null(m->book);
    assert_int_equal(xm_accounts_add_account(m->book, "alice", XM_CROSS, 10000, &err), XM_OK);
    assert_int_equal(xm_accounts_add_position(m->book, 0, 1.0, 90000, 0, &err), XM_OK);
    assert_int_equal(xm_accounts_add_account(m->book, "bob \"b\", jr", XM_CROSS, 5000, &err), XM_OK);
    assert_int_equal(xm_accounts_add_position(m->book, 1, -10.0, 3000, 0, &err), XM_OK);
    assert_int_equal(xm_accounts_add_account(m->book, "carol", XM_ISOLATED, 0, &err), XM_OK);
    assert_int_equal(xm_accounts_add_position(m->book, 0, 0.1, 90000, 1000, &err), XM_OK);
    m->name = strdup("reporttest");
    m->path = strdup("<code>");
    m->seed = 42;
    m->paths = NP;
    m->horizon_days = 1.0;
    m->steps = 288;
    return m;
}

static xm_run_result *alloc_result(uint64_t paths, size_t n_accounts)
{
    xm_run_result *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->seed = 42;
    r->paths = r->paths_done = paths;
    r->threads = 2;
    r->elapsed_s = 0.5;
    r->n_assets = NA;
    size_t n = paths ? paths : 1;
    r->pm = calloc(n, sizeof *r->pm);
    r->min_ratio = calloc(n * NA, sizeof *r->min_ratio);
    r->impact_at_min = calloc(n * NA, sizeof *r->impact_at_min);
    xm_error err;
    r->acc = xm_cascade_acc_alloc(n_accounts, &err);
    assert_true(r->pm && r->min_ratio && r->impact_at_min && r->acc);
    return r;
}

static void free_result(xm_run_result *r)
{
    free(r->pm);
    free(r->min_ratio);
    free(r->impact_at_min);
    xm_cascade_acc_free(r->acc);
    free(r);
}

/* 10 paths: 6 quiet, 4 with liquidations; path 8 has bad debt the fund covers, path 9 a
 * large cascade that exhausts the fund, triggers ADL, socializes a loss and hits max_rounds. */
static const double liq_notional[NP] = {0, 0, 0, 0, 0, 0, 1000, 2000, 5000, 1e6};
static const double largest[NP] = {0, 0, 0, 0, 0, 0, 1000, 2000, 4000, 8e5};
static const uint64_t events[NP] = {0, 0, 0, 0, 0, 0, 1, 2, 3, 10};
static const uint64_t accs[NP] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 3};
static const uint32_t rounds[NP] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 5};
static const uint32_t first_step[NP] = {0, 0, 0, 0, 0, 0, 5, 10, 20, 1};

static double btc_ratio(int p) { return 1.0 - 0.01 * p; }
static double btc_impact(int p) { return -0.001 * p; }

static xm_run_result *make_result(void)
{
    xm_run_result *r = alloc_result(NP, NACC);
    for (int p = 0; p < NP; p++) {
        xm_path_metrics *pm = &r->pm[p];
        pm->liq_events = events[p];
        pm->accounts_liquidated = accs[p];
        pm->liquidated_notional = liq_notional[p];
        pm->largest_cascade_usd = largest[p];
        pm->cascade_rounds_max = rounds[p];
        pm->first_liq_step = first_step[p];
        pm->fund_min_usd = 1e6;
        r->min_ratio[p * NA] = btc_ratio(p);
        r->impact_at_min[p * NA] = btc_impact(p);
        r->min_ratio[p * NA + 1] = 1.02;
        r->impact_at_min[p * NA + 1] = 0.0;
    }
    r->pm[8].bad_debt_usd = 100;
    r->pm[8].fund_paid_usd = 100;
    r->pm[8].fund_min_usd = 1e6 - 100;
    r->pm[9].bad_debt_usd = 1.5e6;
    r->pm[9].fund_paid_usd = 1e6;
    r->pm[9].fund_min_usd = 0;
    r->pm[9].adl_notional_usd = 3e5;
    r->pm[9].adl_accounts = 2;
    r->pm[9].socialized_usd = 2e5;
    r->pm[9].max_rounds_hits = 1;

    xm_cascade_acc *a = r->acc;
    a->liq_paths[0] = 4;
    a->first_step_sum[0] = 36;
    a->loss_micro[0] = (__int128)1234567890123;  /* $1,234,567.890123 over 10 paths */
    a->liq_paths[1] = 1;
    a->first_step_sum[1] = 10;
    a->loss_micro[1] = -5000000;                 /* a gain of $5 */
    a->cascades = 5;
    a->cascade_hist[15] = 2;
    a->cascade_hist[16] = 1;
    a->cascade_hist[18] = 1;
    a->cascade_hist[29] = 1;
    return r;
}

/* ---- reading back ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot read %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static char *slurp_in(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return slurp(p);
}

static int exists_in(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* The text after the chain of anchors a1, a2, ... (each searched after the previous). */
static const char *after(const char *text, const char *const *anchors, int n)
{
    const char *at = text;
    for (int i = 0; i < n; i++) {
        const char *h = strstr(at, anchors[i]);
        if (h == NULL)
            fail_msg("\"%s\" not found (anchor %d)", anchors[i], i);
        at = h + strlen(anchors[i]);
    }
    return at;
}

#define AFTER(text, ...) \
    after((text), (const char *const[]){__VA_ARGS__}, \
          (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)))

static double num_at(const char *at)
{
    char *end;
    double x = strtod(at, &end);
    if (end == at)
        fail_msg("no number at \"%.40s\"", at);
    return x;
}

#define JNUM(text, ...) num_at(AFTER(text, __VA_ARGS__))

/* Relative (or absolute near 0) closeness: %.17g round-trips, so 1e-15 is plenty. */
#define assert_close(a, b) assert_near((a), (b), 1e-13 * fmax(1.0, fabs((double)(b))))

/* A small strict JSON validator (RFC 8259 grammar; no NaN/Infinity tokens). */
static const char *js_value(const char *s);
static const char *js_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return s;
}
static const char *js_string(const char *s)
{
    if (*s != '"')
        return NULL;
    for (s++; *s != '"'; s++) {
        if ((unsigned char)*s < 0x20)
            return NULL;
        if (*s == '\\') {
            s++;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)s[i]))
                        return NULL;
                s += 4;
            } else if (strchr("\"\\/bfnrt", *s) == NULL || *s == '\0') {
                return NULL;
            }
        }
    }
    return s + 1;
}
static const char *js_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p;
}
static const char *js_value(const char *s)
{
    s = js_ws(s);
    if (*s == '{' || *s == '[') {
        char close = *s == '{' ? '}' : ']';
        s = js_ws(s + 1);
        if (*s == close)
            return s + 1;
        for (;;) {
            if (close == '}') {
                s = js_string(js_ws(s));
                if (s == NULL || *(s = js_ws(s)) != ':')
                    return NULL;
                s++;
            }
            s = js_value(s);
            if (s == NULL)
                return NULL;
            s = js_ws(s);
            if (*s == close)
                return s + 1;
            if (*s != ',')
                return NULL;
            s++;
        }
    }
    if (*s == '"')
        return js_string(s);
    if (strncmp(s, "true", 4) == 0 || strncmp(s, "null", 4) == 0)
        return s + 4;
    if (strncmp(s, "false", 5) == 0)
        return s + 5;
    return js_number(s);
}
static void assert_valid_json(const char *text)
{
    const char *end = js_value(text);
    if (end == NULL || *js_ws(end) != '\0')
        fail_msg("invalid JSON near \"%.60s\"", end ? end : "?");
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *h = text; (h = strstr(h, needle)) != NULL; h += strlen(needle))
        n++;
    return n;
}

/* No "nan" or "inf" in any case. */
static void assert_finite_text(const char *text, const char *what)
{
    for (const char *s = text; *s; s++) {
        char w[4] = {0};
        for (int i = 0; i < 3 && s[i]; i++)
            w[i] = (char)tolower((unsigned char)s[i]);
        if (strcmp(w, "nan") == 0 || strcmp(w, "inf") == 0)
            fail_msg("%s: \"%s\" at \"%.40s\"", what, w, s);
    }
}

/* Line `k` (0-based) of a text, copied into buf. */
static const char *line_of(const char *text, int k, char *buf, size_t len)
{
    const char *s = text;
    for (int i = 0; i < k; i++) {
        s = strchr(s, '\n');
        if (s == NULL)
            fail_msg("no line %d", k);
        s++;
    }
    size_t n = strcspn(s, "\n");
    assert_true(n < len);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static size_t count_lines(const char *text)
{
    return count_of(text, "\n");
}

/* Split a CSV line on commas (no quoted fields in the lines this is used on). */
static int split_csv(char *line, char **f, int max)
{
    int n = 0;
    for (char *s = line;; s++) {
        if (n < max)
            f[n] = s;
        n++;
        s = strchr(s, ',');
        if (s == NULL)
            break;
        *s = '\0';
    }
    return n;
}

/* The run id's value in summary.json overwritten with 'x' (two runs differ only there). */
static void blank_run_id(char *t)
{
    char *at = strstr(t, "\"run_id\": \"");
    for (at = at ? at + 11 : NULL; at != NULL && *at != '\0' && *at != '"'; at++)
        *at = 'x';
}

static void make_dir(char *dir, size_t len, const char *tag)
{
    snprintf(dir, len, "/tmp/xmtest-runreport-%ld/%s", (long)getpid(), tag);
}

static void no_tmp_left(const char *dir)
{
    const char *names[] = {"summary.json", "accounts.csv", "paths.csv"};
    for (int i = 0; i < 3; i++) {
        char t[128];
        snprintf(t, sizeof t, ".%s.tmp.%ld", names[i], (long)getpid());
        assert_false(exists_in(dir, t));
    }
}

/* ---- tests ---- */

static void check_event(const char *js, const char *name, uint64_t k)
{
    char anchor[64];
    snprintf(anchor, sizeof anchor, "\"%s\": {", name);
    double lo, hi;
    xm_stats_wilson(k, NP, XM_Z95, &lo, &hi);
    assert_close(JNUM(js, "\"events\"", anchor, "\"p\": "), (double)k / NP);
    assert_close(JNUM(js, "\"events\"", anchor, "\"ci95\": ["), lo);
    assert_close(JNUM(js, "\"events\"", anchor, "\"ci95\": [", ", "), hi);
    assert_close(JNUM(js, "\"events\"", anchor, "\"count\": "), (double)k);
}

/* Type-7 quantile of 10 sorted values at h = 9 p. */
static double q7(const double *sorted, double p)
{
    double h = 9.0 * p;
    int lo = (int)floor(h);
    return lo >= 9 ? sorted[9] : sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

static void check_metric(const char *js, const char *name, const double *v)
{
    char anchor[64];
    snprintf(anchor, sizeof anchor, "\"%s\": {", name);
    double s[NP], mean = 0, ss = 0;
    memcpy(s, v, sizeof s);
    for (int i = 0; i < NP; i++)
        mean += v[i] / NP;
    for (int i = 0; i < NP; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    double sd = sqrt(ss / (NP - 1));
    xm_stats_sort(s, NP);
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"mean\": "), mean);
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"stderr\": "), sd / sqrt(NP));
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"sd\": "), sd);
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"50\": "), q7(s, 0.5));
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"90\": "), q7(s, 0.9));
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"95\": "), q7(s, 0.95));
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"99\": "), q7(s, 0.99));
    assert_close(JNUM(js, "\"metrics\"", anchor, "\"99.9\": "), q7(s, 0.999));
}

static void test_summary_json(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_run_result *r = make_result();
    char dir[256];
    make_dir(dir, sizeof dir, "full/out");
    xm_error err;
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_OK);
    no_tmp_left(dir);
    char *js = slurp_in(dir, "summary.json");
    assert_valid_json(js);
    assert_finite_text(js, "summary.json");

    /* Header. */
    assert_contains(js, "\"model\": \"reporttest\"");
    assert_contains(js, "\"xmrisk_version\": \"");
    assert_close(JNUM(js, "\"seed\": "), 42);
    assert_close(JNUM(js, "\"paths\": "), NP);
    assert_close(JNUM(js, "\"steps\": "), 288);
    assert_close(JNUM(js, "\"horizon_days\": "), 1.0);
    assert_close(JNUM(js, "\"threads\": "), 2);
    assert_close(JNUM(js, "\"elapsed_s\": "), 0.5);
    assert_close(JNUM(js, "\"paths_per_s\": "), 20.0);

    /* Events: hand counts, Wilson intervals from the library. */
    check_event(js, "any_liquidation", 4);
    check_event(js, "bad_debt", 2);
    check_event(js, "adl", 1);
    check_event(js, "fund_exhausted", 1);
    check_event(js, "max_rounds_hit", 1);

    /* Metrics: every one, against a direct computation from the inputs above. */
    double v[NP];
    check_metric(js, "liquidated_notional_usd", liq_notional);
    /* Hand values of the type-7 quantiles of {0 x6, 1000, 2000, 5000, 1e6}. */
    assert_close(JNUM(js, "\"liquidated_notional_usd\": {", "\"mean\": "), 100800);
    assert_close(JNUM(js, "\"liquidated_notional_usd\": {", "\"50\": "), 0);
    assert_close(JNUM(js, "\"liquidated_notional_usd\": {", "\"90\": "), 104500);
    assert_close(JNUM(js, "\"liquidated_notional_usd\": {", "\"95\": "), 552250);
    assert_close(JNUM(js, "\"liquidated_notional_usd\": {", "\"99\": "), 910450);
    assert_close(JNUM(js, "\"liquidated_notional_usd\": {", "\"99.9\": "), 991045);
    for (int p = 0; p < NP; p++) v[p] = (double)accs[p];
    check_metric(js, "accounts_liquidated", v);
    for (int p = 0; p < NP; p++) v[p] = (double)events[p];
    check_metric(js, "liquidation_events", v);
    check_metric(js, "largest_cascade_usd", largest);
    for (int p = 0; p < NP; p++) v[p] = (double)rounds[p];
    check_metric(js, "cascade_rounds_max", v);
    for (int p = 0; p < NP; p++) v[p] = r->pm[p].bad_debt_usd;
    check_metric(js, "bad_debt_usd", v);
    for (int p = 0; p < NP; p++) v[p] = r->pm[p].fund_paid_usd;
    check_metric(js, "fund_paid_usd", v);
    for (int p = 0; p < NP; p++) v[p] = r->pm[p].fund_min_usd;
    check_metric(js, "fund_min_usd", v);
    for (int p = 0; p < NP; p++) v[p] = r->pm[p].adl_notional_usd;
    check_metric(js, "adl_notional_usd", v);
    for (int p = 0; p < NP; p++) v[p] = (double)r->pm[p].adl_accounts;
    check_metric(js, "adl_accounts", v);
    for (int p = 0; p < NP; p++) v[p] = r->pm[p].socialized_usd;
    check_metric(js, "socialized_usd", v);

    /* First liquidation step over the 4 paths with one: {5, 10, 20, 1}, mean 9,
     * sd sqrt(202/3). */
    assert_close(JNUM(js, "\"first_liquidation_step\": {", "\"mean\": "), 9.0);
    assert_close(JNUM(js, "\"first_liquidation_step\": {", "\"stderr\": "),
                 sqrt(202.0 / 3.0) / 2.0);
    assert_close(JNUM(js, "\"first_liquidation_step\": {", "\"paths\": "), 4);

    /* Assets: BTC's lowest marks 0.91 .. 1.00, lower-tail quantiles by hand. */
    assert_contains(js, "{\"symbol\": \"BTC\", \"min_mark_ratio\": {");
    assert_close(JNUM(js, "\"BTC\"", "\"mean\": "), 0.955);
    assert_close(JNUM(js, "\"BTC\"", "\"q\": {\"0.1\": "), 0.91009);
    assert_close(JNUM(js, "\"BTC\"", "\"1\": "), 0.9109);
    assert_close(JNUM(js, "\"BTC\"", "\"5\": "), 0.9145);
    assert_close(JNUM(js, "\"BTC\"", "\"10\": "), 0.919);
    assert_close(JNUM(js, "\"BTC\"", "\"50\": "), 0.955);
    double share[NP];
    for (int p = 0; p < NP; p++)
        share[p] = p == 0 ? 0.0 : btc_impact(p) / log(btc_ratio(p));
    xm_moments sh = xm_stats_moments(share, NP);
    assert_true(sh.mean > 0.08 && sh.mean < 0.09); /* 9 paths of ~ -0.001 p / (-0.01 p), one of 0 */
    assert_close(JNUM(js, "\"BTC\"", "\"impact_share_at_min\": {", "\"mean\": "), sh.mean);
    assert_close(JNUM(js, "\"BTC\"", "\"impact_share_at_min\": {", "\"stderr\": "), sh.stderr_);
    /* ETH never fell below its start: share 0, min ratio 1.02 everywhere. */
    assert_close(JNUM(js, "\"ETH\"", "\"mean\": "), 1.02);
    assert_close(JNUM(js, "\"ETH\"", "\"stderr\": "), 0.0);
    assert_close(JNUM(js, "\"ETH\"", "\"impact_share_at_min\": {", "\"mean\": "), 0.0);

    /* Cascades: bins 15..29 (the non-empty range), CCDF from the hand counts. */
    assert_close(JNUM(js, "\"cascades\": {", "\"count\": "), 5);
    const char *bins = AFTER(js, "\"cascades\": {", "\"bins\": [");
    const char *accounts = AFTER(js, "\"accounts\": [");
    assert_true(accounts > bins);
    size_t nbins = 0;
    for (const char *h = bins; (h = strstr(h, "\"lo_usd\"")) != NULL && h < accounts; h++)
        nbins++;
    assert_int_equal(nbins, 15);
    assert_close(JNUM(bins, "\"lo_usd\": "), 1000.0);
    assert_close(JNUM(bins, "\"hi_usd\": "), pow(10.0, 16.0 / 5.0));
    const double ccdf[15] = {1.0, 0.6, 0.4, 0.4, 0.2, 0.2, 0.2, 0.2,
                             0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2};
    const uint64_t cnt[15] = {2, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const char *b = bins;
    for (int k = 0; k < 15; k++) {
        b = AFTER(b, "\"lo_usd\": ");
        assert_close(num_at(b), pow(10.0, (15 + k) / 5.0));
        assert_close(JNUM(b, "\"count\": "), (double)cnt[k]);
        assert_close(JNUM(b, "\"ccdf\": "), ccdf[k]);
    }
    assert_close(JNUM(b, "\"hi_usd\": "), 1e6);

    /* Accounts, in book order. */
    double lo, hi;
    xm_stats_wilson(4, NP, XM_Z95, &lo, &hi);
    const char *al = AFTER(js, "\"accounts\": [", "{\"id\": \"alice\", \"p_liq\": ");
    assert_close(num_at(al), 0.4);
    assert_close(JNUM(al, "\"ci95\": ["), lo);
    assert_close(JNUM(al, "\"ci95\": [", ", "), hi);
    assert_close(JNUM(al, "\"mean_first_step\": "), 9.0);
    assert_close(JNUM(al, "\"expected_loss_usd\": "), 123456.7890123);
    const char *bo = AFTER(al, "{\"id\": \"bob \\\"b\\\", jr\", \"p_liq\": ");
    assert_close(num_at(bo), 0.1);
    assert_close(JNUM(bo, "\"mean_first_step\": "), 10.0);
    assert_close(JNUM(bo, "\"expected_loss_usd\": "), -0.5);
    const char *ca = AFTER(bo, "{\"id\": \"carol\", \"p_liq\": ");
    xm_stats_wilson(0, NP, XM_Z95, &lo, &hi);
    assert_close(num_at(ca), 0.0);
    assert_close(JNUM(ca, "\"ci95\": ["), 0.0);
    assert_close(JNUM(ca, "\"ci95\": [", ", "), hi);
    assert_contains(ca, "\"mean_first_step\": null");
    assert_close(JNUM(ca, "\"expected_loss_usd\": "), 0.0);
    free(js);
    free_result(r);
    xm_model_free(m);
}

static void test_csv_files(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_run_result *r = make_result();
    char dir[256];
    make_dir(dir, sizeof dir, "csv");
    xm_error err;
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_OK);
    char line[1024], *f[32];

    /* accounts.csv */
    char *ac = slurp_in(dir, "accounts.csv");
    assert_finite_text(ac, "accounts.csv");
    assert_int_equal(count_lines(ac), 1 + NACC);
    assert_string_equal(line_of(ac, 0, line, sizeof line),
                        "id,p_liq,ci95_low,ci95_high,mean_first_step,expected_loss_usd,liq_paths");
    double lo, hi;
    line_of(ac, 1, line, sizeof line);
    assert_int_equal(split_csv(line, f, 32), 7);
    xm_stats_wilson(4, NP, XM_Z95, &lo, &hi);
    assert_string_equal(f[0], "alice");
    assert_close(strtod(f[1], NULL), 0.4);
    assert_true(strtod(f[2], NULL) == lo); /* %.17g round-trips exactly */
    assert_true(strtod(f[3], NULL) == hi);
    assert_close(strtod(f[4], NULL), 9.0);
    assert_close(strtod(f[5], NULL), 123456.7890123);
    assert_string_equal(f[6], "4");
    /* An id with a comma and quotes is quoted (RFC 4180). */
    line_of(ac, 2, line, sizeof line);
    assert_true(strncmp(line, "\"bob \"\"b\"\", jr\",0.10000000000000001,", 36) == 0);
    assert_true(strstr(line, ",10,-0.5,1") != NULL);
    line_of(ac, 3, line, sizeof line);
    xm_stats_wilson(0, NP, XM_Z95, &lo, &hi);
    assert_int_equal(split_csv(line, f, 32), 7);
    assert_string_equal(f[0], "carol");
    assert_string_equal(f[1], "0");
    assert_string_equal(f[2], "0");
    assert_true(strtod(f[3], NULL) == hi);
    assert_string_equal(f[4], ""); /* never liquidated: no mean first step */
    assert_string_equal(f[5], "0");
    assert_string_equal(f[6], "0");
    free(ac);

    /* paths.csv */
    char *pc = slurp_in(dir, "paths.csv");
    assert_finite_text(pc, "paths.csv");
    assert_int_equal(count_lines(pc), 1 + NP);
    assert_string_equal(line_of(pc, 0, line, sizeof line),
                        "path,liq_events,accounts_liquidated,liquidated_notional_usd,"
                        "largest_cascade_usd,cascade_rounds_max,max_rounds_hits,bad_debt_usd,"
                        "fund_paid_usd,fund_min_usd,adl_notional_usd,adl_accounts,"
                        "socialized_usd,first_liq_step,price_floor_hits,beyond_tier_events,"
                        "min_mark_ratio_BTC,impact_at_min_BTC,min_mark_ratio_ETH,"
                        "impact_at_min_ETH");
    for (int p = 0; p < NP; p++) {
        line_of(pc, 1 + p, line, sizeof line);
        assert_int_equal(split_csv(line, f, 32), 20);
        assert_int_equal(strtoull(f[0], NULL, 10), p);
        assert_int_equal(strtoull(f[1], NULL, 10), events[p]);
        assert_int_equal(strtoull(f[2], NULL, 10), accs[p]);
        assert_true(strtod(f[3], NULL) == liq_notional[p]);
        assert_true(strtod(f[4], NULL) == largest[p]);
        assert_int_equal(strtoull(f[5], NULL, 10), rounds[p]);
        assert_int_equal(strtoull(f[13], NULL, 10), first_step[p]);
        assert_int_equal(strtoull(f[14], NULL, 10), 0);
        assert_int_equal(strtoull(f[15], NULL, 10), 0);
        assert_true(strtod(f[16], NULL) == btc_ratio(p));
        assert_true(strtod(f[17], NULL) == btc_impact(p));
        assert_true(strtod(f[18], NULL) == 1.02);
        assert_true(strtod(f[19], NULL) == 0.0);
    }
    assert_string_equal(line_of(pc, 10, line, sizeof line),
                        "9,10,3,1000000,800000,5,1,1500000,1000000,0,300000,2,200000,1,0,0,"
                        "0.91000000000000003,-0.0090000000000000011,1.02,0");
    free(pc);

    /* The same result twice gives the same bytes. */
    char dir2[256];
    make_dir(dir2, sizeof dir2, "csv2");
    assert_int_equal(xm_run_report_write(dir2, m, r, &err), XM_OK);
    const char *names[] = {"summary.json", "accounts.csv", "paths.csv"};
    for (int i = 0; i < 3; i++) {
        char *a = slurp_in(dir, names[i]), *b2 = slurp_in(dir2, names[i]);
        blank_run_id(a);
        blank_run_id(b2);
        assert_string_equal(a, b2);
        free(a);
        free(b2);
    }
    free_result(r);
    xm_model_free(m);
}

static void assert_none_published(const char *dir)
{
    assert_false(exists_in(dir, "summary.json"));
    assert_false(exists_in(dir, "accounts.csv"));
    assert_false(exists_in(dir, "paths.csv"));
    no_tmp_left(dir);
}

static void test_atomic(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_run_result *r = make_result();
    xm_error err;
    char dir[256], bad[512], p[700];

    /* An output directory below a regular file cannot be created. */
    make_dir(dir, sizeof dir, "atomic");
    assert_int_equal(xm_mkdir_p(dir, &err), XM_OK);
    snprintf(p, sizeof p, "%s/plainfile", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(bad, sizeof bad, "%s/plainfile/out", dir);
    assert_int_equal(xm_run_report_write(bad, m, r, &err), XM_EIO);
    assert_contains(err.msg, "plainfile");

    /* A directory nobody can write to, even root (procfs). */
    struct stat st;
    if (stat("/proc/self", &st) == 0 && S_ISDIR(st.st_mode)) {
        assert_int_equal(xm_run_report_write("/proc/self", m, r, &err), XM_EIO);
        assert_none_published("/proc/self");
    }

    /* The set's directory cannot be made (DIR/.xmrisk is a file): nothing is published. */
    make_dir(dir, sizeof dir, "atomic/noset");
    assert_int_equal(xm_mkdir_p(dir, &err), XM_OK);
    snprintf(p, sizeof p, "%s/.xmrisk", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_EIO);
    assert_contains(err.msg, ".xmrisk");
    assert_none_published(dir);

    /* The last rename fails (paths.csv is a non-empty directory): the two files already
     * renamed are withdrawn, so no mixed set is left under the final names. */
    make_dir(dir, sizeof dir, "atomic/rename3");
    assert_int_equal(xm_mkdir_p(dir, &err), XM_OK);
    snprintf(p, sizeof p, "%s/paths.csv/keep", dir);
    assert_int_equal(xm_mkdir_p(p, &err), XM_OK);
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_EIO);
    assert_contains(err.msg, "paths.csv");
    assert_false(exists_in(dir, "summary.json"));
    assert_false(exists_in(dir, "accounts.csv"));
    no_tmp_left(dir);

    /* Success leaves the three files and no temporary file; the set directory they resolve
     * to is named by the run id written in summary.json. */
    make_dir(dir, sizeof dir, "atomic/ok");
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_OK);
    assert_true(exists_in(dir, "summary.json"));
    assert_true(exists_in(dir, "accounts.csv"));
    assert_true(exists_in(dir, "paths.csv"));
    no_tmp_left(dir);
    char *js = slurp_in(dir, "summary.json"), id[64] = "", cur[64] = "";
    const char *at = strstr(js, "\"run_id\": \"");
    assert_non_null(at);
    assert_int_equal(sscanf(at, "\"run_id\": \"%63[^\"]", id), 1);
    snprintf(p, sizeof p, "%s/.xmrisk/current", dir);
    ssize_t n = readlink(p, cur, sizeof cur - 1);
    assert_true(n > 0);
    cur[n] = '\0';
    assert_string_equal(id, cur);
    free(js);
    free_result(r);
    xm_model_free(m);
}

static void check_files_finite(const char *dir)
{
    const char *names[] = {"summary.json", "accounts.csv", "paths.csv"};
    for (int i = 0; i < 3; i++) {
        char *t = slurp_in(dir, names[i]);
        assert_finite_text(t, names[i]);
        if (i == 0)
            assert_valid_json(t);
        free(t);
    }
}

/* Nothing liquidated anywhere (and, separately, no path at all): every number finite. */
static void test_no_liquidations(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_run_result *r = alloc_result(NP, NACC);
    for (int p = 0; p < NP; p++) {
        r->pm[p].fund_min_usd = 1e6;
        for (int i = 0; i < NA; i++)
            r->min_ratio[p * NA + i] = 1.0; /* ln 1 = 0: no share to divide */
    }
    r->min_ratio[3 * NA] = 0.0;             /* a bachelier price at 0: no log either */
    r->impact_at_min[3 * NA] = -0.01;
    r->elapsed_s = 0.0;                     /* no rate */
    char dir[256];
    make_dir(dir, sizeof dir, "quiet");
    xm_error err;
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_OK);
    check_files_finite(dir);
    char *js = slurp_in(dir, "summary.json");
    assert_contains(js, "\"cascades\": {\"count\": 0, \"bins_per_decade\": 5, \"bins\": []}");
    assert_close(JNUM(js, "\"fund_exhausted\": {", "\"p\": "), 0.0);
    assert_close(JNUM(js, "\"first_liquidation_step\": {", "\"mean\": "), 0.0);
    assert_close(JNUM(js, "\"first_liquidation_step\": {", "\"paths\": "), 0.0);
    assert_close(JNUM(js, "\"paths_per_s\": "), 0.0);
    assert_int_equal(count_of(js, "\"mean_first_step\": null"), NACC);
    free(js);
    FILE *fp = tmpfile();
    assert_non_null(fp);
    xm_run_report_print(fp, m, r);
    assert_int_equal(fflush(fp), 0);
    free_result(r);

    /* Zero paths (interrupted before any finished), zero accounts, no fund. */
    r = alloc_result(0, 0);
    r->paths = 100;
    m->venue.insurance_fund_usd = 0;
    make_dir(dir, sizeof dir, "empty");
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_OK);
    check_files_finite(dir);
    js = slurp_in(dir, "summary.json");
    assert_contains(js, "\"accounts\": []");
    assert_close(JNUM(js, "\"paths\": "), 0.0);
    assert_close(JNUM(js, "\"any_liquidation\": {", "\"ci95\": [", ", "), 1.0);
    free(js);
    char *pc = slurp_in(dir, "paths.csv");
    assert_int_equal(count_lines(pc), 1);
    free(pc);
    xm_run_report_print(fp, m, r);
    rewind(fp);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    assert_finite_text(buf, "printed summary");
    assert_contains(buf, "no account was liquidated");
    assert_contains(buf, "interrupted after 0 of 100 paths");
    free_result(r);
    xm_model_free(m);
}

/* Fund of 0: "fund exhausted" means bad debt. */
static void test_fund_zero(void **state)
{
    (void)state;
    xm_model *m = make_model();
    m->venue.insurance_fund_usd = 0;
    xm_run_result *r = make_result();
    for (int p = 0; p < NP; p++)
        r->pm[p].fund_min_usd = 0;
    char dir[256];
    make_dir(dir, sizeof dir, "fund0");
    xm_error err;
    assert_int_equal(xm_run_report_write(dir, m, r, &err), XM_OK);
    char *js = slurp_in(dir, "summary.json");
    assert_close(JNUM(js, "\"fund_exhausted\": {", "\"count\": "), 2.0);
    free(js);
    free_result(r);
    xm_model_free(m);
}

static void test_print(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_run_result *r = make_result();
    FILE *fp = tmpfile();
    assert_non_null(fp);
    xm_run_report_print(fp, m, r);
    rewind(fp);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    assert_true(count_lines(buf) <= 30);
    assert_finite_text(buf, "printed summary");
    assert_contains(buf, "reporttest: 10 paths x 288 steps (1 day, 5 min/step), 3 accounts, "
                         "seed 42\n");
    assert_contains(buf, "ran in 0.50 s on 2 threads (20 paths/s)");
    /* Probabilities with their Wilson intervals, formatted as percentages. */
    double lo, hi;
    char want[128];
    xm_stats_wilson(4, NP, XM_Z95, &lo, &hi);
    snprintf(want, sizeof want, "40.0%%  [%.1f%%, %.1f%%]", 100 * lo, 100 * hi);
    assert_contains(AFTER(buf, "any liquidation"), want);
    xm_stats_wilson(2, NP, XM_Z95, &lo, &hi);
    snprintf(want, sizeof want, "20.0%%  [%.2f%%, %.1f%%]", 100 * lo, 100 * hi);
    assert_contains(AFTER(buf, "bad debt"), want);
    assert_contains(AFTER(buf, "ADL"), "10.0%");
    assert_contains(AFTER(buf, "fund exhausted"), "10.0%");
    assert_contains(AFTER(buf, "max rounds hit"), "10.0%");
    /* Key metrics, USD readable. */
    assert_contains(AFTER(buf, "liquidated notional"), "$101k +/- $99.9k");
    assert_contains(AFTER(buf, "largest cascade"), "$80.7k +/- $79.9k");
    assert_contains(AFTER(buf, "bad debt   "), "$150k");
    assert_contains(buf, "socialized loss");
    assert_contains(buf, "cascade depth");
    /* Top accounts by p_liq, riskiest first; carol never liquidated: not listed. */
    const char *top = AFTER(buf, "most at risk");
    const char *al = strstr(top, "alice"), *bo = strstr(top, "bob");
    assert_non_null(al);
    assert_non_null(bo);
    assert_true(al < bo);
    assert_contains(al, "40.0% [");
    assert_contains(al, "$123k");
    assert_contains(bo, "-$0.50");
    assert_null(strstr(top, "carol"));
    assert_contains(buf, "note: on 1 path a step ended still liquidatable after max_rounds (50)");
    free_result(r);
    xm_model_free(m);
}

/* The top list keeps the 5 riskiest of many, in order, ties broken by loss then book order. */
static void test_print_top5(void **state)
{
    (void)state;
    xm_model *m = make_model();
    xm_error err;
    xm_accounts_free(m->book);
    m->book = xm_accounts_alloc(&err);
    const size_t n = 1000;
    for (size_t a = 0; a < n; a++) {
        char id[32];
        snprintf(id, sizeof id, "acct-%04zu", a);
        assert_int_equal(xm_accounts_add_account(m->book, id, XM_CROSS, 1000, &err), XM_OK);
        assert_int_equal(xm_accounts_add_position(m->book, 0, 0.01, 90000, 0, &err), XM_OK);
    }
    xm_run_result *r = alloc_result(NP, n);
    for (int p = 0; p < NP; p++)
        r->pm[p].fund_min_usd = 1e6;
    r->acc->liq_paths[700] = 9;
    r->acc->liq_paths[3] = 7;
    r->acc->liq_paths[999] = 7;
    r->acc->loss_micro[999] = 1000000000;   /* same p as 3, larger loss: ranks first */
    r->acc->liq_paths[500] = 5;
    r->acc->liq_paths[501] = 5;             /* tie: book order */
    r->acc->liq_paths[502] = 5;             /* sixth: not shown */
    r->acc->liq_paths[10] = 1;
    FILE *fp = tmpfile();
    xm_run_report_print(fp, m, r);
    rewind(fp);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf - 1, fp);
    buf[len] = '\0';
    fclose(fp);
    const char *t = AFTER(buf, "most at risk");
    const char *order[] = {"acct-0700", "acct-0999", "acct-0003", "acct-0500", "acct-0501"};
    for (int k = 0; k < 5; k++) {
        const char *h = strstr(t, order[k]);
        if (h == NULL)
            fail_msg("%s missing or out of order in\n%s", order[k], buf);
        t = h;
    }
    assert_null(strstr(buf, "acct-0502"));
    assert_null(strstr(buf, "acct-0010"));
    assert_true(count_lines(buf) <= 30);
    free_result(r);
    xm_model_free(m);
}

/* Remove this process's output directories. */
static int cleanup(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf /tmp/xmtest-runreport-%ld", (long)getpid());
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_json),
        cmocka_unit_test(test_csv_files),
        cmocka_unit_test(test_atomic),
        cmocka_unit_test(test_no_liquidations),
        cmocka_unit_test(test_fund_zero),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_print_top5),
    };
    return xm_run_tests(tests, NULL, cleanup);
}
