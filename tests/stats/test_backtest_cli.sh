#!/usr/bin/env bash
# test_backtest_cli.sh XMRISK MODELS_DIR — `xmrisk backtest` as users meet it: every bad request
# (dates, a range outside the history, a model without market.history, a bad history key)
# exits 2 with one line and writes nothing; a good one publishes backtest.json and backtest.csv
# with the documented keys and columns, byte-identical on 1 and 2 threads; `check` prints the
# history summary.
set -u
xm=$(realpath "$1"); models=$(realpath "$2")
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad, expect

bm=$models/backtest-student-t.yaml
bt() { "$xm" backtest "$@"; }
o="--out $work/never --paths 100"

# ---- bad requests: exit 2, one line, nothing written ----
expect 2 "a MODEL file" -- bt
expect 2 "--from and --to are required" -- bt "$bm" --from 2024-01-01 $o
expect 2 "--from: expected a date YYYY-MM-DD, got '2024-1-1'" -- bt "$bm" --from 2024-1-1 --to 2024-01-02 $o
expect 2 "--to: expected a date YYYY-MM-DD, got '2024-02-30x'" -- bt "$bm" --from 2024-01-01 --to 2024-02-30x $o
expect 2 "--to: expected a date YYYY-MM-DD, got '2024-13-01'" -- bt "$bm" --from 2024-01-01 --to 2024-13-01 $o
expect 2 "--from 2024-01-05 is after --to 2024-01-01" -- bt "$bm" --from 2024-01-05 --to 2024-01-01 $o
expect 2 "--from 2018-01-01: outside the history" -- bt "$bm" --from 2018-01-01 --to 2024-01-01 $o
expect 2 "--to 2027-01-01: outside the history" -- bt "$bm" --from 2024-01-01 --to 2027-01-01 $o
expect 2 "--level: expected a number in (0.5, 1), got 1" -- bt "$bm" --from 2024-01-01 --to 2024-01-02 --level 1 $o
expect 2 "--paths: expected at least 1 path" -- bt "$bm" --from 2024-01-01 --to 2024-01-02 --paths 0
expect 2 "backtest needs market.history" -- bt "$models/default.yaml" --from 2024-01-01 --to 2024-01-02 $o
# copies in $work name the data files by absolute path
sed "s#\.\./data/#$models/../data/#" "$bm" > "$work/abs.yaml"
sed 's/window_days: 365 /window_days: 1 /' "$bm" > "$work/w.yaml"
expect 2 "market.history.window_days: expected an integer in [2, 36500], got 1" -- bt "$work/w.yaml" --from 2024-01-01 --to 2024-01-02 $o
sed 's/^      XRP: .*/      XYZ: x.csv/' "$work/abs.yaml" > "$work/u.yaml"
expect 2 "market.history.files.XYZ: expected the symbol of an asset" -- bt "$work/u.yaml" --from 2024-01-01 --to 2024-01-02 $o
sed "s#^      XRP: .*#      XRP: $work/missing.csv#" "$work/abs.yaml" > "$work/m.yaml"
expect 2 "missing.csv: cannot read" -- bt "$work/m.yaml" --from 2024-01-01 --to 2024-01-02 $o
expect 2 "(given by market.history.files.XRP at" -- bt "$work/m.yaml" --from 2024-01-01 --to 2024-01-02 $o
printf 'timestamp,open,high,low,close\n2024-01-01,1,2,0.5,x\n' > "$work/bad.csv"
sed "s#^      XRP: .*#      XRP: $work/bad.csv#" "$work/abs.yaml" > "$work/b.yaml"
expect 2 "bad.csv:2:" -- bt "$work/b.yaml" --from 2024-01-01 --to 2024-01-02 $o
if [ -e "$work/never" ]; then bad "a refused request wrote $work/never"; else ok; fi

# ---- check prints the history ----
expect 0 "BTC: $models/../data/btc_usdt_daily_binance.csv: 3065 rows of 1d" -- "$xm" check "$bm"

# ---- a short backtest: the files, and the same bytes on 1 and 2 threads ----
for t in 1 2; do
  bt "$bm" --from 2024-03-01 --to 2024-03-10 --paths 300 --threads $t --out "$work/t$t" --quiet \
    > "$work/out$t" 2>&1 || bad "backtest on $t threads failed: $(cat "$work/out$t")"
done
if [ -s "$work/out1" ]; then bad "--quiet printed: $(cat "$work/out1")"; else ok; fi
if cmp -s "$work/t1/backtest.csv" "$work/t2/backtest.csv"; then ok; else bad "backtest.csv differs between 1 and 2 threads"; fi
if [ "$(wc -l < "$work/t1/backtest.csv")" = 61 ]; then ok; else bad "backtest.csv: expected 60 rows"; fi
head -1 "$work/t1/backtest.csv" | grep -qx 'date,symbol,pred_low_ratio,low_ratio,exceeded_low,pred_high_ratio,high_ratio,exceeded_high' && ok || bad "backtest.csv header"
for k in '"model": "backtest-student-t"' '"level": 0.98999999999999999' '"from": "2024-03-01"' \
         '"to": "2024-03-10"' '"paths": 300' '"seed": 20261125' '"run_id": ' '"skipped_days": 0' \
         '"side": "down"' '"side": "up"' '"kupiec_lr": ' '"christoffersen_p": ' '"zone": "'; do
  grep -qF "$k" "$work/t1/backtest.json" && ok || bad "backtest.json lacks $k"
done
grep -v '"run_id"' "$work/t1/backtest.json" > "$work/j1"; grep -v '"run_id"' "$work/t2/backtest.json" > "$work/j2"
if cmp -s "$work/j1" "$work/j2"; then ok; else bad "backtest.json differs between 1 and 2 threads"; fi
expect 0 "BTC      down      10" -- bt "$bm" --from 2024-03-01 --to 2024-03-10 --paths 300 --out "$work/t3"

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
