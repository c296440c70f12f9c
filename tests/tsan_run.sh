#!/usr/bin/env bash
# Small multi-threaded runs of xmrisk under ThreadSanitizer (docs/robustness.md).
#
#   tests/tsan_run.sh              build build-tsan (clang, -DXM_SANITIZE=thread) and run
#   XM_TSAN_BUILD_DIR=dir ...      another build directory
#   XM_TSAN_PATHS=200 ...          more paths per run (default 40)
#
# Why clang and LLVM's OpenMP runtime rather than gcc and libgomp: TSan only knows the
# synchronisation it sees. libgomp is not instrumented, so its barriers (the join at the end of
# every parallel region) and `omp critical` sections are invisible, and a gcc build reports
# ~40 races on the default model, every one of them between two accesses that libgomp orders
# (the merge under `critical(xm_run_merge)`, the main thread reading the results after the
# join, ...). They cannot be suppressed without suppressing our own functions, i.e. without
# hiding real races. LLVM's libomp has an OMPT tool, Archer (libarcher.so, from libomp-14-dev),
# that tells TSan about OpenMP's synchronisation (barriers, critical, atomic, single, for,
# tasks): with it the same runs give no report, while a race in our code still does (checked
# with a deliberately racy program and a copy of src/cascade/cascade_run.c without its `critical`; see
# docs/robustness.md). TSAN_OPTIONS=ignore_noninstrumented_modules=1 (what Archer asks for)
# makes TSan ignore the memory accesses of libomp itself (not instrumented either); our code,
# and libgsl's and libfyaml's calls made from our code, stay checked. No suppression file.
#
# Exit status: 0 when every run succeeds without a TSan report, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${XM_TSAN_BUILD_DIR:-build-tsan}
paths=${XM_TSAN_PATHS:-40}
if ! command -v clang >/dev/null 2>&1; then
  echo "tsan_run: clang is required (apt-get install clang libomp-dev)" >&2
  exit 1
fi
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q '^CMAKE_C_COMPILER:[A-Z]*=.*clang' "$dir/CMakeCache.txt"; then
  echo "tsan_run: $dir was configured with another compiler than clang: remove it or set" \
       "XM_TSAN_BUILD_DIR" >&2
  exit 1
fi
CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXM_SANITIZE=thread \
      -DXM_BUILD_TESTS=OFF -DXM_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" --target xmrisk_cli >/dev/null
exe="$dir/xmrisk"

# Archer lives next to the libomp the executable loads.
libomp=$(ldd "$exe" | awk '/libomp\.so/ {print $3; exit}')
if [ -z "$libomp" ]; then
  echo "tsan_run: $exe is not linked with LLVM's libomp (was it built with gcc?)" >&2
  exit 1
fi
archer="$(dirname "$(readlink -f "$libomp")")/libarcher.so"
if [ ! -f "$archer" ]; then
  echo "tsan_run: $archer not found (apt-get install libomp-dev)" >&2
  exit 1
fi
export OMP_TOOL_LIBRARIES="$archer"
export TSAN_OPTIONS="ignore_noninstrumented_modules=1:halt_on_error=0:exitcode=66:second_deadlock_stack=1:${TSAN_OPTIONS:-}"

out=$(mktemp -d "${TMPDIR:-/tmp}/xm_tsan.XXXXXX")
trap 'rm -rf -- "$out"' EXIT
status=0

# NAME MODEL ARGS...: one `xmrisk run` with two threads; fails on a TSan report or a bad exit.
run() {
  local name=$1 model=$2
  shift 2
  local log="$out/$name.log" rc=0
  "$exe" run "$model" --paths "$paths" --threads 2 --out "$out/$name" --quiet "$@" \
    >"$log" 2>&1 || rc=$?
  local races
  races=$(grep -c 'WARNING: ThreadSanitizer' "$log" || true)
  if [ "$rc" -ne 0 ] || [ "$races" -ne 0 ]; then
    echo "tsan_run: $name: FAILED (exit $rc, $races ThreadSanitizer reports)" >&2
    grep -v '^Archer detected' "$log" | head -n 80 >&2
    status=1
  else
    echo "tsan_run: $name: clean ($paths paths, 2 threads)"
  fi
}

if ! grep -q "^Archer detected" < <(ARCHER_OPTIONS=verbose=1 "$exe" run models/default.yaml --paths 2 --threads 2 \
       --out "$out/probe" --quiet 2>&1); then
  echo "tsan_run: Archer did not load ($archer): the run would report libomp's synchronisation" \
       "as races" >&2
  exit 1
fi
run default models/default.yaml                  # cascades: full liquidation, population
run cross-vs-isolated models/cross-vs-isolated.yaml
run partial tests/data/models/margin.yaml        # partial liquidation
run market-only tests/data/cli/repaired.yaml     # no accounts: xm_market_run (src/market/market_run.c)
run checkpoint models/default.yaml --checkpoint "$out/ck.xmp" --checkpoint-every 8  # chunks
run binned models/default.yaml --stats binned   # per-thread statistics merged (mergestats)
exit $status
