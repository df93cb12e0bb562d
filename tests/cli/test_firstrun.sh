# What a new user meets first: one line for a bad option, init naming the
# rule that differs, keys list without a carrier for app keys, JSON answers
# ending with a newline, and `make demo` (scripts/demo.sh): its port checked
# before any work, its printed commands on the lines they are printed on.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_serve LOG ARGS... : serve in the background ($SERVE_PID), once listening
start_serve() {
  local log=$1; shift
  "$SN" serve "$@" >"$log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 1 200); do
    grep -q "listening on" "$log" && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || { fail "serve exited: $(cat "$log")"; return 1; }
    sleep 0.05
  done
  fail "serve did not start: $(cat "$log")"
}

case_unknown_option_one_line() {
  for c in init import check serve verify gen "keys list" "carriers add" "sms outbox"; do
    # shellcheck disable=SC2086
    expect_exit 2 "$SN" $c --no-such-option
    expect_eq "$c: stderr lines" 1 "$(wc -l <"$WORK/err")"
    grep -q "unknown option '--no-such-option'; see 'secondnum ${c%% *} --help'" "$WORK/err" ||
      fail "$c: $(cat "$WORK/err")"
    # shellcheck disable=SC2086
    expect_exit 2 "$SN" $c -q
    expect_eq "$c -q: stderr lines" 1 "$(wc -l <"$WORK/err")"
  done
  expect_exit 2 "$SN" serve --db
  expect_eq "a missing value: stderr lines" 1 "$(wc -l <"$WORK/err")"
}

case_init_names_the_rule_that_differs() {
  "$SN" init --db t.db --country 86 --min-aging-days 90 --tz +08:00 >/dev/null
  expect_exit 1 "$SN" init --db t.db --min-aging-days 45
  grep -qF "was made with --min-aging-days 90, not 45" "$WORK/err" || fail "$(cat "$WORK/err")"
  if [ -z "${SN_PG_DIR:-}" ]; then
    grep -qF "the store at t.db was made" "$WORK/err" || fail "$(cat "$WORK/err")"
  else
    grep -qF "the store at the --db URL was made" "$WORK/err" || fail "a URL said: $(cat "$WORK/err")"
  fi
  expect_exit 1 "$SN" init --db t.db --country 1
  grep -qF "made with --country 86, not 1" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_exit 1 "$SN" init --db t.db --tz -05:00
  grep -qF "made with --tz +08:00, not -05:00" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_exit 0 "$SN" init --db t.db
  grep -q "already initialised" "$WORK/out" || fail "$(cat "$WORK/out")"
}

case_keys_list_carrier_only_for_carrier_keys() {
  "$SN" init --db t.db >/dev/null
  "$SN" keys create --db t.db --role app --name shop >/dev/null 2>&1
  "$SN" keys create --db t.db --role carrier --name feed --carrier cmcc >/dev/null 2>&1
  "$SN" keys create --db t.db --role admin --name ops >/dev/null 2>&1
  "$SN" keys list --db t.db >list
  expect_eq "header" "id	role	name	carrier	state	rate	daily" "$(head -1 list)"
  expect_eq "app" "-" "$(awk -F'\t' '$3 == "shop" {print $4}' list)"
  expect_eq "carrier" "cmcc" "$(awk -F'\t' '$3 == "feed" {print $4}' list)"
  expect_eq "admin" "-" "$(awk -F'\t' '$3 == "ops" {print $4}' list)"
}

