/* report/ — result files (summary.json, accounts.csv, paths.csv) and human summaries. */
/* cascade_report.c — statistics of a cascade run (xm_run_result), its result files (summary.json,
 * accounts.csv, paths.csv; docs/interface.md) and the human summary (docs/model.md §6).
 *
 * Every reduction runs in path order (or account order), so the files are a deterministic
 * function of the result: doubles are written with %.17g and equal files mean equal results.
 * No number written is ever NaN or infinite: divisions are guarded and anything non-finite
 * that reaches a writer comes out as JSON null / an empty CSV field.
 */
#include "xmrisk/cascade_run.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmrisk/outfile.h"
#include "xmrisk/estimators.h"
#include "core/csv.h"
#include "core/json.h"

/* ---- per-path metrics (their definitions: xmrisk/mergestats.h) ---- */

#define M_COUNT XM_PM_COUNT

/* Upper-tail quantiles of every loss-like metric ... */
#define NQ 5
static const double q_level[NQ] = {0.50, 0.90, 0.95, 0.99, 0.999};
static const char *const q_key[NQ] = {"50", "90", "95", "99", "99.9"};
/* ... and lower-tail ones of the lowest mark ratio, where the risk is. */
static const double qlow_level[NQ] = {0.001, 0.01, 0.05, 0.10, 0.50};
static const char *const qlow_key[NQ] = {"0.1", "1", "5", "10", "50"};

typedef struct {
    xm_moments m;
    double q[NQ];
} dist;

/* Moments and quantiles of col[0..n) (sorted in place). */
static dist dist_of(double *col, size_t n, const double *levels)
{
    dist d;
    d.m = xm_stats_moments(col, n);
    xm_stats_sort(col, n);
    for (int j = 0; j < NQ; j++)
        d.q[j] = xm_stats_quantile_sorted(col, n, levels[j]);
    return d;
}

typedef struct {
    uint64_t count;
    double p, lo, hi;
} event;

enum { E_ANY_LIQ, E_BAD_DEBT, E_ADL, E_FUND_EXHAUSTED, E_MAX_ROUNDS, E_PRICE_FLOOR,
       E_BEYOND_TIER, E_COUNT };
static const char *const event_name[E_COUNT] = {"any_liquidation", "bad_debt", "adl",
                                                "fund_exhausted", "max_rounds_hit",
                                                "price_floor", "beyond_last_tier"};

typedef struct {
    uint64_t paths;              /* paths_done */
    event ev[E_COUNT];
    dist metric[M_COUNT];
    xm_moments first_step;       /* over paths with a liquidation */
    uint64_t first_step_paths;
    size_t n_assets;
    dist *min_ratio;             /* per asset, lower-tail quantiles */
    xm_moments *impact_share;    /* per asset */
} run_stats;

static void run_stats_free(run_stats *s)
{
    free(s->min_ratio);
    free(s->impact_share);
}

static event make_event(uint64_t count, uint64_t n)
{
    event e = {count, n ? (double)count / (double)n : 0.0, 0.0, 1.0};
    xm_stats_wilson(count, n, XM_Z95, &e.lo, &e.hi);
    return e;
}

/* Event counts from path-event counts (xmrisk/mergestats.h): "fund exhausted" is the fund
 * reaching 0 with a fund, any bad debt without one. */
static void set_events(run_stats *s, const uint64_t *pe, double fund0)
{
    static const int from[E_COUNT] = {XM_PE_ANY_LIQ,    XM_PE_BAD_DEBT,    XM_PE_ADL,
                                      XM_PE_FUND_ZERO,  XM_PE_MAX_ROUNDS,  XM_PE_PRICE_FLOOR,
                                      XM_PE_BEYOND_TIER};
    for (int e = 0; e < E_COUNT; e++) {
        int k = e == E_FUND_EXHAUSTED && !(fund0 > 0) ? XM_PE_BAD_DEBT : from[e];
        s->ev[e] = make_event(pe[k], s->paths);
    }
}

static xm_moments moments_of(const xm_xmoments *x)
{
    xm_moments m;
    xm_xmoments_get(x, &m.mean, &m.sd, &m.stderr_);
    return m;
}

static dist dist_binned(const xm_bincol *c, const double *levels)
{
    dist d;
    d.m = moments_of(&c->mom);
    for (int j = 0; j < NQ; j++)
        d.q[j] = xm_bincol_quantile(c, levels[j]);
    return d;
}

