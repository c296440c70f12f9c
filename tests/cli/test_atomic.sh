#!/usr/bin/env bash
# test_atomic.sh XMRISK MODELS_DIR — result sets appear whole (docs/interface.md "Result
# files"): every rename(2) is delayed with strace fault injection, so that the steps of a
# publication are spread over seconds, and then
#   1. two runs with different seeds into one --out, at the same time, repeated: the directory
#      ends with ONE run's files, all of that run (run_id of summary.json = the set the names
#      resolve to) and equal to a single run of that seed; files that are not result names
#      stay; one set is left in DIR/.xmrisk;
#   2. a merge killed (SIGKILL) at several moments of its publication: the directory holds the
#      old set or the new one, never a mix, and the next run sweeps the killed one's set.
# Exit 77 (skipped) without strace or where it cannot trace.
set -u
xm=$(realpath "$1"); models=$(realpath "$2")
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad, strip

command -v strace >/dev/null || { echo "SKIP: strace is not installed"; exit 77; }
strace -o /dev/null -f -e trace=rename -e inject=rename:delay_exit=1 true 2>/dev/null \
  || { echo "SKIP: strace cannot trace here"; exit 77; }
model=$models/default.yaml; P=200
delay=${XM_ATOMIC_DELAY_US:-250000}
# slow PIDFILE CMD...: CMD with every rename delayed; its pid written to PIDFILE. LeakSanitizer
# cannot run under ptrace (the sanitizer build's CI stage): leak checks are off for the traced
# runs only; every other test of the suite keeps them.
slow() {
  local pidfile=$1; shift
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -o /dev/null -f -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:delay_exit="$delay" \
    sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@"
}

for s in 1 2; do
  "$xm" run "$model" --paths $P --seed $s --quiet --out "$work/ref$s" || bad "reference run, seed $s"
done
"$xm" run "$model" --paths $P --seed 1 --shard 0/2 --quiet --out "$work/parts" || bad "shard 0/2"
"$xm" run "$model" --paths $P --seed 1 --shard 1/2 --quiet --out "$work/parts" || bad "shard 1/2"

# whole DIR LABEL: DIR holds one run's set: summary.json's run_id is the set every name
# resolves to, and the files equal a single run of summary.json's seed, left in $seed.
whole() {
  local d=$1 id cur f
  id=$(sed -n 's/.*"run_id": "\([^"]*\)".*/\1/p' "$d/summary.json")
  cur=$(readlink "$d/.xmrisk/current")
  [ -n "$id" ] && [ "$id" = "$cur" ] && ok || bad "$2: summary.json run_id '$id', current set '$cur'"
  for f in summary.json accounts.csv paths.csv; do
    case $(readlink -f "$d/$f") in
      "$(readlink -f "$d")/.xmrisk/$id/$f") ok ;;
      *) bad "$2: $f is not of run $id: $(readlink -f "$d/$f")" ;;
    esac
  done
  seed=$(sed -n 's/^ *"seed": \([0-9]*\),.*/\1/p' "$d/summary.json")
  case $seed in 1|2) ;; *) bad "$2: seed '$seed' in summary.json"; return ;; esac
  cmp -s <(strip "$d/summary.json") <(strip "$work/ref$seed/summary.json") && ok \
    || bad "$2: summary.json differs from the seed-$seed run's"
  for f in accounts.csv paths.csv; do
    cmp -s "$d/$f" "$work/ref$seed/$f" && ok || bad "$2: $f is not the seed-$seed run's"
  done
}
# sets DIR: the number of sets in DIR/.xmrisk.
sets() { ls "$1/.xmrisk" | grep -cv '^current$'; }

# ---- 1. two runs into one --out at the same time ----
out=$work/both; won=""
for i in 1 2 3 4; do
  rm -rf "$out"; mkdir -p "$out"
  echo "mine" > "$out/notes.txt"; cp "$work/parts/part-0-of-2.xmp" "$out/"
  slow "$work/pid1" "$xm" run "$model" --paths $P --seed 1 --quiet --out "$out" & p1=$!
  slow "$work/pid2" "$xm" run "$model" --paths $P --seed 2 --quiet --out "$out" & p2=$!
  wait $p1 || bad "round $i: seed 1 run failed"
  wait $p2 || bad "round $i: seed 2 run failed"
  whole "$out" "round $i"
  won="$won $seed"
  [ "$(cat "$out/notes.txt")" = mine ] && cmp -s "$out/part-0-of-2.xmp" "$work/parts/part-0-of-2.xmp" \
    && ok || bad "round $i: a file that is not a result name was changed"
  [ "$(sets "$out")" = 1 ] && ok || bad "round $i: $(sets "$out") sets left in $out/.xmrisk"
  [ -z "$(find "$out" -name '.*.tmp.*' -o -name '.*.lnk.*' -o -name '.current.*')" ] && ok \
    || bad "round $i: temporary files left"
done
echo "test_atomic: concurrent rounds won by seeds:$won"

# ---- 2. a merge killed while it publishes ----
# The old set: seed 2; the merge: the seed-1 parts. Killed after T seconds (its renames take
# `delay` each: the three files' commits, then the swap of `current`); the last one not killed.
out=$work/killed; old=0; new=0
for t in 0.2 0.45 0.7 0.95 1.2 none; do
  rm -rf "$out"
  "$xm" run "$model" --paths $P --seed 2 --quiet --out "$out" || bad "old set"
  rm -f "$work/mpid"
  slow "$work/mpid" "$xm" merge "$work/parts/part-0-of-2.xmp" "$work/parts/part-1-of-2.xmp" \
    --quiet --out "$out" 2>/dev/null & sp=$!
  if [ "$t" != none ]; then
    sleep "$t"; kill -KILL "$(cat "$work/mpid")" 2>/dev/null
  fi
  { wait $sp; } 2>/dev/null  # "Killed": expected
  whole "$out" "merge killed after $t s"
  case $seed in 2) old=$((old + 1)) ;; 1) new=$((new + 1)) ;; esac
  # The next publication sweeps the set of a merge killed before it published.
  "$xm" run "$model" --paths $P --seed 2 --quiet --out "$out" || bad "run after the kill"
  [ "$(sets "$out")" = 1 ] && ok || bad "after $t s: $(sets "$out") sets left after the next run"
done
echo "test_atomic: killed merges left the old set $old times, the new set $new times"
[ "$old" -gt 0 ] && [ "$new" -gt 0 ] && ok || bad "the kills should leave both outcomes ($old, $new)"
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
