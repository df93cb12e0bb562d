#!/usr/bin/env bash
# bench/cpu_split.sh - where the server's CPU a request goes, by thread and
# user/system, for two builds alternated: a before/after of a change on the
# request path that rates on this shared machine cannot show (they drift
# 20-40% within an hour; the CPU a request moves much less).
#
#   bench/cpu_split.sh OLD NEW [ROUNDS]      (ROUNDS pairs, default 3)
#
# Environment:
#   BENCH_DIR      work directory (kept); default a temporary one, removed.
#                  A later run with the same BENCH_NUMBERS reuses its store.
#   BENCH_NUMBERS  numbers in the store (default 100000; gen --seed 1)
#   BENCH_SECONDS  each wrk run (default 6)
#   BENCH_KIND     camara (default: wrk -c64, bench/http/camara.lua, serve
#                  --threads 1), batch (wrk -c8, bench/http/batch.lua,
#                  1000 numbers of the store a request, --threads 2) or
#                  events (wrk -c8, bench/http/events.lua, 1000 new
#                  activations a request in +86170, which gen never uses,
#                  --threads 2: the store grows by every run, and each run
#                  goes on from the numbers the last one reached)
#   BENCH_PG       1: the store is a PostgreSQL database on a private server
#                  (tests/pg/pg_server.sh, started in the work directory and
#                  removed at the end; a new store each invocation), and the
#                  server's processes count as the thread "postgres"
#                  (postmaster and its children, live at both readings: the
#                  node's connections last the run)
#
# Each round runs OLD then NEW: serve on a free loopback port over the same
# store, one wrk run, and the CPU each of the server's threads took during
# it (utime and stime of /proc/PID/task/*/stat) divided by the requests wrk
# counted. Threads started during the run count from zero; the CPU of
# threads that ended (the index's merge workers) is the process's less its
# live threads', shown as "ended" (a thread that ended during the run moves
# its CPU from its name to "ended", which the total nets out). Prints a line a run: microseconds a
# request by thread name and u(ser)/s(ystem), their total, and wrk's rate
# (for information only).
# Everything it starts is stopped when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/cpu_split.sh OLD NEW [ROUNDS]" >&2; exit 2; }
OLD=$1 NEW=$2 ROUNDS=${3:-3}
NUMBERS=${BENCH_NUMBERS:-100000}
SECS=${BENCH_SECONDS:-6}
KIND=${BENCH_KIND:-camara}
fail() { echo "bench/cpu_split.sh: $*" >&2; exit 1; }
for b in "$OLD" "$NEW"; do [ -x "$b" ] || fail "$b is not an executable"; done
for tool in wrk curl python3 awk; do command -v "$tool" >/dev/null || fail "$tool is missing"; done
case "$KIND" in
  camara) LUA=bench/http/camara.lua CONNS=64 THREADS=1 PATH_=/number-recycling/v0.2/check ;;
  batch) LUA=bench/http/batch.lua CONNS=8 THREADS=2 PATH_=/v1/check/batch ;;
  events) LUA=bench/http/events.lua CONNS=8 THREADS=2 PATH_=/v1/events ;;
  *) fail "BENCH_KIND must be camara, batch or events, not '$KIND'" ;;
esac
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sn-cpu.XXXXXX")}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
PID=
PGDIR=
cleanup() {
  [ -z "$PID" ] || kill "$PID" 2>/dev/null || true
  [ -z "$PGDIR" ] || tests/pg/pg_server.sh stop "$PGDIR" >/dev/null 2>&1 || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

DB=$WORK/sn.db
if [ "${BENCH_PG:-0}" = 1 ]; then
  PGDIR=$WORK/pg
  rm -rf "$PGDIR" "$WORK/store.done"
  chmod 755 "$WORK" # pg_server.sh runs the server as postgres when root
  DB=$(tests/pg/pg_server.sh start "$PGDIR") || fail "pg_server.sh start failed"
  export SECONDNUM_KEY=$WORK/secret.key
  rm -f "$SECONDNUM_KEY"
fi
if [ "$(cat "$WORK/store.done" 2>/dev/null)" != "$NUMBERS" ] || [ ! -s "$WORK/carrier-key" ]; then
  [ -n "$PGDIR" ] || rm -f "$DB" "$DB"-wal "$DB"-shm "$DB".key
  "$NEW" gen --numbers "$NUMBERS" --seed 1 >"$WORK/feed.csv"
  "$NEW" import --create --db "$DB" "$WORK/feed.csv" >/dev/null
  "$NEW" keys create --db "$DB" --role app --name bench-app --rate 100000000/s \
    --daily 1000000000000 2>/dev/null | head -1 >"$WORK/key"
  awk -F, 'NR > 1 && NR % 150 == 0 && !seen[$1]++ {print $1; if (++n == 1000) exit}' \
    "$WORK/feed.csv" >"$WORK/numbers.txt"
  awk 'BEGIN {printf "{\"items\":["} {printf "%s{\"number\":\"%s\",\"date\":\"2020-01-01\"}",
    (NR > 1 ? "," : ""), $1} END {printf "]}"}' "$WORK/numbers.txt" >"$WORK/batch.json"
  ! grep -q '^[+]86170' "$WORK/feed.csv" || fail "the feed uses +86170, the events' range"
  "$NEW" carriers add --db "$DB" --name bench --range +86170 >/dev/null
  "$NEW" keys create --db "$DB" --role carrier --name bench --carrier bench 2>/dev/null |
    head -1 >"$WORK/carrier-key"
  echo 0 >"$WORK/events.next"
  echo "$NUMBERS" >"$WORK/store.done"
