#!/usr/bin/env bash
# test_calibrate_cli.sh XMRISK MODELS_DIR — `xmrisk calibrate` as users meet it: every bad
# request exits 2 with one line naming the flag and what was expected, and writes nothing;
# the three kinds of question write calibration.json with the documented keys
# (docs/calibrate.md); the answer does not depend on the thread count.
set -u
xm=$(realpath "$1"); models=$(realpath "$2")
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad, expect, strip
PY=/usr/bin/python3

def=$models/default.yaml
cal() { "$xm" calibrate "$@"; }
o="--out $work/never --paths 200"

# ---- bad requests: exit 2, one line, nothing written ----
expect 2 "a MODEL file is required" -- cal
expect 2 "unknown option '--bogus'" -- cal "$def" --bogus
expect 2 "unexpected argument 'x'" -- cal "$def" x
expect 2 "--asset SYM is required" -- cal "$def" --target-p-liq 0.01 $o
expect 2 "--target-p-liq is required" -- cal "$def" --asset BTC $o
for a in 0 1 -0.5 1.5; do
  expect 2 "--target-p-liq: expected a probability in (0, 1), got $a" -- cal "$def" --asset BTC --target-p-liq "$a" $o
  expect 2 "--target-p: expected a probability in (0, 1), got $a" -- cal "$def" --metric bad_debt --target-p "$a" $o
done
expect 2 "--target-p-liq: expected a finite number, got 'nan'" -- cal "$def" --asset BTC --target-p-liq nan $o
expect 2 "--target-p-liq: expected a finite number, got '1%'" -- cal "$def" --asset BTC --target-p-liq 1% $o
expect 2 "--target-p-liq needs a value" -- cal "$def" --asset BTC --target-p-liq
expect 2 "--asset: unknown asset 'XRP' (the model has BTC, ETH, SOL, DOGE)" -- cal "$def" --asset XRP --target-p-liq 0.01 $o
expect 2 "--side: expected long or short, got 'up'" -- cal "$def" --asset BTC --target-p-liq 0.01 --side up $o
expect 2 "--notional-usd: expected a notional > 0" -- cal "$def" --asset BTC --target-p-liq 0.01 --notional-usd 0 $o
expect 2 "--mmr: expected a rate in [0, 1)" -- cal "$def" --asset BTC --target-p-liq 0.01 --mmr 1 $o
expect 2 "--leverage-max: expected a leverage above --leverage-min" -- cal "$def" --asset BTC --target-p-liq 0.01 --leverage-min 5 --leverage-max 3 $o
expect 2 "--target-p does not apply to position-level questions" -- cal "$def" --asset BTC --target-p-liq 0.01 --target-p 0.1 $o
expect 2 "--paths: expected at least 1 path" -- cal "$def" --asset BTC --target-p-liq 0.01 --paths 0
expect 2 "--threads: expected 1 to 4096 threads" -- cal "$def" --asset BTC --target-p-liq 0.01 --threads 0
expect 2 "--confidence: expected a level in (0, 1)" -- cal "$def" --asset BTC --target-p-liq 0.01 --confidence 95 $o
expect 2 "--precision: expected a relative precision in (0, 1)" -- cal "$def" --asset BTC --target-p-liq 0.01 --precision 0 $o
expect 2 "--horizon-days: expected 0 < days <= 3650" -- cal "$def" --asset BTC --target-p-liq 0.01 --horizon-days -1 $o
# A target no candidate reaches: even the least leverage searched is liquidated too often.
expect 2 "target not reached: even at leverage 200" -- cal "$def" --asset BTC --target-p-liq 0.01 --leverage-min 200 $o
expect 2 "--metric: expected bad_debt or adl, got 'losses'" -- cal "$def" --metric losses --target-p 0.1 $o
expect 2 "venue level: --target-p is required" -- cal "$def" --metric adl $o
expect 2 "--target-p-liq does not apply to venue-level questions" -- cal "$def" --metric adl --target-p 0.1 --target-p-liq 0.1 $o
expect 2 "--threshold-usd: expected an amount >= 0" -- cal "$def" --metric adl --target-p 0.1 --threshold-usd -1 $o
expect 2 "--asset does not apply to venue-level questions" -- cal "$def" --metric adl --target-p 0.1 --asset BTC $o
expect 2 "--mmr-tier: expected SYM:K with K the 1-based tier, got 'BTC'" -- cal "$def" --metric adl --target-p 0.1 --mmr-tier BTC $o
expect 2 "--mmr-tier: BTC has 12 tiers, got tier 13" -- cal "$def" --metric adl --target-p 0.1 --mmr-tier BTC:13 $o
expect 2 "--asset: unknown asset 'XRP'" -- cal "$def" --metric adl --target-p 0.1 --mmr-tier XRP:1 $o
expect 2 "--cap-min/--cap-max does not apply to maintenance-rate questions" -- cal "$def" --metric adl --target-p 0.1 --mmr-tier BTC:1 --cap-max 5 $o
expect 2 "--tiers and --metric ask different questions" -- cal "$def" --tiers --metric adl --target-p 0.1 $o
expect 2 "tier table: --target-p-liq is required" -- cal "$def" --tiers $o
expect 2 "--refine-interval applies to venue-level questions only" -- cal "$def" --tiers --target-p-liq 0.01 --refine-interval $o
expect 2 "--refine-interval (always on there) does not apply to position-level questions" -- cal "$def" --asset BTC --target-p-liq 0.01 --refine-interval $o
expect 2 "--notionals: expected up to 64 numbers" -- cal "$def" --tiers --target-p-liq 0.01 --notionals 1e5,abc $o
expect 2 "--notionals must be positive and increasing" -- cal "$def" --tiers --target-p-liq 0.01 --asset BTC --notionals 1e6,1e5 $o
expect 2 "--mmr-floor: expected a rate in [0, 1)" -- cal "$def" --tiers --target-p-liq 0.01 --mmr-floor 2 $o
# No tiers for the asset and no --mmr; no accounts for a venue question; a broken model.
printf 'name: bare\nseed: 1\npaths: 10\nhorizon_days: 1\nsteps: 24\nmarket:\n  process: gbm\n  assets:\n    - {symbol: X, price: 10, vol: 0.5}\n' > "$work/bare.yaml"
expect 2 "the model has no venue.tiers for X: give --mmr RATE" -- cal "$work/bare.yaml" --asset X --target-p-liq 0.01 $o
expect 2 "venue level: the model has no accounts" -- cal "$work/bare.yaml" --metric bad_debt --target-p 0.1 $o
printf 'name: broken\nseed: -1\n' > "$work/broken.yaml"
expect 2 "broken.yaml:2:" -- cal "$work/broken.yaml" --asset X --target-p-liq 0.01 $o
[ -e "$work/never" ] && bad "a refused request wrote $work/never" || ok

