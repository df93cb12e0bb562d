#!/usr/bin/env bash
# tests/integration/browser.sh TEST.mjs - runs one browser test of
# tests/browser (portal.test.mjs, admin.test.mjs) with node, for the
# test_*.sh wrappers that tests/run.sh finds (test_portal.sh,
# test_admin_browser.sh); not a test itself, so not named test_*.
# Makes SECONDNUM absolute (the test runs in tests/browser), sets TEST_OUT
# (default tests/out) and says "not ok setup" with what to install, exit 1,
# when playwright-core (npm ci in tests/browser; make check does) or node is
# missing. The test's own output and exit code are passed through as they are.
test=${1:?usage: browser.sh TEST.mjs}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${SECONDNUM:-}" ]; then
  SECONDNUM="$(cd "$(dirname "$SECONDNUM")" && pwd)/$(basename "$SECONDNUM")"
  export SECONDNUM
fi
export TEST_OUT="${TEST_OUT:-$ROOT/tests/out}"
cd "$ROOT/tests/browser" || exit 1
if [ ! -f node_modules/playwright-core/package.json ]; then
  echo "not ok setup"
  echo "    playwright-core is not installed: run 'npm ci' in tests/browser (make check does)"
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "not ok setup"
  echo "    node is not installed (Debian packages nodejs and npm)"
  exit 1
fi
exec node "$test"