fi
SN_KEY=$(cat "$WORK/key")
SN_NUMBER=$(head -1 "$WORK/numbers.txt")
SN_CARRIER_KEY=$(cat "$WORK/carrier-key")
export SN_KEY SN_NUMBER SN_BATCH_FILE=$WORK/batch.json SN_CARRIER_KEY SN_EVENTS_PREFIX=+86170
export SN_EVENTS_NEXT=$WORK/events.next

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ticks PID: "thread-u TICKS" and "thread-s TICKS" lines, summed by name,
# and "ended-u"/"ended-s": the process's (every thread it ever had, those
# ended included) less the live threads'.
ticks() {
  local t
  {
    for t in /proc/"$1"/task/*; do
      awk -v n="$(cat "$t/comm" 2>/dev/null || echo gone)" '{print n "-u", $14; print n "-s", $15}' \
        "$t/stat" 2>/dev/null || true
    done
    awk '{print "process-u", $14; print "process-s", $15}' /proc/"$1"/stat
    if [ -n "$PGDIR" ]; then
      local pm
      pm=$(head -1 "$PGDIR/data/postmaster.pid")
      for t in $pm $(pgrep -P "$pm"); do
        awk '{print "pg-u", $14; print "pg-s", $15}' /proc/"$t"/stat 2>/dev/null || true
      done
    fi
  } | awk '$1 == "process-u" || $1 == "process-s" {p[substr($1, 9)] = $2; next}
      $1 == "pg-u" || $1 == "pg-s" {g["postgres-" substr($1, 4)] += $2; next}
      {a[$1] += $2; live[substr($1, length($1))] += $2}
      END {for (k in a) print k, a[k]; for (s in p) print "ended-" s, p[s] - live[s]
           for (k in g) print k, g[k]}' | sort
}

run() { # NAME BINARY
  local port
  port=$(free_port)
  "$2" serve --db "$DB" --listen "127.0.0.1:$port" --threads "$THREADS" 2>>"$WORK/serve.log" &
  PID=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
    kill -0 "$PID" 2>/dev/null || fail "serve ($2) exited: $(tail -3 "$WORK/serve.log")"
    sleep 0.1
  done
  ticks "$PID" >"$WORK/before"
  SN_EVENTS_BASE=$(cat "$WORK/events.next") wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$LUA" "http://127.0.0.1:$port$PATH_" >"$WORK/wrk.out" 2>&1 ||
    fail "wrk failed: $(cat "$WORK/wrk.out")"
  ticks "$PID" >"$WORK/after"
  kill "$PID"
  wait "$PID" || true
  PID=
  ! grep -q "Non-2xx\|Socket errors" "$WORK/wrk.out" || fail "errors in the run: $(cat "$WORK/wrk.out")"
  local reqs rate
  reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
  rate=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
  join -a 1 -a 2 -e 0 -o 0,1.2,2.2 "$WORK/before" "$WORK/after" |
    awk -v name="$1" -v n="$reqs" -v hz="$(getconf CLK_TCK)" -v rate="$rate" '
      {d = ($3 - $2) / hz * 1e6 / n; total += d; if (d > 0) line = line sprintf(" %s %.2f", $1, d)}
      END {printf "%-4s%s; total %.2f us a request (%s req/s)\n", name, line, total, rate}'
}

echo "CPU a request by thread, $KIND, $NUMBERS numbers, wrk -c$CONNS ${SECS}s, serve --threads $THREADS${PGDIR:+, on PostgreSQL}"
for _ in $(seq "$ROUNDS"); do
  run old "$OLD"
  run new "$NEW"
done
