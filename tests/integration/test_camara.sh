#!/usr/bin/env bash
# CAMARA Number Recycling v0.2 scenarios against `secondnum serve` (camara_suite.py).
exec python3 "$(dirname "$0")/camara_suite.py"
