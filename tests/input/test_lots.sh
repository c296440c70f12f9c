#!/usr/bin/env bash
# test_lots.sh XMRISK — rows of one cross account, asset and side are one position
# (include/xmrisk/accounts.h, Lots; docs/margin.md): a book given as 11 rows and as one row
# gives the same liqprice table and the same run results; a unit already liquidatable at the
# start prices gets its mark as liq_price, with a warning (docs/margin.md).
set -u

xm=$(realpath "$1")
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad, expect, strip

# model FILE POSITIONS_OF_WHALE POSITIONS_OF_FILLS: the same model but for how the two
# accounts' positions are written. Tiers: issue 14's two-tier table (0.5% to $1M, 5% above).
model() {
  cat > "$1" <<YAML
name: lots
seed: 11
horizon_days: 1
steps: 24
market:
  process: gbm
  assets:
    - {symbol: BTC, price: 100000, vol: 0.9}
    - {symbol: ETH, price: 3000, vol: 1.1}
  correlation: [[1, 0.8], [0.8, 1]]
venue:
  insurance_fund_usd: 1.0e5
  tiers:
    BTC:
      - {cap_usd: 1.0e6, mmr: 0.005, max_leverage: 100}
      - {cap_usd: 1.0e9, mmr: 0.05, max_leverage: 10}
    ETH:
      - {cap_usd: 1.0e7, mmr: 0.01, max_leverage: 50}
accounts:
  - id: whale
    wallet_usd: 600000
    positions:
$2
  - id: fills
    wallet_usd: 2000
    positions:
$3
  - id: underwater
    wallet_usd: 100
    positions:
      - {asset: BTC, qty: 1, entry: 110000}
YAML
}
rows=""
for k in 1 2 3 4 5 6 7 8 9 10; do rows+="      - {asset: BTC, qty: 9, entry: 100000}"$'\n'; done
rows+="      - {asset: BTC, qty: 10, entry: 100000}"
fills="      - {asset: ETH, qty: -3.7, entry: 3012.34}
      - {asset: ETH, qty: -11.3, entry: 2987.65}
      - {asset: ETH, qty: -0.45, entry: 3101.5}"
# the one-row equivalent: summed qty, quantity-weighted entry (printed to 17 digits)
mean=$(python3 -c 'print("%.17g" % ((3.7*3012.34 + 11.3*2987.65 + 0.45*3101.5) / 15.45))')
model "$work/rows.yaml" "$rows" "$fills"
model "$work/one.yaml" "      - {asset: BTC, qty: 100, entry: 100000}" \
      "      - {asset: ETH, qty: -15.45, entry: $mean}"

# liqprice: one row per position; the whale at a.1's price (9,355,000 / 95 = 98,473.68, not the
# 94,472.36 of rows tiered one by one), the underwater account at its mark, with a warning.
"$xm" liqprice "$work/rows.yaml" >"$work/rows.csv" 2>"$work/rows.err" || bad "liqprice rows"
"$xm" liqprice "$work/one.yaml" >"$work/one.csv" 2>"$work/one.err" || bad "liqprice one"
[ "$(wc -l < "$work/rows.csv")" = 4 ] && ok || bad "liqprice rows: expected 3 rows: $(cat "$work/rows.csv")"
grep -q '^whale,BTC,100,100000,100000,98473.68421052' "$work/rows.csv" && ok \
  || bad "whale row: $(grep whale "$work/rows.csv")"
grep -q '^underwater,BTC,1,110000,100000,100000$' "$work/rows.csv" && ok \
  || bad "underwater row: $(grep underwater "$work/rows.csv")"
grep -q "account underwater is liquidatable at the start prices (equity -9900.00 <= maintenance 500.00): its liq_price is the mark" \
  "$work/rows.err" && ok || bad "no warning for underwater: $(cat "$work/rows.err")"
grep -q "note: 12 position rows folded" "$work/rows.err" && ok || bad "no fold note: $(cat "$work/rows.err")"
grep -q "folded" "$work/one.err" && bad "fold note without folding" || ok
expect 0 "3 positions (12 more rows folded into same-side positions)" -- "$xm" check "$work/rows.yaml"

# close: every number of A and B equal to a relative 1e-9 (the weighted entry of `fills` is the
# decimal mean in one.yaml, the folded double in rows.yaml: they differ by a few ulps)
close() {
  python3 - "$1" "$2" <<'PY'
import re, sys
num = re.compile(r'-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')
a, b = (open(p).read() for p in sys.argv[1:3])
ta, tb = num.split(a), num.split(b)
na, nb = num.findall(a), num.findall(b)
ok = ta == tb and len(na) == len(nb) and all(
    abs(float(x) - float(y)) <= 1e-9 * max(abs(float(x)), abs(float(y))) for x, y in zip(na, nb))
sys.exit(0 if ok else 1)
PY
}
close "$work/rows.csv" "$work/one.csv" && ok || bad "liqprice differs: $(diff "$work/rows.csv" "$work/one.csv")"

# run both ways: the same results to 1e-9 (timing fields left out)
for v in rows one; do
  "$xm" run "$work/$v.yaml" --paths 400 --threads 1 --quiet --out "$work/run-$v" || bad "run $v"
  grep -v -e '"elapsed_s"' -e '"paths_per_s"' -e '"threads"' -e '"run_id"' \
    "$work/run-$v/summary.json" > "$work/run-$v/summary.cmp"
done
for f in summary.cmp accounts.csv paths.csv; do
  close "$work/run-rows/$f" "$work/run-one/$f" && ok || bad "run: $f differs"
done
for id in whale fills; do  # both liquidated on some paths, neither on all: not a vacuous test
  grep -q "\"id\": \"$id\", \"p_liq\": 0\.[0-9]" "$work/run-rows/summary.cmp" && ok \
    || bad "p_liq of $id: $(grep "\"$id\"" "$work/run-rows/summary.cmp")"
done

# the fold is checked against the tier cap: 9 rows of 110 BTC are each within $1e9 but not
# together; the error names the row that pushes it over (line and column)
big=""
for k in 1 2 3 4 5 6 7 8 9 10; do big+="      - {asset: BTC, qty: 1100, entry: 100000}"$'\n'; done
model "$work/big.yaml" "$big" "$fills"
expect 2 "big.yaml:32:9: accounts[0].positions[9]: expected |qty| * entry <= 1000000000 USD" \
  -- "$xm" check "$work/big.yaml"

echo "$pass passed, $failed failed"; [ "$failed" = 0 ]
