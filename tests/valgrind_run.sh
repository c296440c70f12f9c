#!/usr/bin/env bash
# Small xmrisk runs under valgrind memcheck: no invalid access, no use of uninitialised values,
# no leak (docs/robustness.md).
#
#   tests/valgrind_run.sh             build build-valgrind (Debug, gcc, no sanitizer) and run
#   XM_VALGRIND_BUILD_DIR=dir ...     another build directory (must not use a sanitizer)
#
# Every command runs as
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible
#            --suppressions=tests/valgrind.supp xmrisk ...
# and must end with its expected exit status (0; 2 when the model cannot be loaded, unreadable
# CSV included, as tests/cli/test_cli.sh expects; 1 when interrupted) and
# "ERROR SUMMARY: 0 errors". The error exit code is 99 rather than 1 because 1 is also xmrisk's
# own "failure while running" status. tests/valgrind.supp holds one documented suppression
# (libgomp's pool threads, only with --threads >= 2).
#
# Exit status: 0 when every command is clean, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${XM_VALGRIND_BUILD_DIR:-build-valgrind}
if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind_run: valgrind is required (apt-get install valgrind)" >&2
  exit 1
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DXM_SANITIZE= -DXM_BUILD_TESTS=OFF \
      -DXM_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" --target xmrisk_cli >/dev/null
exe="$dir/xmrisk"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xm_valgrind.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
vg=(valgrind --error-exitcode=99 --leak-check=full "--errors-for-leak-kinds=definite,possible"
    --suppressions=tests/valgrind.supp --num-callers=30)
status=0

# NAME EXPECTED_EXIT ARGS...: one xmrisk command under memcheck.
check() {
  local name=$1 want=$2 rc=0
  shift 2
  "${vg[@]}" --log-file="$tmp/$name.vg" "$exe" "$@" >"$tmp/$name.out" 2>&1 || rc=$?
  verdict "$name" "$want" "$rc"
}

verdict() {
  local name=$1 want=$2 rc=$3
  if [ "$rc" -eq "$want" ] && grep -q "ERROR SUMMARY: 0 errors" "$tmp/$name.vg"; then
    echo "valgrind_run: $name: clean (exit $rc)"
  else
    echo "valgrind_run: $name: FAILED (exit $rc, expected $want)" >&2
    cat "$tmp/$name.out" >&2
    grep -v '^==[0-9]*== *$' "$tmp/$name.vg" | tail -n 60 >&2
    status=1
  fi
}

# Inputs for the error paths.
mkdir -p "$tmp/in"
cat >"$tmp/in/bad_csv.yaml" <<'EOF'
horizon_days: 1
steps: 4
market:
  process: gbm
  assets:
    - {symbol: BTC, price: 91234.56, vol: 0.57}
venue:
  insurance_fund_usd: 1.0e6
  tiers:
    BTC: [{cap_usd: 1.0e6, mmr: 0.005, max_leverage: 100}]
accounts:
  - {id: a, wallet_usd: 1000, positions: [{asset: BTC, qty: 0.1, entry: 90000}]}
accounts_csv: {accounts: accounts.csv, positions: positions.csv}
EOF
printf 'id,mode,wallet_usd\nb,cross,100\nc,isolated,\n' >"$tmp/in/accounts.csv"
printf 'account_id,asset,qty,entry,margin_usd\nb,BTC,0.01,90000,\nc,BTC,-0.01,90000,\n' \
  >"$tmp/in/positions.csv"   # c is isolated: margin_usd missing -> model error
sed 's/accounts: accounts\.csv/accounts: missing.csv/' "$tmp/in/bad_csv.yaml" >"$tmp/in/missing_csv.yaml"

# Simulations: cascades (full and partial liquidation, CSV accounts, a population), the market
# alone, two threads once.
check run-cross-vs-isolated 0 run models/cross-vs-isolated.yaml --paths 20 --threads 1 \
  --out "$tmp/o1" --quiet
check run-with-csv 0 run tests/data/models/with_csv.yaml --paths 20 --threads 1 \
  --out "$tmp/o2" --quiet
check run-partial 0 run tests/data/models/margin.yaml --paths 20 --threads 1 --out "$tmp/o3" --quiet
check run-market-only 0 run tests/data/cli/repaired.yaml --paths 20 --threads 1 \
  --out "$tmp/o4" --quiet
check run-default 0 run models/default.yaml --paths 2 --threads 1 --out "$tmp/o5" --quiet
check run-two-threads 0 run models/cross-vs-isolated.yaml --paths 20 --threads 2 \
  --out "$tmp/o6" --quiet
# Shards, merge, checkpoints (docs/hpc.md), and a refused merge.
check run-shard-0 0 run models/cross-vs-isolated.yaml --paths 20 --threads 1 --shard 0/2 \
  --out "$tmp/o9" --quiet
check run-shard-1 0 run models/cross-vs-isolated.yaml --paths 20 --threads 2 --shard 1/2 \
  --out "$tmp/o9" --quiet --checkpoint "$tmp/ck.xmp" --checkpoint-every 3
check merge 0 merge "$tmp/o9/part-1-of-2.xmp" "$tmp/o9/part-0-of-2.xmp" --out "$tmp/o10" --quiet
check merge-missing 2 merge "$tmp/o9/part-1-of-2.xmp" --out "$tmp/o11"
# Binned statistics (--stats binned): two threads, shards (one checkpointed) and their merge.
check run-binned 0 run models/cross-vs-isolated.yaml --paths 20 --threads 2 --stats binned \
  --out "$tmp/o12" --quiet
check run-binned-shard-0 0 run models/cross-vs-isolated.yaml --paths 20 --threads 1 --stats binned \
  --shard 0/2 --out "$tmp/o13" --quiet --checkpoint "$tmp/ckb.xmp" --checkpoint-every 3
check run-binned-shard-1 0 run models/cross-vs-isolated.yaml --paths 20 --threads 1 --stats binned \
  --shard 1/2 --out "$tmp/o13" --quiet
check merge-binned 0 merge "$tmp/o13/part-1-of-2.xmp" "$tmp/o13/part-0-of-2.xmp" --out "$tmp/o14" --quiet
# The other commands, and the error paths (model errors exit 2 after freeing everything).
check check-with-csv 0 check tests/data/models/with_csv.yaml
check liqprice-with-csv 0 liqprice tests/data/models/with_csv.yaml
check check-bad-vol 2 check tests/data/cli/bad_vol.yaml
check check-not-pd 2 check tests/data/cli/not_pd.yaml
check check-bad-csv 2 check "$tmp/in/bad_csv.yaml"
check run-missing-csv 2 run "$tmp/in/missing_csv.yaml" --paths 2 --threads 1 --out "$tmp/o7"
# Interrupted run: SIGINT while simulating -> "nothing written", exit 1, everything freed.
rc=0
"${vg[@]}" --log-file="$tmp/run-interrupted.vg" "$exe" run models/cross-vs-isolated.yaml \
  --paths 1000000 --threads 1 --out "$tmp/o8" --quiet >"$tmp/run-interrupted.out" 2>&1 &
pid=$!
sleep 6
kill -INT "$pid" 2>/dev/null || true
wait "$pid" || rc=$?
if ! grep -q "interrupted after" "$tmp/run-interrupted.out"; then
  echo "valgrind_run: run-interrupted: the run was not interrupted while simulating" >&2
fi
verdict run-interrupted 1 "$rc"
exit $status