static int stats_alloc(run_stats *s, size_t na)
{
    s->min_ratio = calloc(na ? na : 1, sizeof *s->min_ratio);
    s->impact_share = calloc(na ? na : 1, sizeof *s->impact_share);
    return s->min_ratio != NULL && s->impact_share != NULL;
}

/* The same statistics from a binned result: moments from exact sums, quantiles from bins. */
static xm_status compute_stats_binned(const xm_model *model, const xm_run_result *r,
                                      run_stats *s, xm_error *err)
{
    const xm_mergestats *ps = r->ps;
    memset(s, 0, sizeof *s);
    s->paths = ps->paths;
    s->n_assets = r->n_assets;
    if (!stats_alloc(s, r->n_assets)) {
        run_stats_free(s);
        return xm_error_set(err, XM_ENOMEM, "run report: out of memory");
    }
    set_events(s, ps->events, model->venue.insurance_fund_usd);
    for (int k = 0; k < M_COUNT; k++)
        s->metric[k] = dist_binned(&ps->metric[k], q_level);
    s->first_step = moments_of(&ps->first_step);
    s->first_step_paths = ps->first_step.n;
    for (size_t i = 0; i < r->n_assets; i++) {
        s->min_ratio[i] = dist_binned(&ps->min_ratio[i], qlow_level);
        s->impact_share[i] = moments_of(&ps->impact_share[i]);
    }
    return XM_OK;
}

static xm_status compute_stats(const xm_model *model, const xm_run_result *r, run_stats *s,
                               xm_error *err)
{
    if (r->ps != NULL)
        return compute_stats_binned(model, r, s, err);
    memset(s, 0, sizeof *s);
    uint64_t n = r->paths_done;
    size_t na = r->n_assets;
    s->paths = n;
    s->n_assets = na;
    double *col = malloc((n ? n : 1) * sizeof *col);
    if (!stats_alloc(s, na) || col == NULL) {
        free(col);
        run_stats_free(s);
        return xm_error_set(err, XM_ENOMEM, "run report: out of memory");
    }

    uint64_t pe[XM_PE_COUNT] = {0};
    for (uint64_t p = 0; p < n; p++)
        for (int e = 0; e < XM_PE_COUNT; e++)
            pe[e] += (uint64_t)xm_pe_has(&r->pm[p], e);
    set_events(s, pe, model->venue.insurance_fund_usd);

    for (int k = 0; k < M_COUNT; k++) {
        for (uint64_t p = 0; p < n; p++)
            col[p] = xm_pm_value(&r->pm[p], k);
        s->metric[k] = dist_of(col, n, q_level);
    }

    size_t m = 0;
    for (uint64_t p = 0; p < n; p++)
        if (r->pm[p].first_liq_step > 0)
            col[m++] = (double)r->pm[p].first_liq_step;
    s->first_step = xm_stats_moments(col, m);
    s->first_step_paths = m;

    for (size_t i = 0; i < na; i++) {
        for (uint64_t p = 0; p < n; p++)
            col[p] = xm_impact_share(r->min_ratio[p * na + i], r->impact_at_min[p * na + i]);
        s->impact_share[i] = xm_stats_moments(col, n);
        for (uint64_t p = 0; p < n; p++)
            col[p] = r->min_ratio[p * na + i];
        s->min_ratio[i] = dist_of(col, n, qlow_level);
    }
    free(col);
    return XM_OK;
}

/* ---- per-account values ---- */

/* Sum of micro-USD to USD without losing the low digits of a large __int128. */
static double micro_to_usd(__int128 micro)
{
    __int128 whole = micro / 1000000, rest = micro % 1000000;
    return (double)whole + (double)rest / 1e6;
}

typedef struct {
    uint64_t liq_paths;
    double p, lo, hi;
    double mean_first_step;      /* meaningful only when liq_paths > 0 */
    double expected_loss;
} account_row;

typedef struct {
    uint64_t paths;
    double lo0, hi0;             /* Wilson interval of 0 successes, shared by most accounts */
} account_ctx;

static account_row account_at(const xm_cascade_acc *acc, size_t a, const account_ctx *c)
{
    account_row row;
    row.liq_paths = acc->liq_paths[a];
    row.mean_first_step = 0.0;
    double paths = (double)c->paths;
    if (row.liq_paths == 0) {
        row.p = 0.0;
        row.lo = c->lo0;
        row.hi = c->hi0;
    } else {
        row.p = c->paths ? (double)row.liq_paths / paths : 0.0;
        xm_stats_wilson(row.liq_paths, c->paths, XM_Z95, &row.lo, &row.hi);
        row.mean_first_step = (double)acc->first_step_sum[a] / (double)row.liq_paths;
    }
    row.expected_loss =
        c->paths && acc->loss_micro[a] != 0 ? micro_to_usd(acc->loss_micro[a]) / paths : 0.0;
    return row;
}

