#!/usr/bin/env bash
# run-pipeline.sh — THE full-pipeline benchmark (issue 7): xmrisk on bench/pipeline.yaml
# (10,000 accounts, 4 assets, 288 steps, square-root impact) at 1 and 2 threads, at 1 and 2 MPI
# ranks (when the binary has MPI), and the NumPy peer bench/cascade_numpy.py on one core, with
# the peer's validation against xmrisk. Paths per second everywhere; medians of REPS runs.
#
# Usage: bench/run-pipeline.sh [BUILD_DIR]      (default: build; a Release build is expected)
# Environment (optional):
#   PATHS=16000           paths per xmrisk run (one seed: every run computes the same result;
#                         ~4 s on one core, so that start-up and noise stay small)
#   NP_PATHS=256          paths per NumPy repetition (form linear)
#   NP_FORMS=linear       NumPy forms to time: linear, positions, or linear,positions
#   NP_POS_PATHS=32       paths per repetition of the (slow) positions form
#   REPS=5                repetitions of every measurement (the median is reported)
#   MPI=auto              auto: MPI rows when mpirun exists and `xmrisk --version`/`--help`
#                         mention MPI; 0: skip them; 1: try them anyway
#   EXACT=1               also the exact cross-check on a deterministic variant (0: skip)
#   SEED=20261125         seed of the xmrisk runs and of the NumPy repetitions
#   PYTHON=/usr/bin/python3  interpreter with numpy and yaml (Debian's by default)
# Steps: draw the model's population once into CSV files (cascade_numpy.py book) so that both
# implementations simulate the same accounts; time xmrisk; time NumPy (BLAS/OpenMP pinned to
# one thread) and validate it statistically against xmrisk's summary.json (PASS/FAIL lines);
# the exact check; then the table. Exit status 1 when a validation failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${1:-build}
[[ $build = /* ]] || build=$root/$build
py=${PYTHON:-/usr/bin/python3}
paths=${PATHS:-16000}
np_paths=${NP_PATHS:-256}
np_forms=${NP_FORMS:-linear}
np_pos_paths=${NP_POS_PATHS:-32}
reps=${REPS:-5}
mpi=${MPI:-auto}
exact=${EXACT:-1}
seed=${SEED:-20261125}
model=$here/pipeline.yaml
peer=$here/cascade_numpy.py

die() { echo "run-pipeline.sh: $*" >&2; exit 2; }

bin=$build/xmrisk
if [[ ! -x $bin ]]; then
    echo "run-pipeline.sh: no xmrisk binary at $bin; first build it:" >&2
    echo "  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build" >&2
    exit 2
fi
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if [[ $btype != Release ]]; then
    echo "run-pipeline.sh: warning: $build is a '${btype:-<unknown>}' build, figures are meant for Release" >&2
fi
"$py" -c 'import numpy, yaml' 2>/dev/null ||
    die "$py cannot import numpy and yaml (apt-get install python3-numpy python3-yaml, or set PYTHON=)"
for v in "$paths" "$np_paths" "$np_pos_paths" "$reps" "$seed"; do
    [[ $v =~ ^[0-9]+$ && $v -gt 0 ]] || die "PATHS, NP_PATHS, NP_POS_PATHS, REPS and SEED must be positive integers"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.csv   # kind,label,threads,ranks,paths,engine_s,wall_s,user_s,sys_s
: >"$results"
failed=()

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); build: $build (${btype:-?}); $("$bin" --version)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the cores skews every figure; see cpu%)"

# 1. The accounts, once, for both implementations.
"$py" "$peer" book "$model" "$tmp/book" | sed 's/^/== book: /'
book=$tmp/book/pipeline.yaml
"$bin" check "$book" >"$tmp/check.txt" 2>&1 || { cat "$tmp/check.txt" >&2; die "xmrisk check failed on $book"; }
echo "== xmrisk check: $(tail -1 "$tmp/check.txt")"
echo

# summary.json -> "paths elapsed_s" (elapsed_s empty when absent)
summary_fields() {
    "$py" - "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(s.get("paths", 0), s.get("elapsed_s", ""))
EOF
}

# run_c LABEL THREADS RANKS REP CMD...: time one xmrisk run, append a line to $results.
run_c() {
    local label=$1 threads=$2 ranks=$3 rep=$4
    shift 4
    local out=$tmp/c-$label-$rep TIMEFORMAT='%R %U %S' wall user sys got elapsed
    if ! { time "$@" --out "$out" --quiet >"$tmp/log" 2>&1; } 2>"$tmp/time"; then
        echo "   $label run $rep failed:" >&2
        sed 's/^/     /' "$tmp/log" >&2
        return 1
    fi
    read -r wall user sys <"$tmp/time"
    read -r got elapsed < <(summary_fields "$out/summary.json")
    if [[ $got != "$paths" ]]; then
        echo "   $label: summary.json says $got paths, $paths requested" >&2
        return 1
    fi
    elapsed=${elapsed:-$wall}
    echo "c,$label,$threads,$ranks,$paths,$elapsed,$wall,$user,$sys" >>"$results"
    awk -v l="$label" -v r="$rep" -v p="$paths" -v e="$elapsed" -v w="$wall" 'BEGIN {
        printf "   %-10s run %d: %6.2f s engine, %6.2f s wall, %6.0f paths/s\n", l, r, e, w, p / e }'
}

# 2. Is there MPI? (mpirun on PATH and a binary that says it has MPI)
use_mpi=0
mpiflags=()
if [[ $mpi != 0 ]]; then
    if ! command -v mpirun >/dev/null 2>&1; then
        echo "== MPI: skipped (no mpirun on PATH)"
    elif [[ $mpi = auto ]] && ! { "$bin" --version; "$bin" --help; } 2>&1 | grep -qi mpi; then
        echo "== MPI: skipped ($bin --version / --help do not mention MPI: built without it; MPI=1 tries anyway)"
    else
        use_mpi=1
        if mpirun --version 2>&1 | grep -qi 'open mpi'; then
            mpiflags+=(--oversubscribe)
            [[ $(id -u) = 0 ]] && mpiflags+=(--allow-run-as-root)
        fi
        echo "== MPI: mpirun ${mpiflags[*]} -np R, --threads 1 per rank"
    fi
fi

# 3. xmrisk: the configurations interleaved run by run, so that a busy spell of the shared
# machine hits every configuration alike rather than all the runs of one.
echo "== xmrisk: $paths paths x 288 steps, seed $seed, $reps runs of each configuration"
for ((r = 1; r <= reps; r++)); do
    for t in 1 2; do
        run_c "${t}-thread" "$t" 1 "$r" "$bin" run "$book" --paths "$paths" --seed "$seed" --threads "$t" ||
            die "xmrisk failed"
    done
    for n in 1 2; do
        ((use_mpi)) || break
        if ! run_c "${n}-rank" 1 "$n" "$r" mpirun "${mpiflags[@]}" -np "$n" "$bin" run "$book" \
            --paths "$paths" --seed "$seed" --threads 1; then
            echo "== MPI: skipped (the $n-rank run failed)"
            sed -i '/,[0-9]*-rank,/d' "$results"
            use_mpi=0
        fi
    done
done
if ((use_mpi)) && ! grep -qiE '"[a-z_]*(rank|mpi)[a-z_]*"' "$tmp/c-2-rank-1/summary.json"; then
    echo "   note: summary.json of the 2-rank run names no ranks: check that the ranks split the paths"
fi
echo

# 4. NumPy, one core; the first form's repetitions are validated against xmrisk.
first=1
IFS=, read -r -a forms <<<"$np_forms"
for form in "${forms[@]}"; do
    n=$np_paths
    [[ $form = positions ]] && n=$np_pos_paths
    args=(run "$book" --paths "$n" --reps "$reps" --seed "$seed" --form "$form" --csv "$tmp/np.csv")
    if ((first)); then
        args+=(--compare "$tmp/c-2-thread-1/summary.json")
    else
        args+=(--quiet)
    fi
    echo "== NumPy peer, form $form:"
    rc=0
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 BLIS_NUM_THREADS=1 \
        "$py" "$peer" "${args[@]}" || rc=$?
    if ((rc == 3)); then
        failed+=("statistical validation ($form)")
    elif ((rc != 0)); then
        die "cascade_numpy.py run failed (status $rc)"
    fi
    first=0
    echo
done

# 5. Exact cross-check: a deterministic market, one path each, every metric to rounding.
if [[ $exact != 0 ]]; then
    mkdir -p "$tmp/det"
    det=$tmp/det/deterministic.yaml
    "$py" "$peer" deterministic "$book" "$det"
    "$bin" run "$det" --paths 1 --seed "$seed" --threads 1 --out "$tmp/c-det" --quiet
    rc=0
    "$py" "$peer" run "$det" --paths 1 --batch 1 --quiet --exact "$tmp/c-det/paths.csv" || rc=$?
    if ((rc == 3)); then
        failed+=("exact check")
    elif ((rc != 0)); then
        die "cascade_numpy.py run failed on the deterministic model (status $rc)"
    fi
    echo
fi

# 6. The table (medians over the repetitions).
"$py" - "$results" "$tmp/np.csv" "$(nproc)" <<'EOF'
import csv, statistics as st, sys

rows = {}
for r in csv.reader(open(sys.argv[1])):
    kind, label, thr, ranks, paths, eng, wall, user, sys_ = r
    cpu = float(user) + float(sys_)
    d = rows.setdefault(label, {"threads": int(thr), "ranks": int(ranks), "paths": int(paths),
                                "eng": [], "wall": [], "cpu": []})
    d["eng"].append(float(eng)); d["wall"].append(float(wall)); d["cpu"].append(float(cpu))
np_rows = [r for r in csv.reader(open(sys.argv[2]))]  # form,1,paths,median_s,pps,best_s

def med(x):
    return st.median(x)

print("== pipeline: 10,000 accounts x 4 assets x 288 steps, sqrt impact; paths per second,")
print("   median of the runs (engine: the simulation's own clock, as xmrisk's elapsed_s;")
print("   wall: the whole process; cpu% = CPU time / (wall x cores used))")
hdr = f"{'implementation':<26} {'cores':>5} {'paths':>6} {'engine s':>9} {'paths/s':>9} {'wall paths/s':>12} {'per core':>9} {'cpu%':>5}"
print(hdr)
print("-" * len(hdr))
pps = {}
for label in ("1-thread", "2-thread", "1-rank", "2-rank"):
    if label not in rows:
        continue
    d = rows[label]
    cores = d["threads"] * d["ranks"]
    e, w = med(d["eng"]), med(d["wall"])
    cpu = 100 * med([c / (wl * cores) for c, wl in zip(d["cpu"], d["wall"])])
    pps[label] = d["paths"] / e
    name = f"xmrisk {d['threads']} thread{'s' if d['threads'] > 1 else ''}"
    if label.endswith("rank"):
        name = f"xmrisk {d['ranks']} MPI rank{'s' if d['ranks'] > 1 else ''} x 1 thr"
    print(f"{name:<26} {cores:>5} {d['paths']:>6} {e:>9.2f} {pps[label]:>9.1f} "
          f"{d['paths'] / w:>12.1f} {pps[label] / cores:>9.1f} {cpu:>5.0f}")
npb = {}
for form, _thr, paths, med_s, p, best in np_rows:
    npb[form] = float(p)
    print(f"{'NumPy ' + form.replace('numpy-', ''):<26} {1:>5} {int(paths):>6} {float(med_s):>9.2f} "
          f"{float(p):>9.2f} {'':>12} {float(p):>9.2f} {'':>5}")
print()
print(f"{'ratio':<58} {'value':>8}  target")
if "1-thread" in pps and "2-thread" in pps:
    print(f"{'thread scaling: paths/s at 2 threads / (2 x at 1 thread)':<58} "
          f"{pps['2-thread'] / (2 * pps['1-thread']):>8.2f}")
if "1-rank" in pps and "2-rank" in pps:
    print(f"{'rank scaling: paths/s at 2 ranks / (2 x at 1 rank)':<58} "
          f"{pps['2-rank'] / (2 * pps['1-rank']):>8.2f}")
else:
    print(f"{'rank scaling':<58} {'n/a':>8}  (no MPI rows)")
for form, p in npb.items():
    f = form.replace("numpy-", "")
    for label, cores in (("1-thread", 1), ("2-thread", 2)):
        if label in pps:
            x = pps[label] / cores / p
            print(f"{'C per core (' + label + ') / NumPy ' + f:<58} {x:>8.1f}  "
                  f">= 100: {'met' if x >= 100 else 'MISSED'}")
EOF
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if ((${#failed[@]})); then
    echo "== VALIDATION FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "== validation: PASS (statistical$( ((exact)) && echo ', exact'))"
