#!/usr/bin/env bash
# test_cli.sh XMRISK MODELS_DIR DATA_DIR — the command line as users meet it: exit codes,
# one-line errors, result files written atomically, determinism across thread counts.
set -u
xm=$(realpath "$1"); models=$(realpath "$2"); data=$(realpath "$3")/cli
. "$(dirname "$(dirname "$(realpath "$0")")")/lib.sh"   # work, pass/failed, ok, bad, expect, strip

expect 2 "a command is required" -- "$xm"
expect 0 "usage: xmrisk run" -- "$xm" --help
expect 0 "xmrisk 0." -- "$xm" --version
expect 2 "unknown command 'frobnicate'" -- "$xm" frobnicate
expect 2 "a MODEL file is required" -- "$xm" run
expect 2 "unknown option '--bogus'" -- "$xm" run "$models/default.yaml" --bogus
expect 2 "expected a non-negative integer, got 'abc'" -- "$xm" run "$models/default.yaml" --paths abc
expect 2 "expected a non-negative integer, got '-5'" -- "$xm" run "$models/default.yaml" --seed -5
expect 2 "--paths: expected at least 1 path" -- "$xm" run "$models/default.yaml" --paths 0
expect 2 "--threads: expected 1 to 4096 threads" -- "$xm" run "$models/default.yaml" --threads 0
expect 2 "--out needs a value" -- "$xm" run "$models/default.yaml" --out
expect 2 "unexpected argument 'extra'" -- "$xm" run "$models/default.yaml" extra
expect 2 "check: expected exactly one MODEL file" -- "$xm" check
expect 2 "nope.yaml: cannot read" -- "$xm" run "$work/nope.yaml"
expect 2 "bad_vol.yaml:7:" -- "$xm" run "$data/bad_vol.yaml" --out "$work/never"
expect 2 "market.assets[0].vol" -- "$xm" check "$data/bad_vol.yaml"
expect 2 "smallest eigenvalue -0.223774" -- "$xm" check "$data/not_pd.yaml"
expect 0 "repaired" -- "$xm" check "$data/repaired.yaml"
expect 0 "cholesky" -- "$xm" check "$models/default.yaml"
[ -e "$work/never" ] && bad "a failed run created its output directory" || ok

# A run writes both files, leaves no temporary file, and prints the summary.
expect 0 "any liquidation" -- "$xm" run "$models/default.yaml" --paths 100 --threads 1 --out "$work/t1"
for f in summary.json accounts.csv paths.csv; do [ -s "$work/t1/$f" ] && ok || bad "missing $f"; done
[ "$(wc -l < "$work/t1/accounts.csv")" = 20001 ] && ok || bad "accounts.csv should have 20000 rows"
[ -z "$(find "$work/t1" -name '.*tmp*')" ] && ok || bad "temporary files left in $work/t1"
[ "$(wc -l < "$work/t1/paths.csv")" = 101 ] && ok || bad "paths.csv should have 100 rows"

# Same model, seed and paths on 2 threads: identical results but for timing fields.
"$xm" run "$models/default.yaml" --paths 100 --threads 2 --out "$work/t2" --quiet || bad "2-thread run"
strip() { grep -v -e '"elapsed_s"' -e '"threads"' "$1"; }
cmp -s <(strip "$work/t1/summary.json") <(strip "$work/t2/summary.json") && ok \
  || bad "summary.json differs between 1 and 2 threads"
cmp -s "$work/t1/paths.csv" "$work/t2/paths.csv" && ok || bad "paths.csv differs between 1 and 2 threads"
cmp -s "$work/t1/accounts.csv" "$work/t2/accounts.csv" && ok || bad "accounts.csv differs between 1 and 2 threads"
grep -q '"threads": 2' "$work/t2/summary.json" && ok || bad "threads field"

