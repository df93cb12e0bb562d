#!/usr/bin/env bash
# bench/pg.sh - the SQLite store against the PostgreSQL store, side by side
# in one run on one machine, with nginx as the HTTP baseline of the same run.
#
#   bench/pg.sh                                    1,000,000 numbers, 10 s wrk runs
#   BENCH_NUMBERS=20000 BENCH_SECONDS=2 bench/pg.sh   a smoke run (about a minute)
#   BENCH_PG=socket bench/pg.sh                    PostgreSQL over its unix socket
#                                                  (default: TCP on 127.0.0.1, as a
#                                                  node on another machine would)
#   BENCH_THREADS=2 bench/pg.sh                    event-loop threads per node (default 1)
#   BENCH_SECONDNUM=path/secondnum bench/pg.sh     that binary instead of building
#                                                  build/rel (an older build, for a
#                                                  before/after in one session)
#
# One feed ('secondnum gen --numbers BENCH_NUMBERS --seed 1') goes into both
# stores, so both hold the same numbers. PostgreSQL is a private server
# (tests/pg/pg_server.sh) in a temporary directory, stopped and removed when
# the script exits, also on an error or Ctrl-C. Steps:
#  1. bulk import: 'secondnum import' of the feed into a new SQLite file and
#     into the new PostgreSQL database, each under /usr/bin/time (elapsed
#     seconds, peak RSS); events/s = feed lines / elapsed.
#  2. one 'secondnum serve --threads BENCH_THREADS' per store; the seconds the
#     index took to load and the node's RSS afterwards.
#  3. CAMARA check, wrk -t1 -c64 keep-alive (bench/http/camara.lua, a number
#     of the store, an app key of that store): nginx (one worker, a fixed
#     JSON), SQLite node, PostgreSQL node, then all three again; the better
#     run of each and the ratio to nginx.
#  4. events over HTTP, wrk -t1 -c8 (bench/http/events.lua): 1000 new
#     activations per request in a range gen never uses, committed before the
#     answer; SQLite, PostgreSQL, twice, the better run of each. /healthz of
#     the node must grow by the events of the answered requests.
#  5. a second serve node on the same PostgreSQL database (the SQLite node
#     is stopped first: two nodes and two wrk share the cores); one wrk -c64
#     per node at the same time; the sum. Whether node B sees an event posted
#     to node A is printed for information. Every node must exit 0 on SIGTERM.
#  6. one CLI check ('secondnum check --db', a process start, the store
#     opened, one lookup) under hyperfine on each store.
# Any wrk socket error, non-2xx answer (wrk's "Non-2xx" line), failed
# command or crashed server fails the run with a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NUMBERS=${BENCH_NUMBERS:-1000000}
DURATION=${BENCH_SECONDS:-10}
THREADS=${BENCH_THREADS:-1}
PG_MODE=${BENCH_PG:-tcp}
case "$PG_MODE" in tcp | socket) ;; *) echo "bench/pg.sh: BENCH_PG must be tcp or socket" >&2; exit 2 ;; esac
[[ "$NUMBERS" =~ ^[0-9]+$ ]] && [ "$NUMBERS" -ge 2000 ] ||
  { echo "bench/pg.sh: BENCH_NUMBERS must be a number >= 2000" >&2; exit 2; }
[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 1 ] ||
  { echo "bench/pg.sh: BENCH_SECONDS must be a whole number >= 1" >&2; exit 2; }

WORK=$(mktemp -d /tmp/sn-benchpg.XXXXXX)
# pg_server.sh wants a directory of its own that the server's user can reach.
PGDIR=$(mktemp -d -u /tmp/sn-benchpg-db.XXXXXX)
PG_STARTED=
PIDS=() # background processes of this script (nginx, serve nodes, wrk)
cleanup() {
  local p running
  # Only those still running as this shell's jobs: a reaped id may be reused.
  running=" $(jobs -pr | tr '\n' ' ') "
  for p in "${PIDS[@]}"; do
    [[ "$running" == *" $p "* ]] && kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "$PG_STARTED" ] || tests/pg/pg_server.sh stop "$PGDIR" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "bench/pg.sh: $*" >&2; exit 1; }
trap 'echo "bench/pg.sh: line $LINENO: a command failed (status $?)" >&2' ERR

