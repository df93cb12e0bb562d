#!/usr/bin/env bash
# The request log and the log level against `secondnum serve`
# (reqlog_suite.py): JSON lines, no numbers, SIGHUP reopening, stderr,
# dropped lines, --log-level.
exec python3 "$(dirname "$0")/reqlog_suite.py"
