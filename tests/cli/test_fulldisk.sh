#!/usr/bin/env bash
# test_fulldisk.sh XMRISK MODELS_DIR DATA_DIR — every command that writes files, on a full disk
# and in directories it cannot write (docs/interface.md): exit status 1, exactly one line
# on standard error naming the file and the cause, no result file under its final name, no
# temporary file left, and a complete result already in the directory left byte for byte.
#
# Commands: run (cascades: summary.json, accounts.csv, paths.csv), run on a market-only model
# (summary.json, paths.csv), run --shard K/N (part file), run --checkpoint FILE, merge,
# calibrate (calibration.json). Disks: a small tmpfs filled up with a filler file, and a
# read-only tmpfs, both mounted in a private mount namespace (unshare -m as root, else
# unshare -Urm), so nothing is mounted outside this test. Where that is not permitted, the
# script prints "SKIP: <reason>" and exits 77 (ctest SKIP_RETURN_CODE).
#
# XM_FULLDISK_VERBOSE=1 prints how many runs of each free-space sweep failed and succeeded.
#
# A bad --out (a directory that cannot be created or written, or a path under a regular file)
# is a failure while running, exit 1, like every other I/O failure (docs/robustness.md).
set -u
xm=$(realpath "$1"); models=$(realpath "$2"); data=$(realpath "$3")

