#!/usr/bin/env bash
# docs/slurm-array.sh — one xmrisk run as a Slurm job array of N shards, merged when all are
# done (docs/hpc.md). Submit from a clone with xmrisk built:
#
#   sbatch docs/slurm-array.sh models/default.yaml 1000000        # MODEL PATHS [SEED]
#
# Each array task runs one shard with every core Slurm gave it (OpenMP) and checkpoints every
# 5 minutes, so a preempted or requeued task resumes where it stopped; a dependent job merges
# the parts into results/<name>-<PATHS>/summary.json, accounts.csv and paths.csv, identical to
# one process's run of the same model, paths and seed.
#
# Statistics (docs/hpc.md, "Statistics that merge"): every shard must keep them the same way.
# STATS=auto (default) decides from the whole run's path count against MAX_MEMORY (default
# 16G: the merge job's memory), the same on every node whatever its RAM: exact per-path results
# (and paths.csv) when they fit in half of it, else binned statistics (quantiles within 0.2%).
# STATS=exact or STATS=binned forces one.
#
#SBATCH --job-name=xmrisk
#SBATCH --array=0-15               # N = 16 shards: K = SLURM_ARRAY_TASK_ID
#SBATCH --cpus-per-task=16
#SBATCH --time=02:00:00
#SBATCH --requeue
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

model=${1:?usage: sbatch $0 MODEL PATHS [SEED]}
paths=${2:?usage: sbatch $0 MODEL PATHS [SEED]}
seed_args=()
[ -n "${3:-}" ] && seed_args=(--seed "$3")
xm=${XMRISK:-build/xmrisk}
n=$((SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1))   # array 0..N-1
k=$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN))
name=$(basename "$model" .yaml)
out=results/$name-$paths
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
stats_args=(--stats "${STATS:-auto}" --max-memory "${MAX_MEMORY:-16G}")

# Task 0, on its first start (not on a requeue), submits the merge: it runs once every task of
# the array has succeeded.
if [ "$k" = 0 ] && [ "${SLURM_RESTART_COUNT:-0}" = 0 ]; then
  sbatch --dependency="afterok:$SLURM_ARRAY_JOB_ID" --job-name=xmrisk-merge \
    --output="slurm-%j-merge.out" --wrap \
    "$xm merge $out/parts/part-*-of-$n.xmp --out $out"
fi

# The shard: paths [floor(k P / n), floor((k + 1) P / n)) into $out/parts/part-k-of-n.xmp.
# The checkpoint lives on the shared file system so a requeued task finds it on any node; it
# is removed when the part is written.
"$xm" run "$model" --paths "$paths" "${seed_args[@]}" "${stats_args[@]}" --shard "$k/$n" --out "$out/parts" \
  --checkpoint "$out/checkpoints/shard-$k.xmp" --checkpoint-every 5m --quiet

# With MPI instead of an array (one allocation, ranks x threads):
#   srun --mpi=pmix -n 16 -c 16 "$xm" run "$model" --paths "$paths" --checkpoint ck.xmp
