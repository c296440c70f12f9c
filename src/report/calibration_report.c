/* calibration_report.c — the table `xmrisk calibrate` prints and DIR/calibration.json
 * (xmrisk/calibration_report.h; docs/calibrate.md documents every field). */
#include "xmrisk/calibration_report.h"

#include <math.h>

#include "core/json.h"
#include "xmrisk/outfile.h"

static const char *kind_name(xm_cal_kind k)
{
    return k == XM_CAL_POSITION ? "position" : k == XM_CAL_VENUE ? "venue" : "tiers";
}

static const char *sym(const xm_cal_report *r, size_t i)
{
    return r->model->market.assets[i].symbol;
}

/* ---- JSON ---- */

static void json_points(FILE *fp, const char *key, const char *xname, const xm_cal_point *p,
                        size_t n, const char *indent)
{
    fprintf(fp, "%s\"%s\": [", indent, key);
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "%s\n%s  {", i ? "," : "", indent);
        xm_json_key_num(fp, xname, p[i].x, ", ");
        fprintf(fp, "\"k\": %llu, \"n\": %llu, ", (unsigned long long)p[i].k,
                (unsigned long long)p[i].n);
        xm_json_key_num(fp, "p", p[i].p, ", ");
        xm_json_key_pair(fp, "ci", p[i].lo, p[i].hi, ", ");
        xm_json_key_num(fp, "elapsed_s", p[i].elapsed_s, "}");
    }
    fprintf(fp, "\n%s]", indent);
}

static void json_search(FILE *fp, const char *answer_key, const xm_cal_search *s)
{
    fputs("  ", fp);
    xm_json_key_num(fp, answer_key, s->answer, ",\n  ");
    char ci[64];
    snprintf(ci, sizeof ci, "%s_ci", answer_key);
    xm_json_key_pair(fp, ci, s->ci_lo, s->ci_hi, ",\n  ");
    xm_json_key_pair(fp, "bracket", s->answer, s->bracket_bad, ",\n");
    fprintf(fp, "  \"stopped_by\": \"%s\",\n  \"monotone\": %s,\n", xm_cal_stop_name(s->stop),
            s->monotone ? "true" : "false");
}

static void json_head(FILE *fp, const xm_cal_report *r, const char *run_id)
{
    const xm_model *m = r->model;
    fprintf(fp, "{\n  \"xmrisk_version\": \"%s\",\n  \"kind\": \"%s\",\n  \"model\": ",
            XM_VERSION, kind_name(r->kind));
    xm_json_string(fp, m->name);
    fputs(",\n  \"model_file\": ", fp);
    xm_json_string(fp, m->path);
    fprintf(fp, ",\n  \"seed\": %llu,\n  \"paths\": %llu,\n  \"steps\": %u,\n  ",
            (unsigned long long)r->seed, (unsigned long long)r->paths, m->steps);
    xm_json_key_num(fp, "horizon_days", m->horizon_days, ",\n  ");
    fprintf(fp, "\"threads\": %d,\n  ", r->threads);
    fprintf(fp, "\"run_id\": \"%s\", ", run_id);
    xm_json_key_num(fp, "elapsed_s", r->elapsed_s, ",\n  ");
    xm_json_key_num(fp, "confidence", r->confidence, ",\n  ");
    xm_json_key_num(fp, "precision", r->precision, ",\n");
}

static void json_position(FILE *fp, const xm_cal_report *r)
{
    const xm_cal_position_res *p = r->pos;
    double s0 = r->model->market.assets[r->asset].price;
    fputs("  \"request\": {\"asset\": ", fp);
    xm_json_string(fp, sym(r, r->asset));
    fprintf(fp, ", \"side\": \"%s\", ", r->is_long ? "long" : "short");
    xm_json_key_num(fp, "notional_usd", r->notional_usd, ", ");
    xm_json_key_num(fp, "target_p_liq", r->alpha, ", ");
    xm_json_key_num(fp, "mmr", r->mmr_override > 0.0 ? r->mmr_override : NAN, ", ");
    xm_json_key_pair(fp, "leverage_range", p->lev_min, p->lev_max, "},\n");
    json_search(fp, "max_leverage", &p->search);
    fputs("  ", fp);
    xm_json_key_num(fp, "liq_price", p->liq_ratio > 0.0 ? p->liq_ratio * s0 : NAN, ",\n  ");
    xm_json_key_num(fp, "liq_move", p->liq_ratio > 0.0 ? p->liq_ratio - 1.0 : NAN, ",\n");
    json_points(fp, "candidates", "leverage", p->search.points, p->search.n_points, "  ");
    fputs(",\n", fp);
    json_points(fp, "curve", "leverage", p->curve, p->n_curve, "  ");
    fputs("\n}\n", fp);
}

