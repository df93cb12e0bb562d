#!/usr/bin/env bash
# A check node following a hot-standby replica (serve --follow), on a real
# primary and streaming standby (standby_suite.py). Run by tests/pg/run.sh;
# SECONDNUM is the real binary.
exec python3 "$(dirname "$0")/standby_suite.py"
