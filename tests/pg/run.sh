#!/usr/bin/env bash
# tests/pg/run.sh - the CLI and integration suites again, on PostgreSQL, then
# the PostgreSQL backend's own cases (tests/pg/test_*.sh).
#
# Starts a private server (pg_server.sh) in a temporary directory, runs
# tests/run.sh with SECONDNUM set to sn_pg.sh (every --db PATH becomes a
# database of its own) and tests/pg/bin first on PATH (its sqlite3 answers
# the suites' look-ups from that database), then removes the server.
#   SECONDNUM    the binary under test (required)
#   TEST_FILTER  only scripts whose name contains this (as tests/run.sh)
# Ends with "N passed, N failed" for both parts.
set -u
cd "$(dirname "$0")/../.."
: "${SECONDNUM:?set SECONDNUM to the binary under test}"
real="$(cd "$(dirname "$SECONDNUM")" && pwd)/$(basename "$SECONDNUM")"
dir=$(mktemp -d -u "${TMPDIR:-/tmp}/sn-pg.XXXXXX")
trap 'tests/pg/pg_server.sh stop "$dir"' EXIT
url=$(tests/pg/pg_server.sh start "$dir") || exit 1
echo "PostgreSQL test server in $dir"
export SN_TEST_DB_URL="$url" SN_PG_DIR="$dir" SN_PG_REAL="$real"
export PATH="$PWD/tests/pg/bin:$PATH"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TEST_OUT="${TEST_OUT:-$PWD/tests/out}/pg"
mkdir -p "$TEST_OUT"

SECONDNUM="$PWD/tests/pg/sn_pg.sh" UNIT_DIR=/nonexistent tests/run.sh; shared=$?

passed=0 failed=0
for s in tests/pg/test_*.sh; do
  name=$(basename "$s" .sh)
  case "$name" in *"${TEST_FILTER:-}"*) ;; *) continue ;; esac
  log="$TEST_OUT/$name.log"
  SECONDNUM="$real" timeout "${TEST_TIMEOUT:-900}" bash "$s" >"$log" 2>&1; rc=$?
  p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" != 0 ] || [ "$f" != 0 ] || [ "$p" = 0 ]; then
    [ "$f" != 0 ] || failed=$((failed + 1))
    echo "FAIL $name (exit $rc, see $log)"; grep -A8 '^not ok ' "$log" | head -60
    [ "$f" != 0 ] || tail -20 "$log"
  else
    echo "ok   $name ($p cases)"
  fi
done
echo "PostgreSQL backend cases: $passed passed, $failed failed"
[ "$shared" = 0 ] && [ "$failed" = 0 ]