static void json_tier_row(FILE *fp, const xm_cal_tier_row *t, const char *after)
{
    fputs("      {", fp);
    xm_json_key_num(fp, "cap_usd", t->cap_usd, ", ");
    xm_json_key_num(fp, "mmr", t->mmr, ", ");
    xm_json_key_num(fp, "max_leverage", t->max_leverage, ", ");
    xm_json_key_num(fp, "cum", t->cum, ",\n       ");
    xm_json_key_num(fp, "slippage", t->slippage, ", ");
    xm_json_key_num(fp, "gap", t->gap, ", ");
    xm_json_key_num(fp, "position_max_leverage", t->pos.search.answer, ", ");
    xm_json_key_pair(fp, "position_max_leverage_ci", t->pos.search.ci_lo, t->pos.search.ci_hi, ",\n");
    json_points(fp, "candidates", "leverage", t->pos.search.points, t->pos.search.n_points,
                "       ");
    fprintf(fp, "}%s\n", after);
}

static void json_tiers(FILE *fp, const xm_cal_report *r)
{
    fputs("  \"request\": {", fp);
    xm_json_key_num(fp, "target_p_liq", r->alpha, "},\n  \"tiers\": [\n");
    for (size_t i = 0; i < r->n_tiers; i++) {
        const xm_cal_tiers_res *t = &r->tiers[i];
        const xm_tier_table *cur = &r->model->venue.tiers[t->asset];
        fputs("    {\"asset\": ", fp);
        xm_json_string(fp, sym(r, t->asset));
        fputs(",\n     \"recommended\": [\n", fp);
        for (size_t k = 0; k < t->n; k++)
            json_tier_row(fp, &t->row[k], k + 1 < t->n ? "," : "");
        fputs("     ],\n     \"current\": [", fp);
        for (size_t k = 0; k < cur->n; k++) {
            fputs(k ? ", {" : "{", fp);
            xm_json_key_num(fp, "cap_usd", cur->tier[k].cap_usd, ", ");
            xm_json_key_num(fp, "mmr", cur->tier[k].mmr, ", ");
            xm_json_key_num(fp, "max_leverage", cur->tier[k].max_leverage, ", ");
            xm_json_key_num(fp, "cum", cur->tier[k].cum, "}");
        }
        fprintf(fp, "]}%s\n", i + 1 < r->n_tiers ? "," : "");
    }
    fputs("  ]\n}\n", fp);
}

static void json_venue(FILE *fp, const xm_cal_report *r)
{
    const xm_cal_venue_req *q = r->vreq;
    const xm_cal_venue_res *v = r->venue;
    int cap = q->vary == XM_CAL_VARY_LEVERAGE_CAP;
    fprintf(fp, "  \"request\": {\"metric\": \"%s\", ", xm_cal_metric_name(q->metric));
    xm_json_key_num(fp, "threshold_usd", q->threshold_usd, ", ");
    xm_json_key_num(fp, "target_p", q->alpha, ", ");
    fprintf(fp, "\"vary\": \"%s\"", cap ? "leverage_cap" : "mmr");
    if (!cap) {
        fputs(", \"asset\": ", fp);
        xm_json_string(fp, sym(r, q->asset));
        fprintf(fp, ", \"tier\": %zu", q->tier + 1);
    }
    fputs(", ", fp);
    xm_json_key_pair(fp, "range", v->lo, v->hi, "},\n");
    json_search(fp, cap ? "max_leverage" : "min_mmr", &v->search);
    fputs("  ", fp);
    xm_json_key_num(fp, "book_max_leverage", v->book_max_leverage, ",\n");
    if (cap)
        fprintf(fp, "  \"units_capped\": %llu,\n", (unsigned long long)v->accounts_capped);
    json_points(fp, "candidates", cap ? "leverage_cap" : "mmr", v->search.points,
                v->search.n_points, "  ");
    fputs("\n}\n", fp);
}

xm_status xm_cal_write_json(const char *dir, const xm_cal_report *r, xm_error *err)
{
    xm_status st = xm_mkdir_p(dir, err);
    xm_outfile f = {0};
    if (st == XM_OK)
        st = xm_outfile_open(&f, dir, "calibration.json", err);
    if (st != XM_OK)
        return st;
    char run_id[XM_RUN_ID_LEN];
    xm_run_id_make(run_id);
    json_head(f.fp, r, run_id);
    if (r->kind == XM_CAL_POSITION)
        json_position(f.fp, r);
    else if (r->kind == XM_CAL_TIERS)
        json_tiers(f.fp, r);
    else
        json_venue(f.fp, r);
    st = xm_outfile_commit(&f, err);
    xm_outfile_abort(&f);
    return st;
}

/* ---- the table ---- */

static void print_points(FILE *fp, const char *xname, const xm_cal_point *p, size_t n, int z95)
{
    fprintf(fp, "  %12s  %17s  %9s  %s\n", xname, "paths with event", "estimate",
            z95 ? "95% interval" : "interval");
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "  %12.6g  %8llu / %-6llu  %9.5f  [%.5f, %.5f]\n", p[i].x,
                (unsigned long long)p[i].k, (unsigned long long)p[i].n, p[i].p, p[i].lo,
                p[i].hi);
}

static void print_head(FILE *fp, const xm_cal_report *r)
{
    const xm_model *m = r->model;
    fprintf(fp, "calibrate: model %s (%s), %llu paths, seed %llu, horizon %g d in %u steps, "
            "common random numbers\n", m->name, m->path, (unsigned long long)r->paths,
            (unsigned long long)r->seed, m->horizon_days, m->steps);
}