# ---- outside: find a way into a private mount namespace, then run this script inside it ----
if [ "${XM_FULLDISK_INNER:-}" != 1 ]; then
  command -v unshare >/dev/null 2>&1 || { echo "SKIP: unshare(1) not found"; exit 77; }
  command -v mount >/dev/null 2>&1 || { echo "SKIP: mount(8) not found"; exit 77; }
  probe=$(mktemp -d); why=""
  if [ "$(id -u)" = 0 ]; then tries=("unshare -m" "unshare -Urm"); else tries=("unshare -Urm"); fi
  for ns in "${tries[@]}"; do
    # shellcheck disable=SC2086
    if why=$($ns sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" && mount -o remount,ro "$1"' \
               sh "$probe" 2>&1); then
      rmdir "$probe"
      # shellcheck disable=SC2086
      XM_FULLDISK_INNER=1 exec $ns bash "$0" "$@"
    fi
  done
  rmdir "$probe"
  echo "SKIP: cannot mount a tmpfs in a private mount namespace (${tries[*]}): $why"
  exit 77
fi

# ---- inside the namespace ----
work=$(mktemp -d)
fs=$work/full; small=$work/small; ro=$work/ro
trap 'umount "$fs" "$small" "$ro" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$fs" "$small" "$ro"
mount -t tmpfs -o size=16m tmpfs "$fs" && mount -t tmpfs -o size=256k tmpfs "$small" \
  && mount -t tmpfs -o size=16m tmpfs "$ro" || { echo "FAIL: cannot mount the test file systems"; exit 1; }
pass=0; failed=0
model=$models/default.yaml
market=$data/cli/repaired.yaml        # no accounts: the market-only writer (src/report/market_report.c)
margin=$data/models/margin.yaml       # 3 accounts: small result files
P=200

ok()  { pass=$((pass + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# fails REGEX -- CMD...: exit status 1, exactly one line on standard error matching the
# extended regular expression REGEX, and nothing on standard output (no summary, no
# "results:" line claiming files that were not written).
fails() {
  local re=$1; shift 2
  local rc err
  "$@" >"$work/stdout" 2>"$work/stderr"; rc=$?; err=$(cat "$work/stderr")
  if [ "$rc" != 1 ]; then bad "$* -> exit $rc, expected 1 ($err)"; return; fi
  [ "$(wc -l < "$work/stderr")" = 1 ] && [ -n "$err" ] && ok || bad "$* -> error is not one line: $err"
  printf '%s\n' "$err" | grep -qE -- "$re" && ok || bad "$* -> /$re/ does not match: $err"
  [ -s "$work/stdout" ] && bad "$* -> printed on standard output: $(head -3 "$work/stdout")" || ok
}

# succeeds -- CMD...: exit status 0 (the disk had room).
succeeds() {
  shift
  "$@" >"$work/stdout" 2>"$work/stderr" && ok || bad "$* -> exit $?: $(cat "$work/stderr")"
}

# fill FS KB: fill the tmpfs FS up, then free KB kilobytes (whole pages) of it.
fill() {
  rm -f "$1/filler"
  dd if=/dev/zero of="$1/filler" bs=4096 2>/dev/null
  [ "$2" -gt 0 ] && truncate -s "-$2K" "$1/filler"
  return 0
}
unfill() { rm -f "$1/filler"; }

# keep DIR: a copy of DIR outside the tmpfs; unchanged DIR: DIR holds exactly the same files
# with the same bytes as the copy (no temporary file added, nothing replaced or removed).
keep() { rm -rf "$work/kept/$(basename "$1")"; mkdir -p "$work/kept"; cp -a "$1" "$work/kept/"; }
unchanged() {
  local k=$work/kept/$(basename "$1")
  [ "$(ls -A "$1")" = "$(ls -A "$k")" ] && ok || bad "$1: files changed: $(ls -A "$1" | tr '\n' ' ')"
  diff -r "$k" "$1" >/dev/null && ok || bad "$1: a previous result was modified"
}
# files DIR: what DIR holds, DIR/.xmrisk (the result sets, docs/interface.md "Result files")
# listed as "SETS[current + N sets]"; a failed first run leaves "SETS[]" at most.
files() {
  ls -A "$1" 2>/dev/null | while read -r f; do
    if [ "$f" = .xmrisk ]; then
      printf 'SETS[%s]\n' "$(ls -A "$1/.xmrisk" | sed 's/^[0-9]\{8\}T[0-9]\{6\}Z-[0-9a-f]\{12\}$/set/' | sort | tr '\n' ' ')"
    else echo "$f"; fi
  done
}
# empty DIR: DIR does not exist or holds nothing (no result, no temporary file) but an empty
# .xmrisk (the result sets' directory, kept once made: it is also their lock).
empty() {
  local l; l=$(files "$1" | grep -vx 'SETS\[\]')
  [ -z "$l" ] && ok || bad "$1 should be empty: $(echo $l)"
}

# A result file without its timing fields (elapsed_s, paths_per_s: JSON only) and run id.
strip() { sed -E 's/"(elapsed_s|paths_per_s|run_id)": [^,}]*//g' "$1"; }
# same A B: the result files of A and B are equal, timing aside.
same() {
  local f
  cmp -s <(strip "$1/summary.json") <(strip "$2/summary.json") && ok || bad "$1 vs $2: summary.json differs"
  for f in accounts.csv paths.csv; do cmp -s "$1/$f" "$2/$f" && ok || bad "$1 vs $2: $f differs"; done
}

ENOSPC="No space left on device"
cal=(calibrate "$model" --asset BTC --target-p-liq 0.01 --paths 500)

# ---- inputs and references, on the ordinary disk ----
"$xm" run "$model" --paths "$P" --shard 0/2 --out "$work/parts" --quiet || bad "shard 0/2"
"$xm" run "$model" --paths "$P" --shard 1/2 --out "$work/parts" --quiet || bad "shard 1/2"
"$xm" run "$margin" --paths "$P" --shard 0/2 --out "$work/mparts" --quiet || bad "margin shard 0/2"
"$xm" run "$margin" --paths "$P" --shard 1/2 --out "$work/mparts" --quiet || bad "margin shard 1/2"
"$xm" run "$model" --paths 40 --out "$work/ref40" --quiet || bad "40-path reference run"
"$xm" run "$model" --paths 40 --shard 0/4 --out "$work/ref40" --quiet || bad "10-path part"
parts=("$work/parts/part-0-of-2.xmp" "$work/parts/part-1-of-2.xmp")
mparts=("$work/mparts/part-0-of-2.xmp" "$work/mparts/part-1-of-2.xmp")

# ==== 1. a full disk ====
# A complete result of every command first, while the disk has room.
succeeds -- "$xm" run "$model" --paths "$P" --out "$fs/run" --quiet
succeeds -- "$xm" run "$market" --paths "$P" --out "$fs/market" --quiet
succeeds -- "$xm" run "$model" --paths "$P" --shard 0/2 --out "$fs/shard" --quiet
succeeds -- "$xm" merge "${parts[@]}" --out "$fs/merged" --quiet
succeeds -- "$xm" "${cal[@]}" --out "$fs/cal" --quiet
for d in run market shard merged cal; do keep "$fs/$d"; done
[ -s "$fs/cal/calibration.json" ] && [ -s "$fs/shard/part-0-of-2.xmp" ] && ok || bad "the first results are missing"

# Then the disk full but for 8 KB, and every command again, into the same directory (the old
# result must survive) and into a new one (nothing may appear).
fill "$fs" 8
for where in run new-run; do
  fails "^xmrisk: $fs/$where/(summary\.json|accounts\.csv|paths\.csv): write failed: $ENOSPC\$" -- \
    "$xm" run "$model" --paths "$P" --out "$fs/$where"
done
unchanged "$fs/run"; empty "$fs/new-run"
for where in market new-market; do
  fails "^xmrisk: $fs/$where/(summary\.json|paths\.csv): write failed: $ENOSPC\$" -- \
    "$xm" run "$market" --paths "$P" --out "$fs/$where"
done
unchanged "$fs/market"; empty "$fs/new-market"
for where in shard new-shard; do
  fails "^xmrisk: $fs/$where/part-0-of-2\.xmp: write failed: $ENOSPC\$" -- \
    "$xm" run "$model" --paths "$P" --shard 0/2 --out "$fs/$where"
done
unchanged "$fs/shard"; empty "$fs/new-shard"
for where in merged new-merged; do
  fails "^xmrisk: $fs/$where/(summary\.json|accounts\.csv|paths\.csv): write failed: $ENOSPC\$" -- \
    "$xm" merge "${parts[@]}" --out "$fs/$where"
done
unchanged "$fs/merged"; empty "$fs/new-merged"
for where in cal new-cal; do
  fails "^xmrisk: $fs/$where/calibration\.json: write failed: $ENOSPC\$" -- \
    "$xm" "${cal[@]}" --out "$fs/$where"
done
unchanged "$fs/cal"; empty "$fs/new-cal"
[ "$(ls -A "$fs" | tr '\n' ' ')" = "cal filler market merged new-cal new-market new-merged new-run new-shard run shard " ] \
  && ok || bad "unexpected files in $fs: $(ls -A "$fs" | tr '\n' ' ')"
unfill "$fs"

# ---- checkpoints: a disk with room for one checkpoint of 10 paths but not for two ----
# The first save (10 of 40 paths) fits; the second (20) needs a second file beside it while it
# is written aside, and fails: exit 1 naming the checkpoint, the first save left whole.
ck=$fs/ck/ck.xmp; ckout=$work/ckout
c10=$(stat -c %s "$work/ref40/part-0-of-4.xmp")   # a part of 10 paths: the size of that save
mkdir -p "$fs/ck"
fill "$fs" $(( c10 / 1024 + 64 ))
fails "^xmrisk: $ck: write failed: $ENOSPC\$" -- \
  "$xm" run "$model" --paths 40 --checkpoint "$ck" --checkpoint-every 10 --out "$ckout"
[ "$(ls -A "$fs/ck")" = ck.xmp ] && ok || bad "after a failed save, $fs/ck holds: $(ls -A "$fs/ck" | tr '\n' ' ')"
[ -e "$ckout" ] && bad "a run that failed to checkpoint wrote $ckout" || ok
keep "$fs/ck"
# Resumed on the same full disk: the next save fails again and the checkpoint is not touched.
fails "^xmrisk: $ck: write failed: $ENOSPC\$" -- \
  "$xm" run "$model" --paths 40 --checkpoint "$ck" --checkpoint-every 10 --out "$ckout"
unchanged "$fs/ck"
[ -e "$ckout" ] && bad "a run that failed to checkpoint wrote $ckout" || ok
# With room again it resumes from the 10 paths saved, and ends with the uninterrupted results.
unfill "$fs"
succeeds -- "$xm" run "$model" --paths 40 --checkpoint "$ck" --checkpoint-every 10 --out "$ckout"
grep -q "resumed from $ck: 10 of 40 paths were done" "$work/stderr" && ok \
  || bad "resume after a full disk: $(cat "$work/stderr")"
same "$work/ref40" "$ckout"
empty "$fs/ck"

# ---- every amount of free space, page by page: all the files or none ----
# Small results on a 256 KB tmpfs, from no free page up to enough: each run either succeeds
# with the whole result (equal to the reference) or fails with exit 1, one line, an empty
# directory. (Writers that published one file before the next was safely on disk fail this:
# the market-only writer did, src/report/market_report.c.)
"$xm" run "$margin" --paths "$P" --out "$work/ref-margin" --quiet || bad "margin reference"
"$xm" run "$market" --paths "$P" --out "$work/ref-market" --quiet || bad "market reference"
"$xm" "${cal[@]}" --out "$work/ref-cal" --quiet || bad "calibrate reference"
"$xm" run "$margin" --paths "$P" --shard 0/2 --out "$work/ref-mshard" --quiet || bad "shard reference"
# sweep NAME REFDIR MAXKB -- CMD... (CMD writes to $small/NAME)
sweep() {
  local name=$1 ref=$2 max=$3; shift 4
  local kb f out=$small/$name fails_seen=0 wins=0 rc
  for kb in $(seq 0 4 "$max"); do
    fill "$small" "$kb"
    "$@" >/dev/null 2>"$work/stderr"; rc=$?
    if [ "$rc" = 0 ]; then
      wins=$((wins + 1))
      for f in $(ls "$ref"); do
        case $f in
          *.json) cmp -s <(strip "$ref/$f") <(strip "$out/$f") ;;
          *.xmp) [ "$(stat -c %s "$ref/$f")" = "$(stat -c %s "$out/$f" 2>/dev/null)" ] ;;  # timing inside
          *) cmp -s "$ref/$f" "$out/$f" ;;
        esac || bad "$name with $kb KB free: exit 0 but $f differs from the reference"
      done
      [ "$(files "$out")" = "$(files "$ref")" ] || bad "$name with $kb KB free: files $(files "$out" | tr '\n' ' ')"
    elif [ "$rc" = 1 ] && [ "$(wc -l < "$work/stderr")" = 1 ] && grep -q "$ENOSPC" "$work/stderr"; then
      fails_seen=$((fails_seen + 1))
      [ -z "$(files "$out" | grep -vx 'SETS\[\]')" ] \
        || bad "$name with $kb KB free: failed but left $(files "$out" | tr '\n' ' ')"
    else
      bad "$name with $kb KB free: exit $rc: $(cat "$work/stderr")"
    fi
    rm -rf "$out"
  done
  unfill "$small"
  [ -n "${XM_FULLDISK_VERBOSE:-}" ] && echo "sweep $name: $fails_seen failures, $wins successes"
  [ "$fails_seen" -gt 0 ] && [ "$wins" -gt 0 ] && ok \
    || bad "$name: the sweep should see failures and successes ($fails_seen, $wins)"
}
sweep run-margin "$work/ref-margin" 52 -- "$xm" run "$margin" --paths "$P" --out "$small/run-margin" --quiet
sweep run-market "$work/ref-market" 40 -- "$xm" run "$market" --paths "$P" --out "$small/run-market" --quiet
sweep shard-margin "$work/ref-mshard" 40 -- "$xm" run "$margin" --paths "$P" --shard 0/2 --out "$small/shard-margin" --quiet
sweep merge-margin "$work/ref-margin" 52 -- "$xm" merge "${mparts[@]}" --out "$small/merge-margin" --quiet
sweep calibrate "$work/ref-cal" 20 -- "$xm" "${cal[@]}" --out "$small/calibrate" --quiet

# ==== 2. directories that cannot be written ====
# A complete result of every command on a tmpfs that is then remounted read-only.
succeeds -- "$xm" run "$model" --paths "$P" --out "$ro/run" --quiet
succeeds -- "$xm" run "$market" --paths "$P" --out "$ro/market" --quiet
succeeds -- "$xm" run "$model" --paths "$P" --shard 0/2 --out "$ro/shard" --quiet
succeeds -- "$xm" merge "${parts[@]}" --out "$ro/merged" --quiet
succeeds -- "$xm" "${cal[@]}" --out "$ro/cal" --quiet
mkdir -p "$ro/ck"
for d in run market shard merged cal ck; do keep "$ro/$d"; done
mount -o remount,ro "$ro" || bad "remount read-only"
touch "$ro/probe" 2>/dev/null && bad "$ro is writable after remount,ro" || ok
EROFS="Read-only file system"
fails "^xmrisk: $ro/run: cannot write: $EROFS\$" -- "$xm" run "$model" --paths "$P" --out "$ro/run"
fails "^xmrisk: $ro/market: cannot write: $EROFS\$" -- "$xm" run "$market" --paths "$P" --out "$ro/market"
fails "^xmrisk: $ro/shard: cannot write: $EROFS\$" -- \
  "$xm" run "$model" --paths "$P" --shard 0/2 --out "$ro/shard"
fails "^xmrisk: $ro/merged: cannot write: $EROFS\$" -- "$xm" merge "${parts[@]}" --out "$ro/merged"
fails "^xmrisk: $ro/cal: cannot write: $EROFS\$" -- "$xm" "${cal[@]}" --out "$ro/cal"
# the checkpoint is tried before any work
fails "^xmrisk: cannot write the checkpoint: $ro/ck/ck\.xmp: cannot write: $EROFS\$" -- \
  "$xm" run "$model" --paths "$P" --checkpoint "$ro/ck/ck.xmp" --out "$work/never"
for d in run market shard merged cal ck; do unchanged "$ro/$d"; done
# a new directory on the read-only disk
fails "^xmrisk: $ro/new: cannot create directory: $EROFS\$" -- "$xm" run "$model" --paths "$P" --out "$ro/new/sub"
fails "^xmrisk: $ro/new: cannot create directory: $EROFS\$" -- "$xm" run "$market" --paths "$P" --out "$ro/new"
fails "^xmrisk: $ro/new: cannot create directory: $EROFS\$" -- "$xm" run "$model" --paths "$P" --shard 1/2 --out "$ro/new"
fails "^xmrisk: $ro/new: cannot create directory: $EROFS\$" -- "$xm" merge "${parts[@]}" --out "$ro/new"
fails "^xmrisk: $ro/new: cannot create directory: $EROFS\$" -- "$xm" "${cal[@]}" --out "$ro/new"
fails "^xmrisk: cannot write the checkpoint: $ro/new: cannot create directory: $EROFS\$" -- \
  "$xm" run "$model" --paths "$P" --checkpoint "$ro/new/ck.xmp" --out "$work/never"
[ -e "$ro/new" ] && bad "$ro/new was created" || ok
[ -e "$work/never" ] && bad "a failed run wrote $work/never" || ok

# --out under a regular file (ENOTDIR), and --out a regular file itself.
touch "$work/afile"
fails "^xmrisk: $work/afile/sub: cannot create directory: Not a directory\$" -- \
  "$xm" run "$model" --paths "$P" --out "$work/afile/sub"
fails "^xmrisk: $work/afile/sub: cannot create directory: Not a directory\$" -- \
  "$xm" run "$market" --paths "$P" --out "$work/afile/sub"
fails "^xmrisk: $work/afile/sub: cannot create directory: Not a directory\$" -- \
  "$xm" run "$model" --paths "$P" --shard 0/2 --out "$work/afile/sub"
fails "^xmrisk: $work/afile/sub: cannot create directory: Not a directory\$" -- \
  "$xm" merge "${parts[@]}" --out "$work/afile/sub"
fails "^xmrisk: $work/afile/sub: cannot create directory: Not a directory\$" -- \
  "$xm" "${cal[@]}" --out "$work/afile/sub"
fails "^xmrisk: cannot write the checkpoint: $work/afile: not a directory\$" -- \
  "$xm" run "$model" --paths "$P" --checkpoint "$work/afile/ck.xmp" --out "$work/never"
fails "^xmrisk: $work/afile: not a directory\$" -- "$xm" run "$model" --paths "$P" --out "$work/afile"
fails "^xmrisk: $work/afile: not a directory\$" -- "$xm" "${cal[@]}" --out "$work/afile"
[ -s "$work/afile" ] && bad "$work/afile was written" || ok
[ -e "$work/never" ] && bad "a failed run wrote $work/never" || ok

echo "test_fulldisk: $pass passed, $failed failed"
[ "$failed" = 0 ]
