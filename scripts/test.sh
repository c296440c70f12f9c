#!/usr/bin/env bash
# The README's second command: install what is missing, build everything, run the whole test
# suite with CTest. Environment knobs (optional):
#   XM_BUILD_DIR=build-asan XM_SANITIZE=address,undefined scripts/test.sh   sanitizer build
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
dir=${XM_BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${XM_BUILD_TYPE:-Release}" -DXM_SANITIZE="${XM_SANITIZE:-}" \
      -DXM_BUILD_TESTS=ON -DXM_BUILD_BENCH=ON >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure --no-tests=error -j"$(nproc)"
