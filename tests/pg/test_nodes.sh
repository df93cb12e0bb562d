# tests/pg/test_nodes.sh - several `serve` nodes on one PostgreSQL database
# follow each other's writes (src/follow/follower.c): an event posted to
# one node is answered by a check on another within a second (the latency
# is printed), a node killed and restarted while events keep arriving ends
# up answering as the node that took them, and a node whose connections the
# server cut catches up without a restart. Run by tests/pg/run.sh, which
# starts the server (SN_PG_DIR); SECONDNUM is the real binary.
. "$(dirname "$0")/../cli/lib.sh"
: "${SN_PG_DIR:?run by tests/pg/run.sh}"
PGS="$(cd "$(dirname "$0")" && pwd)/pg_server.sh"
LIMIT_MS=1000 # the promise: another node answers within a second
SAN_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'

# newdb: a database of its own for this case, with a carrier owning +86138,
# a carrier key (CKEY) and an app key (AKEY); sets URL and DBNAME.
newdb() {
  DBNAME="nodes_$(printf '%s' "$WORK" | md5sum | cut -c1-16)"
  "$PGS" createdb "$SN_PG_DIR" "$DBNAME"
  URL=$("$PGS" url "$SN_PG_DIR" "$DBNAME")
  export SECONDNUM_KEY="$WORK/pg.key"
  "$SN" init --db "$URL" >/dev/null
  "$SN" carriers add --db "$URL" --name cm --range +86138 >/dev/null
  CKEY=$("$SN" keys create --db "$URL" --role carrier --name feed --carrier cm 2>/dev/null | head -1)
  AKEY=$("$SN" keys create --db "$URL" --role app --name bank 2>/dev/null | head -1)
  [ -n "$CKEY" ] && [ -n "$AKEY" ] || fail "no keys"
  trap 'stop_nodes || exit 1' EXIT # the case runs in a subshell of its own
}

