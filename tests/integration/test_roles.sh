#!/usr/bin/env bash
# Every route x method x caller of the role matrix against `secondnum serve` (roles_suite.py).
exec python3 "$(dirname "$0")/roles_suite.py"
