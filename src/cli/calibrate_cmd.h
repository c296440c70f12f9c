/* calibrate_cmd.h — the body of `xmrisk calibrate MODEL ...` (docs/calibrate.md).
 *
 *   position level  --asset SYM --target-p-liq A [--side long|short] [--notional-usd N]
 *                   [--mmr R] [--leverage-min L] [--leverage-max L]
 *   venue level     --metric bad_debt|adl --target-p A [--threshold-usd B]
 *                   [--mmr-tier SYM:K [--mmr-min R] [--mmr-max R]] [--cap-min L] [--cap-max L]
 *                   [--refine-interval]
 *   tier table      --tiers --target-p-liq A [--asset SYM] [--notionals N1,N2,...]
 *                   [--mmr-floor R]
 *   common          [--paths N] [--seed S] [--threads T] [--horizon-days H] [--precision R]
 *                   [--confidence C] [--out DIR] [--quiet]
 *
 * Prints a table on standard output and writes DIR/calibration.json (aside, then renamed).
 */
#ifndef XMRISK_CLI_CALIBRATE_CMD_H
#define XMRISK_CLI_CALIBRATE_CMD_H

#include "args.h"
#include "cli.h"

#ifdef __cplusplus
extern "C" {
#endif

/* argv[0] is the program, argv[1] "calibrate". Returns the exit status: 0; 2 for a usage or
 * model error, a bad request (a probability outside (0, 1), an unknown asset, a target that
 * no candidate reaches); 1 for a failure while running (I/O, memory, interrupt). */
int xm_cli_calibrate(int argc, char **argv, const xm_cli_env *env);

/* Its options, for `xmrisk --help` (args.h). */
extern const xm_arg_spec xm_cli_calibrate_spec;

#ifdef __cplusplus
}
#endif

#endif /* XMRISK_CLI_CALIBRATE_CMD_H */
