#!/usr/bin/env bash
# tests/run.sh - run every test: cmocka unit programs, then the CLI and
# integration scripts. Each program or script runs in its own process with a
# timeout; a script reports one "ok NAME" / "not ok NAME" line per case.
# Ends with "N passed, N failed".
#   SECONDNUM   the binary under test (required)
#   UNIT_DIR    where the unit test programs are
#   TEST_FILTER only scripts whose name contains this
#   CASE_FILTER only cases whose name contains this (every suite reads it; a
#               program or script left with no case is skipped)
set -u
cd "$(dirname "$0")/.."
: "${SECONDNUM:?set SECONDNUM to the binary under test}"
export SECONDNUM="$(cd "$(dirname "$SECONDNUM")" && pwd)/$(basename "$SECONDNUM")"
export TEST_OUT="${TEST_OUT:-$PWD/tests/out}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
mkdir -p "$TEST_OUT"
# the tests' peers (JWK Set, webhook receivers, gateways) are on loopback: a
# proxy from the environment must not stand between them and serve
loopback=127.0.0.1,localhost,::1
export no_proxy="$loopback${no_proxy:+,$no_proxy}" NO_PROXY="$loopback${NO_PROXY:+,$NO_PROXY}"
set_proxies=$(env | sed -n 's/^\([A-Za-z_]*_proxy\|[A-Z_]*_PROXY\)=.*/\1/p' | grep -iv '^no_proxy$' | tr '\n' ' ')
[ -z "$set_proxies" ] || echo "proxy variables set: $set_proxies(loopback excluded)"
passed=0 failed=0 failures=()

for t in "${UNIT_DIR:-build/tests}"/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  log="$TEST_OUT/$name.log"
  timeout 120 "$t" >"$log" 2>&1; rc=$?
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" != 0 ] || [ -z "$p" ]; then
    [ -n "$f" ] || failed=$((failed + 1))
    failures+=("$name"); echo "FAIL $name (see $log)"; tail -20 "$log"
  else
    echo "ok   $name ($p cases)"
  fi
done

for s in tests/cli/test_*.sh tests/integration/test_*.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$s" .sh)
  case "$name" in *"${TEST_FILTER:-}"*) ;; *) continue ;; esac
  log="$TEST_OUT/$name.log"
  timeout "${TEST_TIMEOUT:-900}" bash "$s" >"$log" 2>&1; rc=$?
  p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
  passed=$((passed + p)); failed=$((failed + f))
  if [ -n "${CASE_FILTER:-}" ] && [ "$rc" = 0 ] && [ "$p" = 0 ] && [ "$f" = 0 ]; then
    echo "--   $name (no case matches)"
  elif [ "$rc" != 0 ] || [ "$f" != 0 ] || [ "$p" = 0 ]; then
    [ "$f" != 0 ] || failed=$((failed + 1))
    failures+=("$name"); echo "FAIL $name (exit $rc, see $log)"; grep -A20 '^not ok ' "$log" | head -120
    [ "$f" != 0 ] || tail -20 "$log"
  else
    echo "ok   $name ($p cases)"
  fi
done

[ ${#failures[@]} = 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
