#!/usr/bin/env bash
# The cascade engine's scale and speed figures in one command (bench/README.md, "Cascade
# engine"):
#   1. `xmrisk run bench/million.yaml` (1,000,000 accounts, 4 assets, 288 steps, square-root
#      impact) under /usr/bin/time -v: wall time, paths/s, peak RSS;
#   2. bench_cascade on the same model: checks per account-step of the fast engine beside the
#      naive one (its peer, same process, byte-compared) on a few paths;
#   3. bench_cascade on models/default.yaml (20,000 accounts) and a 10,000-account copy:
#      paths/s on 1 and 2 threads, parallel efficiency, fast vs naive.
# Usage: bench/run-million.sh [BUILD_DIR]   (default: build; needs a Release build with
# XM_BUILD_BENCH=ON). Knobs: MILLION_PATHS (1000), MILLION_PEER_PATHS (1; 0 skips the naive
# engine, about a minute per path on a million accounts), DEFAULT_PATHS (4000), REPS (5),
# THREADS (1,<cores>), SKIP_MILLION=1 (only step 3).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
xmrisk=$build/xmrisk
bench=$build/bench/bench_cascade
for f in "$xmrisk" "$bench"; do
    [[ -x $f ]] || { echo "run-million.sh: $f not found (cmake --build $build)" >&2; exit 2; }
done
threads=${THREADS:-1,$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (figures are only as good as the machine is quiet)"

if [[ ${SKIP_MILLION:-0} != 1 ]]; then
    paths=${MILLION_PATHS:-1000}
    echo
    echo "== 1. xmrisk run bench/million.yaml --paths $paths"
    /usr/bin/time -v "$xmrisk" run bench/million.yaml --paths "$paths" --quiet --out "$tmp/million" \
        2> "$tmp/time.txt" > /dev/null
    wall=$(grep 'Elapsed (wall clock)' "$tmp/time.txt" | awk '{print $NF}')
    rss=$(grep 'Maximum resident' "$tmp/time.txt" | awk '{print $NF}')
    cpu=$(grep 'Percent of CPU' "$tmp/time.txt" | awk '{print $NF}')
    pps=$(grep -o '"paths_per_s": [0-9.e+-]*' "$tmp/million/summary.json" | awk '{print $2}')
    el=$(grep -o '"elapsed_s": [0-9.e+-]*' "$tmp/million/summary.json" | awk '{print $2}')
    printf 'accounts 1000000, paths %s: wall %s (m:ss, whole command), peak RSS %s MB, CPU %s\n' \
        "$paths" "$wall" "$(awk -v k="$rss" 'BEGIN{printf "%.0f", k / 1024}')" "$cpu"
    printf 'paths: %.1f s, %.2f paths/s (the parallel part, summary.json)\n' "$el" "$pps"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "== 2. checks per account-step on the million model"
    "$bench" bench/million.yaml --paths 20 --threads "$(nproc)" --reps 1 \
        --peer-paths "${MILLION_PEER_PATHS:-1}" --fast-paths 8
fi

echo
echo "== 3. default model: 20,000 accounts"
"$bench" models/default.yaml --paths "${DEFAULT_PATHS:-4000}" --threads "$threads" \
    --reps "${REPS:-5}" --peer-paths 2 --fast-paths 64
sed 's/^  accounts: 20000$/  accounts: 10000/' models/default.yaml > "$tmp/default-10k.yaml"
grep -q '^  accounts: 10000$' "$tmp/default-10k.yaml"
echo
echo "== 3. default model with 10,000 accounts"
"$bench" "$tmp/default-10k.yaml" --paths "${DEFAULT_PATHS:-4000}" --threads "$threads" \
    --reps "${REPS:-5}" --peer-paths 2 --fast-paths 64
