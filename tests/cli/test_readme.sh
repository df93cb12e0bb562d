# README's command blocks run as printed: the "Using it" and "The HTTP API"
# sections' ```sh blocks, in a fresh directory where build/secondnum is the
# binary under test and the port 8080 a free one (the only change), under
# `bash -e`: a command of the block that fails, or an answer that is not the
# one README shows, fails the case.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# blocks FROM TO : the ```sh blocks between the headings FROM and TO
blocks() {
  awk -v from="$1" -v to="$2" '$0 == from {f=1} $0 == to {f=0} f' "$ROOT/README.md" |
    awk '/^```sh$/ {b=1; next} /^```$/ {b=0; next} b'
}

case_using_it_and_http_api_run_as_printed() {
  local port; port=$(free_port)
  blocks "## Using it" "### PostgreSQL and several nodes" >readme.sh
  for want in "secondnum init" "secondnum import" "--file questions.csv" "KEY=\$(build/secondnum keys create" \
              "secondnum serve" "curl "; do
    grep -qF -- "$want" readme.sh || fail "README's blocks lack '$want': $(cat readme.sh)"
  done
  mkdir build
  printf '#!/bin/sh\nexec "%s" "$@"\n' "$SN" >build/secondnum
  chmod +x build/secondnum
  { echo "trap 'kill \$(jobs -p) 2>/dev/null || true' EXIT"
    sed "s/127\.0\.0\.1:8080/127.0.0.1:$port/g" readme.sh; } >run.sh
  timeout 120 bash -e run.sh >out 2>err || fail "README's block failed: $(tail -5 err)"
  grep -qx "applied 3658, duplicate 0, rejected 0" out || fail "import: $(cat out)"
  grep -qx "reassigned" out || fail "the check README says is reassigned: $(cat out)"
  grep -q '"result":"reassigned"' out || fail "check --json: $(cat out)"
  grep -qx "+8613307690240,2024-05-01,reassigned,.*" out || fail "check --file: $(cat out)"
  grep -q "consistent" out || fail "verify: $(cat out)"
  grep -qx '{"phoneNumberRecycled":true}' out || fail "the CAMARA answer: $(cat out)"
  grep -q "secondnum serve: stopped" err || fail "serve was not stopped by the block: $(cat err)"
}

run_cases
