#!/usr/bin/env bash
# Prometheus metrics (issue 18): Debian's prometheus scrapes serve's
# --metrics-listen address and the counts of checks and events read back
# through its query API; /metrics needs an admin key on the API's address;
# the format parses (promtool too); no phone number in it (metrics_suite.py).
exec python3 "$(dirname "$0")/metrics_suite.py"
