/* market_report.c — statistics over paths, summary.json, paths.csv, human summary. */
#include "xmrisk/market_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmrisk/outfile.h"
#include "core/csv.h"
#include "core/json.h"

const double xm_return_quantile_levels[XM_RETURN_QUANTILES] = {0.01, 0.05, 0.50, 0.95, 0.99};
const double xm_drop_quantile_levels[XM_DROP_QUANTILES] = {0.50, 0.90, 0.95, 0.99, 0.999};

void xm_market_summary_free(xm_market_summary *s)
{
    if (s == NULL)
        return;
    free(s->assets);
    free(s);
}

static void summarize_asset(const xm_market_result *r, size_t i, double *col, xm_asset_summary *a)
{
    size_t n = r->n_assets;
    uint64_t paths = r->paths_done;
    for (uint64_t p = 0; p < paths; p++)
        col[p] = r->log_return[p * n + i];
    a->ret = xm_stats_moments(col, paths);
    xm_stats_sort(col, paths);
    for (int k = 0; k < XM_RETURN_QUANTILES; k++)
        a->ret_q[k] = xm_stats_quantile_sorted(col, paths, xm_return_quantile_levels[k]);

    a->drop_event_count = 0;
    for (uint64_t p = 0; p < paths; p++) {
        col[p] = fmax(0.0, 1.0 - r->min_ratio[p * n + i]);
        a->drop_event_count += col[p] >= XM_DROP_EVENT;
    }
    a->drop = xm_stats_moments(col, paths);
    xm_stats_sort(col, paths);
    for (int k = 0; k < XM_DROP_QUANTILES; k++)
        a->drop_q[k] = xm_stats_quantile_sorted(col, paths, xm_drop_quantile_levels[k]);
    a->drop_event_p = paths ? (double)a->drop_event_count / (double)paths : 0.0;
    xm_stats_wilson(a->drop_event_count, paths, XM_Z95, &a->drop_event_lo, &a->drop_event_hi);
}

xm_market_summary *xm_market_summary_compute(const xm_model *model, const xm_market_result *r, xm_error *err)
{
    (void)model;
    xm_market_summary *s = calloc(1, sizeof *s);
    double *col = malloc((r->paths_done ? r->paths_done : 1) * sizeof *col);
    if (s != NULL)
        s->assets = calloc(r->n_assets, sizeof *s->assets);
    if (s == NULL || col == NULL || s->assets == NULL) {
        free(col);
        xm_market_summary_free(s);
        xm_error_set(err, XM_ENOMEM, "summary: out of memory");
        return NULL;
    }
    s->n = r->n_assets;
    s->paths = r->paths_done;
    for (size_t i = 0; i < r->n_assets; i++)
        summarize_asset(r, i, col, &s->assets[i]);
    for (uint64_t p = 0; p < r->paths_done; p++)
        col[p] = (double)r->jumps[p];
    s->jumps = xm_stats_moments(col, r->paths_done);
    free(col);
    return s;
}

/* ---- summary.json ---- */

static void json_moments(FILE *fp, const xm_moments *m)
{
    xm_json_key_num(fp, "mean", m->mean, ", ");
    xm_json_key_num(fp, "stderr", m->stderr_, ", ");
    xm_json_key_num(fp, "sd", m->sd, "");
}

static void json_quantiles(FILE *fp, const double *levels, const double *q, int k)
{
    fputs("\"q\": {", fp);
    for (int j = 0; j < k; j++) {
        char key[32];
        snprintf(key, sizeof key, "%g", 100.0 * levels[j]);
        xm_json_key_num(fp, key, q[j], j + 1 < k ? ", " : "");
    }
    fputc('}', fp);
}

static void json_asset(FILE *fp, const xm_asset *a, const xm_asset_summary *s, int last)
{
    fputs("      {\"symbol\": ", fp);
    xm_json_string(fp, a->symbol);
    fputs(", ", fp);
    xm_json_key_num(fp, "start_price", a->price, ",\n");
    fputs("       \"horizon_log_return\": {", fp);
    json_moments(fp, &s->ret);
    fputs(", ", fp);
    json_quantiles(fp, xm_return_quantile_levels, s->ret_q, XM_RETURN_QUANTILES);
    fputs("},\n       \"worst_drop\": {", fp);
    json_moments(fp, &s->drop);
    fputs(", ", fp);
    json_quantiles(fp, xm_drop_quantile_levels, s->drop_q, XM_DROP_QUANTILES);
    fputs("},\n       \"drop_10pct\": {", fp);
    xm_json_key_num(fp, "p", s->drop_event_p, ", ");
    xm_json_key_pair(fp, "ci95", s->drop_event_lo, s->drop_event_hi, last ? "}}\n" : "}},\n");
}

