#!/usr/bin/env bash
# The server's connections: framing, the head before the body, lingering
# close, the open-files limit and --max-connections (conn_suite.py).
exec python3 "$(dirname "$0")/conn_suite.py"
