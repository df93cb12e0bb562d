#!/usr/bin/env bash
# CAMARA Number Recycling v0.3 paths against `secondnum serve` (camara3_suite.py).
exec python3 "$(dirname "$0")/camara3_suite.py"