static account_ctx account_context(uint64_t paths)
{
    account_ctx c = {paths, 0.0, 1.0};
    xm_stats_wilson(0, paths, XM_Z95, &c.lo0, &c.hi0);
    return c;
}

/* Account id from the model's book; its index when the book does not cover it. */
static const char *account_id(const xm_model *m, size_t a, char *buf, size_t len)
{
    if (m->book != NULL && a < m->book->n_accounts)
        return xm_accounts_id(m->book, a);
    snprintf(buf, len, "%zu", a);
    return buf;
}

/* ---- writers ---- */

/* `{"mean": m, "stderr": s` (left open). */
static void json_mean_se(FILE *fp, const xm_moments *m)
{
    fputc('{', fp);
    xm_json_key_num(fp, "mean", m->mean, ", ");
    xm_json_key_num(fp, "stderr", m->stderr_, "");
}

static void json_dist(FILE *fp, const dist *d, const char *const *keys)
{
    json_mean_se(fp, &d->m);
    fputs(", ", fp);
    xm_json_key_num(fp, "sd", d->m.sd, ", \"q\": {");
    for (int j = 0; j < NQ; j++)
        xm_json_key_num(fp, keys[j], d->q[j], j + 1 < NQ ? ", " : "}}");
}

/* Bin k of the cascade histogram spans [10^(k/d), 10^((k+1)/d)) USD (xmrisk/cascade.h). */
static double bin_edge(int k)
{
    return pow(10.0, (double)k / XM_HIST_PER_DECADE);
}

static void json_cascades(FILE *fp, const xm_cascade_acc *acc)
{
    int first = -1, last = -1;
    uint64_t total = 0;
    for (int k = 0; k < XM_HIST_BINS; k++)
        if (acc->cascade_hist[k] > 0) {
            if (first < 0)
                first = k;
            last = k;
            total += acc->cascade_hist[k];
        }
    fprintf(fp, "  \"cascades\": {\"count\": %llu, \"bins_per_decade\": %d, \"bins\": [",
            (unsigned long long)acc->cascades, XM_HIST_PER_DECADE);
    uint64_t above = total; /* cascades in bins >= k */
    for (int k = first; first >= 0 && k <= last; k++) {
        fputs(k == first ? "\n    {" : ",\n    {", fp);
        xm_json_key_num(fp, "lo_usd", bin_edge(k), ", ");
        xm_json_key_num(fp, "hi_usd", bin_edge(k + 1), ", ");
        fprintf(fp, "\"count\": %llu, ", (unsigned long long)acc->cascade_hist[k]);
        xm_json_key_num(fp, "ccdf", total ? (double)above / (double)total : 0.0, "}");
        above -= acc->cascade_hist[k];
    }
    fputs(first >= 0 ? "\n  ]},\n" : "]},\n", fp);
}

/* ---- statistics mode and histograms ---- */

static void json_statistics(FILE *fp, const xm_run_result *r)
{
    if (r->ps == NULL) {
        fputs("  \"statistics\": {\"quantiles\": \"exact\", \"per_path_results\": \"paths.csv\"},\n",
              fp);
        return;
    }
    uint64_t above = 0;
    for (int k = 0; k < XM_PM_COUNT; k++)
        above += r->ps->metric[k].above;
    for (size_t i = 0; i < r->ps->n_assets; i++)
        above += r->ps->min_ratio[i].above;
    fputs("  \"statistics\": {\"quantiles\": \"binned\", ", fp);
    xm_json_key_num(fp, "relative_resolution", XM_BINS_RESOLUTION, ", ");
    xm_json_key_pair(fp, "binned_range", ldexp(1.0, XM_BINS_EXP_MIN), ldexp(1.0, XM_BINS_EXP_MAX),
                     ", ");
    fprintf(fp, "\"values_above_range\": %llu, \"means\": \"exact sums\", "
                "\"per_path_results\": null},\n", (unsigned long long)above);
}

#define FINE_PER_GROUP (1u << (XM_BINS_MANT_BITS - 3))   /* 8 groups per octave */

