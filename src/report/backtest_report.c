/* backtest_report.c — backtest.json, backtest.csv and the table (xmrisk/backtest_report.h). */
#include "xmrisk/backtest_report.h"

#include <string.h>

#include "core/csv.h"
#include "core/json.h"
#include "xmrisk/outfile.h"

static const char *const result_names[] = {"backtest.json", "backtest.csv"};
static const char *const side_names[] = {"down", "up"};

static void date_text(int64_t t, char buf[24])
{
    xm_history_format_time(t, buf, 24);
    buf[10] = '\0';
}

static void json_asset(FILE *fp, const char *symbol, int side, const xm_coverage *c)
{
    fputs("    {", fp);
    xm_json_key(fp, "symbol");
    xm_json_string(fp, symbol);
    fprintf(fp, ", \"side\": \"%s\", \"days\": %llu, \"exceedances\": %llu, ", side_names[side],
            (unsigned long long)c->T, (unsigned long long)c->x);
    xm_json_key_num(fp, "rate", c->rate, ", ");
    xm_json_key_num(fp, "kupiec_lr", c->lr_uc, ", ");
    xm_json_key_num(fp, "kupiec_p", c->p_uc, ", ");
    xm_json_key_num(fp, "christoffersen_lr", c->lr_cc, ", ");
    xm_json_key_num(fp, "christoffersen_p", c->p_cc, ", ");
    fprintf(fp, "\"zone\": \"%s\"}", xm_coverage_zone_name(c->zone));
}

static void write_json(FILE *fp, const xm_model *m, const xm_backtest_opts *o,
                       const xm_backtest_result *r, const char *run_id)
{
    char from[24], to[24];
    date_text(o->from, from);
    date_text(o->to, to);
    fputs("{\n  ", fp);
    xm_json_key(fp, "model");
    xm_json_string(fp, m->name);
    fputs(",\n  ", fp);
    xm_json_key_num(fp, "level", o->level, ",\n");
    fprintf(fp, "  \"from\": \"%s\",\n  \"to\": \"%s\",\n  \"paths\": %llu,\n  \"seed\": %llu,\n",
            from, to, (unsigned long long)o->paths, (unsigned long long)o->seed);
    fprintf(fp, "  \"steps_per_day\": %.0f,\n  \"window_days\": %u,\n  \"run_id\": \"%s\",\n",
            m->steps / m->horizon_days, m->history_window_days, run_id);
    fprintf(fp, "  \"days\": %zu,\n  \"skipped_days\": %zu,\n  \"assets\": [\n", r->n_days,
            r->skipped_days);
    for (size_t k = 0; k < 2 * r->n_assets; k++) {
        json_asset(fp, m->market.assets[k / 2].symbol, (int)(k % 2), &r->cov[k]);
        fputs(k + 1 < 2 * r->n_assets ? ",\n" : "\n", fp);
    }
    fputs("  ]\n}\n", fp);
}

static void write_csv(FILE *fp, const xm_model *m, const xm_backtest_result *r)
{
    fputs("date,symbol,pred_low_ratio,low_ratio,exceeded_low,pred_high_ratio,high_ratio,"
          "exceeded_high\n", fp);
    for (size_t k = 0; k < r->n_days * r->n_assets; k++) {
        const xm_backtest_row *w = &r->rows[k];
        char date[24];
        date_text(w->day, date);
        fprintf(fp, "%s,", date);
        xm_csv_text(fp, m->market.assets[w->asset].symbol);
        xm_csv_num(fp, w->pred_low);
        xm_csv_num(fp, w->low);
        fprintf(fp, ",%d", w->exceeded_low);
        xm_csv_num(fp, w->pred_high);
        xm_csv_num(fp, w->high);
        fprintf(fp, ",%d\n", w->exceeded_high);
    }
}

xm_status xm_backtest_report_write(const char *dir, const xm_model *m,
                                   const xm_backtest_opts *o, const xm_backtest_result *r,
                                   xm_error *err)
{
    xm_outset set;
    xm_status st = xm_outset_begin(&set, dir, err);
    xm_outfile f[2];
    memset(f, 0, sizeof f);
    for (int i = 0; i < 2 && st == XM_OK; i++)
        st = xm_outfile_open(&f[i], set.set_dir, result_names[i], err);
    if (st == XM_OK) {
        write_json(f[0].fp, m, o, r, set.run_id);
        write_csv(f[1].fp, m, r);
        st = xm_outset_publish(&set, f, 2, result_names, 2, err);
    }
    xm_outfile_abort(&f[0]);
    xm_outfile_abort(&f[1]);
    xm_outset_abort(&set);
    return st;
}

void xm_backtest_report_print(FILE *fp, const xm_model *m, const xm_backtest_opts *o,
                              const xm_backtest_result *r)
{
    char from[24], to[24];
    date_text(o->from, from);
    date_text(o->to, to);
    fprintf(fp, "backtest of %s (%s): %s to %s, level %g, %llu paths a day; %zu days evaluated, "
            "%zu skipped\n", m->name, xm_process_name(m->market.process), from, to, o->level,
            (unsigned long long)o->paths, r->n_days, r->skipped_days);
    fprintf(fp, "%-8s %-5s %6s %5s %8s %10s %9s %10s %9s  %s\n", "symbol", "side", "days", "exc",
            "rate", "kupiec_lr", "kupiec_p", "chr_lr_cc", "chr_p_cc", "zone");
    for (size_t k = 0; k < 2 * r->n_assets; k++) {
        const xm_coverage *c = &r->cov[k];
        fprintf(fp, "%-8s %-5s %6llu %5llu %7.2f%% %10.2f %9.3g %10.2f %9.3g  %s\n",
                m->market.assets[k / 2].symbol, side_names[k % 2], (unsigned long long)c->T,
                (unsigned long long)c->x, 100.0 * c->rate, c->lr_uc, c->p_uc, c->lr_cc, c->p_cc,
                xm_coverage_zone_name(c->zone));
    }
}
