#!/usr/bin/env bash
# Secrets at rest against `secondnum serve` (secrets_suite.py): the store's
# file modes, sealed webhook secrets, sign-in code texts erased.
exec python3 "$(dirname "$0")/secrets_suite.py"
