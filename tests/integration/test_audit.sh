#!/usr/bin/env bash
# The audit trail and the usage per app against `secondnum serve` (audit_suite.py).
exec python3 "$(dirname "$0")/audit_suite.py"
