#!/usr/bin/env bash
# The admin dashboard (/admin/) and the complaint desks in Debian's chromium
# (headless), driven by playwright-core against a real `secondnum serve`
# (tests/browser/admin.test.mjs); a screenshot of each page in
# $TEST_OUT/browser-admin/, its path printed. `make check` installs playwright-core (npm ci in
# tests/browser) and chromium (make deps).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
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
exec node admin.test.mjs