static void write_summary_json(FILE *fp, const xm_model *m, const xm_market_result *r,
                               const xm_market_summary *s, const char *run_id)
{
    fputs("{\n  \"model\": ", fp);
    xm_json_string(fp, m->name);
    fprintf(fp, ",\n  \"xmrisk_version\": \"%s\",\n", XM_VERSION);
    fprintf(fp, "  \"seed\": %llu, \"paths\": %llu, \"steps\": %u, ",
            (unsigned long long)r->seed, (unsigned long long)r->paths_done, m->steps);
    xm_json_key_num(fp, "horizon_days", m->horizon_days, ",\n");
    fprintf(fp, "  \"run_id\": \"%s\", \"threads\": %d, \"elapsed_s\": %.6f,\n", run_id,
            r->threads, r->elapsed_s);
    fputs("  \"market\": {\n    \"process\": ", fp);
    xm_json_string(fp, xm_process_name(m->market.process));
    fprintf(fp, ",\n    \"correlation_repaired\": %s,\n",
            m->market.corr_repaired ? "true" : "false");
    fputs("    \"jumps_per_path\": {", fp);
    json_moments(fp, &s->jumps);
    fputs("},\n    \"assets\": [\n", fp);
    for (size_t i = 0; i < s->n; i++)
        json_asset(fp, &m->market.assets[i], &s->assets[i], i + 1 == s->n);
    fputs("    ]\n  }\n}\n", fp);
}

static void write_paths_csv(FILE *fp, const xm_model *m, const xm_market_result *r)
{
    size_t n = r->n_assets;
    fputs("path,jumps", fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, ",log_return_%s,min_ratio_%s", m->market.assets[i].symbol,
                m->market.assets[i].symbol);
    fputc('\n', fp);
    for (uint64_t p = 0; p < r->paths_done; p++) {
        fprintf(fp, "%llu,%llu", (unsigned long long)p, (unsigned long long)r->jumps[p]);
        for (size_t i = 0; i < n; i++) {
            xm_csv_num(fp, r->log_return[p * n + i]);
            xm_csv_num(fp, r->min_ratio[p * n + i]);
        }
        fputc('\n', fp);
    }
}

/* The result names of a run: a market-only run has no accounts.csv, and one of an earlier run
 * with accounts is withdrawn when this set is published. */
static const char *const result_names[] = {"summary.json", "paths.csv", "accounts.csv"};

xm_status xm_market_report_write(const char *dir, const xm_model *model, const xm_market_result *r,
                          const xm_market_summary *s, xm_error *err)
{
    xm_outset set;
    xm_status st = xm_outset_begin(&set, dir, err);
    xm_outfile f[2];  /* summary.json, paths.csv */
    memset(f, 0, sizeof f);
    for (int i = 0; i < 2 && st == XM_OK; i++)
        st = xm_outfile_open(&f[i], set.set_dir, result_names[i], err);
    if (st == XM_OK) {
        write_summary_json(f[0].fp, model, r, s, set.run_id);
        write_paths_csv(f[1].fp, model, r);
        /* Both files on disk before either is published: a full disk fails with nothing
         * published (tests/cli/test_fulldisk.sh). */
        st = xm_outset_publish(&set, f, 2, result_names, 3, err);
    }
    xm_outfile_abort(&f[0]);
    xm_outfile_abort(&f[1]);
    xm_outset_abort(&set);
    return st;
}

/* ---- human summary ---- */

void xm_market_report_print(FILE *fp, const xm_model *m, const xm_market_result *r, const xm_market_summary *s)
{
    const xm_market *mk = &m->market;
    fprintf(fp, "%s: %llu paths x %u steps (%.4g day%s, %.4g min/step), %s",
            m->name, (unsigned long long)r->paths_done, m->steps, m->horizon_days,
            m->horizon_days == 1.0 ? "" : "s",
            m->horizon_days * 1440.0 / m->steps, xm_process_name(mk->process));
    if (mk->process == XM_PROCESS_STUDENT_T)
        fprintf(fp, " nu=%g", mk->dof);
    if (mk->jumps.enabled)
        fprintf(fp, " + jumps (%.3g/yr, mean %.3g)", mk->jumps.rate_per_year, mk->jumps.mean);
    fprintf(fp, ", seed %llu\n", (unsigned long long)r->seed);
    fprintf(fp, "ran in %.2f s on %d thread%s (%.0f paths/s)\n\n", r->elapsed_s, r->threads,
            r->threads == 1 ? "" : "s", r->elapsed_s > 0 ? r->paths_done / r->elapsed_s : 0.0);
    fprintf(fp, "%-8s %12s  %-22s %8s %8s  %-16s %8s  %s\n", "asset", "start", "horizon return",
            "1%", "99%", "worst drop", "99%", "P(drop >= 10%) [95% CI]");
    for (size_t i = 0; i < s->n; i++) {
        const xm_asset_summary *a = &s->assets[i];
        fprintf(fp, "%-8s %12.6g  %+8.3f%% +/- %6.3f%% %+7.2f%% %+7.2f%%  %6.2f%% +/- %5.2f%% "
                    "%7.2f%%  %6.3f%% [%.3f%%, %.3f%%]\n",
                mk->assets[i].symbol, mk->assets[i].price, 100 * a->ret.mean,
                100 * a->ret.stderr_, 100 * a->ret_q[0], 100 * a->ret_q[4], 100 * a->drop.mean,
                100 * a->drop.stderr_, 100 * a->drop_q[3], 100 * a->drop_event_p,
                100 * a->drop_event_lo, 100 * a->drop_event_hi);
    }
    if (mk->corr_repaired)
        fprintf(fp, "\nnote: the correlation matrix was not positive definite (smallest "
                    "eigenvalue %.4g) and was replaced by its nearest correlation matrix "
                    "(max change %.4g)\n", mk->corr_min_eigen, mk->corr_repair_max_abs_change);
}