/* The group (8 per octave and sign) of fine bin b, and its first and last fine bins. */
static uint32_t group_of(uint32_t b, uint32_t *first, uint32_t *last)
{
    if (b > XM_BINS_ZERO) {
        uint32_t g = (b - XM_BINS_ZERO - 1) / FINE_PER_GROUP;
        *first = XM_BINS_ZERO + 1 + g * FINE_PER_GROUP;
        *last = *first + FINE_PER_GROUP - 1;
        return XM_BINS_ZERO + 1 + g;
    }
    uint32_t g = (XM_BINS_ZERO - 1 - b) / FINE_PER_GROUP;
    *last = XM_BINS_ZERO - 1 - g * FINE_PER_GROUP;
    *first = *last - (FINE_PER_GROUP - 1);
    return XM_BINS_ZERO - 1 - g;
}

static void json_histogram(FILE *fp, const char *name, const xm_bincol *c)
{
    fputs(",\n    ", fp);
    xm_json_key(fp, name);
    fprintf(fp, "{\"zero\": %llu, \"bins\": [", (unsigned long long)c->bins[XM_BINS_ZERO]);
    int any = 0;
    for (uint32_t b = 0; b < XM_BINS_COUNT;) {
        if (b == XM_BINS_ZERO || c->bins[b] == 0) {
            b++;
            continue;
        }
        uint32_t first, last;
        group_of(b, &first, &last);
        uint64_t count = 0;
        for (uint32_t k = first; k <= last; k++)
            count += c->bins[k];
        double lo, hi, l2, h2;
        xm_bins_edges(first, &lo, &h2);
        xm_bins_edges(last, &l2, &hi);
        fputs(any ? ", [" : "[", fp);
        xm_json_num(fp, lo);
        fputs(", ", fp);
        xm_json_num(fp, hi);
        fprintf(fp, ", %llu]", (unsigned long long)count);
        any = 1;
        b = last + 1;
    }
    fputs("]}", fp);
}

/* Histograms of every binned column, in both modes (an exact result is binned here). */
static xm_status json_histograms(FILE *fp, const xm_model *m, const xm_run_result *r,
                                 xm_error *err)
{
    xm_mergestats *own = NULL;
    const xm_mergestats *ps = r->ps;
    if (ps == NULL) {
        own = xm_mergestats_alloc(r->n_assets ? r->n_assets : 1, m->venue.insurance_fund_usd, err);
        if (own == NULL)
            return XM_ENOMEM;
        for (uint64_t p = 0; p < r->paths_done; p++)
            xm_mergestats_add(own, &r->pm[p], &r->min_ratio[p * r->n_assets],
                             &r->impact_at_min[p * r->n_assets]);
        ps = own;
    }
    fprintf(fp, "  \"histograms\": {\"bins_per_octave\": %u, \"bins\": \"[lo, hi, count]\"",
            (1u << XM_BINS_MANT_BITS) / FINE_PER_GROUP);
    for (int k = 0; k < XM_PM_COUNT; k++)
        json_histogram(fp, xm_pm_name[k], &ps->metric[k]);
    for (size_t i = 0; i < r->n_assets; i++) {
        char name[64];
        snprintf(name, sizeof name, "min_mark_ratio_%s",
                 i < m->market.n ? m->market.assets[i].symbol : "?");
        json_histogram(fp, name, &ps->min_ratio[i]);
    }
    fputs("\n  },\n", fp);
    xm_mergestats_free(own);
    return XM_OK;
}

