#!/usr/bin/env bash
# test_hpc.sh XMRISK MODELS_DIR [MPIEXEC] — distribution and durability as users meet them
# (docs/hpc.md): shards merged in any order, a checkpointed run killed with SIGKILL and resumed,
# and MPI ranks all write result files byte-identical to one process's (the timing line of
# summary.json aside); bad parts, mismatching checkpoints and bad flags are refused with exit 2,
# one line, nothing written. Without MPIEXEC: shards, merge, checkpoints, flags; with it: the
# MPI runs only (ctest test_hpc_mpi), exact and binned (--stats binned).
#   XM_HPC_PATHS=N   paths of the runs compared (default 600: a few seconds in all)
set -u
xm=$(realpath "$1"); models=$(realpath "$2"); mpiexec=${3:-}
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad, expect, strip
P=${XM_HPC_PATHS:-600}
model=$models/default.yaml

# same A B LABEL: the three result files of directories A and B are equal, timing aside.
same() {
  local f
  cmp -s <(strip "$1/summary.json") <(strip "$2/summary.json") && ok || bad "$3: summary.json differs"
  for f in accounts.csv paths.csv; do cmp -s "$1/$f" "$2/$f" && ok || bad "$3: $f differs"; done
}

no_temp() { [ -z "$(find "$1" -name '.*tmp*' 2>/dev/null)" ] && ok || bad "temporary files left in $1"; }

"$xm" run "$model" --paths "$P" --out "$work/single" --quiet || bad "single run"

# ---- shards, run in any order, merged in any order ----
for k in 2 0 1; do
  "$xm" run "$model" --paths "$P" --shard "$k/3" --out "$work/parts" --quiet || bad "shard $k/3"
done
parts=$work/parts
b0=$parts/part-0-of-3.xmp; b2=$parts/part-2-of-3.xmp; never=$work/never

if [ -z "$mpiexec" ]; then
[ "$(ls "$parts")" = "$(printf 'part-0-of-3.xmp\npart-1-of-3.xmp\npart-2-of-3.xmp')" ] && ok \
  || bad "a shard should write only its part: $(ls "$parts")"
out=$("$xm" merge "$parts/part-1-of-3.xmp" "$parts/part-2-of-3.xmp" "$parts/part-0-of-3.xmp" \
      --out "$work/merged")
[ $? = 0 ] && ok || bad "merge"
case "$out" in *"merged 3 parts"*) ok ;; *) bad "merge summary: $out" ;; esac
same "$work/single" "$work/merged" "3 shards merged"
no_temp "$work/merged"
grep -q '"threads": 2' "$work/merged/summary.json" && ok || bad "merge: threads field"

# More shards than paths: empty shards are parts too.
for k in 0 1 2 3 4 5 6; do
  "$xm" run "$model" --paths 4 --shard "$k/7" --out "$work/tiny" --quiet || bad "shard $k/7"
done
"$xm" run "$model" --paths 4 --out "$work/tiny1" --quiet || bad "4-path run"
"$xm" merge "$work"/tiny/part-*.xmp --out "$work/tinym" --quiet && ok || bad "merge of 7 shards"
same "$work/tiny1" "$work/tinym" "7 shards of 4 paths"

# ---- merge refusals: exit 2, one line, nothing written ----
cp -r "$parts" "$work/bad"
head -c 3000 "$parts/part-1-of-3.xmp" > "$work/bad/trunc.xmp"
cp "$parts/part-1-of-3.xmp" "$work/bad/flip.xmp"
printf 'Z' | dd of="$work/bad/flip.xmp" bs=1 seek=5000 conv=notrunc 2>/dev/null
"$xm" run "$model" --paths "$P" --seed 7 --shard 1/3 --out "$work/seed7" --quiet || bad "seed 7 shard"
"$xm" run "$models/stress.yaml" --paths "$P" --shard 1/3 --out "$work/stress" --quiet || bad "stress shard"
"$xm" run "$model" --paths "$((P + 1))" --shard 1/3 --out "$work/p1" --quiet || bad "P+1 shard"
b1=$work/bad/part-1-of-3.xmp
expect 2 "are missing: no part holds them" -- "$xm" merge "$b0" "$b2" --out "$never"
expect 2 "(duplicate)" -- "$xm" merge "$b0" "$b1" "$b2" "$b1" --out "$never"
expect 2 "seed 7, but" -- "$xm" merge "$b0" "$work/seed7/part-1-of-3.xmp" "$b2" --out "$never"
expect 2 "from another model than" -- "$xm" merge "$b0" "$work/stress/part-1-of-3.xmp" "$b2" --out "$never"
expect 2 "a run of $((P + 1)) paths, but" -- "$xm" merge "$b0" "$work/p1/part-1-of-3.xmp" "$b2" --out "$never"
expect 2 "trunc.xmp: truncated" -- "$xm" merge "$b0" "$work/bad/trunc.xmp" "$b2" --out "$never"
expect 2 "flip.xmp: corrupted (payload checksum mismatch)" -- "$xm" merge "$b0" "$work/bad/flip.xmp" "$b2" --out "$never"
expect 2 "nope.xmp: cannot read" -- "$xm" merge "$b0" "$work/nope.xmp" "$b2" --out "$never"
expect 2 "not an xmrisk part file" -- "$xm" merge "$model" --out "$never"
expect 2 "at least one PART file is required" -- "$xm" merge --out "$never"
expect 2 "unknown option '--paths'" -- "$xm" merge "$b0" --paths 3
[ -e "$never" ] && bad "a refused merge wrote $never" || ok
# Output that cannot be written: exit 1 (a failure while running), before any work for a
# checkpoint.
touch "$work/afile"
expect 1 "cannot create directory" -- "$xm" merge "$b0" "$b1" "$b2" --out "$work/afile/sub"
expect 1 "cannot create directory" -- "$xm" run "$model" --paths 3 --shard 0/2 --out "$work/afile/sub"
expect 1 "cannot write the checkpoint: $work/afile: not a directory" -- \
  "$xm" run "$model" --paths "$P" --checkpoint "$work/afile/ck.xmp" --out "$never"
