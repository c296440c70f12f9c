#!/usr/bin/env bash
# test_stop.sh XMRISK MODELS_DIR DATA_DIR — SIGINT and SIGTERM inside one long path: exit 1,
# "interrupted after 0 of N paths; nothing written", no file written, and the stop taken within
# a generous 5 s (it is read before every step, round and settlement: docs/cascade.md).
# Models slow by construction: data/cascade/endless.yaml (one step of ~3e11 rounds against
# max_rounds 2^32 - 1), and default.yaml with one path of 10^8 steps. A run still alive 30 s
# after the signal is killed (and the test fails) rather than left to hang the suite.
set -u
xm=$(realpath "$1"); models=$(realpath "$2"); data=$(realpath "$3")
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad

sed 's/^steps: .*/steps: 100000000/' "$models/default.yaml" > "$work/long_path.yaml"
grep -q '^steps: 100000000' "$work/long_path.yaml" && ok || bad "default.yaml has no 'steps:' line"

# stop_run NAME SIG MODEL [ARGS...]: start a run of one path, send SIG after 1 s, check.
stop_run() {
  local name=$1 sig=$2 model=$3; shift 3
  local out=$work/out-$name-$sig t0 t1 rc ms
  "$xm" run "$model" --paths 1 --out "$out" --quiet "$@" 2>"$work/err" & local pid=$!
  sleep 1
  t0=$(date +%s%N)
  kill -"$sig" "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  t1=$(date +%s%N); ms=$(( (t1 - t0) / 1000000 ))
  echo "$name SIG$sig: exit $rc after $ms ms"
  [ "$rc" = 1 ] && ok || bad "$name SIG$sig: exit $rc, expected 1 ($(cat "$work/err"))"
  grep -q "interrupted after 0 of 1 paths; nothing written" "$work/err" && ok \
    || bad "$name SIG$sig: no 'interrupted after 0 of 1 paths' in: $(cat "$work/err")"
  [ -z "$(ls -A "$out" 2>/dev/null)" ] && ok || bad "$name SIG$sig left files: $(ls -A "$out")"
  [ "$ms" -lt 5000 ] && ok || bad "$name SIG$sig: the stop took $ms ms (bound 5000)"
}

for sig in INT TERM; do
  stop_run rounds "$sig" "$data/cascade/endless.yaml"
  stop_run rounds-binned "$sig" "$data/cascade/endless.yaml" --stats binned
  stop_run steps "$sig" "$work/long_path.yaml" --threads 2
done
# With a checkpoint: the cut path is dropped with its chunk, and the resume hint is given.
stop_run rounds-ckpt INT "$data/cascade/endless.yaml" --checkpoint "$work/ck.xmp" --checkpoint-every 1
grep -q "the checkpoint keeps every finished chunk" "$work/err" && ok \
  || bad "checkpointed run: no resume hint in: $(cat "$work/err")"
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