static void write_summary_head(FILE *fp, const xm_model *m, const xm_run_result *r,
                               const run_stats *s, const char *run_id)
{
    fputs("{\n  \"model\": ", fp);
    xm_json_string(fp, m->name ? m->name : "");
    fprintf(fp, ",\n  \"xmrisk_version\": \"%s\",\n", XM_VERSION);
    fprintf(fp, "  \"seed\": %llu, \"paths\": %llu, \"paths_requested\": %llu, \"steps\": %u, ",
            (unsigned long long)r->seed, (unsigned long long)r->paths_done,
            (unsigned long long)r->paths, m->steps);
    xm_json_key_num(fp, "horizon_days", m->horizon_days, ",\n  ");
    fprintf(fp, "\"run_id\": \"%s\", \"threads\": %d, ", run_id, r->threads);
    xm_json_key_num(fp, "elapsed_s", r->elapsed_s, ", ");
    xm_json_key_num(fp, "paths_per_s",
                    r->elapsed_s > 0 ? (double)r->paths_done / r->elapsed_s : 0.0, ",\n  ");
    xm_json_key_num(fp, "insurance_fund_usd", m->venue.insurance_fund_usd, ",\n");
    json_statistics(fp, r);
    fputs("  \"events\": {", fp);
    for (int e = 0; e < E_COUNT; e++) {
        fprintf(fp, "%s\n    \"%s\": {", e ? "," : "", event_name[e]);
        xm_json_key_num(fp, "p", s->ev[e].p, ", ");
        xm_json_key_pair(fp, "ci95", s->ev[e].lo, s->ev[e].hi, ", ");
        fprintf(fp, "\"count\": %llu}", (unsigned long long)s->ev[e].count);
    }
    fputs("\n  },\n  \"metrics\": {", fp);
    for (int k = 0; k < M_COUNT; k++) {
        fprintf(fp, "%s\n    \"%s\": ", k ? "," : "", xm_pm_name[k]);
        json_dist(fp, &s->metric[k], q_key);
    }
    fputs("\n  },\n  \"first_liquidation_step\": ", fp);
    json_mean_se(fp, &s->first_step);
    fprintf(fp, ", \"paths\": %llu},\n", (unsigned long long)s->first_step_paths);

    fputs("  \"assets\": [", fp);
    for (size_t i = 0; i < s->n_assets; i++) {
        fprintf(fp, "%s\n    {\"symbol\": ", i ? "," : "");
        xm_json_string(fp, i < m->market.n ? m->market.assets[i].symbol : "?");
        fputs(", \"min_mark_ratio\": ", fp);
        json_dist(fp, &s->min_ratio[i], qlow_key);
        fputs(",\n     \"impact_share_at_min\": ", fp);
        json_mean_se(fp, &s->impact_share[i]);
        fputs("}}", fp);
    }
    fputs(s->n_assets ? "\n  ],\n" : "],\n", fp);
    json_cascades(fp, r->acc);
}

/* The accounts array of summary.json (closing the document) and accounts.csv, in one pass. */
static void write_accounts(FILE *js, FILE *csv, const xm_model *m, const xm_run_result *r)
{
    const xm_cascade_acc *acc = r->acc;
    account_ctx c = account_context(r->paths_done);
    char idbuf[32];
    fputs("id,p_liq,ci95_low,ci95_high,mean_first_step,expected_loss_usd,liq_paths\n", csv);
    fputs("  \"accounts\": [", js);
    /* Most accounts are never liquidated and lose nothing: their rows differ only by id. */
    char quiet_js[160], quiet_csv[96], lo[XM_NUM_MAX], hi[XM_NUM_MAX];
    snprintf(quiet_js, sizeof quiet_js,
             ", \"p_liq\": 0, \"ci95\": [%s, %s], \"mean_first_step\": null, "
             "\"expected_loss_usd\": 0}", xm_num_text(lo, c.lo0, "null"),
             xm_num_text(hi, c.hi0, "null"));
    snprintf(quiet_csv, sizeof quiet_csv, ",0,%s,%s,,0,0\n", xm_num_text(lo, c.lo0, ""),
             xm_num_text(hi, c.hi0, ""));
    for (size_t a = 0; a < acc->n_accounts; a++) {
        const char *id = account_id(m, a, idbuf, sizeof idbuf);
        if (acc->liq_paths[a] == 0 && acc->loss_micro[a] == 0) {
            fputs(a ? ",\n    {\"id\": " : "\n    {\"id\": ", js);
            xm_json_string(js, id);
            fputs(quiet_js, js);
            xm_csv_text(csv, id);
            fputs(quiet_csv, csv);
            continue;
        }
        account_row row = account_at(acc, a, &c);

        fputs(a ? ",\n    {\"id\": " : "\n    {\"id\": ", js);
        xm_json_string(js, id);
        double first_step = row.liq_paths > 0 ? row.mean_first_step : NAN;  /* null, empty */
        fputs(", ", js);
        xm_json_key_num(js, "p_liq", row.p, ", ");
        xm_json_key_pair(js, "ci95", row.lo, row.hi, ", ");
        xm_json_key_num(js, "mean_first_step", first_step, ", ");
        xm_json_key_num(js, "expected_loss_usd", row.expected_loss, "}");

        xm_csv_text(csv, id);
        xm_csv_num(csv, row.p);
        xm_csv_num(csv, row.lo);
        xm_csv_num(csv, row.hi);
        xm_csv_num(csv, first_step);
        xm_csv_num(csv, row.expected_loss);
        fprintf(csv, ",%llu\n", (unsigned long long)row.liq_paths);
    }
    fputs(acc->n_accounts ? "\n  ]\n}\n" : "]\n}\n", js);
}

