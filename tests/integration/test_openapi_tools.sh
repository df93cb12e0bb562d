#!/usr/bin/env bash
# The OpenAPI document as SDK tools see it: the document a running `secondnum
# serve` serves at /openapi.yaml is valid for @apidevtools/swagger-parser and
# has no error for `redocly lint`, and a client generated from it with
# openapi-typescript-codegen (compiled with tsc) calls the CAMARA v0.3,
# v0.3rc1 and v0.2 checks and the native /v1/check of that server
# (tests/openapi/call.ts). The npm packages are pinned by
# tests/openapi/package-lock.json; `make test` installs them (npm ci). Without
# tests/openapi/node_modules the script says so and skips.
. "$(dirname "$0")/../cli/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS="$ROOT/tests/openapi"
SAME=+8613800000001 # activated 2023-10-09, still held
NEW=+8613800000002  # activated 2023-10-09, cancelled 2024-02-25, reissued 2024-09-21
OUTSIDE=+12025550123

if [ ! -d "$TOOLS/node_modules" ]; then
  echo "ok openapi_tools # SKIP tests/openapi/node_modules is absent: run 'npm ci' in tests/openapi (make test does)"
  exit 0
fi
command -v node >/dev/null 2>&1 || { echo "not ok setup"; echo "    node is not installed"; exit 1; }

# One server for every case, on a store with two numbers of carrier cmcc.
SRV=$(mktemp -d "${TMPDIR:-/tmp}/sn-openapi-tools.XXXXXX")
PID=
stop_server() { [ -z "$PID" ] || kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$SRV"; }
trap stop_server EXIT
start_server() {
  local db="$SRV/t.db" port up=0
  "$SN" init --db "$db" >/dev/null &&
    "$SN" carriers add --db "$db" --name cmcc --range +86138 >/dev/null &&
    printf '%s\n' number,event,at "$SAME,activate,2023-10-09T10:00:00+08:00" \
      "$NEW,activate,2023-10-09T10:00:00+08:00" "$NEW,cancel,2024-02-25T10:00:00+08:00" \
      "$NEW,activate,2024-09-21T10:00:00+08:00" >"$SRV/feed.csv" &&
    "$SN" import --db "$db" --carrier cmcc "$SRV/feed.csv" >/dev/null &&
    APP_KEY=$("$SN" keys create --db "$db" --role app --name openapi-tools 2>/dev/null | head -1) ||
    return 1
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$SN" serve --db "$db" --listen "127.0.0.1:$port" --threads 1 2>"$SRV/serve.log" &
  PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  [ $up = 1 ] || { tail -5 "$SRV/serve.log"; return 1; }
  BASE="http://127.0.0.1:$port"
  curl -sf -o "$SRV/served.yaml" "$BASE/openapi.yaml"
}
if ! start_server; then
  echo "not ok setup"
  echo "    could not start secondnum serve"
  exit 1
fi
export APP_KEY BASE SAME NEW OUTSIDE

case_served_document_is_valid_for_swagger_parser() {
  node "$TOOLS/validate.cjs" "$SRV/served.yaml" || fail "swagger-parser rejects the served document"
}

case_served_document_has_no_redocly_error() {
  (cd "$TOOLS" && node_modules/.bin/redocly lint --format=stylish "$SRV/served.yaml") >lint.txt 2>&1 ||
    { cat lint.txt; fail "redocly lint finds errors in the served document"; }
  grep -c 'warning' lint.txt || true
}

case_generated_client_calls_camara_v03_and_native_checks() {
  mkdir app
  cp "$TOOLS/call.ts" "$TOOLS/tsconfig.json" app/
  node "$TOOLS/node_modules/openapi-typescript-codegen/bin/index.js" --input "$SRV/served.yaml" \
    --output app/client --client fetch || fail "openapi-typescript-codegen failed"
  grep -q "checkNumberRecyclingV03Rc1" app/client/services/CamaraService.ts ||
    fail "no v0.3rc1 operation in the generated client"
  (cd app && node "$TOOLS/node_modules/typescript/bin/tsc" -p tsconfig.json) ||
    fail "the generated client does not compile"
  node app/build/call.js || fail "the generated client's calls failed"
}

run_cases
