#!/usr/bin/env bash
# compare-results.sh — the same questions asked of two xmrisk binaries, answers compared bit for
# bit: `run` on the three bundled models and a market-only model, `run --stats binned`, a
# sharded run merged, `calibrate`, `check` and `liqprice`. Every number is parsed (JSON and CSV)
# and compared as an IEEE double, so a file whose text changed but whose values did not is
# reported as "same values, number text differs"; timing fields (elapsed_s, paths_per_s, threads) and
# the run id (run_id, a fresh one per run) are left out, and so is the sets directory DIR/.xmrisk
# (the result names resolve into it). Use it after any refactor that must not change results.
#
# Usage: bench/compare-results.sh OLD_XMRISK NEW_XMRISK [WORK_DIR]
# Environment: PATHS=2000 (paths per run; stress.yaml gets PATHS/4), SEED=20261125,
#              THREADS=2, PYTHON=/usr/bin/python3. Exit status 1 when any value differs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
[[ $# -ge 2 ]] || { echo "usage: $0 OLD_XMRISK NEW_XMRISK [WORK_DIR]" >&2; exit 2; }
old=$(realpath "$1"); new=$(realpath "$2")
work=${3:-$(mktemp -d)}
paths=${PATHS:-2000}; seed=${SEED:-20261125}; threads=${THREADS:-2}
py=${PYTHON:-/usr/bin/python3}
mkdir -p "$work"

# jobs NAME CMD... : the argument lists, with @OUT@ for the output directory.
jobs=(
  "default|run $root/models/default.yaml --paths $paths --seed $seed --threads $threads --quiet --out @OUT@"
  "cross-vs-isolated|run $root/models/cross-vs-isolated.yaml --paths $paths --seed $seed --threads $threads --quiet --out @OUT@"
  "stress|run $root/models/stress.yaml --paths $((paths / 4)) --seed $seed --threads $threads --quiet --out @OUT@"
  "market-only|run $root/tests/data/models/full.yaml --paths $paths --seed $seed --threads $threads --quiet --out @OUT@"
  "binned|run $root/models/default.yaml --paths $((paths / 2)) --seed $seed --threads $threads --stats binned --quiet --out @OUT@"
  "calibrate|calibrate $root/models/default.yaml --asset BTC --target-p-liq 0.05 --paths $((paths / 2)) --seed $seed --threads $threads --quiet --out @OUT@"
  "calibrate-venue|calibrate $root/models/cross-vs-isolated.yaml --metric bad_debt --target-p 0.05 --paths $((paths / 4)) --seed $seed --threads $threads --quiet --out @OUT@"
)
status=0
run_one() {  # BIN SIDE NAME ARGS
    local bin=$1 side=$2 name=$3 args=$4 out=$work/$2/$3
    rm -rf "$out"; mkdir -p "$out"
    # shellcheck disable=SC2086
    "$bin" ${args//@OUT@/$out} >"$out/stdout.txt" 2>"$out/stderr.txt" || echo "exit $?" >"$out/exit.txt"
}
for side in old new; do
    bin=$old; [[ $side = new ]] && bin=$new
    for j in "${jobs[@]}"; do run_one "$bin" "$side" "${j%%|*}" "${j#*|}"; done
    # shards merged (3 shards of the default model), check and liqprice output
    out=$work/$side/sharded; rm -rf "$out"; mkdir -p "$out"
    for k in 0 1 2; do
        "$bin" run "$root/models/default.yaml" --paths $((paths / 2)) --seed "$seed" --threads 1 \
            --shard "$k/3" --quiet --out "$out" >/dev/null
    done
    "$bin" merge "$out"/part-*-of-3.xmp --out "$out/merged" --quiet >/dev/null
    rm -f "$out"/part-*-of-3.xmp
    mkdir -p "$work/$side/cli"
    "$bin" check "$root/models/default.yaml" >"$work/$side/cli/check-default.txt" 2>&1 || true
    "$bin" liqprice "$root/tests/data/models/margin.yaml" >"$work/$side/cli/liqprice-margin.csv" 2>&1 || true
done
"$py" - "$work/old" "$work/new" <<'PY' || status=1
import csv, json, os, re, struct, sys
old, new = sys.argv[1], sys.argv[2]
TIMING = {"elapsed_s", "paths_per_s", "threads", "run_id"}
def bits(x): return struct.pack("<d", x)
def same_json(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        ka = set(a) - TIMING; kb = set(b) - TIMING
        if ka != kb: return f"{path}: keys differ: {sorted(ka ^ kb)}"
        for k in sorted(ka):
            r = same_json(a[k], b[k], f"{path}.{k}")
            if r: return r
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b): return f"{path}: lengths {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            r = same_json(x, y, f"{path}[{i}]")
            if r: return r
        return None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return None if bits(float(a)) == bits(float(b)) and type(a) == type(b) else f"{path}: {a!r} vs {b!r}"
    return None if a == b else f"{path}: {a!r} vs {b!r}"
def untimed(t):  # the text without the timing fields' values
    return re.sub(rb'"(elapsed_s|paths_per_s|threads|run_id)": *[^,}\n]*(, )?', b'', t)
def num(s):
    try: return bits(float(s))
    except ValueError: return s
def same_csv(pa, pb):
    ra = list(csv.reader(open(pa))); rb = list(csv.reader(open(pb)))
    if len(ra) != len(rb): return f"{len(ra)} vs {len(rb)} rows"
    for i, (x, y) in enumerate(zip(ra, rb)):
        if len(x) != len(y) or any(num(u) != num(v) for u, v in zip(x, y)):
            return f"row {i + 1}: {x[:6]} vs {y[:6]}"
    return None
bad = 0; n = 0
for dirpath, _, files in sorted(os.walk(old)):
    for f in sorted(files):
        pa = os.path.join(dirpath, f); rel = os.path.relpath(pa, old); pb = os.path.join(new, rel)
        if "/.xmrisk" in pa: continue
        if f in ("stdout.txt", "stderr.txt") and "/cli/" not in pa: continue
        n += 1
        if not os.path.exists(pb): print(f"  MISSING in new: {rel}"); bad += 1; continue
        ta, tb = open(pa, "rb").read(), open(pb, "rb").read()
        if f.endswith(".json"):
            ja, jb = json.loads(ta), json.loads(tb)
            for j in (ja, jb):
                for k in TIMING: j.pop(k, None)
            r = same_json(ja, jb)
        elif f.endswith(".csv"): r = same_csv(pa, pb)
        else: r = None if ta == tb else "text differs"
        if r: print(f"  DIFFER  {rel}: {r}"); bad += 1
        elif ta == tb: print(f"  same bytes          {rel}")
        elif f.endswith('.json') and untimed(ta) == untimed(tb):
            print(f"  same bytes but timing  {rel}")
        else: print(f"  same values, number text differs  {rel}")
for dirpath, _, files in os.walk(new):
    for f in files:
        rel = os.path.relpath(os.path.join(dirpath, f), new)
        if "/.xmrisk" in dirpath: continue
        if not os.path.exists(os.path.join(old, rel)): print(f"  NEW only: {rel}")
print(f"compare-results: {n} files compared, {bad} differ")
sys.exit(1 if bad else 0)
PY
exit $status
