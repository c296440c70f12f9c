#!/usr/bin/env bash
# Install, from Debian packages, whatever xmrisk needs to build, test, benchmark and run its
# notebooks, and nothing that is already there. Run as root (or with sudo available).
#   scripts/setup-deps.sh            build + test dependencies
#   XM_DEPS_MINIMAL=1 scripts/...    build dependencies only (no python, no pcg reference, no MPI:
#                                    the build uses Open MPI when it is there, docs/hpc.md)
set -euo pipefail

build_pkgs="gcc g++ make cmake pkg-config libgsl-dev libcmocka-dev libfyaml-dev"
test_pkgs="libpcg-cpp-dev python3 python3-numpy python3-yaml python3-pandas python3-matplotlib python3-nbconvert python3-ipykernel clang libclang-rt-14-dev libomp-dev valgrind strace libopenmpi-dev openmpi-bin"

want="$build_pkgs"
if [ "${XM_DEPS_MINIMAL:-0}" != 1 ]; then want="$want $test_pkgs"; fi

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "setup-deps: all dependencies present"
  exit 0
fi

echo "setup-deps: installing:$missing"
sudo_cmd=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd="sudo"; else
    echo "setup-deps: need root to install:$missing" >&2; exit 1; fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
# shellcheck disable=SC2086
$sudo_cmd apt-get install -y -qq --no-install-recommends $missing