for tool in wrk hyperfine curl python3 /usr/bin/time /usr/sbin/nginx; do
  command -v "$tool" >/dev/null || fail "$tool is missing (make deps installs it)"
done

if [ -n "${BENCH_SECONDNUM:-}" ]; then
  SN=$(cd "$(dirname "$BENCH_SECONDNUM")" && pwd)/$(basename "$BENCH_SECONDNUM")
else
  make -s -j2 BUILD=build/rel build/rel/secondnum
  SN=$ROOT/build/rel/secondnum
fi
# One deployment secret for every store and node (id6 hashes in the feed).
export SECONDNUM_KEY=$WORK/secret.key

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() { # URL PID: up to 300 s for the first answer (a big index loads first)
  local i
  for i in $(seq 1 1500); do
    curl -sf -o /dev/null --max-time 2 "$1" && return 0
    [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || fail "the server for $1 exited"
    sleep 0.2
  done
  fail "no answer from $1"
}
healthz_numbers() { # URL -> the count of numbers in the node's index
  local body
  body=$(curl -sf --max-time 5 "$1/healthz") || return 1
  echo "$body" | sed -n 's/.*"numbers": *\([0-9]*\).*/\1/p' | grep .
}

# ---- PostgreSQL ----------------------------------------------------------------
echo "starting PostgreSQL in $PGDIR"
PG_STARTED=1
TCP_URL=$(tests/pg/pg_server.sh start "$PGDIR") || fail "pg_server.sh start failed"
if [ "$PG_MODE" = socket ]; then
  PG_URL=$(tests/pg/pg_server.sh socket-url "$PGDIR")
else
  # The password goes in a passfile, not in the URL (which 'ps' shows).
  PG_URL=$(echo "$TCP_URL" | sed 's|^\(postgres[a-z]*://[^:/@]*\):[^@]*@|\1@|')
  hostport=$(echo "$PG_URL" | sed 's|^[a-z]*://[^@]*@\([^/]*\)/.*|\1|')
  (umask 077; echo "${hostport%:*}:${hostport##*:}:*:secondnum:$(cat "$PGDIR/password")" >"$WORK/pgpass")
  export PGPASSFILE=$WORK/pgpass
fi
PG_VERSION=$(tests/pg/pg_server.sh psql "$PGDIR" secondnum -At -c 'SHOW server_version' | awk '{print $1}')

# ---- 1. the feed and the bulk imports ----------------------------------------
echo "generating $NUMBERS numbers (gen --seed 1)"
"$SN" gen --numbers "$NUMBERS" --seed 1 >"$WORK/feed.csv"
EVENTS_IN_FEED=$(($(wc -l <"$WORK/feed.csv") - 1))
SQ_DB=$WORK/sn.db

import_timed() { # NAME DB -> IMP_S IMP_RSS_MB IMP_RATE
  local name=$1 db=$2 out
  out=$WORK/import-$name
  /usr/bin/time -f '%e %M' -o "$out.time" "$SN" import --create --db "$db" "$WORK/feed.csv" \
    >"$out.out" 2>"$out.err" || { cat "$out.err" >&2; fail "import into $name failed"; }
  grep -q "applied $EVENTS_IN_FEED, duplicate 0, rejected 0" "$out.out" ||
    { cat "$out.out" "$out.err" >&2; fail "import into $name: expected $EVENTS_IN_FEED applied"; }
  read -r IMP_S IMP_RSS_MB < <(awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$out.time")
  IMP_RATE=$(awk -v n="$EVENTS_IN_FEED" -v s="$IMP_S" 'BEGIN {printf "%.0f", n / (s > 0 ? s : 0.01)}')
  printf '  %-10s %8.2f s %12s events/s   peak RSS %6s MB\n' "$name" "$IMP_S" "$IMP_RATE" "$IMP_RSS_MB"
}
echo "bulk import of $EVENTS_IN_FEED events (secondnum import, /usr/bin/time):"
import_timed sqlite "$SQ_DB"; SQ_IMP_S=$IMP_S SQ_IMP_RSS=$IMP_RSS_MB SQ_IMP=$IMP_RATE
import_timed postgres "$PG_URL"; PG_IMP_S=$IMP_S PG_IMP_RSS=$IMP_RSS_MB PG_IMP=$IMP_RATE
# Size on disk after the import: the SQLite file and its WAL; the store's
# tables with their indexes and TOAST (not the catalogs, not the server's WAL).
SQ_BYTES=0
for f in "$SQ_DB" "$SQ_DB-wal"; do [ ! -f "$f" ] || SQ_BYTES=$((SQ_BYTES + $(stat -c %s "$f"))); done
PG_BYTES=$(tests/pg/pg_server.sh psql "$PGDIR" secondnum -At -c \
  "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r' AND n.nspname = current_schema()")

# A range no generated number is in, for new numbers in the events runs.
PREFIX=+86170
if grep -q '^[+]86170' "$WORK/feed.csv"; then
  PREFIX=$(awk -F, 'NR > 1 {used[substr($1, 1, 6)] = 1}
    END {for (p = 100; p < 200; p++) if (!(("+86" p) in used)) {print "+86" p; exit}}' "$WORK/feed.csv")
  [ -n "$PREFIX" ] || fail "every +861xx prefix is in the feed"
fi
declare -A APP_KEY CARRIER_KEY
for b in sqlite postgres; do
  db=$SQ_DB; [ "$b" = sqlite ] || db=$PG_URL
  "$SN" carriers add --db "$db" --name bench --range "$PREFIX" >/dev/null
  APP_KEY[$b]=$("$SN" keys create --db "$db" --role app --name bench-app \
    --rate 100000000/s --daily 1000000000000 2>/dev/null | head -1)
  CARRIER_KEY[$b]=$("$SN" keys create --db "$db" --role carrier --name bench --carrier bench 2>/dev/null | head -1)
  [ -n "${APP_KEY[$b]}" ] && [ -n "${CARRIER_KEY[$b]}" ] || fail "keys create failed on $b"
done

# ---- 2. one node per store ------------------------------------------------------
declare -A URL PID
start_node() { # NAME DB
  local name=$1 db=$2 port
  port=$(free_port)
  URL[$name]=http://127.0.0.1:$port
  "$SN" serve --db "$db" --listen "127.0.0.1:$port" --threads "$THREADS" 2>>"$WORK/serve-$name.log" &
  PID[$name]=$!
  PIDS+=($!)
  wait_http "${URL[$name]}/healthz" "${PID[$name]}"
  LOAD_S=$(sed -n 's/.* numbers indexed in \([0-9.]*\) s.*/\1/p' "$WORK/serve-$name.log" | tail -1)
  RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/${PID[$name]}/status")
  printf '  %-10s index of %s numbers loaded in %s s, RSS %.0f MB\n' "$name" \
    "$(healthz_numbers "${URL[$name]}")" "${LOAD_S:-?}" "$((RSS_KB / 1024))"
}
stop_node() { # NAME: SIGTERM, a clean exit within 30 s
  local name=$1 pid=${PID[$1]} i rc=0
  kill -TERM "$pid"
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "node $name did not stop within 30 s"; }
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { tail -5 "$WORK/serve-$name.log" >&2; fail "node $name exited with status $rc"; }
}
echo "serve --threads $THREADS:"
start_node sqlite "$SQ_DB"; SQ_LOAD=$LOAD_S SQ_RSS=$RSS_KB
start_node postgres "$PG_URL"; PG_LOAD=$LOAD_S PG_RSS=$RSS_KB

NGINX_PORT=$(free_port)
URL[nginx]=http://127.0.0.1:$NGINX_PORT
mkdir -p "$WORK/nginx"
sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" bench/http/nginx.conf.in >"$WORK/nginx/nginx.conf"
/usr/sbin/nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
PID[nginx]=$!
PIDS+=($!)
wait_http "${URL[nginx]}/" "${PID[nginx]}"

# ---- wrk -------------------------------------------------------------------------
# wrk_start TAG NODE PATH SCRIPT CONNS: one wrk in the background, with the
# environment its Lua script needs for NODE's store; wrk_finish TAG then
# waits for it, checks its output and sets RATE and REQS.
declare -A WRK_PID WRK_OUT WRK_NODE
WRK_N=0
wrk_start() {
  local tag=$1 node=$2 path=$3 script=$4 conns=$5 store=${2%%-*}
  [ "$store" = nginx ] && store=sqlite # nginx ignores the key, any will do
  WRK_N=$((WRK_N + 1))
  WRK_OUT[$tag]=$WORK/wrk-$WRK_N-$tag.out
  WRK_NODE[$tag]=$node
  SN_KEY=${APP_KEY[$store]} SN_CARRIER_KEY=${CARRIER_KEY[$store]} \
    timeout -k 5 $((DURATION + 60)) wrk -t1 -c"$conns" -d"${DURATION}s" -s "$script" \
    "${URL[$node]}$path" >"${WRK_OUT[$tag]}" 2>&1 &
  WRK_PID[$tag]=$!
  PIDS+=($!)
}
wrk_finish() {
  local tag=$1 out=${WRK_OUT[$1]} node=${WRK_NODE[$1]} rc=0
  wait "${WRK_PID[$tag]}" || rc=$?
  [ "$rc" = 0 ] || { cat "$out" >&2; fail "wrk failed ($rc): $tag"; }
  if grep -q 'Non-2xx' "$out"; then cat "$out" >&2; fail "non-2xx answers: $tag"; fi
  if grep -q 'Socket errors' "$out"; then cat "$out" >&2; fail "socket errors: $tag"; fi
  kill -0 "${PID[$node]}" 2>/dev/null ||
    { cat "$out" >&2; tail -5 "$WORK/serve-$node.log" >&2 || true; fail "$node died during: $tag"; }
  RATE=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  REQS=$(awk '/ requests in / {print $1}' "$out")
  [ -n "$RATE" ] && [ -n "$REQS" ] || { cat "$out" >&2; fail "no rate in wrk's output: $tag"; }
  printf '  %-28s %10.0f req/s\n' "$tag" "$RATE"
}
wrk_run() { wrk_start "$@"; wrk_finish "$1"; }
best() { awk -v a="$1" -v b="$2" 'BEGIN {print (a + 0 > b + 0 ? a : b)}'; }

# ---- 3. CAMARA check, one node per store ----------------------------------------
CAMARA=/number-recycling/v0.2/check
export SN_NUMBER=
for n in $(awk -F, -v step=$((EVENTS_IN_FEED / 60 + 1)) 'NR > 1 && NR % step == 0 {print $1}' \
             "$WORK/feed.csv" | head -50); do
  ok=1
  for b in sqlite postgres; do
    code=$(curl -s -o "$WORK/camara-$b.json" -w '%{http_code}' --max-time 5 -X POST \
      -H 'Content-Type: application/json' -H "Authorization: Bearer ${APP_KEY[$b]}" \
      --data "{\"phoneNumber\":\"$n\",\"specifiedDate\":\"2020-01-01\"}" "${URL[$b]}$CAMARA" || true)
    [ "$code" = 200 ] || ok=
  done
  if [ -n "$ok" ]; then SN_NUMBER=$n; break; fi
done
[ -n "$SN_NUMBER" ] || fail "no number with a CAMARA 200 on both nodes"
cmp -s "$WORK/camara-sqlite.json" "$WORK/camara-postgres.json" ||
  fail "the two stores answer $SN_NUMBER differently"
echo "CAMARA check of $SN_NUMBER on 2020-01-01, both stores: $(cat "$WORK/camara-sqlite.json")"
echo "CAMARA check, wrk -t1 -c64 -d${DURATION}s:"
for round in 1 2; do
  wrk_run "nginx-$round" nginx "$CAMARA" bench/http/camara.lua 64; NG[$round]=$RATE
  wrk_run "sqlite-check-$round" sqlite "$CAMARA" bench/http/camara.lua 64; SQC[$round]=$RATE
  wrk_run "postgres-check-$round" postgres "$CAMARA" bench/http/camara.lua 64; PGC[$round]=$RATE
done
NGINX=$(best "${NG[1]}" "${NG[2]}")
SQ_CHECK=$(best "${SQC[1]}" "${SQC[2]}")
PG_CHECK=$(best "${PGC[1]}" "${PGC[2]}")

# ---- 4. events over HTTP ----------------------------------------------------------
# Numbers are PREFIX + 8 digits counted from SN_EVENTS_BASE; the Lua script
# writes the first unused value to SN_EVENTS_NEXT. The two stores are apart,
# so each round gives both the same new numbers.
EVENTS_CONNS=8
export SN_EVENTS_PREFIX=$PREFIX SN_EVENTS_BASE=0 SN_EVENTS_NEXT
echo "events over HTTP, wrk -t1 -c$EVENTS_CONNS -d${DURATION}s, 1000 new activations of $PREFIX numbers per request:"
for round in 1 2; do
  next=0
  for b in sqlite postgres; do
    SN_EVENTS_NEXT=$WORK/events-$b.next
    before=$(healthz_numbers "${URL[$b]}") || fail "no /healthz answer from $b"
    wrk_run "$b-events-$round" "$b" /v1/events bench/http/events.lua "$EVENTS_CONNS"
    rate=$(awk -v r="$RATE" 'BEGIN {printf "%.0f", r * 1000}')
    sleep 1 # requests in flight when wrk stopped
    after=$(healthz_numbers "${URL[$b]}") || fail "no /healthz answer from $b"
    added=$((after - before)) answered=$((REQS * 1000))
    [ "$added" -ge "$answered" ] && [ "$added" -le $((answered + EVENTS_CONNS * 1000)) ] ||
      fail "$b: the index grew by $added numbers, the answered requests carried $answered"
    if [ "$b" = sqlite ]; then SQE[$round]=$rate; else PGE[$round]=$rate; fi
    n=$(cat "$SN_EVENTS_NEXT")
    [ "$n" -le "$next" ] || next=$n
  done
  SN_EVENTS_BASE=$next
done
SQ_EVENTS=$(best "${SQE[1]}" "${SQE[2]}")
PG_EVENTS=$(best "${PGE[1]}" "${PGE[2]}")

# ---- 5. two nodes on the one PostgreSQL --------------------------------------------
echo "a second node on the same PostgreSQL database:"
start_node postgres-b "$PG_URL"
stop_node sqlite # its core is needed by the two nodes and their wrk
# Does node B see what node A writes? (For information: the log follower, src/follow/.)
probe=$(printf '%s%08d' "$PREFIX" "$SN_EVENTS_BASE")
b_before=$(healthz_numbers "${URL[postgres-b]}")
code=$(curl -s -o "$WORK/probe.json" -w '%{http_code}' --max-time 10 -X POST \
  -H 'Content-Type: application/json' -H "Authorization: Bearer ${CARRIER_KEY[postgres]}" \
  --data "{\"events\":[{\"number\":\"$probe\",\"event\":\"activate\",\"at\":\"2024-01-01T00:00:00+08:00\"}]}" \
  "${URL[postgres]}/v1/events" || true)
[ "$code" = 200 ] || fail "event to node A: HTTP $code $(cat "$WORK/probe.json")"
t0=$(date +%s%N) SEEN_B=
for _ in $(seq 1 40); do
  if [ "$(healthz_numbers "${URL[postgres-b]}")" -gt "$b_before" ]; then
    SEEN_B="in $((($(date +%s%N) - t0) / 1000000)) ms"
    break
  fi
  sleep 0.05
done
echo "  an event posted to node A is seen by node B: ${SEEN_B:-not within 2 s}"
echo "  both nodes at once, one wrk -t1 -c64 each:"
for round in 1 2; do
  wrk_start "postgres-a-$round" postgres "$CAMARA" bench/http/camara.lua 64
  wrk_start "postgres-b-$round" postgres-b "$CAMARA" bench/http/camara.lua 64
  wrk_finish "postgres-a-$round"; A=$RATE
  wrk_finish "postgres-b-$round"; B=$RATE
  TWO_A[$round]=$A TWO_B[$round]=$B
  TWO[$round]=$(awk -v a="$A" -v b="$B" 'BEGIN {printf "%.2f", a + b}')
done
if awk -v a="${TWO[1]}" -v b="${TWO[2]}" 'BEGIN {exit !(a >= b)}'; then r=1; else r=2; fi
TWO_SUM=${TWO[$r]} TWO_NODE_A=${TWO_A[$r]} TWO_NODE_B=${TWO_B[$r]}
stop_node postgres-b
stop_node postgres

# ---- 6. one CLI check ------------------------------------------------------------------
echo "one CLI check (secondnum check --db, hyperfine):"
for b in sqlite postgres; do
  db=$SQ_DB; [ "$b" = sqlite ] || db=$PG_URL
  "$SN" check --db "$db" "$SN_NUMBER" 2020-01-01 >/dev/null || fail "check on $b failed"
  hyperfine -N --style none --warmup 3 --runs 30 --export-json "$WORK/cli-$b.json" \
    "$SN check --db $db $SN_NUMBER 2020-01-01" >/dev/null 2>&1 || fail "hyperfine on $b failed"
  ms=$(python3 -c 'import json, sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"] * 1000))' \
    "$WORK/cli-$b.json")
  if [ "$b" = sqlite ]; then SQ_CLI=$ms; else PG_CLI=$ms; fi
  printf '  %-10s %8s ms\n' "$b" "$ms"
done

# ---- summary -------------------------------------------------------------------------
awk -v numbers="$NUMBERS" -v events="$EVENTS_IN_FEED" -v secs="$DURATION" -v threads="$THREADS" \
    -v pgmode="$PG_MODE" -v pgver="$PG_VERSION" \
    -v sqimps="$SQ_IMP_S" -v pgimps="$PG_IMP_S" -v sqimp="$SQ_IMP" -v pgimp="$PG_IMP" \
    -v sqimprss="$SQ_IMP_RSS" -v pgimprss="$PG_IMP_RSS" -v sqbytes="$SQ_BYTES" -v pgbytes="$PG_BYTES" \
    -v sqload="$SQ_LOAD" -v pgload="$PG_LOAD" -v sqrss="$SQ_RSS" -v pgrss="$PG_RSS" \
    -v nginx="$NGINX" -v sqc="$SQ_CHECK" -v pgc="$PG_CHECK" \
    -v sqe="$SQ_EVENTS" -v pge="$PG_EVENTS" -v sqcli="$SQ_CLI" -v pgcli="$PG_CLI" \
    -v two="$TWO_SUM" -v twoa="$TWO_NODE_A" -v twob="$TWO_NODE_B" -v seen="${SEEN_B:-not within 2 s}" '
function row(what, fmt, a, b, r) {
  line = sprintf("%-44s " fmt " " fmt " %9s", what, a, b, r)
  sub(/ +$/, "", line)
  print line
}
function ratio(a, b) { return (a + 0 > 0 ? sprintf("%.2f", b / a) : "") }
BEGIN {
  printf "\n%s numbers, %s events; wrk runs of %s s; serve --threads %s; PostgreSQL %s over %s\n",
    numbers, events, secs, threads, pgver, (pgmode == "tcp" ? "TCP 127.0.0.1" : "its unix socket")
  printf "%-44s %14s %14s %9s\n", "what", "SQLite", "PostgreSQL", "PG/SQLite"
  row("bulk import, s", "%14.2f", sqimps, pgimps, "")
  row("bulk import, events/s", "%14.0f", sqimp, pgimp, ratio(sqimp, pgimp))
  row("bulk import, peak RSS MB", "%14.0f", sqimprss, pgimprss, "")
  row("store size after the import, MB", "%14.1f", sqbytes / 1e6, pgbytes / 1e6, ratio(sqbytes, pgbytes))
  row("  bytes per number", "%14.0f", sqbytes / numbers, pgbytes / numbers, "")
  row("serve: index load at start, s", "%14.2f", sqload, pgload, "")
  row("serve: RSS after load, MB", "%14.0f", sqrss / 1024, pgrss / 1024, "")
  row("  bytes per number", "%14.0f", sqrss * 1024 / numbers, pgrss * 1024 / numbers, "")
  row("CAMARA check, 1 node, req/s", "%14.0f", sqc, pgc, ratio(sqc, pgc))
  row("  ratio to nginx (" sprintf("%.0f", nginx) " req/s)", "%14.2f", sqc / nginx, pgc / nginx, "")
  row("events over HTTP, 1 node, events/s", "%14.0f", sqe, pge, ratio(sqe, pge))
  row("CLI check (process + open + lookup), ms", "%14.2f", sqcli, pgcli, ratio(sqcli, pgcli))
  printf "%-44s %14s %14.0f\n", "CAMARA check, 2 PG nodes at once, req/s", "", two
  printf "%-44s %14s %14s\n", "  node A + node B", "", sprintf("%.0f + %.0f", twoa, twob)
  printf "%-44s %14s %14.2f\n", "  ratio to 1 PG node", "", two / pgc
  printf "%-44s %14s %14s\n", "event on node A seen by node B", "", seen
}'
echo "(2 cores: with two nodes and two wrk processes on this machine the sum shows"
echo " the machine's limit, not the nodes'; see BENCHMARKS.md)"