[ -e "$never" ] && bad "a failed run wrote $never" || ok

# ---- run flags ----
expect 2 "--shard: expected K/N with 0 <= K < N, got '3/3'" -- "$xm" run "$model" --shard 3/3
expect 2 "--shard: expected K/N with 0 <= K < N, got '1-3'" -- "$xm" run "$model" --shard 1-3
expect 2 "--checkpoint-every: expected N (paths)" -- "$xm" run "$model" --checkpoint c --checkpoint-every 0
expect 2 "--checkpoint-every: expected N (paths)" -- "$xm" run "$model" --checkpoint c --checkpoint-every 5h
expect 2 "--checkpoint-every needs --checkpoint FILE" -- "$xm" run "$model" --checkpoint-every 5s
expect 2 "need a model with accounts" -- "$xm" run "$(dirname "$models")/tests/data/cli/repaired.yaml" \
  --shard 0/2 --out "$never"
[ -e "$never" ] && bad "a refused run wrote $never" || ok

# ---- checkpoint: SIGKILL mid-run, then resume: the same files ----
ck=$work/ck.xmp
"$xm" run "$model" --paths "$P" --out "$work/ck" --quiet --checkpoint "$ck" --checkpoint-every 25 &
pid=$!
for _ in $(seq 1 3000); do [ -e "$ck" ] && break; sleep 0.02; done
if kill -9 "$pid" 2>/dev/null; then ok; else bad "the checkpointed run ended before it could be killed"; fi
wait "$pid" 2>/dev/null
[ -e "$work/ck/summary.json" ] && bad "a killed run wrote results" || ok
[ -s "$ck" ] && ok || bad "no checkpoint after the kill"
"$xm" run "$model" --paths "$P" --out "$work/ck" --checkpoint "$ck" --checkpoint-every 25 \
  >"$work/stdout" 2>"$work/stderr" && ok || bad "resume: $(cat "$work/stderr")"
grep -q "xmrisk: resumed from $ck: [1-9][0-9]* of $P paths were done" "$work/stderr" && ok \
  || bad "resume note: $(cat "$work/stderr")"
same "$work/single" "$work/ck" "killed and resumed"
[ -e "$ck" ] && bad "the checkpoint was not removed after the results were written" || ok
no_temp "$work"

# SIGKILL at any moment, in the middle of a checkpoint write included (one after every path,
# so writes take much of the time): the checkpoint left is always whole, every resume goes on
# from it, and the end result is the same.
"$xm" run "$model" --paths 40 --out "$work/w1" --quiet || bad "40-path run"
ck2=$work/w/ck.xmp
for delay in 0.05 0.13 0.21 0.29; do
  "$xm" run "$model" --paths 40 --out "$work/w" --quiet --checkpoint "$ck2" --checkpoint-every 1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
"$xm" run "$model" --paths 40 --out "$work/w" --checkpoint "$ck2" --checkpoint-every 1 \
  >/dev/null 2>"$work/stderr" && ok || bad "resume after repeated kills: $(cat "$work/stderr")"
same "$work/w1" "$work/w" "killed 4 times during checkpoint writes"
echo "test_hpc: $(find "$work/w" -name '.ck.xmp.tmp.*' | wc -l) kill(s) landed in a checkpoint write"