# --seed changes the result; --quiet prints nothing.
out=$("$xm" run "$models/default.yaml" --paths 100 --seed 1 --out "$work/s1" --quiet)
[ -z "$out" ] && ok || bad "--quiet printed: $out"
cmp -s "$work/t1/paths.csv" "$work/s1/paths.csv" && bad "--seed had no effect" || ok

# An output directory that cannot be created: exit 1, nothing written.
touch "$work/afile"
expect 1 "cannot create directory" -- "$xm" run "$models/default.yaml" --paths 50 --out "$work/afile/sub" --quiet

# The default output directory is results/<name>, and a name cannot climb out of results/.
mkdir -p "$work/cwd"
sed 's/^name: repaired/name: "..\/escape"/' "$data/repaired.yaml" > "$work/escape.yaml"
(cd "$work/cwd" && "$xm" run "$work/escape.yaml" --paths 20 --quiet) || bad "run with a hostile name"
[ -s "$work/cwd/results/_._escape/summary.json" ] && ok || bad "results/_._escape/summary.json missing"
[ -e "$work/escape" ] && bad "a model name wrote outside results/" || ok

# liqprice: CSV on stdout with the documented header; bad accounts are model errors (exit 2,
# one line naming file, line and key; nothing on stdout).
margin=$(dirname "$data")/models/margin.yaml
out=$("$xm" liqprice "$margin") && ok || bad "liqprice on margin.yaml"
[ "$(printf '%s\n' "$out" | head -1)" = "account_id,asset,qty,entry,mark,liq_price" ] && ok \
  || bad "liqprice header: $(printf '%s\n' "$out" | head -1)"
[ "$(printf '%s\n' "$out" | wc -l)" = 6 ] && ok || bad "liqprice should print 5 rows"
row=$(printf '%s\n' "$out" | sed -n 2p)   # numbers with 17 significant digits, as every result file
[ "$row" = "hedged-pair,BTC,1.137,90412.5,91234.559999999998,82655.15320203334" ] && ok \
  || bad "liqprice first row: $row"
