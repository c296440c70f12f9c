/* cli/ — the xmrisk program: subcommands, flags, exit status. */
/* xmrisk — command-line front end.
 *
 *   xmrisk run MODEL [--paths N] [--seed S] [--threads T] [--out DIR] [--quiet]
 *              [--shard K/N] [--checkpoint FILE [--checkpoint-every N|Ns|Nm]]
 *              [--stats auto|exact|binned] [--max-memory SIZE]
 *   xmrisk merge PART... [--out DIR] [--quiet]
 *   xmrisk check MODEL
 *
 * Exit status (docs/interface.md): 0 success, 1 a failure while running, 2 a usage or
 * model error. Every error is one line on standard error.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "xmrisk/margin.h"
#include "xmrisk/model.h"
#include "xmrisk/market_report.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/market_run.h"

#include "core/util.h"
#include "calibrate_cmd.h"
#include "hpc_cmd.h"
#include "liqprice_cmd.h"
#include "mpi_comm.h"

static volatile sig_atomic_t g_stop = 0;  /* set by SIGINT/SIGTERM; read by the workers */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static const char usage_text[] =
    "usage: xmrisk run MODEL [--paths N] [--seed S] [--threads T] [--out DIR] [--quiet]\n"
    "                  [--shard K/N] [--checkpoint FILE [--checkpoint-every N|Ns|Nm]]\n"
    "                  [--stats auto|exact|binned] [--max-memory SIZE]\n"
    "       xmrisk merge PART... [--out DIR] [--quiet]\n"
    "       xmrisk check MODEL\n"
    "       xmrisk liqprice MODEL\n"
    "       xmrisk calibrate MODEL --asset SYM --target-p-liq A [--side long|short]\n"
    "              [--notional-usd N] [--mmr R] [--leverage-min L] [--leverage-max L]\n"
    "       xmrisk calibrate MODEL --metric bad_debt|adl --target-p A [--threshold-usd B]\n"
    "              [--mmr-tier SYM:K [--mmr-min R] [--mmr-max R]] [--cap-min L] [--cap-max L]\n"
    "              [--refine-interval]\n"
    "       xmrisk calibrate MODEL --tiers --target-p-liq A [--asset SYM]\n"
    "              [--notionals N1,N2,...] [--mmr-floor R]\n"
    "         common: [--paths N] [--seed S] [--threads T] [--horizon-days H]\n"
    "                 [--precision R] [--confidence C] [--out DIR] [--quiet]\n"
    "       xmrisk --version | --help\n"
    "\n"
    "  run     simulate MODEL's paths; write DIR/summary.json and DIR/paths.csv\n"
    "          (DIR defaults to results/<model name>) and print a summary\n"
    "          --shard K/N  only paths [floor(K P/N), floor((K+1) P/N)) of the P paths\n"
    "                       (K from 0); write DIR/part-K-of-N.xmp for `merge` instead\n"
    "          --checkpoint FILE  save progress to FILE every interval (default 60s;\n"
    "                       N paths, Ns seconds, Nm minutes) and resume from it; removed\n"
    "                       when the results are written\n"
    "          under mpirun/mpiexec/srun the paths are split over the MPI ranks and\n"
    "          rank 0 writes the files\n"
    "          --stats exact  keep every path's results: exact quantiles, paths.csv\n"
    "          --stats binned keep mergeable statistics only: quantiles within 0.2%%,\n"
    "                       means and probabilities exact, any number of paths\n"
    "          --stats auto   (default) exact when the per-path results of all paths\n"
    "                       fit in half of --max-memory (default: physical memory)\n"
    "          --max-memory SIZE  memory this job may use, e.g. 4G (K, M, G, T: x1024)\n"
    "  merge   merge the parts of every shard into DIR's result files, exactly as one run\n"
    "  check   validate MODEL and print it resolved (defaults, correlation, Cholesky, tiers)\n"
    "  liqprice  today's liquidation price of every position, CSV on stdout\n"
    "  calibrate the largest leverage (position), leverage cap or smallest tier rate\n"
    "          (venue) or a tier table meeting a target probability; writes\n"
    "          DIR/calibration.json (docs/calibrate.md)\n"
    "\n"
    "exit status: 0 success, 1 failure while running, 2 usage or model error\n";

