/* calibrate_cmd.c — `xmrisk calibrate`: parse the request, run the search, report
 * (see calibrate_cmd.h and docs/calibrate.md). */
#include "calibrate_cmd.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "xmrisk/calibration_report.h"
#include "hpc_cmd.h"
#include "xmrisk/calibrate.h"
#include "xmrisk/model.h"

#define CAL_MAX_NOTIONALS 64
#define CAL_DEFAULT_NOTIONAL_USD 10000.0

static volatile sig_atomic_t cal_stop = 0;  /* SIGINT/SIGTERM: the workers stop */

static void cal_on_signal(int sig)
{
    (void)sig;
    cal_stop = 1;
}

typedef struct {
    const char *model_path, *out_dir, *asset, *side, *metric, *mmr_tier, *notionals;
    uint64_t paths, seed;
    int has_paths, has_seed, threads, quiet, tiers, refine;
    /* NAN when not given */
    double target_p_liq, target_p, threshold_usd, notional_usd, horizon_days, mmr, lev_min,
        lev_max, cap_min, cap_max, mmr_min, mmr_max, precision, confidence, mmr_floor;
} cal_args;

static int cal_usage(const char *fmt, ...) XM_PRINTF(1, 2);

static int cal_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("xmrisk: calibrate: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see xmrisk --help)\n", stderr);
    va_end(ap);
    return 2;
}

static const struct {
    const char *name;
    size_t off;
} real_flags[] = {
    {"--target-p-liq", offsetof(cal_args, target_p_liq)},
    {"--target-p", offsetof(cal_args, target_p)},
    {"--threshold-usd", offsetof(cal_args, threshold_usd)},
    {"--notional-usd", offsetof(cal_args, notional_usd)},
    {"--horizon-days", offsetof(cal_args, horizon_days)},
    {"--mmr", offsetof(cal_args, mmr)},
    {"--leverage-min", offsetof(cal_args, lev_min)},
    {"--leverage-max", offsetof(cal_args, lev_max)},
    {"--cap-min", offsetof(cal_args, cap_min)},
    {"--cap-max", offsetof(cal_args, cap_max)},
    {"--mmr-min", offsetof(cal_args, mmr_min)},
    {"--mmr-max", offsetof(cal_args, mmr_max)},
    {"--precision", offsetof(cal_args, precision)},
    {"--confidence", offsetof(cal_args, confidence)},
    {"--mmr-floor", offsetof(cal_args, mmr_floor)},
};

static const struct {
    const char *name;
    size_t off;
} text_flags[] = {
    {"--out", offsetof(cal_args, out_dir)},
    {"--asset", offsetof(cal_args, asset)},
    {"--side", offsetof(cal_args, side)},
    {"--metric", offsetof(cal_args, metric)},
    {"--mmr-tier", offsetof(cal_args, mmr_tier)},
    {"--notionals", offsetof(cal_args, notionals)},
};

