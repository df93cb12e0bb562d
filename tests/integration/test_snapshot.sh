#!/usr/bin/env bash
# The index snapshot: restart from it and replay, kill -9 while it is written,
# damaged, truncated, foreign and restored-store snapshots (snapshot_suite.py).
exec python3 "$(dirname "$0")/snapshot_suite.py"