# ---- position level ----
expect 0 "max_leverage" -- cal "$def" --asset BTC --target-p-liq 0.01 --paths 4000 --threads 1 --out "$work/p1"
j=$work/p1/calibration.json
[ -s "$j" ] && ok || bad "position: no calibration.json"
[ -z "$(find "$work/p1" -name '.*tmp*')" ] && ok || bad "temporary file left in $work/p1"
cal "$def" --asset BTC --target-p-liq 0.01 --paths 4000 --threads 2 --out "$work/p2" --quiet || bad "2 threads"
strip() { grep -v -e '"elapsed_s"' -e '"threads"' "$1" | sed 's/"elapsed_s": [^,}]*//g'; }
cmp -s <(strip "$j") <(strip "$work/p2/calibration.json") && ok || bad "position answer differs between 1 and 2 threads"
# Documented keys, an answer inside its interval, candidates with estimates and intervals.
"$PY" - "$j" <<'EOF' && ok || bad "position calibration.json content"
import json, math, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "position" and d["request"]["asset"] == "BTC" and d["request"]["side"] == "long"
L, (lo, hi) = d["max_leverage"], d["max_leverage_ci"]
assert 1 < L < 250 and lo <= L <= hi, (L, lo, hi)
assert d["stopped_by"] in ("precision", "monte_carlo") and d["monotone"] is True
c = d["candidates"]
assert len(c) >= 4 and all(x["ci"][0] <= x["p"] <= x["ci"][1] for x in c)
assert [x["leverage"] for x in c] == sorted(x["leverage"] for x in c)
best = [x for x in c if x["leverage"] == L][0]
assert best["p"] <= 0.01 and best["n"] == 4000
assert len(d["curve"]) == 61 and 0 < d["liq_price"] < 200000
assert "NaN" not in open(sys.argv[1]).read()
assert '"confidence": 0.94999999999999996,' in open(sys.argv[1]).read()  # 17 significant digits
EOF
# Short side, another horizon: a shorter horizon allows more leverage.
cal "$def" --asset ETH --side short --target-p-liq 0.05 --horizon-days 0.25 --paths 4000 --out "$work/p3" --quiet || bad "short"
"$PY" - "$work/p3/calibration.json" "$j" <<'EOF' && ok || bad "short / horizon"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["request"]["side"] == "short" and d["steps"] == 72 and d["horizon_days"] == 0.25
assert d["max_leverage"] > 10
EOF

# ---- tier table ----
expect 0 "as venue.tiers" -- cal "$def" --tiers --asset DOGE --target-p-liq 0.01 --paths 3000 --out "$work/t1"
"$PY" - "$work/t1/calibration.json" <<'EOF' && ok || bad "tiers calibration.json"
import json, sys
d = json.load(open(sys.argv[1]))
t = d["tiers"][0]
assert t["asset"] == "DOGE" and len(t["recommended"]) == len(t["current"]) - (t["current"][-1]["cap_usd"] >= 1e15)
r = t["recommended"]
assert all(a["mmr"] <= b["mmr"] and a["max_leverage"] >= b["max_leverage"] for a, b in zip(r, r[1:]))
assert r[-1]["mmr"] > r[0]["mmr"] and r[-1]["slippage"] > r[0]["slippage"]
EOF

# ---- venue level (small: 300 paths of the default population) ----
expect 0 "max_leverage" -- cal "$def" --metric bad_debt --threshold-usd 0 --target-p 0.05 --paths 300 --out "$work/v1"
"$PY" - "$work/v1/calibration.json" <<'EOF' && ok || bad "venue calibration.json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "venue" and d["request"]["vary"] == "leverage_cap" and d["request"]["metric"] == "bad_debt"
c = {x["leverage_cap"]: x for x in d["candidates"]}
assert c[d["max_leverage"]]["p"] <= 0.05
assert all(x["n"] == 300 for x in c.values())
assert d["units_capped"] > 0 and d["book_max_leverage"] >= d["max_leverage"]
EOF
# A venue target no candidate reaches: with BTC tier 1 at 1 bp, bad debt is too likely.
expect 2 "target not reached" -- cal "$def" --metric bad_debt --target-p 0.05 --mmr-tier BTC:1 --mmr-min 0.0001 --mmr-max 0.00011 --threshold-usd 0 --paths 200 --quiet --out "$work/never2"
[ -e "$work/never2" ] && bad "a failed venue search wrote its directory" || ok

echo "test_calibrate_cli: $pass passed, $failed failed"
[ "$failed" = 0 ]
