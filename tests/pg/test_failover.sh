#!/usr/bin/env bash
# Several serve nodes on one PostgreSQL when a node or the database fails
# (failover_suite.py). Run by tests/pg/run.sh; SECONDNUM is the real binary.
exec python3 "$(dirname "$0")/failover_suite.py"
