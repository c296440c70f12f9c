/* calibrate_cmd.c — `xmrisk calibrate`: parse the request, run the search, report
 * (see calibrate_cmd.h and docs/calibrate.md). */
#include "calibrate_cmd.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "args.h"
#include "xmrisk/calibration_report.h"
#include "cli.h"
#include "xmrisk/calibrate.h"
#include "xmrisk/model.h"

#define CAL_MAX_NOTIONALS 64
#define CAL_DEFAULT_NOTIONAL_USD 10000.0

typedef struct {
    const char *model_path, *out_dir, *asset, *mmr_tier, *notionals;
    uint64_t paths, seed;
    int has_paths, has_seed, threads, quiet, tiers, refine;
    int side, has_side, metric, has_metric;  /* CAL_SIDE_*, CAL_METRIC_* */
    /* NAN when not given */
    double target_p_liq, target_p, threshold_usd, notional_usd, horizon_days, mmr, lev_min,
        lev_max, cap_min, cap_max, mmr_min, mmr_max, precision, confidence, mmr_floor;
} cal_args;

enum { CAL_SIDE_LONG = 0, CAL_SIDE_SHORT };
enum { CAL_METRIC_BAD_DEBT = 0, CAL_METRIC_ADL };
static const char *const side_choices[] = {"long", "short", NULL};
static const char *const metric_choices[] = {"bad_debt", "adl", NULL};

#define REAL(flag, field, meta, text) \
    {.name = flag, .kind = XM_ARG_DOUBLE, .off = offsetof(cal_args, field), .metavar = meta, \
     .help = text}
#define TEXT(flag, field, meta, text) \
    {.name = flag, .kind = XM_ARG_STRING, .off = offsetof(cal_args, field), .metavar = meta, \
     .help = text}

static const xm_arg_opt cal_opts[] = {
    TEXT("--asset", asset, "SYM", "position: the asset of the position; tiers: only this asset"),
    REAL("--target-p-liq", target_p_liq, "A",
         "position, tiers: the target probability of liquidation"),
    {.name = "--side", .kind = XM_ARG_ENUM, .off = offsetof(cal_args, side),
     .given = XM_ARG_GIVEN(cal_args, has_side), .choices = side_choices,
     .help = "position: long (default) or short"},
    REAL("--notional-usd", notional_usd, "N", "position: its notional (default 10000)"),
    REAL("--mmr", mmr, "R", "position: one maintenance rate instead of the venue's tiers"),
    REAL("--leverage-min", lev_min, "L", "position: the search range of the leverage"),
    REAL("--leverage-max", lev_max, "L", "position: the search range of the leverage"),
    {.name = "--metric", .kind = XM_ARG_ENUM, .off = offsetof(cal_args, metric),
     .given = XM_ARG_GIVEN(cal_args, has_metric), .choices = metric_choices,
     .help = "venue: the probability of bad debt or of ADL"},
    REAL("--target-p", target_p, "A", "venue: the target probability of the metric"),
    REAL("--threshold-usd", threshold_usd, "B", "venue: bad debt or ADL above B USD (default 0)"),
    TEXT("--mmr-tier", mmr_tier, "SYM:K",
         "venue: vary tier K's maintenance rate (1-based) instead of the\nleverage cap"),
    REAL("--mmr-min", mmr_min, "R", "venue, --mmr-tier: the search range of the rate"),
    REAL("--mmr-max", mmr_max, "R", "venue, --mmr-tier: the search range of the rate"),
    REAL("--cap-min", cap_min, "L", "venue: the search range of the leverage cap"),
    REAL("--cap-max", cap_max, "L", "venue: the search range of the leverage cap"),
    {.name = "--refine-interval", .kind = XM_ARG_FLAG, .off = offsetof(cal_args, refine),
     .help = "venue: bisect the ends of the answer's interval too (a few more\nfull runs)"},
    {.name = "--tiers", .kind = XM_ARG_FLAG, .off = offsetof(cal_args, tiers),
     .help = "tiers: a tier table (rates at the notionals)"},
    TEXT("--notionals", notionals, "N1,N2,...",
         "tiers: the tier caps in USD (default: the venue's caps)"),
    REAL("--mmr-floor", mmr_floor, "R", "tiers: the smallest rate (default 0)"),
    XM_ARG_OPT_PATHS(cal_args, "paths of each run (default: the model's)"),
    XM_ARG_OPT_SEED(cal_args),
    XM_ARG_OPT_THREADS(cal_args),
    REAL("--horizon-days", horizon_days, "H", "the horizon (default: the model's)"),
    REAL("--precision", precision, "R",
         "relative precision of the answer (default 0.001; venue 0.02)"),
    REAL("--confidence", confidence, "C", "confidence level of the intervals (default 0.95)"),
    XM_ARG_OPT_OUT(cal_args, "where calibration.json goes (default: results/<model name>)"),
    XM_ARG_OPT_QUIET(cal_args),
};