static int usage_error(const char *fmt, ...) XM_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("xmrisk: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see xmrisk --help)\n", stderr);
    va_end(ap);
    return 2;
}

/* Strict unsigned parse: digits only, no sign, no overflow. */
int xm_cli_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

typedef xm_cli_run_args run_args;

/* "N", "NK", "NM", "NG" or "NT" (powers of 1024) bytes, at least 1 MiB, into *bytes. */
static int parse_size(const char *s, double *bytes)
{
    uint64_t v;
    char digits[32];
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n >= sizeof digits)
        return -1;
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (xm_cli_parse_u64(digits, &v) != 0)
        return -1;
    static const char units[] = "KMGT";
    const char *u = s[n] ? strchr(units, s[n]) : NULL;
    if (s[n] != '\0' && (u == NULL || s[n + 1] != '\0'))
        return -1;
    *bytes = u ? ldexp((double)v, 10 * (int)(u - units + 1)) : (double)v;
    return *bytes >= 1048576.0 ? 0 : -1;
}

static int parse_value_flag(const char *flag, const char *value, run_args *a)
{
    uint64_t v;
    if (value == NULL)
        return usage_error("%s needs a value", flag);
    if (strcmp(flag, "--out") == 0) {
        a->out_dir = value;
        return 0;
    }
    if (strcmp(flag, "--checkpoint") == 0) {
        a->checkpoint = value;
        return 0;
    }
    if (strcmp(flag, "--shard") == 0) {
        a->has_shard = 1;
        if (xm_cli_parse_shard(value, &a->shard_k, &a->shard_n) != 0)
            return usage_error("--shard: expected K/N with 0 <= K < N, got '%s'", value);
        return 0;
    }
    if (strcmp(flag, "--stats") == 0) {
        if (strcmp(value, "auto") == 0)
            a->stats = XM_CLI_STATS_AUTO;
        else if (strcmp(value, "exact") == 0)
            a->stats = XM_CLI_STATS_EXACT;
        else if (strcmp(value, "binned") == 0)
            a->stats = XM_CLI_STATS_BINNED;
        else
            return usage_error("--stats: expected auto, exact or binned, got '%s'", value);
        return 0;
    }
    if (strcmp(flag, "--max-memory") == 0) {
        if (parse_size(value, &a->max_memory) != 0)
            return usage_error("--max-memory: expected a size such as 512M or 4G (K, M, G, T: "
                               "powers of 1024; at least 1M), got '%s'", value);
        return 0;
    }
    if (strcmp(flag, "--checkpoint-every") == 0) {
        if (xm_cli_parse_interval(value, &a->checkpoint_paths, &a->checkpoint_s) != 0)
            return usage_error("--checkpoint-every: expected N (paths), Ns (seconds) or Nm "
                               "(minutes) with N >= 1, got '%s'", value);
        return 0;
    }
    if (xm_cli_parse_u64(value, &v) != 0)
        return usage_error("expected a non-negative integer, got '%s'", value);
    if (strcmp(flag, "--paths") == 0) {
        if (v == 0)
            return usage_error("%s: expected at least 1 path", flag);
        a->paths = v;
        a->has_paths = 1;
    } else if (strcmp(flag, "--seed") == 0) {
        a->seed = v;
        a->has_seed = 1;
    } else {  /* --threads */
        if (v == 0 || v > 4096)
            return usage_error("%s: expected 1 to 4096 threads", flag);
        a->threads = (int)v;
    }
    return 0;
}

