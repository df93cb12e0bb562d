#!/usr/bin/env bash
# Checks that do not name the number in clear (issue 17): number_sm3 next to
# number_sha256 and number_md5 (single and batch, matched against
# `openssl dgst`), and the k-anonymity range check POST /v1/check/range
# (hashed_suite.py).
exec python3 "$(dirname "$0")/hashed_suite.py"
