#!/usr/bin/env bash
# test_bounds.sh XMRISK DATA_DIR — the inputs of issue 14 point 4 (docs/model.md §7.1):
# beyond the bounds a located model error (exit 2, one line); at the bounds a run whose results
# are all finite (no NaN, no infinity, no empty paths.csv field; in Debug builds margin.c's
# ledger check runs at every settlement).
set -u
xm=$1; data=$2
. "$(dirname "$0")/../lib.sh"
m=$data/cli/at_bounds.yaml

# model_error NAME SED NEEDLE: the at-bounds model edited by SED is refused with NEEDLE.
model_error() {
  sed "$2" "$m" > "$work/$1.yaml"
  expect 2 "$1.yaml:$3" -- "$xm" check "$work/$1.yaml"
  expect 2 "$1.yaml:$3" -- "$xm" run "$work/$1.yaml" --paths 2 --out "$work/never"
}
model_error depth 's/depth_1pct_usd: 1000}/depth_1pct_usd: 1e-3}/' \
  "15:42: market.impact.BTC.depth_1pct_usd: expected a number in [1000, 1e+15], got 1e-3"
model_error volume 's/{model: linear, depth_1pct_usd: 1000}/{model: sqrt, daily_volume_usd: 1e-6}/' \
  "15:42: market.impact.BTC.daily_volume_usd: expected a number in [1000, 1e+15], got 1e-6"
model_error beta 's/jump_beta: 2}/jump_beta: 100}/' \
  "13:57: market.assets[0].jump_beta: expected |jump_beta| x (|market.jumps.mean| + market.jumps.stdev) <= 20 (one jump moves ln S by at most that), got 100 x (10 + 0) = 1000"
model_error fund 's/insurance_fund_usd: 1.0e15/insurance_fund_usd: 1e308/' \
  "17:23: venue.insurance_fund_usd: expected a number in [0, 1e+15], got 1e308"
[ -e "$work/never" ] && bad "a refused model wrote $work/never" || ok

# finite OUT: summary.json holds no NaN/Infinity and null only for an account never liquidated
# (mean_first_step); paths.csv has no empty field and no nan/inf text.
finite() {
  local out=$1
  if grep -v '"mean_first_step": null' "$out/summary.json" | grep -qiE 'null|nan|inf[^o]'; then
    bad "$out/summary.json has a non-finite value: $(grep -iE 'null|nan|inf[^o]' "$out/summary.json" | head -3)"
  else ok; fi
  if grep -qiE ',,|,$|nan|inf' "$out/paths.csv"; then bad "$out/paths.csv has a non-finite field"
  else ok; fi
}
expect 0 "" -- "$xm" run "$m" --out "$work/linear" --quiet
finite "$work/linear"
sed 's/{model: linear, depth_1pct_usd: 1000}/{model: sqrt, daily_volume_usd: 1000, y: 10}/' "$m" \
  > "$work/sqrt.yaml"
expect 0 "" -- "$xm" run "$work/sqrt.yaml" --out "$work/sqrt" --quiet
finite "$work/sqrt"
# the marks hit the floor (a long of 9e9 BTC sold into a $1,000 book): counted, not broken
awk -F, 'NR > 1 && $15 == 0 { z++ } END { exit z > 0 }' "$work/linear/paths.csv" && ok ||
  bad "expected price_floor_hits > 0 on every path of $work/linear/paths.csv"

echo "$pass passed, $failed failed"; [ "$failed" = 0 ]
