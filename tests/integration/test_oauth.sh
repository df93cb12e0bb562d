#!/usr/bin/env bash
# OAuth 2.0 access tokens (issue 17): JWTs minted with PyJWT, a JWK Set file
# and a JWK Set URL with key rotation, scopes, three-legged tokens, clients
# mapped to apps (oauth_suite.py). Needs python3-jwt and python3-cryptography:
# the first python3 that imports them runs the suite.
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import jwt, cryptography' 2>/dev/null; then
    exec "$py" "$(dirname "$0")/oauth_suite.py"
  fi
done
echo "not ok setup"
echo "    no python3 with jwt and cryptography (apt-get install python3-jwt python3-cryptography)"
exit 1