/* A finite real number and nothing else. */
static int parse_real(const char *s, double *out)
{
    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* --paths, --seed, --threads. */
static int parse_int_flag(const char *flag, const char *value, cal_args *a)
{
    uint64_t v;
    if (xm_cli_parse_u64(value, &v) != 0)
        return cal_usage("%s: expected a non-negative integer, got '%s'", flag, value);
    if (strcmp(flag, "--paths") == 0) {
        if (v == 0)
            return cal_usage("--paths: expected at least 1 path");
        a->paths = v;
        a->has_paths = 1;
    } else if (strcmp(flag, "--seed") == 0) {
        a->seed = v;
        a->has_seed = 1;
    } else {
        if (v == 0 || v > 4096)
            return cal_usage("--threads: expected 1 to 4096 threads, got %s", value);
        a->threads = (int)v;
    }
    return 0;
}

/* Flag `flag` with its value; 1 when it is not a value flag, 0 done, 2 error. */
static int parse_value_flag(const char *flag, const char *value, cal_args *a)
{
    for (size_t i = 0; i < sizeof real_flags / sizeof *real_flags; i++)
        if (strcmp(flag, real_flags[i].name) == 0) {
            if (value == NULL)
                return cal_usage("%s needs a value", flag);
            double *dst = (double *)((char *)a + real_flags[i].off);
            if (parse_real(value, dst) != 0)
                return cal_usage("%s: expected a finite number, got '%s'", flag, value);
            return 0;
        }
    for (size_t i = 0; i < sizeof text_flags / sizeof *text_flags; i++)
        if (strcmp(flag, text_flags[i].name) == 0) {
            if (value == NULL)
                return cal_usage("%s needs a value", flag);
            *(const char **)((char *)a + text_flags[i].off) = value;
            return 0;
        }
    if (strcmp(flag, "--paths") == 0 || strcmp(flag, "--seed") == 0 ||
        strcmp(flag, "--threads") == 0) {
        if (value == NULL)
            return cal_usage("%s needs a value", flag);
        return parse_int_flag(flag, value, a);
    }
    return 1;
}

static int parse_args(int argc, char **argv, cal_args *a)
{
    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < sizeof real_flags / sizeof *real_flags; i++)
        *(double *)((char *)a + real_flags[i].off) = NAN;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--quiet") == 0) {
            a->quiet = 1;
            continue;
        }
        if (strcmp(arg, "--tiers") == 0) {
            a->tiers = 1;
            continue;
        }
        if (strcmp(arg, "--refine-interval") == 0) {
            a->refine = 1;
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_value_flag(arg, i + 1 < argc ? argv[i + 1] : NULL, a);
            if (rc == 1)
                return cal_usage("unknown option '%s'", arg);
            if (rc != 0)
                return rc;
            i++;
        } else if (a->model_path == NULL) {
            a->model_path = arg;
        } else {
            return cal_usage("unexpected argument '%s'", arg);
        }
    }
    if (a->model_path == NULL)
        return cal_usage("a MODEL file is required");
    if (a->out_dir != NULL && a->out_dir[0] == '\0')  /* failed (exit 1) after the search */
        return cal_usage("--out: expected a directory name, got ''");
    return 0;
}

/* ---- checks of the request ---- */

static int check_probability(const char *flag, double p)
{
    if (!(p > 0.0 && p < 1.0))
        return cal_usage("%s: expected a probability in (0, 1), got %g", flag, p);
    return 0;
}

/* Flags that belong to other kinds of question. */
static int reject(const char *kind, const char *flag, int given)
{
    return given ? cal_usage("%s does not apply to %s questions", flag, kind) : 0;
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
        {"--side", a->side != NULL, CAL_FOR_POSITION},
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
        return cal_usage("position level: --asset SYM is required (or --metric for the venue "
                         "level, --tiers for a tier table)");
    if (isnan(a->target_p_liq))
        return cal_usage("position level: --target-p-liq is required");
    int rc = check_probability("--target-p-liq", a->target_p_liq);
    if (rc == 0)
        rc = reject("position-level", "--target-p", !isnan(a->target_p));
    if (rc == 0)
        rc = reject("position-level", "--refine-interval (always on there)", a->refine);
    if (rc == 0 && a->side != NULL && strcmp(a->side, "long") != 0 &&
        strcmp(a->side, "short") != 0)
        rc = cal_usage("--side: expected long or short, got '%s'", a->side);
    if (rc == 0 && !isnan(a->notional_usd) && !(a->notional_usd > 0.0))
        rc = cal_usage("--notional-usd: expected a notional > 0, got %g", a->notional_usd);
    if (rc == 0 && !isnan(a->mmr) && !(a->mmr >= 0.0 && a->mmr < 1.0))
        rc = cal_usage("--mmr: expected a rate in [0, 1), got %g", a->mmr);
    if (rc == 0 && !isnan(a->lev_min) && !(a->lev_min > 0.0))
        rc = cal_usage("--leverage-min: expected a leverage > 0, got %g", a->lev_min);
    if (rc == 0 && !isnan(a->lev_max) && !(a->lev_max > (isnan(a->lev_min) ? 1.0 : a->lev_min)))
        rc = cal_usage("--leverage-max: expected a leverage above --leverage-min, got %g",
                       a->lev_max);
    if (rc == 0)
        rc = reject_foreign(a, CAL_FOR_POSITION, "position-level");
    return rc;
}