static int parse_run_args(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--quiet") == 0) {
            a->quiet = 1;
        } else if (strcmp(arg, "--paths") == 0 || strcmp(arg, "--seed") == 0 ||
                   strcmp(arg, "--threads") == 0 || strcmp(arg, "--out") == 0 ||
                   strcmp(arg, "--shard") == 0 || strcmp(arg, "--checkpoint") == 0 ||
                   strcmp(arg, "--checkpoint-every") == 0 || strcmp(arg, "--stats") == 0 ||
                   strcmp(arg, "--max-memory") == 0) {
            int rc = parse_value_flag(arg, i + 1 < argc ? argv[i + 1] : NULL, a);
            if (rc != 0)
                return rc;
            i++;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return usage_error("unknown option '%s'", arg);
        } else if (a->model_path == NULL) {
            a->model_path = arg;
        } else {
            return usage_error("unexpected argument '%s'", arg);
        }
    }
    if (a->model_path == NULL)
        return usage_error("%s: a MODEL file is required", "run");
    if ((a->checkpoint_paths > 0 || a->checkpoint_s > 0) && a->checkpoint == NULL)
        return usage_error("--checkpoint-every needs --checkpoint FILE");
    /* An empty name: --checkpoint "" used to run without a checkpoint, silently, and --out ""
     * to fail (exit 1) only once the paths were simulated. */
    if (a->out_dir != NULL && a->out_dir[0] == '\0')
        return usage_error("--out: expected a directory name, got ''");
    if (a->checkpoint != NULL && a->checkpoint[0] == '\0')
        return usage_error("--checkpoint: expected a file name, got ''");
    return 0;
}

/* ---- progress bar on a terminal ---- */

typedef struct {
    double t0, last;
} progress_state;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress_bar(void *ctx, uint64_t done, uint64_t total)
{
    progress_state *ps = ctx;
    double now = mono_now();
    if (now - ps->last < 0.2 && done < total)
        return;
    ps->last = now;
    double frac = (double)done / (double)total, el = now - ps->t0;
    double rate = el > 0 ? done / el : 0.0, left = rate > 0 ? (total - done) / rate : 0.0;
    int width = 30, fill = (int)(frac * width);
    fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %.0f paths/s  %.0f s left ", fill,
            "##############################", width - fill, "", 100 * frac, rate, left);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int fail(const xm_error *err)
{
    fprintf(stderr, "xmrisk: %s\n", err->msg);
    return xm_status_exit_code(err->status);
}

/* A model that cannot be loaded, unreadable file included, is the user's input: exit 2. */
static int fail_model(const xm_error *err)
{
    fprintf(stderr, "xmrisk: %s\n", err->msg);
    return 2;
}

/* results/<name> with the name reduced to [A-Za-z0-9._-] and no leading dot, so that a
 * model's free-text name can never point outside results/. */
void xm_cli_print_results(const char *dir, const xm_run_result *r)
{
    printf("\nresults: %s/summary.json, %s/accounts.csv", dir, dir);
    if (r->ps == NULL)
        printf(", %s/paths.csv", dir);
    putchar('\n');
}

void xm_cli_default_out_dir(const char *name, char *dir, size_t size)
{
    char safe[256];
    size_t k = 0;
    for (const char *c = name; *c && k + 1 < sizeof safe; c++) {
        int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || (*c == '.' && k > 0);
        safe[k++] = ok ? *c : '_';
    }
    safe[k] = '\0';
    snprintf(dir, size, "results/%s", k ? safe : "model");
}

/* The main job on a model with accounts: cascades (xmrisk/cascade_run.h). */
static int run_cascades(const xm_model *model, const xm_run_opts *opts, const char *dir,
                        int quiet)
{
    xm_error err;
    xm_error_clear(&err);
    xm_run_result *r = NULL;
    xm_status st = xm_run_cascades(model, opts, 0, &r, &err);
    if (st == XM_EINTR)
        fprintf(stderr, "\nxmrisk: %s; nothing written\n", err.msg);
    if (st == XM_OK)
        st = xm_run_report_write(dir, model, r, &err);
    if (st == XM_OK && !quiet) {
        xm_run_report_print(stdout, model, r);
        xm_cli_print_results(dir, r);
    }
    int rc = st == XM_OK ? 0 : st == XM_EINTR ? 1 : fail(&err);
    xm_run_result_free(r);
    return rc;
}

