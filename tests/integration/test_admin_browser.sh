#!/usr/bin/env bash
# The admin dashboard (/admin/) and the complaint desks in Debian's chromium
# (headless), driven by playwright-core against a real `secondnum serve`
# (tests/browser/admin.test.mjs); a screenshot of each page in
# $TEST_OUT/browser-admin/, its path printed. browser.sh finds node and
# playwright-core and runs it. `make check` installs playwright-core (npm ci
# in tests/browser) and chromium (make deps).
exec bash "$(dirname "$0")/browser.sh" admin.test.mjs
