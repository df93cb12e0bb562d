#!/usr/bin/env bash
# Bindings, notices, acks, the reissue guard, webhooks (real receiver on
# loopback), subscriptions, disconnections, admin views and tenant isolation
# of issue 4 against `secondnum serve` (notices_suite.py).
exec python3 "$(dirname "$0")/notices_suite.py"
