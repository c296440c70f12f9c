/* backtest_cmd.c — `xmrisk backtest` (backtest_cmd.h). */
#include "backtest_cmd.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "xmrisk/backtest.h"
#include "xmrisk/backtest_report.h"

#define BT "backtest"
#define BT_DEFAULT_PATHS 2000u
#define BT_DEFAULT_LEVEL 0.99

typedef struct {
    const char *model_path, *out_dir;
    int64_t from, to;
    int has_from, has_to;
    double level;
    uint64_t paths, seed;
    int has_paths, has_seed, threads, quiet;
} bt_args;

/* Exactly YYYY-MM-DD (a UTC day). */
static int parse_day(const char *s, int64_t *t)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    return xm_history_parse_time(s, 10, t);
}

static int parse_from(const char *s, void *a) { return parse_day(s, &((bt_args *)a)->from); }
static int parse_to(const char *s, void *a) { return parse_day(s, &((bt_args *)a)->to); }

static const xm_arg_opt bt_opts[] = {
    {.name = "--from", .kind = XM_ARG_CUSTOM, .parse = parse_from, .metavar = "YYYY-MM-DD",
     .given = XM_ARG_GIVEN(bt_args, has_from), .what = "a date YYYY-MM-DD",
     .help = "first UTC day predicted (required)"},
    {.name = "--to", .kind = XM_ARG_CUSTOM, .parse = parse_to, .metavar = "YYYY-MM-DD",
     .given = XM_ARG_GIVEN(bt_args, has_to), .what = "a date YYYY-MM-DD",
     .help = "last UTC day predicted (required)"},
    {.name = "--level", .kind = XM_ARG_DOUBLE, .off = offsetof(bt_args, level), .metavar = "L",
     .help = "quantile level in (0.5, 1) (default 0.99): the 1-L quantile of min/open\n"
             "and the L quantile of max/open"},
    XM_ARG_OPT_PATHS(bt_args, "paths a day, at most 2^32 (default 2000)"),
    XM_ARG_OPT_SEED(bt_args),
    XM_ARG_OPT_THREADS(bt_args),
    XM_ARG_OPT_OUT(bt_args, "where backtest.json and backtest.csv go\n"
                            "(default: results/<model name>-backtest)"),
    XM_ARG_OPT_QUIET(bt_args),
};

const xm_arg_spec xm_cli_backtest_spec = {
    .name = BT,
    .synopsis = "MODEL --from YYYY-MM-DD --to YYYY-MM-DD [--level L] [--paths N]\n"
                " [--seed S] [--threads T] [--out DIR] [--quiet]",
    .summary = "rolling out-of-sample backtest of the model's process on market.history:\n"
               "DIR/backtest.json and DIR/backtest.csv",
    .about = "For each UTC day from --from to --to: estimate volatilities and correlation from\n"
             "the window of market.history before that day, simulate one-day paths of the\n"
             "model's process from the day's open, and compare the predicted quantiles of\n"
             "min/open and max/open with the day's low/open and high/open; Kupiec and\n"
             "Christoffersen tests and the Basel zone per asset and side (docs/interface.md).",
    .opts = bt_opts, .n_opts = sizeof bt_opts / sizeof *bt_opts,
    .min_pos = 1, .max_pos = 1, .pos_name = "MODEL",
    .missing = "expected a MODEL file", .extra = "expected exactly one MODEL file",
};

/* The request from the arguments and the model; 0, or the exit status. */
static int make_opts(const bt_args *a, const xm_model *m, const xm_cli_env *env,
                     xm_backtest_opts *o)
{
    *o = (xm_backtest_opts){.from = a->from, .to = a->to,
                            .level = isnan(a->level) ? BT_DEFAULT_LEVEL : a->level,
                            .paths = a->has_paths ? a->paths : BT_DEFAULT_PATHS,
                            .seed = a->has_seed ? a->seed : m->seed, .threads = a->threads,
                            .stop = env->stop};
    xm_error err;
    xm_error_clear(&err);
    xm_status s = xm_backtest_check(m, o, &err);
    if (s == XM_EUSAGE)
        return xm_cli_usage(BT, "%s", err.msg);
    return s != XM_OK ? xm_cli_fail_input(&err) : 0;
}

static int run(const bt_args *a, const xm_model *m, const xm_cli_env *env)
{
    xm_backtest_opts o;
    int rc = make_opts(a, m, env, &o);
    char dir[4096], name[512];
    snprintf(name, sizeof name, "%s-backtest", m->name);
    if (rc == 0)
        rc = xm_cli_out_dir(a->out_dir, name, dir, sizeof dir);
    if (rc != 0)
        return rc;
    xm_error err;
    xm_error_clear(&err);
    xm_backtest_result r;
    if (xm_backtest_run(m, &o, &r, &err) != XM_OK)
        return xm_cli_fail(&err);
    if (xm_backtest_report_write(dir, m, &o, &r, &err) != XM_OK)
        rc = xm_cli_fail(&err);
    if (rc == 0 && !a->quiet) {
        xm_backtest_report_print(stdout, m, &o, &r);
        printf("results: %s/backtest.json, %s/backtest.csv (%.1f s)\n", dir, dir, r.elapsed_s);
    }
    xm_backtest_result_clear(&r);
    return rc;
}

int xm_cli_backtest(int argc, char **argv, const xm_cli_env *env)
{
    bt_args a;
    size_t npos;
    memset(&a, 0, sizeof a);
    xm_args_status parsed = xm_args_parse(&xm_cli_backtest_spec, argc, argv, &a, &a.model_path,
                                          &npos);
    if (parsed != XM_ARGS_OK)
        return xm_args_exit_code(parsed);
    if (!a.has_from || !a.has_to)
        return xm_cli_usage(BT, "--from and --to are required");
    xm_error err;
    xm_error_clear(&err);
    env->catch_signals();
    xm_model *model = xm_model_load(a.model_path, &err);
    if (model == NULL)
        return xm_cli_fail_input(&err);
    int rc = run(&a, model, env);
    xm_model_free(model);
    return rc;
}
