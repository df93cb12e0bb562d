#!/usr/bin/env bash
# The published CAMARA test definitions (tests/camara/*/number-recycling.feature)
# run by tests/camara/runner.py against `secondnum serve`, each version at its
# own paths: v0.2.0 at /number-recycling/v0.2/check, v0.3.0-rc.1 at
# /number-recycling/v0.3rc1/check and /number-recycling/v0.3/check. One
# "ok"/"not ok" line per scenario run; any not ok fails. Then the runner's own
# check (runner_catches_failures): on tests/camara/selftest it must pass the
# one good scenario and fail every other.
#   SECONDNUM    the binary under test (required)
#   CASE_FILTER  only the scenarios whose tag or name contains this
set -u
here=$(cd "$(dirname "$0")" && pwd)
camara="$here/../camara"
# the runner needs only the standard library; its tokens need python3-jwt
py=python3
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import jwt, cryptography' 2>/dev/null; then py=$p; break; fi
done
rc=0
"$py" "$camara/runner.py" "$camara/v0.2.0/number-recycling.feature" \
  /number-recycling/v0.2/check || rc=1
"$py" "$camara/runner.py" "$camara/v0.3.0-rc.1/number-recycling.feature" \
  /number-recycling/v0.3rc1/check /number-recycling/v0.3/check || rc=1

case "runner_catches_failures" in *"${CASE_FILTER:-}"*) ;; *) exit $rc ;; esac
out=$(CASE_FILTER= "$py" "$camara/runner.py" --spec "$camara/v0.2.0/number-recycling.yaml" \
  "$camara/selftest/runner-selftest.feature" /number-recycling/v0.2/check 2>&1)
src=$?
# every scenario fails but selftest_passes and the outline's first row; the
# outline's two rows are two runs
want_bad=$(grep -c '^ *@selftest_' "$camara/selftest/runner-selftest.feature")
want_bad=$((want_bad - 1))
good=$(printf '%s\n' "$out" | grep -c -e '^ok selftest selftest_passes ' \
  -e '^ok selftest selftest_outline .*\[false\]$')
oks=$(printf '%s\n' "$out" | grep -c '^ok ')
bad=$(printf '%s\n' "$out" | grep -c '^not ok selftest selftest_')
if [ "$src" = 1 ] && [ "$good" = 2 ] && [ "$oks" = 2 ] && [ "$bad" = "$want_bad" ] &&
  printf '%s\n' "$out" | grep -q 'undefined step: the moon is full'; then
  echo "ok runner_catches_failures"
else
  echo "not ok runner_catches_failures (exit $src, $oks ok, $bad of $want_bad not ok)"
  printf '%s\n' "$out" | sed 's/^/    /'
  rc=1
fi
exit $rc
