# tests/lib.sh — helpers shared by the command-line test scripts (sourced, not run).
# Sets $work (a temporary directory removed on exit) and the counters; the script ends with
#   echo "$pass passed, $failed failed"; [ "$failed" = 0 ]
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
pass=0; failed=0

ok()  { pass=$((pass + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect CODE NEEDLE -- CMD...: exit status CODE; NEEDLE in standard output when CODE is 0,
# else in standard error, which must then be exactly one line.
expect() {
  local code=$1 needle=$2; shift 3
  local out err rc hay
  out=$("$@" 2>"$work/stderr"); rc=$?; err=$(cat "$work/stderr")
  if [ "$rc" != "$code" ]; then bad "$* -> exit $rc, expected $code ($err)"; return; fi
  if [ "$code" = 0 ]; then hay=$out; else hay=$err; fi
  case "$hay" in *"$needle"*) ok ;; *) bad "$* -> '$needle' not in: $hay" ;; esac
  if [ "$code" != 0 ] && [ "$(printf '%s\n' "$err" | grep -c .)" != 1 ]; then
    bad "$* -> error is not one line: $err"; fi
}

# summary.json without its timing line (threads, elapsed_s, paths_per_s).
strip() { grep -v '"elapsed_s"' "$1"; }
