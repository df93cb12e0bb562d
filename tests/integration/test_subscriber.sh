#!/usr/bin/env bash
# Subscriber self-service of issue 5 (sign-in by SMS code and ID digits,
# sessions, the bindings view, unbind requests, complaints and escalation,
# report by SMS, the checklist, the CAMARA check with a session, the SMS
# drivers, every abuse case) against `secondnum serve` (subscriber_suite.py).
exec python3 "$(dirname "$0")/subscriber_suite.py"