# A checkpoint of another run is refused and kept: another range, another seed.
cp "$parts/part-1-of-3.xmp" "$work/other.xmp"
expect 2 "this run's [0, $P) (another --shard or number of ranks); remove it to start over" -- \
  "$xm" run "$model" --paths "$P" --checkpoint "$work/other.xmp" --out "$never"
expect 2 "seed 20261125, this run's 7" -- \
  "$xm" run "$model" --paths "$P" --seed 7 --shard 1/3 --checkpoint "$work/other.xmp" --out "$never"
[ -e "$work/other.xmp" ] && ok || bad "a refused checkpoint was removed"
[ -e "$never" ] && bad "a refused checkpoint run wrote $never" || ok

# ---- MPI ----
else
  mpi=("$mpiexec" -np 2)
  if "$mpiexec" --version 2>&1 | grep -qE "Open MPI|OpenRTE|open-mpi"; then
    mpi+=(--oversubscribe)
    [ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
    export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader} OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
    # Sanitizer builds: Open MPI's own memory is not a leak of ours (tests/mpi_lsan.supp).
    export OMPI_MCA_mca_base_component_disable_dlclose=1
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(dirname "$(dirname "$(realpath "$0")")")/mpi_lsan.supp"
  fi
  out=$("${mpi[@]}" "$xm" run "$model" --paths "$P" --out "$work/mpi" 2>"$work/mpi.err")
  [ $? = 0 ] && ok || bad "mpi run: $(cat "$work/mpi.err")"
  same "$work/single" "$work/mpi" "2 MPI ranks"
  [ "$(printf '%s\n' "$out" | grep -c 'any liquidation')" = 1 ] && ok || bad "mpi: summary not printed once: $out"
  grep -q '"threads": [2-9]' "$work/mpi/summary.json" && ok || bad "mpi: threads should add up over ranks"

  # Binned statistics (--stats binned) reduce over ranks to the same bits as one process.
  "$xm" run "$model" --paths "$P" --stats binned --out "$work/binned" --quiet || bad "binned run"
  "${mpi[@]}" "$xm" run "$model" --paths "$P" --stats binned --out "$work/mpibinned" --quiet \
    2>"$work/mpi.err" && ok || bad "mpi binned run: $(cat "$work/mpi.err")"
  cmp -s <(strip "$work/binned/summary.json") <(strip "$work/mpibinned/summary.json") && ok \
    || bad "2 MPI ranks, binned: summary.json differs"
  cmp -s "$work/binned/accounts.csv" "$work/mpibinned/accounts.csv" && ok || bad "2 MPI ranks, binned: accounts.csv differs"
  grep -q '"quantiles": "binned"' "$work/mpibinned/summary.json" && [ ! -e "$work/mpibinned/paths.csv" ] && ok \
    || bad "2 MPI ranks, binned: not a binned result"

  # A shard over MPI ranks is the same part: merged with the others, the same files.
  "${mpi[@]}" "$xm" run "$model" --paths "$P" --shard 1/3 --out "$work/mpishard" --quiet \
    --checkpoint "$work/mck.xmp" --checkpoint-every 50 2>"$work/mpi.err" && ok || bad "mpi shard: $(cat "$work/mpi.err")"
  "$xm" merge "$b0" "$work/mpishard/part-1-of-3.xmp" "$b2" --out "$work/mpimerged" --quiet && ok || bad "merge of an mpi shard"
  same "$work/single" "$work/mpimerged" "an MPI shard merged"
  [ -z "$(ls "$work" | grep mck)" ] && ok || bad "mpi checkpoints left: $(ls "$work")"

  # Errors end every rank with the right code; only rank 0 speaks.
  "${mpi[@]}" "$xm" run "$work/nope.yaml" --out "$never" >/dev/null 2>"$work/mpi.err"; rc=$?
  [ $rc = 2 ] && ok || bad "mpi: a missing model should exit 2, got $rc"
  [ "$(grep -c '^xmrisk: ' "$work/mpi.err")" = 1 ] && ok || bad "mpi: the error should be printed once: $(cat "$work/mpi.err")"
  # Rank r checkpoints to FILE.rank<r>: rank 1's is of another run (the range of 2 ranks).
  cp "$parts/part-1-of-3.xmp" "$work/other.xmp.rank1"
  "${mpi[@]}" "$xm" run "$model" --paths "$P" --checkpoint "$work/other.xmp" --out "$never" >/dev/null 2>"$work/mpi.err"; rc=$?
  [ $rc = 2 ] && ok || bad "mpi: a mismatching checkpoint should exit 2, got $rc"
  grep -q "^xmrisk: rank 1: checkpoint $work/other.xmp.rank1: paths \[" "$work/mpi.err" && ok \
    || bad "mpi: rank 1's error through rank 0: $(cat "$work/mpi.err")"
  [ -e "$never" ] && bad "a failed mpi run wrote $never" || ok
fi

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
