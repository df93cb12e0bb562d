#!/usr/bin/env bash
# Unbind notices and webhook delivery against `secondnum serve` (webhook_suite.py).
exec python3 "$(dirname "$0")/webhook_suite.py"
