#!/usr/bin/env bash
# The serving index against the store after a random stream of events, and
# again after a restart (index_suite.py).
exec python3 "$(dirname "$0")/index_suite.py"