static int check_venue(const cal_args *a)
{
    if (strcmp(a->metric, "bad_debt") != 0 && strcmp(a->metric, "adl") != 0)
        return cal_usage("--metric: expected bad_debt or adl, got '%s'", a->metric);
    if (isnan(a->target_p))
        return cal_usage("venue level: --target-p is required");
    int rc = check_probability("--target-p", a->target_p);
    if (rc == 0)
        rc = reject("venue-level", "--target-p-liq", !isnan(a->target_p_liq));
    if (rc == 0)
        rc = reject("venue-level", "--tiers", a->tiers);
    if (rc == 0 && !isnan(a->threshold_usd) && !(a->threshold_usd >= 0.0))
        rc = cal_usage("--threshold-usd: expected an amount >= 0, got %g", a->threshold_usd);
    if (rc == 0 && a->mmr_tier == NULL)
        rc = reject("leverage-cap", "--mmr-min/--mmr-max",
                    !isnan(a->mmr_min) || !isnan(a->mmr_max));
    if (rc == 0 && a->mmr_tier != NULL)
        rc = reject("maintenance-rate", "--cap-min/--cap-max",
                    !isnan(a->cap_min) || !isnan(a->cap_max));
    /* Search ranges: a negative rate or a cap <= 0 used to be taken (0: the default range). */
    if (rc == 0 && !isnan(a->mmr_min) && !(a->mmr_min >= 0.0 && a->mmr_min < 1.0))
        rc = cal_usage("--mmr-min: expected a rate in [0, 1), got %g", a->mmr_min);
    if (rc == 0 && !isnan(a->mmr_max) && !(a->mmr_max > 0.0 && a->mmr_max < 1.0))
        rc = cal_usage("--mmr-max: expected a rate in (0, 1), got %g", a->mmr_max);
    if (rc == 0 && !isnan(a->cap_min) && !(a->cap_min > 0.0))
        rc = cal_usage("--cap-min: expected a leverage > 0, got %g", a->cap_min);
    if (rc == 0 && !isnan(a->cap_max) && !(a->cap_max > 0.0))
        rc = cal_usage("--cap-max: expected a leverage > 0, got %g", a->cap_max);
    if (rc == 0)
        rc = reject_foreign(a, CAL_FOR_VENUE, "venue-level");
    return rc;
}

static int check_tiers(const cal_args *a)
{
    if (isnan(a->target_p_liq))
        return cal_usage("tier table: --target-p-liq is required");
    if (a->refine)
        return cal_usage("--refine-interval applies to venue-level questions only (position "
                         "and tier answers are always refined)");
    int rc = check_probability("--target-p-liq", a->target_p_liq);
    if (rc == 0 && !isnan(a->mmr_floor) && !(a->mmr_floor >= 0.0 && a->mmr_floor < 1.0))
        rc = cal_usage("--mmr-floor: expected a rate in [0, 1), got %g", a->mmr_floor);
    if (rc == 0)
        rc = reject_foreign(a, CAL_FOR_TIERS, "tier-table");
    return rc;
}