/* A model without accounts: the market alone (xmrisk/market_run.h, xmrisk/market_report.h). */
static int run_market(const xm_model *model, const xm_run_opts *opts, const char *dir,
                      int quiet)
{
    xm_error err;
    xm_error_clear(&err);
    xm_market_result *r = NULL;
    xm_market_summary *s = NULL;
    xm_status st = xm_market_run(model, opts, &r, &err);
    if (st == XM_EINTR)
        fprintf(stderr, "\nxmrisk: %s; nothing written\n", err.msg);
    else if (st == XM_OK && (s = xm_market_summary_compute(model, r, &err)) == NULL)
        st = err.status;
    if (st == XM_OK)
        st = xm_market_report_write(dir, model, r, s, &err);
    if (st == XM_OK && !quiet) {
        xm_market_report_print(stdout, model, r, s);
        printf("\nresults: %s/summary.json, %s/paths.csv\n", dir, dir);
    }
    int rc = st == XM_OK ? 0 : st == XM_EINTR ? 1 : fail(&err);
    xm_market_summary_free(s);
    xm_market_result_free(r);
    return rc;
}

/* --stats auto|exact|binned for a run of `paths` paths (of the whole run, shards included:
 * every shard decides alike and the merge must fit): opts->binned, or a usage error (2). */
static int choose_stats(const xm_model *model, const run_args *a, xm_run_opts *opts)
{
    if (model->book == NULL) {
        if (a->stats == XM_CLI_STATS_BINNED)
            return usage_error("--stats binned needs a model with accounts (a market-only "
                               "run keeps its paths)");
        return 0;
    }
    double have = a->max_memory > 0 ? a->max_memory : xm_physical_memory_bytes();
    double per = xm_run_bytes_per_path(model->market.n), need = per * (double)opts->paths;
    if (a->stats == XM_CLI_STATS_BINNED || (a->stats == XM_CLI_STATS_AUTO && need > 0.5 * have)) {
        opts->binned = 1;
        if (a->stats == XM_CLI_STATS_AUTO && !a->quiet && xm_mpi_rank() == 0)
            fprintf(stderr, "xmrisk: note: %" PRIu64 " paths' results need about %.3g GB, more "
                    "than half of %.3g GB: binned statistics (quantiles within 0.2%%; no "
                    "paths.csv); --stats exact to insist\n", opts->paths, need / 1e9,
                    have / 1e9);
        return 0;
    }
    if (a->max_memory > 0 && need > have)
        return usage_error("run: %" PRIu64 " paths need about %.3g GB for per-path results "
                           "(%.0f bytes each), --max-memory allows %.3g GB: use --stats binned",
                           opts->paths, need / 1e9, per, have / 1e9);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    run_args a;
    int rc = parse_run_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    xm_error err;
    xm_error_clear(&err);
    xm_model *model = xm_model_load(a.model_path, &err);
    /* Under MPI every rank loads the model: all go on, or all stop with one message. */
    if (xm_mpi_agree(model == NULL ? 2 : 0, &err) != 0) {
        xm_model_free(model);
        return fail_model(&err);
    }
    if (model->book == NULL && (a.has_shard || a.checkpoint != NULL)) {
        xm_model_free(model);
        return usage_error("--shard and --checkpoint need a model with accounts");
    }
    char dir[4096];
    if (a.out_dir != NULL)
        snprintf(dir, sizeof dir, "%s", a.out_dir);
    else
        xm_cli_default_out_dir(model->name, dir, sizeof dir);

    progress_state ps = {mono_now(), 0.0};
    xm_run_opts opts = {
        .paths = a.has_paths ? a.paths : model->paths,
        .seed = a.has_seed ? a.seed : model->seed,
        .threads = a.threads,
        .progress = (!a.quiet && isatty(STDERR_FILENO)) ? progress_bar : NULL,
        .progress_ctx = &ps,
        .stop = &g_stop,
    };
    rc = choose_stats(model, &a, &opts);
    if (rc != 0) {
        xm_model_free(model);
        return rc;
    }
    install_signal_handlers();
    if (model->book != NULL && xm_cli_run_is_hpc(&a))
        rc = xm_cli_run_hpc(model, &opts, &a, dir);
    else if (model->book != NULL)
        rc = run_cascades(model, &opts, dir, a.quiet);
    else if (xm_mpi_rank() == 0)  /* a market-only model runs on rank 0 alone */
        rc = run_market(model, &opts, dir, a.quiet);
    rc = xm_mpi_bcast_rc(rc);
    xm_model_free(model);
    return rc;
}