const xm_arg_spec xm_cli_calibrate_spec = {
    .name = "calibrate",
    .synopsis = "MODEL --asset SYM --target-p-liq A [--side long|short]\n"
                " [--notional-usd N] [--mmr R] [--leverage-min L] [--leverage-max L]\n"
                "MODEL --metric bad_debt|adl --target-p A [--threshold-usd B]\n"
                " [--mmr-tier SYM:K [--mmr-min R] [--mmr-max R]] [--cap-min L]\n"
                " [--cap-max L] [--refine-interval]\n"
                "MODEL --tiers --target-p-liq A [--asset SYM]\n"
                " [--notionals N1,N2,...] [--mmr-floor R]\n"
                " common: [--paths N] [--seed S] [--threads T] [--horizon-days H]\n"
                "         [--precision R] [--confidence C] [--out DIR] [--quiet]",
    .summary = "the largest leverage (position), leverage cap or smallest tier rate\n"
               "(venue) or a tier table meeting a target probability; writes\n"
               "DIR/calibration.json (docs/calibrate.md)",
    .about = "Answer one of three questions (docs/calibrate.md) and write DIR/calibration.json:\n"
             "  position  the largest leverage of a position with P(liquidation) <= A\n"
             "  venue     the leverage cap or tier rate with P(bad debt or ADL) <= A\n"
             "  tiers     the tier table whose every tier meets P(liquidation) <= A",
    .opts = cal_opts, .n_opts = sizeof cal_opts / sizeof *cal_opts,
    .min_pos = 1, .max_pos = 1, .pos_name = "MODEL", .missing = "a MODEL file is required",
};

#define CAL "calibrate"  /* the name in every usage error */

/* ---- checks of the request ---- */

static int check_probability(const char *flag, double p)
{
    if (!(p > 0.0 && p < 1.0))
        return xm_cli_usage(CAL, "%s: expected a probability in (0, 1), got %g", flag, p);
    return 0;
}

/* Flags that belong to other kinds of question. */
static int reject(const char *kind, const char *flag, int given)
{
    return given ? xm_cli_usage(CAL, "%s does not apply to %s questions", flag, kind) : 0;
}

/* Flags that belong to one kind of question only (docs/calibrate.md), as bits of `kinds`.
 * Given to another kind they used to be ignored without a word; now a bad request. */
enum { CAL_FOR_POSITION = 1, CAL_FOR_VENUE = 2, CAL_FOR_TIERS = 4 };

