# tests/cli/lib.sh - helpers for the CLI test scripts.
# A script defines functions named case_*; `run_cases` runs each in a fresh
# temporary directory and prints "ok NAME" or "not ok NAME" with the reason.
# CASE_FILTER: only the cases whose name contains it (as every suite).
set -u
SN="${SECONDNUM:?SECONDNUM must point at the binary under test}"

fail() { echo "FAILED: $*" >&2; return 1; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }

# expect_exit CODE CMD... : run CMD, expect its exit status
expect_exit() {
  local want=$1; shift
  local got=0
  "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
  [ "$got" = "$want" ] || fail "exit of '$*': expected $want, got $got; stderr: $(head -5 "$WORK/err")"
}

# verdict DB NUMBER DATE : the first line of `check`
verdict() { "$SN" check --db "$1" "$2" "$3" | head -1; }

# feed FILE LINES... : write a feed file with the standard header
feed() { local f=$1; shift; { echo "number,event,at,event_id"; printf '%s\n' "$@"; } >"$f"; }

run_cases() {
  local name rc
  for name in $(declare -F | awk '{print $3}' | grep '^case_'); do
    case "${name#case_}" in *"${CASE_FILTER:-}"*) ;; *) continue ;; esac
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sn-test.XXXXXX")
    ( cd "$WORK" || exit 1; set -e; "$name" ) >"$WORK/case.log" 2>&1; rc=$?
    if [ "$rc" = 0 ]; then echo "ok ${name#case_}"; else
      echo "not ok ${name#case_}"; sed 's/^/    /' "$WORK/case.log" | tail -15; fi
    rm -rf "$WORK"
  done
}