/* ---- check ---- */

static void print_matrix(const char *title, const double *a, size_t n)
{
    printf("%s:\n", title);
    for (size_t i = 0; i < n; i++) {
        printf("  - [");
        for (size_t j = 0; j < n; j++)
            printf("%s%.6f", j ? ", " : "", a[i * n + j]);
        printf("]\n");
    }
}

static void print_impact(const xm_impact *im)
{
    if (im->model == XM_IMPACT_LINEAR)
        printf(", impact: {model: linear, depth_1pct_usd: %g", im->depth_1pct_usd);
    else if (im->model == XM_IMPACT_SQRT)
        printf(", impact: {model: sqrt, daily_volume_usd: %g, y: %g", im->daily_volume_usd, im->y);
    else
        return;
    if (isinf(im->half_life_minutes))
        printf(", half_life_minutes: .inf}");
    else
        printf(", half_life_minutes: %g}", im->half_life_minutes);
}

static void print_model(const xm_model *m)
{
    const xm_market *mk = &m->market;
    printf("# resolved model from %s (all defaults applied)\n", m->path);
    printf("name: %s\nseed: %" PRIu64 "\npaths: %" PRIu64 "\n", m->name, m->seed, m->paths);
    printf("horizon_days: %g\nsteps: %u    # dt = %g minutes, tau = %.6g years\n",
           m->horizon_days, m->steps, m->horizon_days * 1440.0 / m->steps, xm_model_tau(m));
    printf("market:\n  process: %s\n", xm_process_name(mk->process));
    if (mk->process == XM_PROCESS_STUDENT_T)
        printf("  dof: %g\n", mk->dof);
    if (mk->jumps.enabled)
        printf("  jumps: {rate_per_year: %g, mean: %g, stdev: %g}\n", mk->jumps.rate_per_year,
               mk->jumps.mean, mk->jumps.stdev);
    printf("  assets:\n");
    for (size_t i = 0; i < mk->n; i++) {
        const xm_asset *a = &mk->assets[i];
        printf("    - {symbol: %s, price: %g, vol: %g, drift: %g, jump_beta: %g", a->symbol,
               a->price, a->vol, a->drift, a->jump_beta);
        print_impact(&a->impact);
        printf("}\n");
    }
    printf("  # smallest eigenvalue of the given correlation: %.6g%s\n", mk->corr_min_eigen,
           mk->corr_repaired ? " (not positive definite: repaired, Higham 2002)" : "");
    if (mk->corr_repaired)
        printf("  # repair: max |change| %.6g, Frobenius %.6g\n", mk->corr_repair_max_abs_change,
               mk->corr_repair_frobenius);
    print_matrix("  correlation", mk->corr, mk->n);
    print_matrix("  # cholesky L (lower)", mk->chol, mk->n);
}

static void print_venue(const xm_model *m)
{
    const xm_venue *v = &m->venue;
    printf("venue:\n  insurance_fund_usd: %g\n", v->insurance_fund_usd);
    printf("  liquidation: {mode: %s, fee_rate: %g, max_rounds: %u",
           v->mode == XM_LIQ_FULL ? "full" : "partial", v->fee_rate, v->max_rounds);
    if (v->mode == XM_LIQ_PARTIAL)
        printf(", step: %g, min_partial_notional_usd: %g, backstop_ratio: %g", v->step,
               v->min_partial_notional_usd, v->backstop_ratio);
    printf(", remaining_equity: %s}\n",
           v->remaining_equity == XM_REMAINING_KEEP ? "keep" : "to_fund");
    printf("  adl: {ranking: %s}\n  tiers:    # cum derived (model.md \u00a73)\n",
           xm_adl_ranking_name(v->adl));
    for (size_t i = 0; i < v->n_assets; i++) {
        const xm_tier_table *t = &v->tiers[i];
        if (t->n == 0)
            continue;
        printf("    %s:\n", m->market.assets[i].symbol);
        for (size_t k = 0; k < t->n; k++)
            printf("      - {cap_usd: %.10g, mmr: %g, max_leverage: %g, cum: %.10g}\n",
                   t->tier[k].cap_usd, t->tier[k].mmr, t->tier[k].max_leverage, t->tier[k].cum);
    }
}

