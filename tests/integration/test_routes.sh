# The OpenAPI document and the server agree: every route in src/http/routes.c
# is in docs/openapi.yaml and every operation there is a route, both ways;
# and the running server serves the document byte for byte.
. "$(dirname "$0")/../cli/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

routes_in_code() {
  sed -n 's/^    {"\([A-Z]*\)", "\([^"]*\)".*/\1 \2/p' "$ROOT/src/http/routes.c" | sort
}

routes_in_doc() { # path keys at two spaces, method keys at four, under paths:
  awk '/^paths:/ {in_paths = 1; next}
       in_paths && /^[^ ]/ {in_paths = 0}
       in_paths && /^  \/[^ ]*:$/ {path = $1; sub(/:$/, "", path)}
       in_paths && /^    (get|post|put|delete|patch):/ {m = $1; sub(/:$/, "", m); print toupper(m), path}' \
      "$ROOT/docs/openapi.yaml" | sort
}

case_every_route_is_documented_and_every_operation_routed() {
  routes_in_code >code.txt
  routes_in_doc >doc.txt
  [ "$(wc -l <code.txt)" -ge 10 ] || fail "parsed only $(wc -l <code.txt) routes from routes.c"
  diff code.txt doc.txt || fail "routes.c and docs/openapi.yaml differ (< code, > doc)"
}

case_served_document_is_the_repository_document() {
  "$SN" init --db t.db >/dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$SN" serve --db t.db --listen 127.0.0.1:$port --threads 1 2>serve.log &
  pid=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
  curl -sf -D headers.txt -o served.yaml http://127.0.0.1:$port/openapi.yaml || { kill $pid; fail "GET /openapi.yaml failed"; }
  kill -TERM $pid
  wait $pid || fail "serve did not exit 0 on SIGTERM"
  cmp -s served.yaml "$ROOT/docs/openapi.yaml" || fail "served document differs from docs/openapi.yaml"
  grep -qi '^content-type: application/yaml' headers.txt || fail "content type: $(cat headers.txt)"
}

run_cases
