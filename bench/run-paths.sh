#!/usr/bin/env bash
# run-paths.sh — THE path-generation benchmark: C (bench_paths) beside NumPy (paths_numpy.py).
#
# Usage: bench/run-paths.sh [BUILD_DIR]        (default: build; a Release build is expected)
# Environment (optional):
#   ASSETS=10 STEPS=1440   problem size, passed to both programs
#   PATHS=0                paths per repetition; 0 = each case calibrates to SECONDS
#   SECONDS_PER_REP=1.0    target duration of one timed repetition when calibrating
#   REPS=5                 timed repetitions of the C cases (median reported); NumPy does 3
#   THREADS=<all cores>    threads of the multi-threaded C rows
#   PYTHON=/usr/bin/python3  interpreter with numpy (Debian's by default, not the PATH one)
# Prints the C table, the NumPy table, then the comparison against the project targets:
# C full within 2x of the normals-only floor per core, and >= 10x faster than NumPy per core.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${1:-build}
[[ $build = /* ]] || build=$root/$build
py=${PYTHON:-/usr/bin/python3}
assets=${ASSETS:-10}
steps=${STEPS:-1440}
paths=${PATHS:-0}
secs=${SECONDS_PER_REP:-1.0}
reps=${REPS:-5}
threads=${THREADS:-$(nproc)}

if [[ ! -f $build/CMakeCache.txt ]]; then
    echo "run-paths.sh: $build is not a CMake build directory; first run" >&2
    echo "  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build" >&2
    exit 2
fi
bin=$build/bench/bench_paths
if [[ ! -x $bin ]]; then
    echo "run-paths.sh: building bench_paths in $build" >&2
    cmake --build "$build" --target bench_paths >&2
fi
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
if [[ $btype != Release ]]; then
    echo "run-paths.sh: warning: $build is a '${btype:-<none>}' build, figures are meant for Release" >&2
fi
if ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "run-paths.sh: $py cannot import numpy (install python3-numpy or set PYTHON=)" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); build: $build (${btype:-?})"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the cores skews every figure; see the cpu% column)"
echo
"$bin" --assets "$assets" --steps "$steps" --paths "$paths" \
    --seconds "$secs" --reps "$reps" --threads "$threads" --csv "$tmp/c.csv"
echo
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 BLIS_NUM_THREADS=1 \
    "$py" "$here/paths_numpy.py" --assets "$assets" --steps "$steps" --paths "$paths" \
    --seconds "$secs" --reps 3 --csv "$tmp/np.csv"
echo

# csv lines: case,threads,paths,ns_per_asset_step(median),best,ns_per_core
awk -F, -v threads="$threads" '
FNR == NR { c[$1 "@" $2] = $6; next }
          { if (!("x" in np) || $6 < np["x"]) { np["x"] = $6; form = $1 } }
END {
    f1 = c["floor@1"]; full1 = c["full@1"]
    fT = c["floor@" threads]; fullT = c["full@" threads]
    printf "== comparison, ns per asset-step per core (= wall ns per asset-step x threads)\n"
    printf "%-50s %10s %10s %8s  %s\n", "", "ns/core", "vs", "ratio", "target"
    printf "%-50s %10.2f %10.2f %8.2f  %s\n", "C full / C floor, 1 thread", full1, f1, full1 / f1,
           (full1 <= 2 * f1 ? "<= 2: met" : "<= 2: MISSED")
    if (threads > 1)
        printf "%-50s %10.2f %10.2f %8.2f  %s\n", "C full / C floor, " threads " threads", fullT, fT,
               fullT / fT, (fullT <= 2 * fT ? "<= 2: met" : "<= 2: MISSED")
    printf "%-50s %10.2f %10.2f %8.2f  %s\n", "NumPy (" form ", 1 thread) / C full, 1 thread",
           np["x"], full1, np["x"] / full1, (np["x"] >= 10 * full1 ? ">= 10: met" : ">= 10: MISSED")
    if (threads > 1)
        printf "%-50s %10.2f %10.2f %8.2f  %s\n", "NumPy (1 thread) / C full per core, " threads " thr",
               np["x"], fullT, np["x"] / fullT, (np["x"] >= 10 * fullT ? ">= 10: met" : ">= 10: MISSED")
    printf "%-50s %10.2f %10.2f %8.2f  %s\n", "NumPy (1 thread) / C floor, 1 thread (best case)",
           np["x"], f1, np["x"] / f1, "(bound on the C/NumPy ratio while normals cost the floor)"
}' "$tmp/c.csv" "$tmp/np.csv"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