static void write_paths_csv(FILE *fp, const xm_model *m, const xm_run_result *r)
{
    size_t na = r->n_assets;
    fputs("path,liq_events,accounts_liquidated,liquidated_notional_usd,largest_cascade_usd,"
          "cascade_rounds_max,max_rounds_hits,bad_debt_usd,fund_paid_usd,fund_min_usd,"
          "adl_notional_usd,adl_accounts,socialized_usd,first_liq_step,price_floor_hits,"
          "beyond_tier_events",
          fp);
    for (size_t i = 0; i < na; i++) {
        const char *sym = i < m->market.n ? m->market.assets[i].symbol : "?";
        fprintf(fp, ",min_mark_ratio_%s,impact_at_min_%s", sym, sym);
    }
    fputc('\n', fp);
    for (uint64_t p = 0; p < r->paths_done; p++) {
        const xm_path_metrics *pm = &r->pm[p];
        fprintf(fp, "%llu,%llu,%llu", (unsigned long long)(r->first_path + p),
                (unsigned long long)pm->liq_events,
                (unsigned long long)pm->accounts_liquidated);
        xm_csv_num(fp, pm->liquidated_notional);
        xm_csv_num(fp, pm->largest_cascade_usd);
        fprintf(fp, ",%u,%u", (unsigned)pm->cascade_rounds_max, (unsigned)pm->max_rounds_hits);
        xm_csv_num(fp, pm->bad_debt_usd);
        xm_csv_num(fp, pm->fund_paid_usd);
        xm_csv_num(fp, pm->fund_min_usd);
        xm_csv_num(fp, pm->adl_notional_usd);
        fprintf(fp, ",%llu", (unsigned long long)pm->adl_accounts);
        xm_csv_num(fp, pm->socialized_usd);
        fprintf(fp, ",%u,%u,%u", (unsigned)pm->first_liq_step,
                (unsigned)pm->price_floor_hits, (unsigned)pm->beyond_tier_events);
        for (size_t i = 0; i < na; i++) {
            xm_csv_num(fp, r->min_ratio[p * na + i]);
            xm_csv_num(fp, r->impact_at_min[p * na + i]);
        }
        fputc('\n', fp);
    }
}

enum { F_SUMMARY, F_ACCOUNTS, F_PATHS, F_COUNT };
static const char *const file_name[F_COUNT] = {"summary.json", "accounts.csv", "paths.csv"};

xm_status xm_run_report_write(const char *dir, const xm_model *model, const xm_run_result *r,
                              xm_error *err)
{
    if (r == NULL || r->acc == NULL || (r->paths_done > 0 && r->pm == NULL && r->ps == NULL))
        return xm_error_set(err, XM_EUSAGE, "run report: no result to write");
    run_stats s;
    xm_status st = compute_stats(model, r, &s, err);
    if (st != XM_OK)
        return st;
    xm_outset set;
    st = xm_outset_begin(&set, dir, err);
    int n_files = r->ps != NULL ? F_PATHS : F_COUNT;  /* binned: no per-path rows */
    xm_outfile f[F_COUNT];
    memset(f, 0, sizeof f);
    for (int i = 0; i < n_files && st == XM_OK; i++) {
        st = xm_outfile_open(&f[i], set.set_dir, file_name[i], err);
        if (st == XM_OK)
            setvbuf(f[i].fp, NULL, _IOFBF, 1 << 20); /* a million accounts: big writes */
    }
    if (st == XM_OK) {
        write_summary_head(f[F_SUMMARY].fp, model, r, &s, set.run_id);
        st = json_histograms(f[F_SUMMARY].fp, model, r, err);
    }
    if (st == XM_OK) {
        write_accounts(f[F_SUMMARY].fp, f[F_ACCOUNTS].fp, model, r);
        if (n_files == F_COUNT)
            write_paths_csv(f[F_PATHS].fp, model, r);
    }
    /* Published as one set; a binned result withdraws the paths.csv of an earlier run. */
    if (st == XM_OK)
        st = xm_outset_publish(&set, f, (size_t)n_files, file_name, F_COUNT, err);
    for (int i = 0; i < F_COUNT; i++)
        xm_outfile_abort(&f[i]);
    xm_outset_abort(&set);
    run_stats_free(&s);
    return st;
}

/* ---- human summary ---- */

