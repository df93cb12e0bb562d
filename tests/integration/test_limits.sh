#!/usr/bin/env bash
# Per-key limits on checks (issue 13): numbers a second and a day per API
# key, the 429 with Retry-After on every check route, the flags of `keys
# create` and `serve`, the admin API's fields (limits_suite.py).
exec python3 "$(dirname "$0")/limits_suite.py"
