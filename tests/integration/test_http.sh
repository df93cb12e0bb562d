#!/usr/bin/env bash
# Every endpoint and error of docs/http-api.md against `secondnum serve` (http_suite.py).
exec python3 "$(dirname "$0")/http_suite.py"