/* 1234567 -> "1.23M" (with `unit` "$": "$1.23M"); 3 significant digits, k/M/B/T. */
static const char *fmt_amount(char *buf, size_t len, double v, const char *unit)
{
    static const char suffix[] = " kMBT";
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    const char *sign = v < 0 ? "-" : "";
    double a = fabs(v);
    if (a < 9.995 && a != floor(a))
        snprintf(buf, len, "%s%s%.2f", sign, unit, a);
    else if (a < 999.5)
        snprintf(buf, len, "%s%s%.0f", sign, unit, a);
    else {
        int k = 1;
        double scale = 1e3;
        while (k < 4 && a >= 999.5 * scale) {
            k++;
            scale *= 1e3;
        }
        snprintf(buf, len, "%s%s%.3g%c", sign, unit, a / scale, suffix[k]);
    }
    return buf;
}

/* Enough decimals that a value near 0% or 100% is not shown as exactly 0 or 100. */
static const char *fmt_pct(char *buf, size_t len, double p)
{
    double x = 100.0 * p;
    if (x < 100.0 && x >= 99.9)
        snprintf(buf, len, "%.3f%%", x);
    else if (x < 99.9 && x >= 99.0)
        snprintf(buf, len, "%.2f%%", x);
    else if (x == 0.0 || x >= 10.0)
        snprintf(buf, len, "%.1f%%", x);
    else if (x >= 0.1)
        snprintf(buf, len, "%.2f%%", x);
    else
        snprintf(buf, len, "%.3f%%", x);
    return buf;
}

static void print_event(FILE *fp, const char *label, const event *e)
{
    char p[32], lo[32], hi[32];
    fprintf(fp, "  %-20s %8s  [%s, %s]  (%llu path%s)\n", label, fmt_pct(p, sizeof p, e->p),
            fmt_pct(lo, sizeof lo, e->lo), fmt_pct(hi, sizeof hi, e->hi),
            (unsigned long long)e->count, e->count == 1 ? "" : "s");
}

static void print_metric(FILE *fp, const char *label, const dist *d, const char *unit)
{
    char mean[32], se[32], q50[32], q99[32], q999[32], ms[72];
    snprintf(ms, sizeof ms, "%s +/- %s", fmt_amount(mean, sizeof mean, d->m.mean, unit),
             fmt_amount(se, sizeof se, d->m.stderr_, unit));
    fprintf(fp, "  %-22s %-20s %9s %9s %9s\n", label, ms,
            fmt_amount(q50, sizeof q50, d->q[0], unit), fmt_amount(q99, sizeof q99, d->q[3], unit),
            fmt_amount(q999, sizeof q999, d->q[4], unit));
}

#define TOP_ACCOUNTS 5

/* Is account a riskier than b: more liquidated paths, then larger expected loss, then
 * earlier in the book (a total order, so the list is deterministic). */
static int riskier(const xm_cascade_acc *acc, size_t a, size_t b)
{
    if (acc->liq_paths[a] != acc->liq_paths[b])
        return acc->liq_paths[a] > acc->liq_paths[b];
    if (acc->loss_micro[a] != acc->loss_micro[b])
        return acc->loss_micro[a] > acc->loss_micro[b];
    return a < b;
}

static void print_top_accounts(FILE *fp, const xm_model *m, const xm_run_result *r)
{
    const xm_cascade_acc *acc = r->acc;
    size_t top[TOP_ACCOUNTS], n = 0;
    for (size_t a = 0; a < acc->n_accounts; a++) {
        if (acc->liq_paths[a] == 0)
            continue;
        if (n == TOP_ACCOUNTS && !riskier(acc, a, top[n - 1]))
            continue;
        size_t j = n < TOP_ACCOUNTS ? n++ : n - 1;
        while (j > 0 && riskier(acc, a, top[j - 1])) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = a;
    }
    if (n == 0) {
        fprintf(fp, "no account was liquidated on any path (%zu accounts)\n", acc->n_accounts);
        return;
    }
    fprintf(fp, "%-32s %-27s %s\n", "most at risk", "P(liquidated) [95% CI]", "expected loss");
    account_ctx c = account_context(r->paths_done);
    char idbuf[32], p[32], lo[32], hi[32], loss[32], ci[128];
    for (size_t k = 0; k < n; k++) {
        account_row row = account_at(acc, top[k], &c);
        snprintf(ci, sizeof ci, "%s [%s, %s]", fmt_pct(p, sizeof p, row.p),
                 fmt_pct(lo, sizeof lo, row.lo), fmt_pct(hi, sizeof hi, row.hi));
        fprintf(fp, "  %-30.30s %-27s %s\n", account_id(m, top[k], idbuf, sizeof idbuf), ci,
                fmt_amount(loss, sizeof loss, row.expected_loss, "$"));
    }
}