static int check_common(const cal_args *a)
{
    if (!isnan(a->confidence) && !(a->confidence > 0.0 && a->confidence < 1.0))
        return cal_usage("--confidence: expected a level in (0, 1), got %g", a->confidence);
    if (!isnan(a->precision) && !(a->precision > 0.0 && a->precision < 1.0))
        return cal_usage("--precision: expected a relative precision in (0, 1), got %g",
                         a->precision);
    if (!isnan(a->horizon_days) && !(a->horizon_days > 0.0 && a->horizon_days <= 3650.0))
        return cal_usage("--horizon-days: expected 0 < days <= 3650, got %g", a->horizon_days);
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
    return cal_usage("--asset: unknown asset '%s' (the model has %s)", sym, list);
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

static int cal_fail(const xm_error *err)
{
    fprintf(stderr, "xmrisk: %s\n", err->msg);
    return xm_status_exit_code(err->status);
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cal_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
    const cal_args *a;
    xm_cal_report rep;
    xm_run_opts sim;
    double z;
} cal_job;

/* Write DIR/calibration.json (DIR: --out, else results/<model name>) and print the table;
 * the exit status. */
static int publish(const cal_job *j, const xm_model *m, xm_error *err)
{
    char dir[4096];
    if (j->a->out_dir)
        snprintf(dir, sizeof dir, "%s", j->a->out_dir);
    else
        xm_cli_default_out_dir(m->name, dir, sizeof dir);
    if (xm_cal_write_json(dir, &j->rep, err) != XM_OK)
        return cal_fail(err);
    if (!j->a->quiet) {
        xm_cal_print(stdout, &j->rep);
        printf("calibration: %s/calibration.json\n", dir);
    }
    return 0;
}

/* ---- the three kinds ---- */

static int one_tier(double mmr, xm_tier_table *t, xm_error *err)
{
    if (xm_tiers_alloc(t, 1, err) != XM_OK)
        return cal_fail(err);
    t->tier[0] = (xm_tier){.cap_usd = 1e300, .mmr = mmr, .max_leverage = 1.0};
    if (xm_tiers_prepare(t, "--mmr", err) != XM_OK)
        return cal_fail(err);
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
        rc = cal_usage("the model has no venue.tiers for %s: give --mmr RATE or add them",
                       m->market.assets[r->asset].symbol);
    }
    xm_cal_extremes *e = NULL;
    xm_cal_position_res res = {0};
    if (rc == 0 && xm_cal_extremes_alloc(m, m->horizon_days, m->steps, &j->sim, &e, err) != XM_OK)
        rc = cal_fail(err);
    if (rc == 0) {
        xm_cal_position_req q = {.asset = r->asset, .is_long = r->is_long,
                                 .notional_usd = r->notional_usd, .alpha = r->alpha, .z = j->z,
                                 .precision = r->precision,
                                 .lev_min = isnan(a->lev_min) ? 0.0 : a->lev_min,
                                 .lev_max = isnan(a->lev_max) ? 0.0 : a->lev_max, .tiers = t};
        if (xm_cal_position_solve(m, e, &q, &res, err) != XM_OK)
            rc = cal_fail(err);
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
        rc = publish(j, m, err);
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
                return cal_usage("--notionals: expected up to %d numbers separated by commas, "
                                 "got '%s'", CAL_MAX_NOTIONALS, a->notionals);
            caps[(*n)++] = v;
            s = *end == ',' ? end + 1 : end;
        }
        return *n ? 0 : cal_usage("--notionals: expected at least one notional");
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
    int rc = res == NULL ? cal_usage("out of memory") : 0;
    if (rc == 0 && xm_cal_extremes_alloc(m, m->horizon_days, m->steps, &j->sim, &e, err) != XM_OK)
        rc = cal_fail(err);
    for (size_t i = first; i < last && rc == 0; i++) {
        double caps[CAL_MAX_NOTIONALS];
        size_t n;
        rc = notionals_for(a, m, i, caps, &n);
        xm_cal_tiers_req q = {.asset = i, .n = n, .caps_usd = caps, .alpha = r->alpha,
                              .z = j->z, .precision = r->precision,
                              .mmr_floor = isnan(a->mmr_floor) ? 0.0 : a->mmr_floor};
        if (rc == 0 && xm_cal_tiers_solve(m, e, &q, &res[r->n_tiers++], err) != XM_OK)
            rc = cal_fail(err);
    }
    if (rc == 0) {
        r->ext = e;
        r->threads = e->threads;
        r->tiers = res;
        r->elapsed_s = e->elapsed_s;
        rc = publish(j, m, err);
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
        return cal_usage("--mmr-tier: expected SYM:K with K the 1-based tier, got '%s'", s);
    memcpy(sym, s, (size_t)(colon - s));
    sym[colon - s] = '\0';
    int rc = find_asset(m, sym, asset);
    if (rc != 0)
        return rc;
    if (k > m->venue.tiers[*asset].n)
        return cal_usage("--mmr-tier: %s has %zu tiers, got tier %llu", sym,
                         m->venue.tiers[*asset].n, (unsigned long long)k);
    *tier = (size_t)(k - 1);
    return 0;
}

static int run_venue(cal_job *j, const xm_model *m, xm_error *err)
{
    const cal_args *a = j->a;
    xm_cal_report *r = &j->rep;
    xm_cal_venue_req q = {
        .metric = strcmp(a->metric, "adl") == 0 ? XM_CAL_METRIC_ADL : XM_CAL_METRIC_BAD_DEBT,
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
        return cal_usage("venue level: the model has no accounts (accounts, accounts_csv or "
                         "population)");
    xm_cal_venue_res res = {0};
    if (!a->quiet)
        fprintf(stderr, "calibrate: each candidate is a full run of %llu paths\n",
                (unsigned long long)q.sim.paths);
    if (xm_cal_venue_solve(m, &q, &res, err) != XM_OK)
        rc = cal_fail(err);
    if (rc == 0) {
        r->vreq = &q;
        r->venue = &res;
        r->elapsed_s = res.elapsed_s;
        r->threads = j->sim.threads;
        rc = publish(j, m, err);
    }
    xm_cal_venue_res_clear(&res);
    return rc;
}

/* ---- entry ---- */

static int check_request(const cal_args *a)
{
    int rc = check_common(a);
    if (rc == 0 && a->tiers && a->metric != NULL)
        rc = cal_usage("--tiers and --metric ask different questions: give one");
    if (rc == 0)
        rc = a->tiers ? check_tiers(a) : a->metric ? check_venue(a) : check_position(a);
    return rc;
}

static int dispatch(const cal_args *a, xm_model *loaded, xm_error *err)
{
    xm_model m = with_horizon(loaded, a->horizon_days);
    double conf = isnan(a->confidence) ? 0.95 : a->confidence;
    cal_job j = {.a = a};
    xm_cal_report *r = &j.rep;
    r->kind = a->tiers ? XM_CAL_TIERS : a->metric ? XM_CAL_VENUE : XM_CAL_POSITION;
    r->model = &m;
    r->paths = a->has_paths ? a->paths : m.paths;
    r->seed = a->has_seed ? a->seed : m.seed;
    r->confidence = conf;
    r->precision = !isnan(a->precision) ? a->precision : r->kind == XM_CAL_VENUE ? 0.02 : 0.001;
    r->alpha = r->kind == XM_CAL_VENUE ? a->target_p : a->target_p_liq;
    r->is_long = a->side == NULL || strcmp(a->side, "long") == 0;
    r->notional_usd = isnan(a->notional_usd) ? CAL_DEFAULT_NOTIONAL_USD : a->notional_usd;
    j.z = gsl_cdf_ugaussian_Pinv(0.5 + 0.5 * conf);
    j.sim = (xm_run_opts){.paths = r->paths, .seed = r->seed, .threads = a->threads,
                          .stop = &cal_stop};
    if (a->asset != NULL && r->kind != XM_CAL_VENUE) {
        int rc = find_asset(&m, a->asset, &r->asset);
        if (rc != 0)
            return rc;
    } else if (a->asset != NULL) {
        return cal_usage("--asset does not apply to venue-level questions (use --mmr-tier "
                         "SYM:K to vary a tier's rate)");
    }
    install_handlers();
    if (r->kind == XM_CAL_POSITION)
        return run_position(&j, &m, err);
    if (r->kind == XM_CAL_TIERS)
        return run_tiers(&j, &m, err);
    return run_venue(&j, &m, err);
}

int xm_cli_calibrate(int argc, char **argv)
{
    cal_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0)
        rc = check_request(&a);
    if (rc != 0)
        return rc;
    xm_error err;
    xm_error_clear(&err);
    xm_model *model = xm_model_load(a.model_path, &err);
    if (model == NULL) {
        fprintf(stderr, "xmrisk: %s\n", err.msg);
        return 2;
    }
    rc = dispatch(&a, model, &err);
    xm_model_free(model);
    return rc;
}
