#!/usr/bin/env bash
# test_stats_cli.sh XMRISK MODELS_DIR — `xmrisk run --stats exact|binned|auto` (docs/hpc.md,
# "Statistics that merge"): a binned run agrees with the exact run of the same paths (events,
# accounts and histograms identical, means to rounding, every quantile within the stated
# relative resolution 2^-9); is bit-identical on 1 and 2 threads, over shards merged in any
# order and after a SIGKILL and resume; `auto` switches on the memory estimate; bad values and
# mixed parts are refused with exit 2, one line, nothing written.
#   XM_STATS_PATHS=N   paths of the runs compared (default 1500)
set -u
xm=$(realpath "$1"); models=$(realpath "$2")
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad, expect, strip
P=${XM_STATS_PATHS:-1500}
model=$models/default.yaml
py=/usr/bin/python3; [ -x "$py" ] || py=python3

# same_binned A B LABEL: summary.json (timing aside) and accounts.csv equal; no paths.csv.
same_binned() {
  cmp -s <(strip "$1/summary.json") <(strip "$2/summary.json") && ok || bad "$3: summary.json differs"
  cmp -s "$1/accounts.csv" "$2/accounts.csv" && ok || bad "$3: accounts.csv differs"
  [ ! -e "$2/paths.csv" ] && ok || bad "$3: a binned result wrote paths.csv"
}

"$xm" run "$model" --paths "$P" --stats exact --out "$work/exact" --quiet || bad "exact run"
"$xm" run "$model" --paths "$P" --stats binned --threads 1 --out "$work/b1" --quiet || bad "binned run, 1 thread"

# ---- binned against exact, on the same paths ----
"$py" - "$work/exact/summary.json" "$work/b1/summary.json" >"$work/cmp.out" 2>&1 <<'EOF'
import json, sys
e = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
res = 2.0 ** -9
fails = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
check(e["statistics"]["quantiles"] == "exact", "exact run says exact")
st = b["statistics"]
check(st["quantiles"] == "binned" and st["relative_resolution"] == res, "binned run says binned, 2^-9")
check(st["values_above_range"] == 0 and st["per_path_results"] is None, "binned: nothing above range, no per-path file")
check(e["events"] == b["events"], "events identical")
check(e["accounts"] == b["accounts"], "accounts identical")
check(e["cascades"] == b["cascades"], "cascade histogram identical")
check(e["histograms"] == b["histograms"], "metric histograms identical")
check(e["first_liquidation_step"]["paths"] == b["first_liquidation_step"]["paths"], "first step paths")
worst = 0.0
cols = [(k, e["metrics"][k], b["metrics"][k]) for k in e["metrics"]]
cols += [(a["symbol"] + " min_mark_ratio", a["min_mark_ratio"], c["min_mark_ratio"])
         for a, c in zip(e["assets"], b["assets"])]
for name, x, y in cols:
    for f in ("mean", "stderr", "sd"):
        tol = 1e-12 * (abs(x["mean"]) + x["sd"]) if f == "mean" else 1e-9 * x[f]
        check(abs(x[f] - y[f]) <= tol, "%s %s: %r vs %r" % (name, f, x[f], y[f]))
    for q in x["q"]:
        d = abs(x["q"][q] - y["q"][q])
        check(d <= res * abs(x["q"][q]), "%s q%s: exact %r binned %r" % (name, q, x["q"][q], y["q"][q]))
        if x["q"][q]:
            worst = max(worst, d / abs(x["q"][q]))
print("worst relative quantile difference %.3g (resolution %.3g)" % (worst, res))
EOF
n_ok=$(grep -c '^ok' "$work/cmp.out"); n_fail=$(grep -c '^FAIL' "$work/cmp.out")
pass=$((pass + n_ok)); failed=$((failed + n_fail))
grep '^FAIL' "$work/cmp.out"
[ "$n_ok" -ge 60 ] && ok || bad "binned vs exact: only $n_ok checks ran: $(tail -3 "$work/cmp.out")"
grep worst "$work/cmp.out"

# ---- bit-identical however the work is cut ----
"$xm" run "$model" --paths "$P" --stats binned --threads 2 --out "$work/b2" --quiet || bad "binned, 2 threads"
same_binned "$work/b1" "$work/b2" "binned, 1 vs 2 threads"
for k in 2 0 1 3; do
  "$xm" run "$model" --paths "$P" --stats binned --shard "$k/4" --out "$work/parts" --quiet || bad "binned shard $k/4"
done
"$xm" merge "$work/parts/part-3-of-4.xmp" "$work/parts/part-1-of-4.xmp" "$work/parts/part-0-of-4.xmp" \
  "$work/parts/part-2-of-4.xmp" --out "$work/merged" >"$work/merge.out" || bad "merge of binned shards"
same_binned "$work/b1" "$work/merged" "binned, 4 shards merged"
grep -q 'binned statistics' "$work/merge.out" && ok || bad "merge: the summary should say binned"
grep -q 'results:.*paths.csv' "$work/merge.out" && bad "merge: a binned result lists paths.csv" || ok

# SIGKILL mid-run, then the same command resumes from the checkpoint.
ck=$work/ck.xmp
"$xm" run "$model" --paths "$P" --stats binned --checkpoint "$ck" --checkpoint-every 100 \
  --threads 1 --out "$work/resumed" --quiet & pid=$!