void xm_run_report_print(FILE *fp, const xm_model *m, const xm_run_result *r)
{
    run_stats s;
    if (r == NULL || r->acc == NULL || compute_stats(m, r, &s, NULL) != XM_OK) {
        fprintf(fp, "%s: no result to summarize\n", m && m->name ? m->name : "?");
        return;
    }
    size_t n_acc = r->acc->n_accounts;
    fprintf(fp, "%s: %llu paths x %u steps (%.4g day%s, %.4g min/step), %zu accounts, seed %llu\n",
            m->name ? m->name : "?", (unsigned long long)r->paths_done, m->steps,
            m->horizon_days, m->horizon_days == 1.0 ? "" : "s",
            m->steps ? m->horizon_days * 1440.0 / m->steps : 0.0, n_acc,
            (unsigned long long)r->seed);
    fprintf(fp, "ran in %.2f s on %d thread%s (%.0f paths/s)", r->elapsed_s, r->threads,
            r->threads == 1 ? "" : "s",
            r->elapsed_s > 0 ? (double)r->paths_done / r->elapsed_s : 0.0);
    if (r->paths_done < r->paths)
        fprintf(fp, "; interrupted after %llu of %llu paths", (unsigned long long)r->paths_done,
                (unsigned long long)r->paths);
    fputs("\n\nper path, probability [95% CI]\n", fp);
    print_event(fp, "any liquidation", &s.ev[E_ANY_LIQ]);
    print_event(fp, "bad debt", &s.ev[E_BAD_DEBT]);
    print_event(fp, "ADL", &s.ev[E_ADL]);
    print_event(fp, "fund exhausted", &s.ev[E_FUND_EXHAUSTED]);
    print_event(fp, "max rounds hit", &s.ev[E_MAX_ROUNDS]);

    fprintf(fp, "\nper path                 %-20s %9s %9s %9s\n", "mean +/- stderr", "p50", "p99",
            "p99.9");
    print_metric(fp, "liquidated notional", &s.metric[XM_PM_LIQ_NOTIONAL], "$");
    print_metric(fp, "accounts liquidated", &s.metric[XM_PM_ACCOUNTS_LIQ], "");
    print_metric(fp, "largest cascade", &s.metric[XM_PM_LARGEST_CASCADE], "$");
    print_metric(fp, "cascade depth (rounds)", &s.metric[XM_PM_ROUNDS_MAX], "");
    print_metric(fp, "bad debt", &s.metric[XM_PM_BAD_DEBT], "$");
    print_metric(fp, "ADL notional", &s.metric[XM_PM_ADL_NOTIONAL], "$");
    print_metric(fp, "socialized loss", &s.metric[XM_PM_SOCIALIZED], "$");
    if (s.first_step_paths > 0 && m->steps > 0)
        fprintf(fp, "  first liquidation at step %.1f +/- %.1f of %u on average (when any)\n",
                s.first_step.mean, s.first_step.stderr_, m->steps);
    fputc('\n', fp);
    print_top_accounts(fp, m, r);
    if (s.ev[E_MAX_ROUNDS].count > 0)
        fprintf(fp, "\nnote: on %llu path%s a step ended still liquidatable after max_rounds "
                    "(%u): raise venue.liquidation.max_rounds\n",
                (unsigned long long)s.ev[E_MAX_ROUNDS].count,
                s.ev[E_MAX_ROUNDS].count == 1 ? "" : "s", (unsigned)m->venue.max_rounds);
    if (s.ev[E_PRICE_FLOOR].count > 0)
        fprintf(fp, "note: on %llu path%s a mark reached the price floor (%g x S0) or ceiling "
                    "(%g x S0; model.md §7): the process drove a price to zero or below, or "
                    "beyond any market\n",
                (unsigned long long)s.ev[E_PRICE_FLOOR].count,
                s.ev[E_PRICE_FLOOR].count == 1 ? "" : "s", XM_PRICE_FLOOR_REL, XM_PRICE_CEIL_REL);
    if (r->ps != NULL)
        fprintf(fp, "note: binned statistics (--stats binned): quantiles within %.2g%% of the "
                    "exact ones, means and probabilities exact; no paths.csv\n",
                100.0 * XM_BINS_RESOLUTION);
    if (s.ev[E_BEYOND_TIER].count > 0)
        fprintf(fp, "note: on %llu path%s a position grew beyond its asset's last tier cap and "
                    "was liquidated (model.md §3)\n",
                (unsigned long long)s.ev[E_BEYOND_TIER].count,
                s.ev[E_BEYOND_TIER].count == 1 ? "" : "s");
    run_stats_free(&s);
}
