/* cli/ — the xmrisk program: subcommands, flags, exit status. */
/* xmrisk — command-line front end: the subcommands run, merge, check, liqprice and calibrate
 * (each declares its options in an xm_arg_spec: args.h; `xmrisk CMD --help` prints them).
 *
 * Exit status (docs/interface.md): 0 success, 1 a failure while running, 2 a usage or model
 * error. Every error is one line on standard error.
 */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "xmrisk/margin.h"
#include "xmrisk/model.h"
#include "xmrisk/market_report.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/market_run.h"
#include "xmrisk/platform.h"

#include "args.h"
#include "backtest_cmd.h"
#include "calibrate_cmd.h"
#include "cli.h"
#include "hpc_cmd.h"
#include "liqprice_cmd.h"
#include "mpi_comm.h"

/* The one stop flag of the program: set by SIGINT/SIGTERM once catch_signals() ran, read by
 * the workers of every subcommand (xm_cli_env). */
static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- run: the options ---- */

typedef xm_cli_run_args run_args;

/* "N", "NK", "NM", "NG" or "NT" (powers of 1024) bytes, at least 1 MiB, into max_memory. */
static int parse_size(const char *s, void *args)
{
    double *bytes = &((run_args *)args)->max_memory;
    uint64_t v;
    const char *end;
    static const char units[] = "KMGT";
    if (xm_cli_parse_digits(s, &v, &end) != 0)
        return -1;
    const char *u = *end ? strchr(units, *end) : NULL;
    if (*end != '\0' && (u == NULL || end[1] != '\0'))
        return -1;
    *bytes = u ? ldexp((double)v, 10 * (int)(u - units + 1)) : (double)v;
    return *bytes >= 1048576.0 ? 0 : -1;
}

static int parse_shard(const char *s, void *args)
{
    run_args *a = args;
    return xm_cli_parse_shard(s, &a->shard_k, &a->shard_n);
}

static int parse_interval(const char *s, void *args)
{
    run_args *a = args;
    return xm_cli_parse_interval(s, &a->checkpoint_paths, &a->checkpoint_s);
}

static const char *const stats_choices[] = {"auto", "exact", "binned", NULL};  /* XM_CLI_STATS_* */

static const xm_arg_opt run_opts[] = {
    XM_ARG_OPT_PATHS(run_args, "paths to simulate (default: the model's)"),
    XM_ARG_OPT_SEED(run_args),
    XM_ARG_OPT_THREADS(run_args),
    XM_ARG_OPT_OUT(run_args, "where the result files go (default: results/<model name>)"),
    XM_ARG_OPT_QUIET(run_args),
    {.name = "--shard", .kind = XM_ARG_CUSTOM, .parse = parse_shard,
     .given = XM_ARG_GIVEN(run_args, has_shard), .metavar = "K/N",
     .what = "K/N with 0 <= K < N",
     .help = "only paths [floor(K P/N), floor((K+1) P/N)) of the P paths (K from 0);\n"
             "write DIR/part-K-of-N.xmp for `merge` instead"},
    {.name = "--checkpoint", .kind = XM_ARG_STRING, .off = offsetof(run_args, checkpoint),
     .metavar = "FILE", .what = "a file name",
     .help = "save progress to FILE every interval and resume from it;\n"
             "removed when the results are written"},
    {.name = "--checkpoint-every", .kind = XM_ARG_CUSTOM, .parse = parse_interval,
     .metavar = "N|Ns|Nm", .what = "N (paths), Ns (seconds) or Nm (minutes) with N >= 1",
     .help = "the interval: N paths, N seconds or N minutes (default: 60s)"},
    {.name = "--stats", .kind = XM_ARG_ENUM, .off = offsetof(run_args, stats),
     .choices = stats_choices,
     .help = "exact: keep every path's results: exact quantiles, paths.csv\n"
             "binned: mergeable statistics only: quantiles within 0.2%,\n"
             "  means and probabilities exact, any number of paths\n"
             "auto (default): exact when the per-path results of all paths\n"
             "  fit in half of --max-memory"},
    {.name = "--max-memory", .kind = XM_ARG_CUSTOM, .parse = parse_size, .metavar = "SIZE",
     .what = "a size such as 512M or 4G (K, M, G, T: powers of 1024; at least 1M)",
     .help = "memory this job may use, e.g. 4G (K, M, G, T: x1024;\n"
             "default: the physical memory)"},
};