case_json_answers_end_with_a_newline() {
  local port key; port=$(free_port)
  "$SN" init --db t.db >/dev/null
  key=$("$SN" keys create --db t.db --role app --name shop 2>/dev/null)
  start_serve serve.log --db t.db --listen "127.0.0.1:$port" --threads 1
  local u="http://127.0.0.1:$port"
  curl -s -D h1 -o b1 "$u/healthz"
  curl -s -D h2 -o b2 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"number":"+8613800000001","date":"2024-01-01"}' "$u/v1/check"
  curl -s -D h3 -o b3 "$u/v1/check"                                      # 405
  curl -s -D h4 -o b4 -H 'Content-Type: application/json' -d '{}' "$u/v1/check"   # 401
  curl -s -D h5 -o b5 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"phoneNumber":"+8613800000001","specifiedDate":"2024-01-01"}' "$u/number-recycling/v0.2/check"
  curl -s -D h6 -o b6 -H "Authorization: Bearer $key" -H 'Content-Type: text/plain' -d 'x' "$u/v1/check"  # 415
  curl -s -D h7 -o b7 -H "Authorization: Bearer $key" "$u/v1/notices"
  python3 -c 'print("{\"a\":\"" + "x" * 9000000 + "\"}")' >big.json              # 413
  curl -s -D h8 -o b8 -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    --data-binary @big.json "$u/v1/check/batch"
  kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true
  grep -q '^HTTP/1.1 413' h8 || fail "not a 413: $(head -1 h8)"
  for i in 1 2 3 4 5 6 7 8; do
    [ -s "b$i" ] || fail "answer $i is empty"
    expect_eq "answer $i ends with a newline" "0a" "$(tail -c 1 "b$i" | od -An -tx1 | tr -d ' ')"
    expect_eq "answer $i: one line" 1 "$(wc -l <"b$i")"
    expect_eq "answer $i: Content-Length counts it" "$(stat -c %s "b$i")" \
      "$(tr -d '\r' <"h$i" | awk -F': ' 'tolower($1) == "content-length" {print $2}')"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "b$i" || fail "answer $i is not JSON: $(cat "b$i")"
  done
}

case_demo_checks_its_port_before_any_work() {
  local port; port=$(free_port)
  python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); open("held","w").close(); time.sleep(60)' "$port" &
  local holder=$!
  for _ in $(seq 1 100); do [ -e held ] && break; sleep 0.05; done
  [ -e held ] || fail "could not take port $port"
  local got=0
  DEMO_LISTEN="127.0.0.1:$port" timeout 30 bash "$ROOT/scripts/demo.sh" "$SN" >out 2>err || got=$?
  kill "$holder"; wait "$holder" 2>/dev/null || true
  [ "$got" != 0 ] || fail "demo went on with its port taken"
  grep -qF "cannot listen on 127.0.0.1:$port" err || fail "$(cat err)"
  grep -qF "DEMO_LISTEN=127.0.0.1:8081 make demo" err || fail "no way out said: $(cat err)"
  [ ! -e demo ] || fail "demo did work before checking its port: $(ls demo)"
  [ ! -s out ] || fail "demo printed: $(cat out)"
  grep -q "DEMO_LISTEN=127.0.0.1:8081 make demo" "$ROOT/README.md" || fail "README does not say DEMO_LISTEN"
}

case_demo_printed_commands_keep_their_lines_and_work() {
  local port pid; port=$(free_port)
  DEMO_LISTEN="127.0.0.1:$port" bash "$ROOT/scripts/demo.sh" "$SN" >out 2>err &
  pid=$!
  for _ in $(seq 1 1200); do
    grep -q "listening on http://127.0.0.1:$port" err && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "listening on" err || { kill "$pid" 2>/dev/null; fail "demo did not start: $(tail -5 err)"; }
  # the commands printed to try, as a user would paste them
  sed -n '/In another terminal:/,/openapi.yaml/p' out | grep -v "In another terminal" >cmds.sh
  expect_eq "curl commands printed" 11 "$(grep -c '^  curl ' cmds.sh)"
  if grep -n "curl .*curl \|application/json' *-d " cmds.sh; then
    kill "$pid"; fail "printed lines were joined"
  fi
  awk '/\\$/ {getline nxt; if (nxt !~ /^       -d /) {print "bad continuation: " $0; exit 1}}' cmds.sh ||
    { kill "$pid"; fail "a line ending in \\ is not followed by its -d line"; }
  bash -e cmds.sh >answers 2>&1 || { kill "$pid"; fail "the printed commands failed: $(cat answers)"; }
  kill -TERM "$pid"; wait "$pid" || true
  grep -q '"phoneNumberRecycled"' answers || fail "CAMARA: $(head -3 answers)"
  grep -q '"notice_id"\|"notices"' answers || fail "notices: $(cat answers)"
  grep -q '"status":"ok"' answers || fail "healthz: $(cat answers)"
  grep -q '"code"' answers && fail "an error among the answers: $(cat answers)"
  return 0
}

run_cases
