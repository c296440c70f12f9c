#!/usr/bin/env bash
# Run one libFuzzer harness for a bounded time on a copy of its seed corpus (docs/robustness.md).
#
#   tests/fuzz/run_fuzzer.sh FUZZER CORPUS_DIR WORK_DIR [SECONDS [DICT]]
#
# WORK_DIR is emptied, then gets corpus/ (the seeds, plus whatever the run adds), artifacts/
# (crash-*, leak-*, timeout-*, oom-* inputs) and fuzz.log.
# The source corpus is never written. Exit status: 0 when the run ends without a crash, leak,
# sanitizer report, timeout (an input taking more than XM_FUZZ_TIMEOUT seconds, 30) or OOM
# (more than 2048 MB resident); 1 otherwise, with the end of the log and how to reproduce.
# Environment: XM_FUZZ_SECONDS overrides SECONDS (default 60); XM_FUZZ_ARGS adds libFuzzer
# flags (e.g. "-jobs=2 -workers=2" or "-seed=1").
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 FUZZER CORPUS_DIR WORK_DIR [SECONDS [DICT]]" >&2
  exit 2
fi
fuzzer=$1 corpus=$2 work=$3
seconds=${XM_FUZZ_SECONDS:-${4:-60}}
dict=${5:-}
name=$(basename "$fuzzer")

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp -- "$corpus"/* "$work/corpus/"
work=$(cd "$work" && pwd)

# The harnesses write their files under $TMPDIR: a tmpfs when there is one (fuzz_csv writes two
# files per input: twice as fast as on disk), else WORK_DIR/tmp.
tmp=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  tmp=$(mktemp -d /dev/shm/xm_fuzz.XXXXXX 2>/dev/null || true)
fi
if [ -z "$tmp" ]; then tmp="$work/tmp"; mkdir -p "$tmp"; fi
trap 'rm -rf -- "$tmp"' EXIT
export TMPDIR="$tmp"
# Leaks are checked after every input (libFuzzer + LeakSanitizer); UBSan stops at the first
# report (the library is also built with -fno-sanitize-recover=all).
# fast_unwind_on_malloc=0: libfyaml has no frame pointers, so without it an allocation made
# inside libfyaml has a 2-frame stack and lsan.supp could only name the whole library; 12 frames
# are enough to name the libfyaml function and to reach our caller (re-run an artifact with
# ASAN_OPTIONS=malloc_context_size=30 for longer allocation stacks).
asan="fast_unwind_on_malloc=0:malloc_context_size=12:detect_leaks=1"
asan="$asan:check_initialization_order=1:strict_string_checks=1:detect_stack_use_after_return=1"
export ASAN_OPTIONS="$asan:${ASAN_OPTIONS:-}"
# Known leaks of libfyaml itself, one documented entry each (lsan.supp).
here=$(cd "$(dirname "$0")" && pwd)
export LSAN_OPTIONS="suppressions=$here/lsan.supp:${LSAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout="${XM_FUZZ_TIMEOUT:-30}"
      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
if [ -n "$dict" ] && [ -f "$dict" ]; then args+=(-dict="$dict"); fi
# shellcheck disable=SC2206
args+=(${XM_FUZZ_ARGS:-})

echo "$name: ${seconds}s on $(find "$work/corpus" -type f | wc -l) seeds; log $work/fuzz.log"
rc=0
"$fuzzer" "${args[@]}" "$work/corpus" </dev/null >"$work/fuzz.log" 2>&1 || rc=$?

# the last status line and the final stats
grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1 || true
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
  "$work/fuzz.log" || true
echo "$name: corpus now $(find "$work/corpus" -type f | wc -l) inputs"

found=$(ls -A "$work/artifacts")
if [ "$rc" -ne 0 ] || [ -n "$found" ] ||
   grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' \
     "$work/fuzz.log"; then
  echo "$name: FAILED (exit $rc)" >&2
  tail -n 60 "$work/fuzz.log" >&2
  for a in $found; do
    echo "$name: reproduce with: LSAN_OPTIONS=$LSAN_OPTIONS ASAN_OPTIONS=$ASAN_OPTIONS" \
         "XM_FUZZ_VERBOSE=1 $fuzzer $work/artifacts/$a" >&2
  done
  exit 1
fi
echo "$name: no crash, leak or sanitizer report"