sql() { "$PGS" psql "$SN_PG_DIR" "$DBNAME" -At -c "$1"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# note TEXT: a figure for the log (fd 3 is the script's stdout: run_cases
# keeps a case's own output for when it fails).
note() { echo "# $*" >&3; }

# A node's connections carry its name, so a case can cut them.
appname() { echo "sn_$1_$DBNAME"; }

# start_node NAME: `serve` on a free loopback port (NAME.port, NAME.pid in
# the case's directory, its stderr appended to NAME.err); waits until it
# answers /healthz.
start_node() {
  local name=$1 port pid i t
  for i in 1 2 3; do # the free port may be taken before serve binds it
    port=$(free_port)
    "$SN" serve --db "$URL?application_name=$(appname "$name")" --listen "127.0.0.1:$port" \
      --threads 1 2>>"$WORK/$name.err" &
    pid=$!
    echo "$pid" >"$WORK/$name.pid"
    echo "$port" >"$WORK/$name.port"
    for t in $(seq 300); do
      curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  fail "node $name did not start: $(tail -5 "$WORK/$name.err")"
}

# kill_node NAME [SIGNAL]: stop it (SIGTERM: it must exit 0 within 20 s).
kill_node() {
  local name=$1 sig=${2:-TERM} pid rc=0 i
  pid=$(cat "$WORK/$name.pid")
  kill -"$sig" "$pid" 2>/dev/null || return 0
  if [ "$sig" = TERM ]; then
    for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid"
      fail "node $name did not exit within 20 s of SIGTERM"
    fi
  fi
  wait "$pid" 2>/dev/null || rc=$?
  rm -f "$WORK/$name.pid"
  [ "$sig" != TERM ] || [ "$rc" = 0 ] || fail "node $name exited $rc after SIGTERM"
}

# Every node still running is stopped, and none may have reported a
# sanitizer error.
stop_nodes() {
  local f name rc=0
  for f in "$WORK"/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    kill_node "$name" || rc=1
  done
  for f in "$WORK"/*.err; do
    [ -e "$f" ] || continue
    if grep -Eq "$SAN_RE" "$f"; then
      echo "FAILED: sanitizer report in $f:" >&2
      grep -E -A20 "$SAN_RE" "$f" | head -40 >&2
      rc=1
    fi
  done
  return $rc
}

# api NAME PATH KEY BODY: POST BODY (or @FILE) to node NAME; prints the
# answer body.
api() {
  curl -sS --max-time 20 -H 'Content-Type: application/json' -H "Authorization: Bearer $3" \
    -d "$4" "http://127.0.0.1:$(cat "$WORK/$1.port")$2"
}

# post NAME EVENTS_JSON: the events to node NAME as the carrier; each must
# apply (503, the database out of reach, is retried for 5 s). POSTED_MS is
# when the answer came.
post() {
  local out start
  start=$(now_ms)
  while :; do
    out=$(api "$1" /v1/events "$CKEY" "{\"events\":$2}") || true
    POSTED_MS=$(now_ms)
    case "$out" in *'"UNAVAILABLE"'*) ;; *) break ;; esac
    [ $((POSTED_MS - start)) -lt 5000 ] || break
    sleep 0.1
  done
  case "$out" in *'"rejected":[]'*) ;; *) fail "events to $1: $out" ;; esac
  case "$out" in *'"applied":0,'*) fail "events to $1 applied nothing: $out" ;; esac
}

# await NAME PATH BODY WANT [WITHIN_MS]: ask node NAME (as the app) until
# the answer contains WANT; LATENCY_MS is the time since POSTED_MS. Gives
# up after WITHIN_MS (default 5000), and fails then.
await() {
  local out
  while :; do
    out=$(api "$1" "$2" "$AKEY" "$3") || true
    LATENCY_MS=$(($(now_ms) - POSTED_MS))
    case "$out" in *"$4"*) return 0 ;; esac
    [ "$LATENCY_MS" -lt "${5:-5000}" ] ||
      fail "node $1 still answers $out to $3 after $LATENCY_MS ms (expected $4)"
    sleep 0.005
  done
}

# within_limit WHAT: the last LATENCY_MS is within LIMIT_MS; it is recorded.
within_limit() {
  note "$1: $LATENCY_MS ms"
  echo "$LATENCY_MS" >>"$WORK/latencies"
  [ "$LATENCY_MS" -le "$LIMIT_MS" ] || fail "$1: $LATENCY_MS ms, more than $LIMIT_MS ms"
}

check_body() { echo "{\"number\":\"$1\",\"date\":\"$2\"}"; }
camara_body() { echo "{\"phoneNumber\":\"$1\",\"specifiedDate\":\"$2\"}"; }
event() { echo "{\"number\":\"$1\",\"event\":\"$2\",\"at\":\"$3\"}"; }
num2() { printf '+86138200000%02d' "$1"; }

# An event to A is answered by B within a second: activation, cancellation,
# reissue (native and CAMARA checks), a batch, and the other way round.
case_another_node_answers_within_a_second() {
  newdb
  start_node a
  start_node b
  n=+8613800000001
  post a "[$(event $n activate 2023-01-01)]"
  await b /v1/check "$(check_body $n 2022-12-01)" '"result":"reassigned"' 5000
  within_limit "activation on A, check on B"
  await b /number-recycling/v0.2/check "$(camara_body $n 2023-02-01)" \
    '"phoneNumberRecycled":false'
  post a "[$(event $n cancel 2023-03-01)]"
  await b /v1/check "$(check_body $n 2023-02-01)" '"result":"disconnected"'
  within_limit "cancellation on A, check on B"
  post a "[$(event $n activate 2023-07-01)]" # a reissue, after the 90 days of aging
  await b /number-recycling/v0.2/check "$(camara_body $n 2023-02-01)" \
    '"phoneNumberRecycled":true'
  within_limit "reissue on A, CAMARA check on B"
  events="" items=""
  for i in $(seq 10 59); do
    events="$events${events:+,}$(event +86138000000$i activate 2023-01-01)"
    items="$items${items:+,}$(check_body +86138000000$i 2022-12-01)"
  done
  post a "[$events]"
  await b /v1/check/batch "{\"items\":[$items]}" \
    "{\"results\":[$(echo "$items" | sed 's/}/,"result":"reassigned"}/g')]}"
  within_limit "50 activations on A, batch check on B"
  m=+8613800000002
  post b "[$(event $m activate 2023-01-01)]"
  await a /v1/check "$(check_body $m 2022-12-01)" '"result":"reassigned"'
  within_limit "activation on B, check on A"
  note "worst of $(wc -l <"$WORK/latencies") (limit $LIMIT_MS ms): $(sort -n "$WORK/latencies" | tail -1) ms"
  grep -q "following the store's changes from change" "$WORK/b.err" || fail "no follower on B"
}

# poster STOP: post batches to node A until the file STOP exists: each
# activates 40 new numbers, cancels 20 of the previous batch and reissues 10
# of the one before (so answers for 2023-02-01 are unchanged, disconnected
# or reassigned). The numbers go to numbers.txt, the batches posted to
# batches.txt; exits 1 at a failed POST.
poster() {
  python3 - "$1" "$(cat "$WORK/a.port")" "$CKEY" <<'PY'
import json, os, sys, time, urllib.request
stop, port, key = sys.argv[1], sys.argv[2], sys.argv[3]
def num(i):
    return "+86138%08d" % (10000000 + i)
batch = 0
with open("numbers.txt", "w") as nums:
    while not os.path.exists(stop):
        ev = [{"number": num(batch * 40 + k), "event": "activate", "at": "2023-01-01"}
              for k in range(40)]
        if batch >= 1:
            ev += [{"number": num((batch - 1) * 40 + k), "event": "cancel", "at": "2023-03-01"}
                   for k in range(20)]
        if batch >= 2:
            ev += [{"number": num((batch - 2) * 40 + k), "event": "activate", "at": "2023-07-01"}
                   for k in range(10)]
        req = urllib.request.Request("http://127.0.0.1:%s/v1/events" % port,
                                     json.dumps({"events": ev}).encode(),
                                     {"Content-Type": "application/json",
                                      "Authorization": "Bearer " + key})
        with urllib.request.urlopen(req, timeout=30) as r:
            answer = json.load(r)
        if answer["applied"] != len(ev) or answer["rejected"]:
            print("batch %d: %r" % (batch, answer), file=sys.stderr)
            sys.exit(1)
        for k in range(40):
            nums.write(num(batch * 40 + k) + "\n")
        nums.flush()
        batch += 1
        if batch == 240:  # 9,600 numbers: one batch check asks for all
            break
        time.sleep(0.03)
with open("batches.txt", "w") as f:
    f.write("%d\n" % batch)
PY
}

# same_answers: nodes A and B answer the same batch check for every posted
# number (on the day between activation and cancellation), within 10 s.
same_answers() {
  local start
  { printf '{"items":['
    sed 's/.*/{"number":"&","date":"2023-02-01"}/' numbers.txt | paste -sd, -
    printf ']}'; } >items.json
  api a /v1/check/batch "$AKEY" @items.json >a.json
  for v in unchanged disconnected reassigned; do
    grep -q "\"result\":\"$v\"" a.json || fail "no '$v' answer from A: $(head -c 300 a.json)"
  done
  start=$(now_ms)
  while :; do
    api b /v1/check/batch "$AKEY" @items.json >b.json
    cmp -s a.json b.json && break
    [ $(($(now_ms) - start)) -lt 10000 ] ||
      fail "B answers differently from A: $(cmp a.json b.json)"
    sleep 0.1
  done
  note "$(wc -l <numbers.txt) numbers, the same answers on A and B $(($(now_ms) - start)) ms after the last event"
}