expect 2 "no accounts to price" -- "$xm" liqprice "$data/repaired.yaml"
[ "$("$xm" liqprice "$models/default.yaml" | wc -l)" -gt 20000 ] && ok || bad "liqprice on the default population"
expect 2 "liqprice: expected exactly one MODEL file" -- "$xm" liqprice
mutate() { sed "$1" "$margin" > "$work/$2.yaml"; }
mutate 's/{asset: BTC, qty: 1.137, entry: 90412.5}/{asset: XRP, qty: 1.137, entry: 90412.5}/' unknown_asset
mutate 's/wallet_usd: 10437.25/wallet_usd: -10437.25/' negative_wallet
mutate 's/{asset: BTC, qty: 1.137, entry: 90412.5}/{asset: BTC, qty: 0, entry: 90412.5}/' zero_qty
mutate 's/{asset: BTC, qty: 1.137, entry: 90412.5}/{asset: BTC, qty: 113.7, entry: 90412.5}/' beyond_tier
for case in unknown_asset:accounts[0].positions[0].asset negative_wallet:accounts[0].wallet_usd \
            zero_qty:accounts[0].positions[0].qty beyond_tier:"last tier cap"; do
  name=${case%%:*}; needle=${case#*:}
  expect 2 "$needle" -- "$xm" liqprice "$work/$name.yaml"
  expect 2 "$name.yaml:" -- "$xm" run "$work/$name.yaml" --paths 10 --out "$work/never-$name"
  [ -e "$work/never-$name" ] && bad "$name: a failed run wrote output" || ok
done
# A malformed CSV row is named by file and line.
mkdir -p "$work/csv"
printf 'id,mode,wallet_usd\na1,cross,1000\na2,cross,abc\n' > "$work/csv/acc.csv"
printf 'account_id,asset,qty,entry,margin_usd\na1,BTC,0.01,90000,\na2,BTC,0.01,90000,\n' > "$work/csv/pos.csv"
sed -e '/^accounts:/,$d' "$margin" > "$work/csvmodel.yaml"
echo 'accounts_csv: {accounts: csv/acc.csv, positions: csv/pos.csv}' >> "$work/csvmodel.yaml"
expect 2 "acc.csv:3: wallet_usd" -- "$xm" liqprice "$work/csvmodel.yaml"

# A tiny file must not be able to ask for unbounded memory (found by fuzz_model).
expect 2 "population.accounts: expected an integer in [1, 100000000]" -- \
  "$xm" check "$(dirname "$(dirname "$data")")/fuzz/corpus_model/finding_population_huge.yaml"

# More paths than memory holds: a request error with the estimate, nothing written.
# (--stats exact: the default, auto, would keep binned statistics instead: test_stats_cli.sh)
expect 2 "run: 100000000000 paths need about 16800.0 GB for per-path results (168 bytes each)" -- \
  "$xm" run "$models/default.yaml" --paths 100000000000 --stats exact --out "$work/huge"
expect 2 "use --stats binned, fewer paths or --shard K/N" -- \
  "$xm" run "$models/default.yaml" --paths 100000000000 --stats exact --out "$work/huge"
expect 2 "use fewer paths (a market-only run keeps every path)" -- "$xm" run "$data/repaired.yaml" --paths 100000000000 --out "$work/huge"
expect 2 "calibrate: 100000000000 paths need about" -- \
  "$xm" calibrate "$models/default.yaml" --asset BTC --target-p-liq 0.01 --paths 100000000000 --out "$work/huge"
[ -e "$work/huge" ] && bad "a refused run wrote $work/huge" || ok

# --out a dangling symbolic link: one line naming it, exit 1, before any work (the runs asked
# for would take hours), for run, merge and calibrate.
ln -s "$work/nowhere/x" "$work/dangling"
"$xm" run "$models/default.yaml" --paths 20 --shard 0/1 --out "$work/onepart" --quiet || bad "shard 0/1"
dang="$work/dangling: a symbolic link to $work/nowhere/x, which does not exist"
expect 1 "$dang" -- timeout 30 "$xm" run "$models/default.yaml" --paths 1000000000 --stats binned --out "$work/dangling"
expect 1 "$dang" -- timeout 30 "$xm" run "$models/default.yaml" --paths 1000000000 --stats binned --out "$work/dangling/sub"
expect 1 "$dang" -- timeout 30 "$xm" merge "$work/onepart/part-0-of-1.xmp" --out "$work/dangling"
expect 1 "$dang" -- timeout 30 "$xm" calibrate "$models/default.yaml" --asset BTC --target-p-liq 0.01 \
  --paths 100000000 --out "$work/dangling"
expect 1 "$work/onepart/part-0-of-1.xmp: not a directory" -- \
  timeout 30 "$xm" run "$models/default.yaml" --paths 1000000000 --stats binned --out "$work/onepart/part-0-of-1.xmp"
[ -e "$work/nowhere" ] && bad "a refused --out created $work/nowhere" || ok

# SIGTERM and SIGINT while the workers run: exit 1, the number of finished paths on standard
# error, no result file and no temporary file left (a kill between the writes and the renames
# is covered by xm_outfile: nothing is published before every file is complete).
for sig in TERM INT; do
  out=$work/sig-$sig
  "$xm" run "$models/default.yaml" --paths 1000000 --threads 2 --out "$out" --quiet \
     2>"$work/sig.err" & pid=$!
  sleep 1.5
  kill -"$sig" "$pid"; wait "$pid"; rc=$?
  [ "$rc" = 1 ] && ok || bad "SIG$sig: exit $rc, expected 1"
  grep -q "interrupted after [0-9]* of 1000000 paths; nothing written" "$work/sig.err" && ok \
    || bad "SIG$sig: no 'interrupted after N of M paths' in: $(cat "$work/sig.err")"
  [ -z "$(ls -A "$out" 2>/dev/null)" ] && ok || bad "SIG$sig left files: $(ls -A "$out")"
done
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
