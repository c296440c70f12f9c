/* cli.h — what every subcommand of the program shares: the stop flag main owns, and the
 * one way to report a failure and to name the default output directory. */
#ifndef XM_CLI_CLI_H
#define XM_CLI_CLI_H

#include <signal.h>
#include <stddef.h>

#include "xmrisk/cascade_run.h"
#include "xmrisk/error.h"

/* Given by main to each subcommand. */
typedef struct {
    volatile sig_atomic_t *stop;  /* set to 1 by SIGINT/SIGTERM once catch_signals() ran */
    void (*catch_signals)(void);  /* route SIGINT and SIGTERM to *stop: call it before loading
                                     the input (before it, they end the program) */
} xm_cli_env;

/* A subcommand: argv[1] is its name; returns the exit status. */
typedef int (*xm_cli_cmd)(int argc, char **argv, const xm_cli_env *env);

/* "xmrisk: MESSAGE" on standard error; the exit status of err's status. */
int xm_cli_fail(const xm_error *err);

/* The same for the user's input that cannot be loaded (a model, a part file), unreadable
 * file included: exit 2. */
int xm_cli_fail_input(const xm_error *err);

/* results/<name>, the name reduced to [A-Za-z0-9._-] and no leading dot, so that a model's
 * free-text name can never point outside results/. */
void xm_cli_default_out_dir(const char *name, char *dir, size_t size);

/* The output directory: `opt` (--out), else results/<model_name>, into dir; checked before
 * any work (xm_outdir_check, on rank 0). 0, or the exit status after printing the error. */
int xm_cli_out_dir(const char *opt, const char *model_name, char *dir, size_t size);

/* "results: DIR/summary.json, DIR/accounts.csv[, DIR/paths.csv]" for result r. */
void xm_cli_print_results(const char *dir, const xm_run_result *r);

#endif /* XM_CLI_CLI_H */
