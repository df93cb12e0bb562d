#!/usr/bin/env bash
# The subscriber web portal in Debian's chromium (headless), driven by
# playwright-core through the whole flow against a real `secondnum serve`
# (tests/browser/portal.test.mjs); screenshots of each step in
# $TEST_OUT/browser/. browser.sh finds node and playwright-core and runs it.
# `make check` installs playwright-core (npm ci in tests/browser) and
# chromium (make deps).
exec bash "$(dirname "$0")/browser.sh" portal.test.mjs