# Node B is killed (SIGKILL) and started again twice while events keep
# arriving at A: it loses nothing committed before, during or after its
# start (its cursor is read before its index is loaded).
case_restarted_node_catches_up() {
  newdb
  start_node a
  start_node b
  poster "$WORK/stop" 2>poster.err &
  feeder=$!
  sleep 1.5
  for round in 1 2 3; do
    kill_node b KILL
    sleep 0.3
    start_node b
    sleep 1
  done
  touch "$WORK/stop"
  wait $feeder || fail "posting to A failed: $(cat poster.err)"
  note "$(cat batches.txt) batches posted to A while B was killed and restarted 3 times"
  same_answers
  grep -q "following the store's changes from change [1-9]" "$WORK/b.err" ||
    fail "B never started with changes behind it: $(grep following "$WORK/b.err")"
}

# The server ends every connection of node B (as a database restart or a
# network cut would): B's follower reconnects, listens again and reads what
# it missed, twice, without a restart; the rest of B recovers too.
case_follower_survives_a_lost_connection() {
  newdb
  start_node a
  start_node b
  pid=$(cat "$WORK/b.pid")
  n=1
  for round in 1 2; do
    post a "[$(event $(num2 $n) activate 2023-01-01)]"
    await b /v1/check "$(check_body $(num2 $n) 2022-12-01)" '"result":"reassigned"'
    cut=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE application_name = '$(appname b)'")
    [ "$cut" -ge 1 ] || fail "no connection of B to cut"
    n=$((n + 1))
    post a "[$(event $(num2 $n) activate 2023-01-01)]"
    await b /v1/check "$(check_body $(num2 $n) 2022-12-01)" '"result":"reassigned"' 10000
    note "cut $round: $cut connections of B ended; B answered the next event $LATENCY_MS ms after A took it"
    n=$((n + 1))
  done
  # and B's own writes work again, seen by A
  post b "[$(event $(num2 $n) activate 2023-01-01)]"
  await a /v1/check "$(check_body $(num2 $n) 2022-12-01)" '"result":"reassigned"'
  expect_eq "B was not restarted" "$pid" "$(cat "$WORK/b.pid")"
  kill -0 "$pid" || fail "B is gone"
  expect_eq "losses logged once per cut" 2 "$(grep -c 'following changes: ' "$WORK/b.err")"
  expect_eq "recoveries logged" 2 "$(grep -c 'following changes again' "$WORK/b.err")"
}

