#!/usr/bin/env bash
# Signed receipts of checks (issue 14): native, batch and CAMARA receipts
# verified by python3-nacl and `secondnum receipts verify`, tampering refused,
# rotation, bad flag values, answers unchanged without the flag
# (receipts_suite.py). Needs python3-nacl: the first python3 that imports it
# runs the suite.
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import nacl.signing' 2>/dev/null; then
    exec "$py" "$(dirname "$0")/receipts_suite.py"
  fi
done
echo "not ok setup"
echo "    no python3 with nacl (apt-get install python3-nacl)"
exit 1