static const char *stop_text(xm_cal_stop s)
{
    return s == XM_CAL_STOP_PRECISION   ? "stopped at the requested precision"
           : s == XM_CAL_STOP_MONTE_CARLO ? "stopped: Monte Carlo error decides"
                                          : "the whole range meets the target";
}

static void print_position(FILE *fp, const xm_cal_report *r)
{
    const xm_cal_position_res *p = r->pos;
    const xm_cal_search *s = &p->search;
    double s0 = r->model->market.assets[r->asset].price;
    fprintf(fp, "question: largest leverage of an isolated %s %s position of %g USD with "
            "P(liquidated within %g d) <= %g\n\n", r->is_long ? "long" : "short",
            sym(r, r->asset), r->notional_usd, r->model->horizon_days, r->alpha);
    print_points(fp, "leverage", s->points, s->n_points, r->confidence == 0.95);
    fprintf(fp, "\nmax_leverage %.4g  (interval %.4g .. %.4g at %g%% confidence; %s)\n",
            s->answer, s->ci_lo, s->ci_hi, 100.0 * r->confidence, stop_text(s->stop));
    if (p->liq_ratio > 0.0)
        fprintf(fp, "liquidation price at that leverage: %.6g (%+.2f%% from %.6g)\n",
                p->liq_ratio * s0, 100.0 * (p->liq_ratio - 1.0), s0);
    if (!s->monotone)
        fputs("warning: the estimate was not monotone in the leverage\n", fp);
}

static void print_tiers(FILE *fp, const xm_cal_report *r)
{
    fprintf(fp, "question: per notional cap, the maintenance rate that covers closing the cap "
            "(impact) plus one step's move, and the largest leverage with P(liquidated) <= %g\n",
            r->alpha);
    for (size_t i = 0; i < r->n_tiers; i++) {
        const xm_cal_tiers_res *t = &r->tiers[i];
        fprintf(fp, "\n%s\n  %14s  %8s  %9s  %9s  %8s  %12s  %14s\n", sym(r, t->asset),
                "cap_usd", "mmr", "slippage", "gap", "max_lev", "cum", "lev. interval");
        for (size_t k = 0; k < t->n; k++) {
            const xm_cal_tier_row *w = &t->row[k];
            fprintf(fp, "  %14.6g  %8.4f  %9.5f  %9.5f  %8.0f  %12.2f  %6.3g..%.3g\n",
                    w->cap_usd, w->mmr, w->slippage, w->gap, w->max_leverage, w->cum,
                    w->pos.search.ci_lo, w->pos.search.ci_hi);
        }
        fprintf(fp, "  as venue.tiers:\n    %s:\n", sym(r, t->asset));
        for (size_t k = 0; k < t->n; k++)
            fprintf(fp, "      - {cap_usd: %.6g, mmr: %.4f, max_leverage: %.0f}\n",
                    t->row[k].cap_usd, t->row[k].mmr, t->row[k].max_leverage);
    }
}

static void print_venue(FILE *fp, const xm_cal_report *r)
{
    const xm_cal_venue_req *q = r->vreq;
    const xm_cal_venue_res *v = r->venue;
    const xm_cal_search *s = &v->search;
    int cap = q->vary == XM_CAL_VARY_LEVERAGE_CAP;
    if (cap)
        fprintf(fp, "question: largest leverage cap with P(%s > %g USD) <= %g\n\n",
                q->metric == XM_CAL_METRIC_ADL ? "ADL notional" : "bad debt", q->threshold_usd,
                q->alpha);
    else
        fprintf(fp, "question: smallest maintenance rate of %s tier %zu with P(%s > %g USD) "
                "<= %g\n\n", sym(r, q->asset), q->tier + 1,
                q->metric == XM_CAL_METRIC_ADL ? "ADL notional" : "bad debt", q->threshold_usd,
                q->alpha);
    print_points(fp, cap ? "leverage cap" : "mmr", s->points, s->n_points,
                 r->confidence == 0.95);
    fprintf(fp, "\n%s %.5g  (interval %.5g .. %.5g at %g%% confidence; %s)\n",
            cap ? "max_leverage" : "min_mmr", s->answer, s->ci_lo, s->ci_hi,
            100.0 * r->confidence, stop_text(s->stop));
    if (cap)
        fprintf(fp, "units above the cap (scaled down to it): %llu; the book's highest "
                "leverage: %.4g\n", (unsigned long long)v->accounts_capped, v->book_max_leverage);
    fprintf(fp, "%zu candidates in %.1f s\n", s->n_points, v->elapsed_s);
    if (!s->monotone)
        fputs("warning: the estimate was not monotone in the parameter (cascade effects): the "
              "answer is the bracket the bisection found\n", fp);
}

void xm_cal_print(FILE *fp, const xm_cal_report *r)
{
    print_head(fp, r);
    if (r->kind == XM_CAL_POSITION)
        print_position(fp, r);
    else if (r->kind == XM_CAL_TIERS)
        print_tiers(fp, r);
    else
        print_venue(fp, r);
}