# A batch that changes 64 states of existing numbers or more goes through
# the staging table (src/store/pg/buffer.c): refused by PostgreSQL there, it
# fails whole, the table created in that transaction goes with it, and the
# next such batch on the same connection creates it again; B follows the
# states written from it.
case_staged_states_all_or_nothing_and_followed() {
  newdb
  start_node a
  start_node b
  acts="" cancels="" items=""
  for i in $(seq 100 199); do
    acts="$acts${acts:+,}$(event +8613800000$i activate 2023-01-01)"
    cancels="$cancels${cancels:+,}$(event +8613800000$i cancel 2023-03-01)"
    items="$items${items:+,}$(check_body +8613800000$i 2023-02-01)"
  done
  post a "[$acts]"
  sql "ALTER TABLE numbers ADD CONSTRAINT no_poison CHECK (number <> 8613800000150 OR events < 2)"
  out=$(api a /v1/events "$CKEY" "{\"events\":[$cancels]}") || true
  case "$out" in *'nothing was applied'*) ;; *) fail "the poisoned batch: $out" ;; esac
  expect_eq "events after the refused batch" 100 "$(sql 'SELECT count(*) FROM events')"
  expect_eq "states after the refused batch" "100|100" "$(sql 'SELECT count(*), sum(events) FROM numbers')"
  sql "ALTER TABLE numbers DROP CONSTRAINT no_poison"
  post a "[$cancels]"
  await b /v1/check/batch "{\"items\":[$items]}" \
    "{\"results\":[$(echo "$items" | sed 's/}/,"result":"disconnected"}/g')]}"
  within_limit "100 cancellations through the staging table on A after a refused batch, batch check on B"
  expect_eq "states written" "100|200|100" \
    "$(sql 'SELECT count(*), sum(events), count(DISTINCT seq) FROM numbers')"
}

exec 3>&1
run_cases