static int reject_foreign(const cal_args *a, int kind, const char *kind_name)
{
    const struct {
        const char *flag;
        int given, kinds;
    } f[] = {
        {"--side", a->has_side, CAL_FOR_POSITION},
        {"--notional-usd", !isnan(a->notional_usd), CAL_FOR_POSITION},
        {"--mmr", !isnan(a->mmr), CAL_FOR_POSITION},
        {"--leverage-min", !isnan(a->lev_min), CAL_FOR_POSITION},
        {"--leverage-max", !isnan(a->lev_max), CAL_FOR_POSITION},
        {"--target-p", !isnan(a->target_p), CAL_FOR_VENUE},
        {"--threshold-usd", !isnan(a->threshold_usd), CAL_FOR_VENUE},
        {"--mmr-tier", a->mmr_tier != NULL, CAL_FOR_VENUE},
        {"--mmr-min", !isnan(a->mmr_min), CAL_FOR_VENUE},
        {"--mmr-max", !isnan(a->mmr_max), CAL_FOR_VENUE},
        {"--cap-min", !isnan(a->cap_min), CAL_FOR_VENUE},
        {"--cap-max", !isnan(a->cap_max), CAL_FOR_VENUE},
        {"--notionals", a->notionals != NULL, CAL_FOR_TIERS},
        {"--mmr-floor", !isnan(a->mmr_floor), CAL_FOR_TIERS},
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (f[i].given && !(f[i].kinds & kind))
            return reject(kind_name, f[i].flag, 1);
    return 0;
}

static int check_position(const cal_args *a)
{
    if (a->asset == NULL)
        return xm_cli_usage(CAL, "position level: --asset SYM is required (or --metric for the "
                            "venue level, --tiers for a tier table)");
    if (isnan(a->target_p_liq))
        return xm_cli_usage(CAL, "position level: --target-p-liq is required");
    int rc = check_probability("--target-p-liq", a->target_p_liq);
    if (rc == 0)
        rc = reject("position-level", "--target-p", !isnan(a->target_p));
    if (rc == 0)
        rc = reject("position-level", "--refine-interval (always on there)", a->refine);
    if (rc == 0 && !isnan(a->notional_usd) && !(a->notional_usd > 0.0))
        rc = xm_cli_usage(CAL, "--notional-usd: expected a notional > 0, got %g", a->notional_usd);
    if (rc == 0 && !isnan(a->mmr) && !(a->mmr >= 0.0 && a->mmr < 1.0))
        rc = xm_cli_usage(CAL, "--mmr: expected a rate in [0, 1), got %g", a->mmr);
    if (rc == 0 && !isnan(a->lev_min) && !(a->lev_min > 0.0))
        rc = xm_cli_usage(CAL, "--leverage-min: expected a leverage > 0, got %g", a->lev_min);
    if (rc == 0 && !isnan(a->lev_max) && !(a->lev_max > (isnan(a->lev_min) ? 1.0 : a->lev_min)))
        rc = xm_cli_usage(CAL, "--leverage-max: expected a leverage above --leverage-min, got %g",
                          a->lev_max);
    if (rc == 0)
        rc = reject_foreign(a, CAL_FOR_POSITION, "position-level");
    return rc;
}

static int check_venue(const cal_args *a)
{
    if (isnan(a->target_p))
        return xm_cli_usage(CAL, "venue level: --target-p is required");
    int rc = check_probability("--target-p", a->target_p);
    if (rc == 0)
        rc = reject("venue-level", "--target-p-liq", !isnan(a->target_p_liq));
    if (rc == 0)
        rc = reject("venue-level", "--tiers", a->tiers);
    if (rc == 0 && !isnan(a->threshold_usd) && !(a->threshold_usd >= 0.0))
        rc = xm_cli_usage(CAL, "--threshold-usd: expected an amount >= 0, got %g",
                          a->threshold_usd);
    if (rc == 0 && a->mmr_tier == NULL)
        rc = reject("leverage-cap", "--mmr-min/--mmr-max",
                    !isnan(a->mmr_min) || !isnan(a->mmr_max));
    if (rc == 0 && a->mmr_tier != NULL)
        rc = reject("maintenance-rate", "--cap-min/--cap-max",
                    !isnan(a->cap_min) || !isnan(a->cap_max));
    /* Search ranges: a negative rate or a cap <= 0 used to be taken (0: the default range). */
    if (rc == 0 && !isnan(a->mmr_min) && !(a->mmr_min >= 0.0 && a->mmr_min < 1.0))
        rc = xm_cli_usage(CAL, "--mmr-min: expected a rate in [0, 1), got %g", a->mmr_min);
    if (rc == 0 && !isnan(a->mmr_max) && !(a->mmr_max > 0.0 && a->mmr_max < 1.0))
        rc = xm_cli_usage(CAL, "--mmr-max: expected a rate in (0, 1), got %g", a->mmr_max);
    if (rc == 0 && !isnan(a->cap_min) && !(a->cap_min > 0.0))
        rc = xm_cli_usage(CAL, "--cap-min: expected a leverage > 0, got %g", a->cap_min);
    if (rc == 0 && !isnan(a->cap_max) && !(a->cap_max > 0.0))
        rc = xm_cli_usage(CAL, "--cap-max: expected a leverage > 0, got %g", a->cap_max);
    if (rc == 0)
        rc = reject_foreign(a, CAL_FOR_VENUE, "venue-level");
    return rc;
}

static int check_tiers(const cal_args *a)
{
    if (isnan(a->target_p_liq))
        return xm_cli_usage(CAL, "tier table: --target-p-liq is required");
    if (a->refine)
        return xm_cli_usage(CAL, "--refine-interval applies to venue-level questions only "
                            "(position and tier answers are always refined)");
    int rc = check_probability("--target-p-liq", a->target_p_liq);
    if (rc == 0 && !isnan(a->mmr_floor) && !(a->mmr_floor >= 0.0 && a->mmr_floor < 1.0))
        rc = xm_cli_usage(CAL, "--mmr-floor: expected a rate in [0, 1), got %g", a->mmr_floor);
    if (rc == 0)
        rc = reject_foreign(a, CAL_FOR_TIERS, "tier-table");
    return rc;
}

static int check_common(const cal_args *a)
{
    if (!isnan(a->confidence) && !(a->confidence > 0.0 && a->confidence < 1.0))
        return xm_cli_usage(CAL, "--confidence: expected a level in (0, 1), got %g", a->confidence);
    if (!isnan(a->precision) && !(a->precision > 0.0 && a->precision < 1.0))
        return xm_cli_usage(CAL, "--precision: expected a relative precision in (0, 1), got %g",
                            a->precision);
    if (!isnan(a->horizon_days) && !(a->horizon_days > 0.0 && a->horizon_days <= 3650.0))
        return xm_cli_usage(CAL, "--horizon-days: expected 0 < days <= 3650, got %g",
                            a->horizon_days);
    return 0;
}

/* ---- the model side ---- */

static int find_asset(const xm_model *m, const char *sym, size_t *out)
{
    long i = xm_market_find(&m->market, sym);
    if (i >= 0) {
        *out = (size_t)i;
        return 0;
    }
    char list[512] = "";
    for (size_t k = 0; k < m->market.n; k++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", m->market.assets[k].symbol);
    }
    return xm_cli_usage(CAL, "--asset: unknown asset '%s' (the model has %s)", sym, list);
}

/* The model with the requested horizon: same step length, steps = round(H / dt) >= 1. */
static xm_model with_horizon(const xm_model *m, double horizon_days)
{
    xm_model w = *m;
    if (!isnan(horizon_days)) {
        double dt = m->horizon_days / m->steps, steps = fmax(1.0, round(horizon_days / dt));
        w.horizon_days = horizon_days;
        w.steps = steps > 4.0e9 ? 4000000000u : (uint32_t)steps;
    }
    return w;
}

typedef struct {
    const cal_args *a;
    xm_cal_report rep;
    xm_run_opts sim;
    double z;
    char dir[4096];  /* --out, else results/<model name>: checked before the search */
} cal_job;

/* Write DIR/calibration.json and print the table; the exit status. */
static int publish(const cal_job *j, xm_error *err)
{
    if (xm_cal_write_json(j->dir, &j->rep, err) != XM_OK)
        return xm_cli_fail(err);
    if (!j->a->quiet) {
        xm_cal_print(stdout, &j->rep);
        printf("calibration: %s/calibration.json\n", j->dir);
    }
    return 0;
}

/* ---- the three kinds ---- */

static int one_tier(double mmr, xm_tier_table *t, xm_error *err)
{
    if (xm_tiers_alloc(t, 1, err) != XM_OK)
        return xm_cli_fail(err);
    t->tier[0] = (xm_tier){.cap_usd = 1e300, .mmr = mmr, .max_leverage = 1.0};
    if (xm_tiers_prepare(t, "--mmr", err) != XM_OK)
        return xm_cli_fail(err);
    return 0;
}

static int run_position(cal_job *j, const xm_model *m, xm_error *err)
{
    const cal_args *a = j->a;
    xm_cal_report *r = &j->rep;
    xm_tier_table own = {0};
    const xm_tier_table *t = &m->venue.tiers[r->asset];
    int rc = 0;
    if (!isnan(a->mmr)) {
        rc = one_tier(a->mmr, &own, err);
        t = &own;
    } else if (t->n == 0) {
        rc = xm_cli_usage(CAL, "the model has no venue.tiers for %s: give --mmr RATE or add them",
                          m->market.assets[r->asset].symbol);
    }
    xm_cal_extremes *e = NULL;
    xm_cal_position_res res = {0};
    if (rc == 0 && xm_cal_extremes_alloc(m, m->horizon_days, m->steps, &j->sim, &e, err) != XM_OK)
        rc = xm_cli_fail(err);
    if (rc == 0) {
        xm_cal_position_req q = {.asset = r->asset, .is_long = r->is_long,
                                 .notional_usd = r->notional_usd, .alpha = r->alpha, .z = j->z,
                                 .precision = r->precision,
                                 .lev_min = isnan(a->lev_min) ? 0.0 : a->lev_min,
                                 .lev_max = isnan(a->lev_max) ? 0.0 : a->lev_max, .tiers = t};
        if (xm_cal_position_solve(m, e, &q, &res, err) != XM_OK)
            rc = xm_cli_fail(err);
    }
    if (rc == 0) {
        r->ext = e;
        r->threads = e->threads;
        r->pos = &res;
        r->mmr_override = isnan(a->mmr) ? -1.0 : a->mmr;
        r->elapsed_s = e->elapsed_s;
        rc = 0;
    }
    if (rc == 0) {
        rc = publish(j, err);
    }
    xm_cal_position_res_clear(&res);
    xm_cal_extremes_free(e);
    free(own.tier);
    return rc;
}

/* Parse "N1,N2,..." (USD) into caps; else the venue's caps for the asset, else a default
 * ladder 5e4 .. 5e7. */
static int notionals_for(const cal_args *a, const xm_model *m, size_t asset, double *caps,
                         size_t *n)
{
    static const double ladder[] = {5e4, 2.5e5, 1e6, 5e6, 2e7, 5e7};
    *n = 0;
    if (a->notionals != NULL) {
        const char *s = a->notionals;
        while (*s) {
            char *end;
            errno = 0;
            double v = strtod(s, &end);
            /* "1e5," (a trailing comma) used to pass as "1e5" */
            if (end == s || errno != 0 || !isfinite(v) || (*end != ',' && *end != '\0') ||
                (*end == ',' && end[1] == '\0') || *n == CAL_MAX_NOTIONALS)
                return xm_cli_usage(CAL, "--notionals: expected up to %d numbers separated by "
                                    "commas, got '%s'", CAL_MAX_NOTIONALS, a->notionals);
            caps[(*n)++] = v;
            s = *end == ',' ? end + 1 : end;
        }
        return *n ? 0 : xm_cli_usage(CAL, "--notionals: expected at least one notional");
    }
    const xm_tier_table *t = &m->venue.tiers[asset];
    for (size_t k = 0; k < t->n && k < CAL_MAX_NOTIONALS; k++)
        if (t->tier[k].cap_usd < 1e15)   /* an open-ended last tier is not a cap */
            caps[(*n)++] = t->tier[k].cap_usd;
    if (*n == 0)
        for (size_t k = 0; k < sizeof ladder / sizeof *ladder; k++)
            caps[(*n)++] = ladder[k];
    return 0;
}

static int run_tiers(cal_job *j, const xm_model *m, xm_error *err)
{
    const cal_args *a = j->a;
    xm_cal_report *r = &j->rep;
    size_t first = 0, last = m->market.n;
    if (a->asset != NULL) {
        first = r->asset;
        last = r->asset + 1;
    }
    xm_cal_extremes *e = NULL;
    xm_cal_tiers_res *res = calloc(m->market.n, sizeof *res);
    int rc = res == NULL ? xm_cli_usage(CAL, "out of memory") : 0;
    if (rc == 0 && xm_cal_extremes_alloc(m, m->horizon_days, m->steps, &j->sim, &e, err) != XM_OK)
        rc = xm_cli_fail(err);
    for (size_t i = first; i < last && rc == 0; i++) {
        double caps[CAL_MAX_NOTIONALS];
        size_t n;
        rc = notionals_for(a, m, i, caps, &n);
        xm_cal_tiers_req q = {.asset = i, .n = n, .caps_usd = caps, .alpha = r->alpha,
                              .z = j->z, .precision = r->precision,
                              .mmr_floor = isnan(a->mmr_floor) ? 0.0 : a->mmr_floor};
        if (rc == 0 && xm_cal_tiers_solve(m, e, &q, &res[r->n_tiers++], err) != XM_OK)
            rc = xm_cli_fail(err);
    }
    if (rc == 0) {
        r->ext = e;
        r->threads = e->threads;
        r->tiers = res;
        r->elapsed_s = e->elapsed_s;
        rc = publish(j, err);
    }
    for (size_t i = 0; res != NULL && i < r->n_tiers; i++)
        xm_cal_tiers_res_clear(&res[i]);
    free(res);
    xm_cal_extremes_free(e);
    return rc;
}

static void venue_progress(void *ctx, const xm_cal_point *pt)
{
    const xm_cal_venue_req *q = ctx;
    fprintf(stderr, "  %s %-10.6g P = %.5f [%.5f, %.5f]  (%llu of %llu paths, %.1f s)\n",
            q->vary == XM_CAL_VARY_MMR ? "mmr" : "cap", pt->x, pt->p, pt->lo, pt->hi,
            (unsigned long long)pt->k, (unsigned long long)pt->n, pt->elapsed_s);
}

/* "SYM:K" (K 1-based) into asset and tier index. */
static int parse_mmr_tier(const char *s, const xm_model *m, size_t *asset, size_t *tier)
{
    const char *colon = strrchr(s, ':');
    uint64_t k;
    char sym[XM_SYMBOL_MAX];
    if (colon == NULL || (size_t)(colon - s) >= sizeof sym ||
        xm_cli_parse_u64(colon + 1, &k) != 0 || k == 0)
        return xm_cli_usage(CAL, "--mmr-tier: expected SYM:K with K the 1-based tier, got '%s'", s);
    memcpy(sym, s, (size_t)(colon - s));
    sym[colon - s] = '\0';
    int rc = find_asset(m, sym, asset);
    if (rc != 0)
        return rc;
    if (k > m->venue.tiers[*asset].n)
        return xm_cli_usage(CAL, "--mmr-tier: %s has %zu tiers, got tier %llu", sym,
                            m->venue.tiers[*asset].n, (unsigned long long)k);
    *tier = (size_t)(k - 1);
    return 0;
}

static int run_venue(cal_job *j, const xm_model *m, xm_error *err)
{
    const cal_args *a = j->a;
    xm_cal_report *r = &j->rep;
    xm_cal_venue_req q = {
        .metric = a->metric == CAL_METRIC_ADL ? XM_CAL_METRIC_ADL : XM_CAL_METRIC_BAD_DEBT,
        .threshold_usd = isnan(a->threshold_usd) ? 0.0 : a->threshold_usd,
        .vary = a->mmr_tier ? XM_CAL_VARY_MMR : XM_CAL_VARY_LEVERAGE_CAP,
        .alpha = r->alpha, .z = j->z, .precision = r->precision, .refine_ci = a->refine,
        .sim = j->sim,
        .on_point = a->quiet ? NULL : venue_progress};
    q.on_point_ctx = &q;
    q.lo = q.vary == XM_CAL_VARY_MMR ? (isnan(a->mmr_min) ? 0.0 : a->mmr_min)
                                     : (isnan(a->cap_min) ? 0.0 : a->cap_min);
    q.hi = q.vary == XM_CAL_VARY_MMR ? (isnan(a->mmr_max) ? 0.0 : a->mmr_max)
                                     : (isnan(a->cap_max) ? 0.0 : a->cap_max);
    int rc = a->mmr_tier ? parse_mmr_tier(a->mmr_tier, m, &q.asset, &q.tier) : 0;
    if (rc != 0)
        return rc;
    if (m->book == NULL)
        return xm_cli_usage(CAL, "venue level: the model has no accounts (accounts, accounts_csv "
                            "or population)");
    xm_cal_venue_res res = {0};
    if (!a->quiet)
        fprintf(stderr, "calibrate: each candidate is a full run of %llu paths\n",
                (unsigned long long)q.sim.paths);
    if (xm_cal_venue_solve(m, &q, &res, err) != XM_OK)
        rc = xm_cli_fail(err);
    if (rc == 0) {
        r->vreq = &q;
        r->venue = &res;
        r->elapsed_s = res.elapsed_s;
        r->threads = j->sim.threads;
        rc = publish(j, err);
    }
    xm_cal_venue_res_clear(&res);
    return rc;
}

/* ---- entry ---- */

static int check_request(const cal_args *a)
{
    int rc = check_common(a);
    if (rc == 0 && a->tiers && a->has_metric)
        rc = xm_cli_usage(CAL, "--tiers and --metric ask different questions: give one");
    if (rc == 0)
        rc = a->tiers ? check_tiers(a) : a->has_metric ? check_venue(a) : check_position(a);
    return rc;
}

static int dispatch(const cal_args *a, xm_model *loaded, const xm_cli_env *env, xm_error *err)
{
    xm_model m = with_horizon(loaded, a->horizon_days);
    double conf = isnan(a->confidence) ? 0.95 : a->confidence;
    cal_job j = {.a = a};
    xm_cal_report *r = &j.rep;
    r->kind = a->tiers ? XM_CAL_TIERS : a->has_metric ? XM_CAL_VENUE : XM_CAL_POSITION;
    r->model = &m;
    r->paths = a->has_paths ? a->paths : m.paths;
    r->seed = a->has_seed ? a->seed : m.seed;
    r->confidence = conf;
    r->precision = !isnan(a->precision) ? a->precision : r->kind == XM_CAL_VENUE ? 0.02 : 0.001;
    r->alpha = r->kind == XM_CAL_VENUE ? a->target_p : a->target_p_liq;
    r->is_long = a->side == CAL_SIDE_LONG;
    r->notional_usd = isnan(a->notional_usd) ? CAL_DEFAULT_NOTIONAL_USD : a->notional_usd;
    j.z = gsl_cdf_ugaussian_Pinv(0.5 + 0.5 * conf);
    j.sim = (xm_run_opts){.paths = r->paths, .seed = r->seed, .threads = a->threads,
                          .stop = env->stop};
    if (a->asset != NULL && r->kind != XM_CAL_VENUE) {
        int rc = find_asset(&m, a->asset, &r->asset);
        if (rc != 0)
            return rc;
    } else if (a->asset != NULL) {
        return xm_cli_usage(CAL, "--asset does not apply to venue-level questions (use --mmr-tier "
                            "SYM:K to vary a tier's rate)");
    }
    int rc = xm_cli_out_dir(a->out_dir, m.name, j.dir, sizeof j.dir);
    if (rc != 0)
        return rc;
    if (r->kind == XM_CAL_POSITION)
        return run_position(&j, &m, err);
    if (r->kind == XM_CAL_TIERS)
        return run_tiers(&j, &m, err);
    return run_venue(&j, &m, err);
}

int xm_cli_calibrate(int argc, char **argv, const xm_cli_env *env)
{
    cal_args a;
    size_t npos;
    memset(&a, 0, sizeof a);
    xm_args_status parsed = xm_args_parse(&xm_cli_calibrate_spec, argc, argv, &a,
                                          &a.model_path, &npos);
    if (parsed != XM_ARGS_OK)
        return xm_args_exit_code(parsed);
    int rc = check_request(&a);
    if (rc != 0)
        return rc;
    xm_error err;
    xm_error_clear(&err);
    env->catch_signals();   /* before loading: a stop then ends the search before its first path */
    xm_model *model = xm_model_load(a.model_path, &err);
    if (model == NULL)
        return xm_cli_fail_input(&err);
    rc = dispatch(&a, model, env, &err);
    xm_model_free(model);
    return rc;
}