static const xm_arg_spec run_spec = {
    .name = "run",
    .synopsis = "MODEL [--paths N] [--seed S] [--threads T] [--out DIR] [--quiet]\n"
                " [--shard K/N] [--checkpoint FILE [--checkpoint-every N|Ns|Nm]]\n"
                " [--stats auto|exact|binned] [--max-memory SIZE]",
    .summary = "simulate MODEL's paths; write DIR/summary.json, DIR/accounts.csv and\n"
               "DIR/paths.csv and print a summary",
    .about = "Simulate MODEL's paths, write DIR/summary.json, DIR/accounts.csv (a model with\n"
             "accounts) and DIR/paths.csv, and print a summary. Under mpirun/mpiexec/srun the\n"
             "paths are split over the MPI ranks and rank 0 writes the files (docs/hpc.md).",
    .opts = run_opts, .n_opts = sizeof run_opts / sizeof *run_opts,
    .min_pos = 1, .max_pos = 1, .pos_name = "MODEL", .missing = "a MODEL file is required",
};

static xm_args_status parse_run_args(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    size_t npos;
    xm_args_status st = xm_args_parse(&run_spec, argc, argv, a, &a->model_path, &npos);
    if (st == XM_ARGS_OK && (a->checkpoint_paths > 0 || a->checkpoint_s > 0) &&
        a->checkpoint == NULL) {
        xm_cli_usage("run", "--checkpoint-every needs --checkpoint FILE");
        st = XM_ARGS_ERROR;
    }
    return st;
}

/* ---- progress bar on a terminal ---- */

typedef struct {
    double t0, last;
} progress_state;

static void progress_bar(void *ctx, uint64_t done, uint64_t total)
{
    progress_state *ps = ctx;
    double now = xm_now_s();
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
    int rc = st == XM_OK ? 0 : st == XM_EINTR ? 1 : xm_cli_fail(&err);
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
    int rc = st == XM_OK ? 0 : st == XM_EINTR ? 1 : xm_cli_fail(&err);
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
            return xm_cli_usage("run", "--stats binned needs a model with accounts (a "
                                "market-only run keeps its paths)");
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
        return xm_cli_usage("run", "%" PRIu64 " paths need about %.3g GB for per-path "
                            "results (%.0f bytes each), --max-memory allows %.3g GB: use "
                            "--stats binned", opts->paths, need / 1e9, per, have / 1e9);
    return 0;
}

