/* hpc_cmd.h — `xmrisk run` across shards, checkpoints and MPI ranks, and `xmrisk merge`
 * (docs/hpc.md). */
#ifndef XM_CLI_HPC_CMD_H
#define XM_CLI_HPC_CMD_H

#include <stdint.h>

#include "xmrisk/model.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/market_run.h"

#include "args.h"
#include "cli.h"

/* `xmrisk run` arguments (src/cli/main.c parses them). */
typedef struct {
    const char *model_path;
    const char *out_dir;
    uint64_t paths, seed;
    int has_paths, has_seed, quiet;
    int threads;
    /* --shard K/N: paths [floor(K P / N), floor((K + 1) P / N)) into DIR/part-K-of-N.xmp */
    int has_shard;
    uint64_t shard_k, shard_n;
    /* --checkpoint FILE [--checkpoint-every N | Ns | Nm] */
    const char *checkpoint;
    uint64_t checkpoint_paths;   /* > 0: every N paths */
    double checkpoint_s;         /* else every this many seconds (default 60) */
    /* --stats auto|exact|binned (xmrisk/mergestats.h), --max-memory SIZE (bytes; 0: physical) */
    int stats;
    double max_memory;
} xm_cli_run_args;

enum { XM_CLI_STATS_AUTO = 0, XM_CLI_STATS_EXACT, XM_CLI_STATS_BINNED };

/* "K/N" with 0 <= K < N; 0 or -1 (not one). */
int xm_cli_parse_shard(const char *s, uint64_t *k, uint64_t *n);

/* "N" (paths, >= 1), "Ns" or "Nm" (seconds, minutes; N >= 1); 0 or -1. */
int xm_cli_parse_interval(const char *s, uint64_t *paths, double *seconds);

/* Does this run need the sharded / checkpointed / MPI driver? */
int xm_cli_run_is_hpc(const xm_cli_run_args *a);

/* Run a model with accounts with --shard, --checkpoint and/or over MPI ranks (every rank calls
 * it; rank 0 writes and prints). Returns the exit status, the same on every rank. */
int xm_cli_run_hpc(const xm_model *model, const xm_run_opts *opts, const xm_cli_run_args *a,
                   const char *dir);

/* xmrisk merge PART... [--out DIR] [--quiet]: argv[1] is "merge". Returns the exit status. */
int xm_cli_merge(int argc, char **argv, const xm_cli_env *env);
extern const xm_arg_spec xm_cli_merge_spec;

#endif /* XM_CLI_HPC_CMD_H */
