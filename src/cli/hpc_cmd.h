/* hpc_cmd.h — `xmrisk run` across shards, checkpoints and MPI ranks, and `xmrisk merge`
 * (docs/hpc.md). */
#ifndef XM_CLI_HPC_CMD_H
#define XM_CLI_HPC_CMD_H

#include <stdint.h>

#include "xmrisk/model.h"
#include "xmrisk/cascade_run.h"
#include "xmrisk/market_run.h"

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

/* "results: DIR/summary.json, DIR/accounts.csv[, DIR/paths.csv]" for result r. */
void xm_cli_print_results(const char *dir, const xm_run_result *r);

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
int xm_cli_merge(int argc, char **argv);

/* results/<name>, the name reduced to [A-Za-z0-9._-] (src/cli/main.c). */
void xm_cli_default_out_dir(const char *name, char *dir, size_t size);

/* Strict unsigned parse: digits only, no sign, no overflow; 0, or -1 (src/cli/main.c). */
int xm_cli_parse_u64(const char *s, uint64_t *out);

#endif /* XM_CLI_HPC_CMD_H */