static int cmd_run(int argc, char **argv, const xm_cli_env *env)
{
    run_args a;
    xm_args_status parsed = parse_run_args(argc, argv, &a);
    if (parsed != XM_ARGS_OK)
        return xm_args_exit_code(parsed);
    xm_error err;
    xm_error_clear(&err);
    env->catch_signals();   /* before loading: a stop then ends the run before its first path */
    xm_model *model = xm_model_load(a.model_path, &err);
    /* Under MPI every rank loads the model: all go on, or all stop with one message. */
    if (xm_mpi_agree(model == NULL ? 2 : 0, &err) != 0) {
        xm_model_free(model);
        return xm_cli_fail_input(&err);
    }
    if (model->book == NULL && (a.has_shard || a.checkpoint != NULL)) {
        xm_model_free(model);
        return xm_cli_usage("run", "--shard and --checkpoint need a model with accounts");
    }

    progress_state ps = {xm_now_s(), 0.0};
    xm_run_opts opts = {
        .paths = a.has_paths ? a.paths : model->paths,
        .seed = a.has_seed ? a.seed : model->seed,
        .threads = a.threads,
        .progress = (!a.quiet && isatty(STDERR_FILENO)) ? progress_bar : NULL,
        .progress_ctx = &ps,
        .stop = env->stop,
    };
    char dir[4096];
    int rc = choose_stats(model, &a, &opts);
    if (rc == 0)  /* usage errors (exit 2) first, then the output directory */
        rc = xm_cli_out_dir(a.out_dir, model->name, dir, sizeof dir);
    if (rc != 0) {
        xm_model_free(model);
        return rc;
    }
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

/* market.history: the window and one summary line per asset with a file. */
static void print_history(const xm_model *m)
{
    if (m->history == NULL)
        return;
    printf("  history:    # used by `backtest`\n    window_days: %u\n", m->history_window_days);
    for (size_t i = 0; i < m->market.n; i++) {
        char line[1024];
        if (m->history[i] != NULL)
            printf("    # %s: %s\n", m->market.assets[i].symbol,
                   xm_history_describe(m->history[i], line, sizeof line));
    }
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
    print_history(m);
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
    printf("accounts: %zu (%zu cross, %zu isolated), %zu positions", b->n_accounts,
           b->n_accounts - iso, iso, b->n_positions);
    if (b->n_folded > 0)  /* xmrisk/accounts.h, Lots */
        printf(" (%zu more rows folded into same-side positions)", b->n_folded);
    putchar('\n');
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
static const xm_arg_spec check_spec = {
    .name = "check",
    .synopsis = "MODEL",
    .summary = "validate MODEL and print it resolved (defaults, correlation, Cholesky, tiers)",
    .about = "Validate MODEL and print it resolved: every default filled in, the correlation\n"
             "matrix used, its smallest eigenvalue and Cholesky factor, the venue's tiers with\n"
             "their derived cum, and an accounts summary; warn (standard error) about accounts\n"
             "already liquidatable at the start prices.",
    .min_pos = 1, .max_pos = 1, .pos_name = "MODEL",
    .missing = "expected exactly one MODEL file", .extra = "expected exactly one MODEL file",
};

static const xm_arg_spec liqprice_spec = {
    .name = "liqprice",
    .synopsis = "MODEL",
    .summary = "today's liquidation price of every position, CSV on stdout",
    .about = "Print, as CSV on standard output, today's liquidation price of every position:\n"
             "account_id,asset,qty,entry,mark,liq_price (docs/margin.md).",
    .min_pos = 1, .max_pos = 1, .pos_name = "MODEL",
    .missing = "expected exactly one MODEL file", .extra = "expected exactly one MODEL file",
};

static int cmd_check(int argc, char **argv, const xm_cli_env *env)
{
    (void)env;
    const char *path;
    size_t npos;
    xm_args_status parsed = xm_args_parse(&check_spec, argc, argv, NULL, &path, &npos);
    if (parsed != XM_ARGS_OK)
        return xm_args_exit_code(parsed);
    xm_error err;
    xm_error_clear(&err);
    xm_model *model = xm_model_load(path, &err);
    if (model == NULL)
        return xm_cli_fail_input(&err);
    print_model(model);
    if (model->has_venue)
        print_venue(model);
    if (model->book != NULL)
        print_accounts(model);
    xm_model_free(model);
    return 0;
}

static int cmd_liqprice(int argc, char **argv, const xm_cli_env *env)
{
    (void)env;
    const char *path;
    size_t npos;
    xm_args_status parsed = xm_args_parse(&liqprice_spec, argc, argv, NULL, &path, &npos);
    return parsed != XM_ARGS_OK ? xm_args_exit_code(parsed) : xm_cli_liqprice(path);
}

/* `run` starts MPI when under a launcher (mpi_comm.h). */
static int cmd_run_mpi(int argc, char **argv, const xm_cli_env *env)
{
    xm_mpi_begin(&argc, &argv);
    return xm_mpi_end(cmd_run(argc, argv, env));
}

static const struct {
    const xm_arg_spec *spec;
    xm_cli_cmd run;
} commands[] = {
    {&run_spec, cmd_run_mpi},
    {&xm_cli_merge_spec, xm_cli_merge},
    {&check_spec, cmd_check},
    {&liqprice_spec, cmd_liqprice},
    {&xm_cli_calibrate_spec, xm_cli_calibrate},
    {&xm_cli_backtest_spec, xm_cli_backtest},
};

#define N_COMMANDS (sizeof commands / sizeof *commands)

/* `xmrisk --help`: every command's usage and what it does. */
static void print_help(void)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        xm_args_synopsis(stdout, commands[i].spec, i == 0 ? "usage: " : "       ");
    fputs("       xmrisk --version | --help | COMMAND --help\n\n", stdout);
    for (size_t i = 0; i < N_COMMANDS; i++)
        xm_args_summary(stdout, commands[i].spec);
    fputs("\nxmrisk COMMAND --help prints the options of COMMAND.\n"
          "exit status: 0 success, 1 failure while running, 2 usage or model error\n", stdout);
}

/* --help, -h, help [COMMAND]: 0, or 2 for an unknown COMMAND. */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        print_help();
        return 0;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(argv[2], commands[i].spec->name) == 0 && argc == 3) {
            xm_args_help(stdout, commands[i].spec);
            return 0;
        }
    return xm_cli_usage(NULL, "%s: expected nothing or one of run, merge, check, liqprice, "
                        "calibrate or backtest, got '%s'", argv[1], argv[2]);
}

int main(int argc, char **argv)
{
    /* GSL's default handler aborts; the library reports its own errors instead. */
    gsl_set_error_handler_off();
    if (argc < 2)
        return xm_cli_usage(NULL, "%s", "a command is required: run, merge, check, liqprice, "
                                        "calibrate or backtest");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
        return help(argc, argv);
    if (strcmp(cmd, "--version") == 0) {
        if (argc > 2)
            return xm_cli_usage(NULL, "--version takes no arguments, got '%s'", argv[2]);
        printf("xmrisk %s\n", XM_VERSION);
        return 0;
    }
    xm_cli_env env = {.stop = &g_stop, .catch_signals = catch_signals};
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, commands[i].spec->name) == 0)
            return commands[i].run(argc, argv, &env);
    return xm_cli_usage(NULL, "unknown command '%s' (expected run, merge, check, liqprice, "
                        "calibrate or backtest)", cmd);
}
