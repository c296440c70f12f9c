#!/usr/bin/env bash
# The README's first command: install what is missing (Debian packages), build, and run the
# main job on the bundled default model. Extra arguments go to `xmrisk run`.
set -euo pipefail
cd "$(dirname "$0")/.."
XM_DEPS_MINIMAL=1 scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DXM_BUILD_TESTS=OFF -DXM_BUILD_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec build/xmrisk run models/default.yaml "$@"
