#!/usr/bin/env bash
# test_cli_flags.sh XMRISK MODELS_DIR DATA_DIR — every subcommand, every flag, every class of
# bad value: exit status 2, one line on standard error saying what was expected, nothing on
# standard output and nothing written (no --out directory, no results/ in the working
# directory). Classes: missing value, not a number or trailing garbage ("10x"), negative, zero
# where not allowed, overflow, NaN and infinities, empty values, unknown flags and commands,
# wrong number of arguments, conflicting flags; then the model and CSV error classes of issue 8
# end to end (docs/robustness.md has the table of where each class is tested).
#
# What tests/cli/test_cli.sh, tests/calibrate/test_calibrate_cli.sh and tests/hpc/test_hpc.sh already check is not
# repeated here.
set -u
xm=$(realpath "$1"); models=$(realpath "$2"); data=$(realpath "$3")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
pass=0; failed=0
ok()  { pass=$((pass + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# Every command runs in an empty working directory, so that a default results/<name> would show.
cwd=$work/cwd; never=$work/never
mkdir -p "$cwd"

# refuse NEEDLE -- CMD...: exit status 2, NEEDLE in the one line on standard error, nothing on
# standard output, nothing written (neither $never nor anything in the working directory).
refuse() {
  local needle=$1; shift 2
  local rc err out
  out=$(cd "$cwd" && "$@" 2>"$work/stderr"); rc=$?; err=$(cat "$work/stderr")
  if [ "$rc" != 2 ]; then bad "$* -> exit $rc, expected 2 ($err)"; rm -rf "$never" "${cwd:?}"/*; return; fi
  case "$err" in *"$needle"*) ok ;; *) bad "$* -> '$needle' not in: $err" ;; esac
  [ "$(wc -l < "$work/stderr")" = 1 ] || bad "$* -> error is not one line: $err"
  [ -z "$out" ] || bad "$* -> printed on standard output: $out"
  if [ -e "$never" ] || [ -n "$(ls -A "$cwd")" ]; then
    bad "$* -> wrote $(ls -d "$never" 2>/dev/null) $(ls -A "$cwd")"; rm -rf "$never" "${cwd:?}"/*
  fi
}

def=$models/default.yaml
margin=$data/models/margin.yaml
market=$data/cli/repaired.yaml
o=(--out "$never")

# ==== the command ====
refuse "unknown command '--bogus' (expected run, merge, check, liqprice, calibrate or backtest)" -- "$xm" --bogus
refuse "unknown command ''" -- "$xm" ""
refuse "unknown command 'RUN'" -- "$xm" RUN "$def"
refuse "--version takes no arguments, got 'run'" -- "$xm" --version run
refuse "--version takes no arguments, got ''" -- "$xm" --version ""
[ "$("$xm" --version)" = "$("$xm" --version 2>&1)" ] && ok || bad "--version wrote on standard error"

# ==== --help: every command's usage on standard output, exit 0, nothing else ====
# helps NEEDLE -- CMD...: exit 0, NEEDLE on standard output, no "%%" (a printf format printed
# as text), nothing on standard error, nothing written in the working directory.
helps() {
  local needle=$1; shift 2
  local rc out
  out=$(cd "$cwd" && "$@" 2>"$work/stderr"); rc=$?
  [ "$rc" = 0 ] && ok || bad "$* -> exit $rc, expected 0 ($(cat "$work/stderr"))"
  case "$out" in *"$needle"*) ok ;; *) bad "$* -> '$needle' not in: $out" ;; esac
  case "$out" in *%%*) bad "$* -> '%%' in the help" ;; *) ok ;; esac
  [ -s "$work/stderr" ] && bad "$* -> wrote on standard error: $(cat "$work/stderr")" || ok
  [ -z "$(ls -A "$cwd")" ] && ok || { bad "$* -> wrote $(ls -A "$cwd")"; rm -rf "${cwd:?}"/*; }
}
for h in --help -h help; do
  helps "usage: xmrisk run MODEL" -- "$xm" "$h"
  helps "xmrisk calibrate MODEL --tiers" -- "$xm" "$h"
done
helps "binned: mergeable statistics only: quantiles within 0.2%," -- "$xm" run --help
for c in run merge check liqprice calibrate; do
  for h in --help -h; do
    helps "usage: xmrisk $c " -- "$xm" "$c" "$h"
  done
  [ "$("$xm" help "$c")" = "$("$xm" "$c" --help)" ] && ok || bad "help $c differs from $c --help"
done
helps "--target-p-liq A" -- "$xm" calibrate --help
helps "--max-memory SIZE" -- "$xm" run "$def" --paths 5 --help
helps "--notionals N1,N2,..." -- "$xm" calibrate "$def" --asset BTC --target-p-liq 0.01 -h
helps "usage: xmrisk merge PART..." -- "$xm" merge --help
refuse "help: expected nothing or one of run, merge, check, liqprice, calibrate or backtest, got 'bogus'" -- "$xm" help bogus
refuse "help: expected nothing or one of" -- "$xm" help run check
# a usage error points at the command's own help
refuse "xmrisk: run: unknown option '--bogus' (see xmrisk run --help)" -- "$xm" run "$def" --bogus
refuse "xmrisk: calibrate: unknown option '--bogus' (see xmrisk calibrate --help)" -- "$xm" calibrate "$def" --bogus

# ==== run ====
run() { "$xm" run "$@"; }
# a value flag at the end: missing value (--out: tests/cli/test_cli.sh)
for f in --paths --seed --threads --shard --checkpoint --checkpoint-every; do
  refuse "$f needs a value" -- run "$def" "$f"
done
# integers: digits only, no sign, no spaces, no exponent, no overflow (2^64 - 1 is the largest)
for f in --paths --seed --threads; do
  for v in "" 10x x10 -1 +10 " 10" "10 " 1e3 1.5 0x10 nan inf 18446744073709551616 \
           99999999999999999999999; do
    refuse "expected a non-negative integer, got '$v'" -- run "$def" "$f" "$v" "${o[@]}"
  done
done
refuse "--threads: expected 1 to 4096 threads" -- run "$def" --threads 4097 "${o[@]}"
refuse "--threads: expected 1 to 4096 threads" -- run "$def" --threads 18446744073709551615 "${o[@]}"
# --out and --checkpoint: an empty name (ran without a checkpoint / failed after the run)
refuse "--out: expected a directory name, got ''" -- run "$def" --paths 5 --out ""
refuse "--out: expected a directory name, got ''" -- run "$market" --paths 5 --out ""
refuse "--checkpoint: expected a file name, got ''" -- run "$def" --paths 5 --checkpoint "" "${o[@]}"
# --shard K/N with 0 <= K < N (3/3 and 1-3: tests/hpc/test_hpc.sh)
for v in "" a/b 1/b a/3 -1/3 1/-3 +1/3 1/0 0/0 5/3 1/3x 1/ /3 / " 0/2" "0/2 " 0/2/3 1.0/3 \
         18446744073709551616/3 0/18446744073709551616 99999999999999999999/3; do
  refuse "--shard: expected K/N with 0 <= K < N, got '$v'" -- run "$def" --shard "$v" "${o[@]}"
done
# --checkpoint-every N | Ns | Nm, N >= 1 (0 and 5h: tests/hpc/test_hpc.sh)
for v in "" s m 10sx 10ms "10 s" -5 -5s +5 5S 5M 1.5s 1e3 0s 0m 100000001s 100000001m \
         18446744073709551616 99999999999999999999999s; do
  refuse "--checkpoint-every: expected N (paths), Ns (seconds) or Nm (minutes) with N >= 1, got '$v'" -- \
    run "$def" --checkpoint "$work/ck.xmp" --checkpoint-every "$v" "${o[@]}"
done
[ -e "$work/ck.xmp" ] && bad "a refused run wrote its checkpoint" || ok
# flags that do not exist, or in another spelling
for f in --bogus --paths=10 --quiet=1 -q -p --path --Paths --seed=1 --merge --asset; do
  refuse "unknown option '$f'" -- run "$def" "$f" "${o[@]}"
done
# arguments: MODEL once
refuse "unexpected argument '$def'" -- run "$def" "$def" "${o[@]}"
refuse "a MODEL file is required" -- run --paths 5 "${o[@]}"
refuse "a MODEL file is required" -- run --quiet
refuse ": cannot read: No such file or directory" -- run "" "${o[@]}"
refuse "-: cannot read" -- run - "${o[@]}"
refuse "$work: cannot read: Is a directory" -- run "$work" "${o[@]}"
# conflicting: a checkpoint on a market-only model (--shard: tests/hpc/test_hpc.sh)
refuse "--shard and --checkpoint need a model with accounts" -- \
  run "$market" --checkpoint "$work/ck.xmp" --paths 5 "${o[@]}"
refuse "--shard and --checkpoint need a model with accounts" -- \
  run "$market" --shard 0/2 --checkpoint "$work/ck.xmp" --paths 5
refuse "--checkpoint-every needs --checkpoint FILE" -- run "$def" --checkpoint-every 10 --shard 0/2 "${o[@]}"
# the error of the first bad flag is the one reported, and no flag after it is acted on
refuse "expected a non-negative integer, got 'x'" -- run "$def" --seed x --paths 0 "${o[@]}"

# ==== check and liqprice: exactly one MODEL ====
for c in check liqprice; do
  refuse "$c: expected exactly one MODEL file" -- "$xm" "$c" "$def" "$def"
  refuse "$c: unknown option '--quiet' ($c takes only a MODEL file" -- "$xm" "$c" "$def" --quiet
  refuse "nope.yaml: cannot read: No such file or directory" -- "$xm" "$c" "$work/nope.yaml"
  refuse "$c: unknown option '--quiet' ($c takes only a MODEL file; a file named so: ./--quiet)" -- "$xm" "$c" --quiet
  refuse "$c: unknown option '--bogus'" -- "$xm" "$c" --bogus
  refuse "$c: unknown option '-q'" -- "$xm" "$c" -q
  refuse "-: cannot read: No such file or directory" -- "$xm" "$c" -
  refuse ": cannot read: No such file or directory" -- "$xm" "$c" ""
  refuse "$work: cannot read: Is a directory" -- "$xm" "$c" "$work"
done

# ==== merge ====
"$xm" run "$margin" --paths 20 --shard 0/2 --out "$work/parts" --quiet || bad "shard 0/2"
"$xm" run "$margin" --paths 20 --shard 1/2 --out "$work/parts" --quiet || bad "shard 1/2"
p0=$work/parts/part-0-of-2.xmp; p1=$work/parts/part-1-of-2.xmp
refuse "merge: --out needs a value" -- "$xm" merge "$p0" "$p1" --out
refuse "merge: --out: expected a directory name, got ''" -- "$xm" merge "$p0" "$p1" --out ""
for f in --bogus --out=x --seed --shard -o; do
  refuse "merge: unknown option '$f'" -- "$xm" merge "$p0" "$p1" "$f" "${o[@]}"
done
refuse "merge: at least one PART file is required" -- "$xm" merge --quiet "${o[@]}"
refuse ": cannot read: No such file or directory" -- "$xm" merge "$p0" "" "${o[@]}"
refuse "$work/parts: cannot read: Is a directory" -- "$xm" merge "$work/parts" "${o[@]}"
refuse "(duplicate)" -- "$xm" merge "$p0" "$p0" "$p1" "${o[@]}"

# ==== calibrate ====
cal() { "$xm" calibrate "$@"; }
P=(--asset BTC --target-p-liq 0.01)          # a position-level question
V=(--metric adl --target-p 0.1)              # a venue-level question
T=(--tiers --target-p-liq 0.01 --asset BTC)  # a tier table
small=(--paths 200 --out "$never" --quiet)
reals=(--target-p-liq --target-p --threshold-usd --notional-usd --horizon-days --mmr
       --leverage-min --leverage-max --cap-min --cap-max --mmr-min --mmr-max --precision
       --confidence --mmr-floor)
texts=(--out --asset --side --metric --mmr-tier --notionals)
# missing value, for every value flag
for f in "${reals[@]}" "${texts[@]}" --paths --seed --threads; do
  refuse "calibrate: $f needs a value" -- cal "$def" "${P[@]}" "$f"
done
# reals: a finite number and nothing else
for f in "${reals[@]}"; do
  for v in "" 10x x 0.5.5 "1 " nan NaN -nan inf -inf Infinity 1e400 -1e400 0x; do
    refuse "calibrate: $f: expected a finite number, got '$v'" -- cal "$def" "${P[@]}" "$f" "$v" "${small[@]}"
  done
done
# integers
for f in --paths --seed --threads; do
  for v in "" abc 10x -1 +1 1e3 18446744073709551616 99999999999999999999999; do
    refuse "calibrate: $f: expected a non-negative integer, got '$v'" -- cal "$def" "${P[@]}" "$f" "$v" --out "$never"
  done
done
refuse "calibrate: --threads: expected 1 to 4096 threads, got 4097" -- cal "$def" "${P[@]}" --threads 4097 "${small[@]}"
# ranges: negative, zero, too large (the others: tests/calibrate/test_calibrate_cli.sh)
refuse "--notional-usd: expected a notional > 0, got -5" -- cal "$def" "${P[@]}" --notional-usd -5 "${small[@]}"
refuse "--mmr: expected a rate in [0, 1), got -0.1" -- cal "$def" "${P[@]}" --mmr -0.1 "${small[@]}"
refuse "--leverage-min: expected a leverage > 0, got 0" -- cal "$def" "${P[@]}" --leverage-min 0 "${small[@]}"
refuse "--leverage-min: expected a leverage > 0, got -1" -- cal "$def" "${P[@]}" --leverage-min -1 "${small[@]}"
refuse "--leverage-max: expected a leverage above --leverage-min, got 0.5" -- cal "$def" "${P[@]}" --leverage-max 0.5 "${small[@]}"
refuse "--leverage-max: expected a leverage above --leverage-min, got 0" -- cal "$def" "${P[@]}" --leverage-max 0 "${small[@]}"
refuse "--horizon-days: expected 0 < days <= 3650, got 0" -- cal "$def" "${P[@]}" --horizon-days 0 "${small[@]}"
refuse "--horizon-days: expected 0 < days <= 3650, got 3650.5" -- cal "$def" "${P[@]}" --horizon-days 3650.5 "${small[@]}"
refuse "--confidence: expected a level in (0, 1), got 0" -- cal "$def" "${P[@]}" --confidence 0 "${small[@]}"
refuse "--confidence: expected a level in (0, 1), got 1" -- cal "$def" "${P[@]}" --confidence 1 "${small[@]}"
refuse "--precision: expected a relative precision in (0, 1), got 1" -- cal "$def" "${P[@]}" --precision 1 "${small[@]}"
refuse "--precision: expected a relative precision in (0, 1), got -0.1" -- cal "$def" "${P[@]}" --precision -0.1 "${small[@]}"
refuse "--target-p-liq: expected a probability in (0, 1), got -0" -- cal "$def" "${P[@]}" --target-p-liq -0 "${small[@]}"
refuse "--mmr-floor: expected a rate in [0, 1), got -0.1" -- cal "$def" "${T[@]}" --mmr-floor -0.1 "${small[@]}"
# the venue search ranges (taken before: a negative rate, a cap <= 0 meant the default range)
refuse "--cap-min: expected a leverage > 0, got 0" -- cal "$def" "${V[@]}" --cap-min 0 "${small[@]}"
refuse "--cap-min: expected a leverage > 0, got -1" -- cal "$def" "${V[@]}" --cap-min -1 "${small[@]}"
refuse "--cap-max: expected a leverage > 0, got 0" -- cal "$def" "${V[@]}" --cap-max 0 "${small[@]}"
refuse "--cap-max: expected a leverage > 0, got -1" -- cal "$def" "${V[@]}" --cap-max -1 "${small[@]}"
refuse "--mmr-min: expected a rate in [0, 1), got -0.5" -- cal "$def" "${V[@]}" --mmr-tier BTC:1 --mmr-min -0.5 "${small[@]}"
refuse "--mmr-min: expected a rate in [0, 1), got 1" -- cal "$def" "${V[@]}" --mmr-tier BTC:1 --mmr-min 1 "${small[@]}"
refuse "--mmr-max: expected a rate in (0, 1), got 0" -- cal "$def" "${V[@]}" --mmr-tier BTC:1 --mmr-max 0 "${small[@]}"
refuse "--mmr-max: expected a rate in (0, 1), got 2" -- cal "$def" "${V[@]}" --mmr-tier BTC:1 --mmr-max 2 "${small[@]}"
refuse "leverage cap range [10, 5] is empty" -- cal "$def" "${V[@]}" --cap-min 10 --cap-max 5 "${small[@]}"
refuse "maintenance rate range [0.5, 0.1] is empty" -- cal "$def" "${V[@]}" --mmr-tier BTC:1 --mmr-min 0.5 --mmr-max 0.1 "${small[@]}"
refuse "--mmr-min/--mmr-max does not apply to leverage-cap questions" -- cal "$def" "${V[@]}" --mmr-max 0.1 "${small[@]}"
# texts: empty and malformed values
refuse "--out: expected a directory name, got ''" -- cal "$def" "${P[@]}" --paths 200 --out ""
refuse "--asset: unknown asset ''" -- cal "$def" --asset "" --target-p-liq 0.01 "${small[@]}"
refuse "--asset: unknown asset 'btc'" -- cal "$def" --asset btc --target-p-liq 0.01 "${small[@]}"
refuse "--side: expected long or short, got ''" -- cal "$def" "${P[@]}" --side "" "${small[@]}"
refuse "--side: expected long or short, got 'Long'" -- cal "$def" "${P[@]}" --side Long "${small[@]}"
refuse "--metric: expected bad_debt or adl, got ''" -- cal "$def" --metric "" --target-p 0.1 "${small[@]}"
for v in "" BTC: BTC:0 BTC:x BTC:-1 BTC:+1 BTC:1x BTC:1.5 BTC:18446744073709551616 "BTC 1"; do
  refuse "--mmr-tier: expected SYM:K with K the 1-based tier, got '$v'" -- cal "$def" "${V[@]}" --mmr-tier "$v" "${small[@]}"
done
refuse "--asset: unknown asset ''" -- cal "$def" "${V[@]}" --mmr-tier :1 "${small[@]}"
refuse "--mmr-tier: BTC has 12 tiers, got tier 18446744073709551615" -- \
  cal "$def" "${V[@]}" --mmr-tier BTC:18446744073709551615 "${small[@]}"
for v in "1e5," ",1e5" "1e5,,1e6" "1e5;1e6" "1e5 1e6" inf nan "1e5,1e400" x; do
  refuse "--notionals: expected up to 64 numbers separated by commas, got '$v'" -- \
    cal "$def" "${T[@]}" --notionals "$v" "${small[@]}"
done
refuse "--notionals: expected at least one notional" -- cal "$def" "${T[@]}" --notionals "" "${small[@]}"
refuse "--notionals: expected up to 64 numbers" -- cal "$def" "${T[@]}" --notionals "$(seq -s, 1 65)" "${small[@]}"
refuse "--notionals must be positive and increasing (item 1: 0)" -- cal "$def" "${T[@]}" --notionals 0,1e6 "${small[@]}"
refuse "--notionals must be positive and increasing (item 1: -100000)" -- cal "$def" "${T[@]}" --notionals -1e5,1e6 "${small[@]}"
refuse "--notionals must be positive and increasing" -- cal "$def" "${T[@]}" --notionals 1e6,1e6 "${small[@]}"
# unknown flags, flags without values given one, arguments
for f in --bogus --target-p-liq=0.01 --tiers=1 --quiet=1 --refine-interval=1 -q --shard --checkpoint; do
  refuse "calibrate: unknown option '$f'" -- cal "$def" "${P[@]}" "$f" "${small[@]}"
done
refuse "calibrate: unexpected argument '$def'" -- cal "$def" "$def" "${P[@]}" "${small[@]}"
refuse "calibrate: a MODEL file is required" -- cal "${P[@]}" "${small[@]}"
refuse "nope.yaml: cannot read: No such file or directory" -- cal "$work/nope.yaml" "${P[@]}" "${small[@]}"
refuse "position level: --asset SYM is required" -- cal "$def" "${small[@]}"
# flags of another kind of question (ignored before, without a word)
for f in "--threshold-usd 5" "--mmr-tier BTC:1" "--mmr-min 0.1" "--mmr-max 0.1" "--cap-min 2" \
         "--cap-max 5" "--notionals 1e5" "--mmr-floor 0.01"; do
  # shellcheck disable=SC2086
  refuse "calibrate: ${f%% *} does not apply to position-level questions" -- cal "$def" "${P[@]}" $f "${small[@]}"
done
for f in "--side short" "--notional-usd 5" "--mmr 0.01" "--leverage-min 2" "--leverage-max 5" \
         "--notionals 1e5" "--mmr-floor 0.01"; do
  # shellcheck disable=SC2086
  refuse "calibrate: ${f%% *} does not apply to venue-level questions" -- cal "$def" "${V[@]}" $f "${small[@]}"
done
for f in "--side short" "--notional-usd 5" "--mmr 0.01" "--leverage-min 2" "--leverage-max 5" \
         "--target-p 0.1" "--threshold-usd 5" "--mmr-tier BTC:1" "--mmr-min 0.1" "--mmr-max 0.1" \
         "--cap-min 2" "--cap-max 5"; do
  # shellcheck disable=SC2086
  refuse "calibrate: ${f%% *} does not apply to tier-table questions" -- cal "$def" "${T[@]}" $f "${small[@]}"
done

# ==== model and CSV error classes, end to end: exit 2, FILE:LINE:COLUMN, nothing written ====
# (the loader's unit tests: tests/input/test_model.c, tests/input/test_accounts_csv.c; the table:
# docs/robustness.md)
mutate() { sed "$1" "$margin" > "$work/$2.yaml"; }
# model_error NAME SED NEEDLE: the mutated margin.yaml is refused by check, liqprice and run.
model_error() {
  mutate "$2" "$1"
  grep -q . "$work/$1.yaml" && ! cmp -s "$margin" "$work/$1.yaml" || bad "$1: the mutation did not apply"
  refuse "$1.yaml:$3" -- "$xm" check "$work/$1.yaml"
  refuse "$1.yaml:$3" -- "$xm" liqprice "$work/$1.yaml"
  refuse "$1.yaml:$3" -- "$xm" run "$work/$1.yaml" --paths 5 "${o[@]}"
  refuse "$1.yaml:$3" -- "$xm" run "$work/$1.yaml" --paths 5
}
model_error wrong_type 's/price: 91234.56/price: abc/' \
  "10:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got 'abc'"
model_error quoted_number 's/vol: 0.5731/vol: "0.5731"/' \
  "10:43: market.assets[0].vol: expected a number in [0, 100], got '0.5731' (quoted: a string, not a number)"
model_error nan_vol 's/vol: 0.5731/vol: .nan/' "10:43: market.assets[0].vol: expected a number in [0, 100], got .nan"
model_error inf_price 's/price: 91234.56/price: .inf/' "10:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got .inf"
model_error huge_price 's/price: 91234.56/price: 1e999/' "10:28: market.assets[0].price: expected a number in [1e-09, 1e+12], got 1e999"
model_error zero_price 's/price: 3047.19/price: 0/' "11:28: market.assets[1].price: expected a number in [1e-09, 1e+12], got 0"
model_error negative_vol 's/vol: 0.9813/vol: -0.9813/' "12:41: market.assets[2].vol: expected a number in [0, 100], got -0.9813"
model_error negative_fund 's/insurance_fund_usd: 4.731e7/insurance_fund_usd: -4.731e7/' \
  "19:23: venue.insurance_fund_usd: expected a number in [0, 1e+15], got -4.731e7"
model_error inf_qty 's/qty: 1.137/qty: .inf/' "43:27: accounts[0].positions[0].qty: expected a non-zero finite number (base units, > 0 long, < 0 short), got .inf"
model_error negative_entry 's/entry: 90412.5/entry: -90412.5/' \
  "43:41: accounts[0].positions[0].entry: expected a number in [1e-09, 1e+12], got -90412.5"
model_error zero_margin 's/margin_usd: 4718.31/margin_usd: 0/' \
  "48:63: accounts[1].positions[0].margin_usd: expected a number in (0, 1e+15], got 0"
model_error not_symmetric '16s/0.742, 1.0/0.743, 1.0/' \
  "16:15: market.correlation[2][1]: expected 0.742 as at market.correlation[1][2] (15:20; the matrix must be symmetric), got 0.743"
model_error corr_range '15s/0.813, 1.0, 0.742/0.813, 1.0, 1.742/' \
  "15:20: market.correlation[1][2]: expected a number in [-1, 1], got 1.742"
# (an order error is located at the table, line 31, and names the tier)
model_error tiers_order 's/cap_usd: 812500/cap_usd: 212500/' \
  "31:7: venue.tiers.BTC[1].cap_usd: expected a finite cap above 312500, got 212500"
model_error tiers_mmr 's/mmr: 0.0071/mmr: 0.0031/' "31:7: venue.tiers.BTC[2].mmr: expected a rate in [0.0053, 1), got 0.0031"
model_error duplicate_id 's/id: iso-long/id: hedged-pair/' \
  "45:9: accounts[1].id: expected an id no other account has, got 'hedged-pair' (also accounts[0] at"
model_error unknown_asset_tiers 's/^    ETH:$/    XRP:/' "34:5: venue.tiers.XRP: expected the symbol of an asset (BTC, ETH, SOL), got 'XRP'"
model_error huge_steps 's/^steps: 137/steps: 100000001/' "6:8: steps: expected an integer in [1, 100000000], got 100000001"
model_error huge_seed 's/^seed: 7340117/seed: 18446744073709551616/' \
  "4:7: seed: expected an integer >= 0, got 18446744073709551616 (more than 2^64-1)"
model_error huge_symbol 's/symbol: SOL/symbol: SOLSOLSOLSOLSOLSOLSOLSOLSOLSOLSOL/' \
  "12:16: market.assets[2].symbol: expected a non-empty string of at most 31 characters"

# CSV accounts: the same classes, named by file and line.
mkdir -p "$work/csv"
sed -e '/^accounts:/,$d' "$margin" > "$work/csv/model.yaml"
echo 'accounts_csv: {accounts: acc.csv, positions: pos.csv}' >> "$work/csv/model.yaml"
# csv_error ACC_ROWS POS_ROWS NEEDLE: the files with these rows after their headers are refused.
csv_error() {
  printf 'id,mode,wallet_usd\n%b' "$1" > "$work/csv/acc.csv"
  printf 'account_id,asset,qty,entry,margin_usd\n%b' "$2" > "$work/csv/pos.csv"
  refuse "$3" -- "$xm" check "$work/csv/model.yaml"
  refuse "$3" -- "$xm" run "$work/csv/model.yaml" --paths 5 "${o[@]}"
}
A='a1,cross,1000\na2,isolated,\n'; Pok='a1,BTC,0.01,90000,\na2,ETH,1,3000,300\n'
# the valid pair that each case below changes in one field
printf 'id,mode,wallet_usd\n%b' "$A" > "$work/csv/acc.csv"
printf 'account_id,asset,qty,entry,margin_usd\n%b' "$Pok" > "$work/csv/pos.csv"
"$xm" check "$work/csv/model.yaml" >/dev/null 2>"$work/stderr" && ok || bad "the valid CSV pair: $(cat "$work/stderr")"
csv_error 'a1,cross,ten\na2,isolated,\n' "$Pok" "acc.csv:2: wallet_usd: expected a number in [0, 1e+15] (the wallet of a cross account), got 'ten'"
csv_error 'a1,cross,inf\na2,isolated,\n' "$Pok" "acc.csv:2: wallet_usd: expected a number in [0, 1e+15]"
csv_error 'a1,cross,-1\na2,isolated,\n' "$Pok" "acc.csv:2: wallet_usd: expected a number in [0, 1e+15]"
csv_error 'a1,cross,1e999\na2,isolated,\n' "$Pok" "acc.csv:2: wallet_usd: expected a number in [0, 1e+15]"
csv_error "$A" 'a1,BTC,nan,90000,\na2,ETH,1,3000,300\n' "pos.csv:2: qty: expected a non-zero finite number"
csv_error "$A" 'a1,BTC,0,90000,\na2,ETH,1,3000,300\n' "pos.csv:2: qty: expected a non-zero finite number"
csv_error "$A" 'a1,BTC,0.01,-90000,\na2,ETH,1,3000,300\n' "pos.csv:2: entry: expected a number in [1e-09, 1e+12]"
csv_error "$A" 'a1,BTC,0.01,90000,\na2,ETH,1,3000,0\n' "pos.csv:3: margin_usd: expected a number in (0, 1e+15], got '0'"
csv_error "$A" 'a1,BTC,0.01,90000,\na2,XRP,1,3000,300\n' "pos.csv:3: asset: expected the symbol of an asset (BTC, ETH, SOL), got 'XRP'"
csv_error "$A" 'a1,BTC,0.01,90000,\na3,ETH,1,3000,300\n' "pos.csv:3: account_id: expected the id of an account of"
csv_error 'a1,cross,1000\na1,isolated,\n' "$Pok" "acc.csv:3: id: expected an id no other account has, got 'a1' (also line 2)"
csv_error "a1,cross,1000\na2,isolated,\n$(printf 'x%.0s' $(seq 256)),cross,1\n" "$Pok" \
  "acc.csv:4: id: expected an account id (1 to 255 bytes"
csv_error "$A" 'a1,BTC,100,90000,\na2,ETH,1,3000,300\n' "pos.csv:2: qty: expected |qty| * entry <= 2700000 USD"

echo "test_cli_flags: $pass passed, $failed failed"
[ "$failed" = 0 ]