for _ in $(seq 200); do [ -e "$ck" ] && break; sleep 0.05; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
[ -e "$ck" ] && ok || bad "no checkpoint was written before the kill"
[ ! -e "$work/resumed/summary.json" ] && ok || bad "the killed run finished before the kill: test too fast"
"$xm" run "$model" --paths "$P" --stats binned --checkpoint "$ck" --checkpoint-every 100 \
  --threads 2 --out "$work/resumed" 2>"$work/resume.err" >/dev/null || bad "resume: $(cat "$work/resume.err")"
grep -q 'resumed from' "$work/resume.err" && ok || bad "resume: not resumed: $(cat "$work/resume.err")"
same_binned "$work/b1" "$work/resumed" "binned, killed and resumed"
[ ! -e "$ck" ] && ok || bad "the checkpoint should be removed when the results are written"

# ---- a binned run replaces an exact result in place: no stale paths.csv ----
cp -r "$work/exact" "$work/replace"
"$xm" run "$model" --paths "$P" --stats binned --out "$work/replace" --quiet || bad "binned over exact"
same_binned "$work/b1" "$work/replace" "binned over an exact result"

# ---- auto ----
# 168 bytes a path on 4 assets: 10,000 paths = 1.68 MB, more than half of 1M: binned.
"$xm" run "$model" --paths 200 --max-memory 1M --out "$work/auto1" --quiet 2>"$work/auto.err" || bad "auto, 1M"
grep -q '"quantiles": "exact"' "$work/auto1/summary.json" && ok || bad "auto: 200 paths fit in 1M, should be exact"
"$xm" run "$model" --paths 10000 --max-memory 1M --out "$work/auto2" 2>"$work/auto.err" >"$work/auto.out" || bad "auto, 10000 paths"
grep -q '"quantiles": "binned"' "$work/auto2/summary.json" && ok || bad "auto: 10000 paths over 1M should be binned"
grep -q 'note: 10000 paths.* binned statistics' "$work/auto.err" && ok || bad "auto: no note: $(cat "$work/auto.err")"
[ -e "$work/auto2/paths.csv" ] && bad "auto binned wrote paths.csv" || ok
# Far more paths than memory: binned runs them (stopped here after a start).
"$xm" run "$model" --paths 100000000000 --stats auto --out "$work/huge" >/dev/null 2>"$work/huge.err" & pid=$!
sleep 2; kill -TERM "$pid"; wait "$pid"; rc=$?
[ $rc = 1 ] && ok || bad "huge binned run: exit $rc after SIGTERM, expected 1 ($(cat "$work/huge.err"))"
grep -q 'binned statistics' "$work/huge.err" && grep -q 'interrupted after [0-9]* of 100000000000 paths' "$work/huge.err" \
  && ok || bad "huge binned run: $(cat "$work/huge.err")"
[ ! -e "$work/huge" ] && ok || bad "an interrupted run wrote $work/huge"

# ---- refusals: exit 2, one line, nothing written ----
never=$work/never
expect 2 "--stats: expected auto, exact or binned, got 'approx'" -- "$xm" run "$model" --stats approx --out "$never"
expect 2 "--stats needs a value" -- "$xm" run "$model" --stats
for v in 10 1X 4GB -1G "" 0M 99999999999999999999999K; do
  expect 2 "--max-memory: expected a size such as 512M or 4G" -- "$xm" run "$model" --max-memory "$v" --out "$never"
done
expect 2 "run: 10000 paths need about 0.00168 GB for per-path results (168 bytes each), --max-memory allows 0.00105 GB: use --stats binned" -- \
  "$xm" run "$model" --paths 10000 --stats exact --max-memory 1M --out "$never"
cat >"$work/market.yaml" <<'EOF'
name: market-only
horizon_days: 1
steps: 24
market:
  process: gbm
  assets:
    - {symbol: BTC, price: 60000, vol: 0.6}
EOF
expect 2 "--stats binned needs a model with accounts" -- "$xm" run "$work/market.yaml" --stats binned --out "$never"
"$xm" run "$model" --paths "$P" --stats exact --shard 1/4 --out "$work/xparts" --quiet || bad "exact shard"
expect 2 "part-1-of-4.xmp: exact statistics, but $work/parts/part-0-of-4.xmp: binned (run every shard with the same --stats)" -- \
  "$xm" merge "$work/parts/part-0-of-4.xmp" "$work/xparts/part-1-of-4.xmp" "$work/parts/part-2-of-4.xmp" \
  "$work/parts/part-3-of-4.xmp" --out "$never"
"$xm" run "$model" --paths "$P" --stats binned --checkpoint "$work/ck2.xmp" --checkpoint-every 100 --threads 1 \
  --out "$work/ck2out" --quiet & pid=$!
for _ in $(seq 200); do [ -e "$work/ck2.xmp" ] && break; sleep 0.05; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
expect 2 "checkpoint $work/ck2.xmp: binned statistics, this run exact (--stats); remove it to start over" -- \
  "$xm" run "$model" --paths "$P" --stats exact --checkpoint "$work/ck2.xmp" --out "$never"
[ -e "$never" ] && bad "a refused run wrote $never" || ok

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
