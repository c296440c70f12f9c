#!/usr/bin/env bash
# ADL scaling (issue 14): wall seconds of one path, one step, a 24% drop of every price, on a
# seeded population of N accounts, with the insurance fund at 0 (every deficit goes to ADL)
# and at 1e12 (no ADL), then the 30k cross accounts, Bybit ranking, $100k fund, 50 paths case.
# The drop: gbm, vol 1e-6, drift -50.085 a year over one 2-day step: ln S moves by
# -50.085 * 2/365 = -0.2744 = ln 0.76 (docs/model.md §2), the same on every path.
# Usage: bench/run-adl.sh [XMRISK] [OLD_XMRISK]   (default build/xmrisk; OLD_XMRISK adds a
# column for a second binary, e.g. the engine before the ADL index). Knobs: SIZES
# ("10000 20000 40000 80000"; add 1000000 for the million), CROSS_PATHS (50), OLD_MAX
# (100000: larger populations are not run on OLD_XMRISK, quadratic there: hours at 1M).
set -euo pipefail
new=${1:-build/xmrisk}
old=${2:-}
sizes=${SIZES:-10000 20000 40000 80000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# model NAME ACCOUNTS FUND RANKING ISOLATED_SHARE
model() {
    cat > "$tmp/$1.yaml" <<EOF
name: $1
seed: 20261125
paths: 1
horizon_days: 2.0
steps: 1
market:
  process: gbm
  assets:
    - {symbol: BTC, price: 90000, vol: 0.000001, drift: -50.085}
    - {symbol: ETH, price: 3000, vol: 0.000001, drift: -50.085}
  correlation: [[1.0, 0.0], [0.0, 1.0]]
  impact:
    BTC: {model: sqrt, daily_volume_usd: 2.0e10, y: 0.8, half_life_minutes: 30}
    ETH: {model: sqrt, daily_volume_usd: 1.0e10, y: 0.8, half_life_minutes: 30}
venue:
  insurance_fund_usd: $3
  liquidation: {mode: full, fee_rate: 0.0125, max_rounds: 50}
  adl: {ranking: $4}
  tiers:
    BTC:
      - {cap_usd: 5.0e4,  mmr: 0.004,  max_leverage: 125}
      - {cap_usd: 6.0e5,  mmr: 0.005,  max_leverage: 100}
      - {cap_usd: 3.0e6,  mmr: 0.0065, max_leverage: 75}
      - {cap_usd: 1.0e12, mmr: 0.01,   max_leverage: 50}
    ETH:
      - {cap_usd: 5.0e4,  mmr: 0.0075, max_leverage: 100}
      - {cap_usd: 1.0e12, mmr: 0.01,   max_leverage: 75}
population:
  accounts: $2
  isolated_share: $5
  assets_per_account: {min: 1, max: 2}
  asset_weights: {BTC: 0.6, ETH: 0.4}
  leverage: {median: 5, sigma: 0.7, min: 1, max: 100}
  notional_usd: {median: 5000, sigma: 1.6, min: 10, max: 5.0e7}
  long_share: 0.6
  hedged_share: 0.05
EOF
    "$new" check "$tmp/$1.yaml" > /dev/null
}

# seconds BINARY NAME PATHS: wall time of the run
seconds() {
    local t0 t1
    t0=$(date +%s.%N)
    "$1" run "$tmp/$2.yaml" --paths "$3" --quiet --out "$tmp/out-$2" > /dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

row() {  # row LABEL NAME PATHS ACCOUNTS
    local line="$1 | $(seconds "$new" "$2" "$3")"
    if [[ -n $old && $4 -le ${OLD_MAX:-100000} ]]; then
        line="$line | $(seconds "$old" "$2" "$3")"
    elif [[ -n $old ]]; then
        line="$line | not run"
    fi
    echo "$line"
}

echo "machine: $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "case | new s${old:+ | old s}"
for n in $sizes; do
    for fund in 0 1e12; do
        model "adl-$n-$fund" "$n" "$fund" binance 0.2
        row "$n accounts, binance, fund $fund, 1 path" "adl-$n-$fund" 1 "$n"
    done
done
model cross-bybit 30000 1e5 bybit 0.0
row "30000 cross, bybit, fund 1e5, ${CROSS_PATHS:-50} paths" cross-bybit "${CROSS_PATHS:-50}" 30000
model cross-bybit-big 30000 1e12 bybit 0.0
row "30000 cross, bybit, fund 1e12, ${CROSS_PATHS:-50} paths" cross-bybit-big "${CROSS_PATHS:-50}" 30000
