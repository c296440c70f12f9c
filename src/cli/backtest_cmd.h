/* backtest_cmd.h — the body of `xmrisk backtest MODEL --from YYYY-MM-DD --to YYYY-MM-DD
 * [--level 0.99] [--paths N] [--seed S] [--threads T] [--out DIR] [--quiet]`
 * (docs/interface.md; the method: xmrisk/backtest.h). */
#ifndef XMRISK_CLI_BACKTEST_CMD_H
#define XMRISK_CLI_BACKTEST_CMD_H

#include "args.h"
#include "cli.h"

/* argv[1] is "backtest". Returns the exit status: 0; 2 for a usage or model error (bad dates,
 * a range outside the history, a model without market.history); 1 for a failure while running
 * (I/O, memory, interrupt). */
int xm_cli_backtest(int argc, char **argv, const xm_cli_env *env);

extern const xm_arg_spec xm_cli_backtest_spec;

#endif /* XMRISK_CLI_BACKTEST_CMD_H */
