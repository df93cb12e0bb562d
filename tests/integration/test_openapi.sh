# docs/openapi.yaml: it parses, it documents exactly the routes of
# src/http/routes.c (both ways), and `GET /openapi.yaml` serves it byte for
# byte. Needs only sed/awk/comm, curl and python3 (for a free port); the YAML
# parse uses PyYAML or Ruby when present and a structural check otherwise.
. "$(dirname "$0")/../cli/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOC="$ROOT/docs/openapi.yaml"
ROUTES="$ROOT/src/http/routes.c"

# "METHOD /path" for each line `    {"METHOD", "/path", ...` of the route table.
routes_in_code() {
  sed -n 's/^    {"\([A-Z]*\)", "\([^"]*\)".*/\1 \2/p' "$ROUTES" | sort -u
}

# "METHOD /path" for each operation: path keys at two spaces under `paths:`,
# method keys at four spaces under a path.
routes_in_doc() {
  awk '/^paths:/ { in_paths = 1; next }
       in_paths && /^[^ #]/ { in_paths = 0 }
       !in_paths { next }
       /^  ["'"'"']?\/[^ ]*["'"'"']?:[ ]*$/ {
         path = $1; sub(/:$/, "", path); gsub(/["'"'"']/, "", path); next }
       /^    (get|put|post|delete|options|head|patch|trace):/ {
         m = $1; sub(/:.*$/, "", m); print toupper(m), path }' "$DOC" | sort -u
}

case_document_parses_as_yaml() {
  [ -s "$DOC" ] || fail "docs/openapi.yaml is missing or empty"
  if python3 -c 'import yaml' 2>/dev/null; then
    python3 - "$DOC" <<'EOF' || fail "docs/openapi.yaml does not parse (PyYAML)"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert isinstance(d, dict), "not a mapping"
assert str(d.get("openapi")) == "3.0.3", "openapi is not 3.0.3"
assert isinstance(d.get("paths"), dict) and d["paths"], "no paths"
assert isinstance(d.get("info"), dict) and d["info"].get("title"), "no info.title"
EOF
    echo "parsed with PyYAML"
  elif command -v ruby >/dev/null 2>&1; then
    ruby -ryaml -e 'd = YAML.load_file(ARGV[0]); raise "no paths" unless d.is_a?(Hash) && d["paths"].is_a?(Hash)' \
      "$DOC" || fail "docs/openapi.yaml does not parse (Ruby)"
    echo "parsed with Ruby"
  else # no YAML parser: the structural rules this document keeps
    if grep -q "$(printf '\t')" "$DOC"; then fail "tab characters in docs/openapi.yaml"; fi
    awk '{ match($0, /^ */) } RLENGTH % 2 { print NR ": " $0; bad = 1 } END { exit bad }' "$DOC" ||
      fail "odd indentation in docs/openapi.yaml"
    for key in openapi info paths components; do
      grep -q "^$key:" "$DOC" || fail "no top-level '$key:' in docs/openapi.yaml"
    done
    grep -qx "openapi: 3.0.3" "$DOC" || fail "openapi is not 3.0.3"
    echo "no YAML parser here; structural check only"
  fi
}

case_documented_operations_are_the_routes() {
  [ -f "$ROUTES" ] || fail "no route table at src/http/routes.c"
  routes_in_code >code.txt
  routes_in_doc >doc.txt
  [ "$(wc -l <code.txt)" -ge 10 ] || fail "parsed only $(wc -l <code.txt) routes from routes.c"
  [ "$(wc -l <doc.txt)" -ge 10 ] || fail "parsed only $(wc -l <doc.txt) operations from docs/openapi.yaml"
  comm -23 code.txt doc.txt >undocumented.txt
  comm -13 code.txt doc.txt >unrouted.txt
  sed 's/^/  routed, not documented: /' undocumented.txt
  sed 's/^/  documented, not routed: /' unrouted.txt
  [ ! -s undocumented.txt ] && [ ! -s unrouted.txt ] ||
    fail "src/http/routes.c and docs/openapi.yaml differ"
}

case_served_document_is_the_repository_document() {
  "$SN" init --db t.db >/dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$SN" serve --db t.db --listen "127.0.0.1:$port" --threads 1 2>serve.log &
  pid=$!
  trap 'kill -TERM $pid 2>/dev/null' EXIT
  up=0
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { up=1; break; }
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  [ $up = 1 ] || fail "server not up within 10 s: $(tail -5 serve.log)"
  curl -sf -D headers.txt -o served.yaml "http://127.0.0.1:$port/openapi.yaml" ||
    fail "GET /openapi.yaml failed"
  kill -TERM $pid
  trap - EXIT
  wait $pid || fail "serve did not exit 0 on SIGTERM: $(tail -5 serve.log)"
  cmp served.yaml "$DOC" ||
    fail "the served document differs from docs/openapi.yaml (rebuild? it is embedded at build time)"
  grep -qi '^content-type: application/yaml' headers.txt ||
    fail "content type: $(grep -i '^content-type' headers.txt)"
}

run_cases
