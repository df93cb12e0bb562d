#!/usr/bin/env bash
# The dashboard's JSON (GET /v1/admin/stats/...) of issue 14 against
# `secondnum serve`, with seeded figures (dashboard_suite.py).
exec python3 "$(dirname "$0")/dashboard_suite.py"