/* Accounts summary, and a warning per unit already liquidatable at the start prices
 * (model.md §4: there is no check at time 0; such a unit falls at step 1). */
static void print_accounts(const xm_model *m)
{
    const xm_accounts *b = m->book;
    size_t iso = 0;
    for (size_t a = 0; a < b->n_accounts; a++)
        iso += b->mode[a] == XM_ISOLATED;
    printf("accounts: %zu (%zu cross, %zu isolated), %zu positions\n", b->n_accounts,
           b->n_accounts - iso, iso, b->n_positions);
    double *marks = malloc(m->market.n * sizeof *marks);
    xm_error err;
    xm_margin_state *s = marks ? xm_margin_state_alloc(b, &m->venue, &err) : NULL;
    if (s == NULL) {
        free(marks);
        return;
    }
    for (size_t i = 0; i < m->market.n; i++)
        marks[i] = m->market.assets[i].price;
    size_t warned = 0, total = 0;
    for (size_t a = 0; a < b->n_accounts; a++) {
        long lo = b->mode[a] == XM_CROSS ? XM_UNIT_ACCOUNT : (long)b->first[a];
        long hi = b->mode[a] == XM_CROSS ? XM_UNIT_ACCOUNT : (long)b->first[a + 1] - 1;
        for (long j = lo; j <= hi; j++) {
            xm_health h = xm_margin_health(s, a, j, marks);
            if (!xm_health_liquidatable(h))
                continue;
            total++;
            if (warned++ < 10)
                fprintf(stderr, "xmrisk: warning: account %s%s is liquidatable at the start prices "
                                "(equity %.2f <= maintenance %.2f)\n", xm_accounts_id(b, a),
                        j == XM_UNIT_ACCOUNT ? "" : " (isolated position)", h.equity, h.mm);
        }
    }
    if (total > 10)
        fprintf(stderr, "xmrisk: warning: ... %zu units in all are liquidatable at the start prices\n",
                total);
    xm_margin_state_free(s);
    free(marks);
}

/* check and liqprice take exactly one MODEL file and no flags: a lone argument that looks like
 * one is refused as such (a file whose name starts with '-' is reached as ./NAME). */
static int one_model_arg(const char *cmd, int argc, char **argv)
{
    if (argc != 3)
        return usage_error("%s: expected exactly one MODEL file", cmd);
    if (argv[2][0] == '-' && argv[2][1] != '\0')
        return usage_error("%s: unknown option '%s' (%s takes only a MODEL file; a file named so: "
                           "./%s)", cmd, argv[2], cmd, argv[2]);
    return 0;
}

static int cmd_check(int argc, char **argv)
{
    int rc = one_model_arg("check", argc, argv);
    if (rc != 0)
        return rc;
    xm_error err;
    xm_error_clear(&err);
    xm_model *model = xm_model_load(argv[2], &err);
    if (model == NULL)
        return fail_model(&err);
    print_model(model);
    if (model->has_venue)
        print_venue(model);
    if (model->book != NULL)
        print_accounts(model);
    xm_model_free(model);
    return 0;
}

int main(int argc, char **argv)
{
    /* GSL's default handler aborts; the library reports its own errors instead. */
    gsl_set_error_handler_off();
    if (argc < 2)
        return usage_error("%s", "a command is required: run, merge, check, liqprice or "
                                 "calibrate");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        if (argc > 2)
            return usage_error("--version takes no arguments, got '%s'", argv[2]);
        printf("xmrisk %s\n", XM_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0) {
        xm_mpi_begin(&argc, &argv);
        return xm_mpi_end(cmd_run(argc, argv));
    }
    if (strcmp(cmd, "merge") == 0)
        return xm_cli_merge(argc, argv);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(cmd, "calibrate") == 0)
        return xm_cli_calibrate(argc, argv);
    if (strcmp(cmd, "liqprice") == 0) {
        int rc = one_model_arg("liqprice", argc, argv);
        return rc != 0 ? rc : xm_cli_liqprice(argv[2]);
    }
    return usage_error("unknown command '%s' (expected run, merge, check, liqprice or "
                       "calibrate)", cmd);
}
