#!/usr/bin/env bash
# bench/http.sh - the HTTP API against nginx, measured in the same run on the
# same machine with wrk (1 thread, keep-alive).
#
#   bench/http.sh                  BENCH_NUMBERS=10000000 numbers loaded
#   BENCH_NUMBERS=1000000 bench/http.sh
#   BENCH_DIR=/tmp/snhttp bench/http.sh   keep (and reuse) the generated store
#
# 1. CAMARA check, 64 connections: nginx returning a fixed JSON body (1
#    worker) vs `secondnum serve --threads 1` answering a real check with a
#    valid key; both twice, interleaved, best of each; prints the ratio
#    (goal >= 0.90). Also secondnum with --threads 2.
# 2. Batch check (--threads 2, the default on this box): /v1/check/batch
#    with 1000 real numbers per request, 8 connections: numbers/s (goal >= 2M/s).
# 3. Events over HTTP (--threads 2): /v1/events with 1000 new activations
#    per request, 8 connections: events/s committed (goal >= 200K/s).
# 4. Latency at half the peak: each connection pauses 1 ms between requests,
#    with enough connections to offer about half the CAMARA peak of step 1;
#    prints the rate reached and p50/p99 (goal p99 <= 1 ms), and the same
#    paced load on nginx, which shows what the machine and the pacing add.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NUMBERS=${BENCH_NUMBERS:-10000000}
DURATION=${BENCH_SECONDS:-10}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/sn-http.XXXXXX)}
mkdir -p "$WORK"
SN=$ROOT/build/secondnum
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
make -s build/secondnum

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.2; done; echo "no answer from $1" >&2; exit 1; }

# ---- the store -------------------------------------------------------------
DB=$WORK/sn.db
if [ ! -f "$DB" ] || [ "$(cat "$WORK/numbers" 2>/dev/null)" != "$NUMBERS" ]; then
  rm -f "$DB" "$DB"-wal "$DB"-shm "$DB".key
  echo "generating and importing $NUMBERS numbers into $DB"
  "$SN" gen --numbers "$NUMBERS" --seed 1 --out "$WORK/feed.csv"
  "$SN" import --db "$DB" --carrier bench "$WORK/feed.csv"
  echo "$NUMBERS" >"$WORK/numbers"
fi
if grep -q '^+86170' "$WORK/feed.csv"; then echo "feed uses +86170: pick another events range" >&2; exit 1; fi
awk -F, 'NR > 1 && $2 == "activate" {print $1; if (++n == 1000) exit}' "$WORK/feed.csv" >"$WORK/numbers.txt"
export SN_NUMBER=$(head -1 "$WORK/numbers.txt") SN_NUMBERS_FILE=$WORK/numbers.txt
export SN_KEY=$("$SN" keys create --db "$DB" --role app --name "bench-$$" 2>/dev/null)
export SN_CARRIER_KEY=$("$SN" keys create --db "$DB" --role carrier --name "bench-feed-$$" --carrier bench 2>/dev/null)
"$SN" carriers add --db "$DB" --name bench --range +86170 >/dev/null

# ---- servers ---------------------------------------------------------------
start_nginx() {
  NGINX_PORT=$(free_port)
  mkdir -p "$WORK/nginx"
  sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" bench/http/nginx.conf.in >"$WORK/nginx/nginx.conf"
  /usr/sbin/nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$NGINX_PORT/"
}

start_secondnum() { # threads
  SN_PORT=$(free_port)
  "$SN" serve --db "$DB" --listen "127.0.0.1:$SN_PORT" --threads "$1" 2>>"$WORK/serve.log" &
  SN_PID=$!
  PIDS+=($SN_PID)
  wait_http "http://127.0.0.1:$SN_PORT/healthz"
}

stop_secondnum() { kill -TERM "$SN_PID"; wait "$SN_PID" || { echo "serve did not exit 0" >&2; exit 1; }; }

# wrk_rate URL SCRIPT CONNECTIONS -> requests/s; fails on any non-2xx answer.
wrk_run() {
  wrk -t1 -c"$3" -d"${DURATION}s" --latency -s "$2" "$1" >"$WORK/wrk.out" 2>&1
  if grep -q 'Non-2xx' "$WORK/wrk.out"; then cat "$WORK/wrk.out" >&2; echo "non-2xx answers" >&2; exit 1; fi
}
rate() { awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.out"; }
pct() { awk -v p="$1" '$1 == p {print $2}' "$WORK/wrk.out"; }
best() { awk -v a="$1" -v b="$2" 'BEGIN {print (a > b ? a : b)}'; }

CAMARA=/number-recycling/v0.2/check
start_nginx
start_secondnum 1
echo "CAMARA check, wrk -t1 -c64 -d${DURATION}s (nginx: fixed body, 1 worker; secondnum: --threads 1)"
wrk_run "http://127.0.0.1:$NGINX_PORT$CAMARA" bench/http/camara.lua 64; n1=$(rate)
wrk_run "http://127.0.0.1:$SN_PORT$CAMARA" bench/http/camara.lua 64; s1=$(rate)
wrk_run "http://127.0.0.1:$NGINX_PORT$CAMARA" bench/http/camara.lua 64; n2=$(rate)
wrk_run "http://127.0.0.1:$SN_PORT$CAMARA" bench/http/camara.lua 64; s2=$(rate)
NGINX=$(best "$n1" "$n2") PEAK=$(best "$s1" "$s2")
echo "  nginx $n1, $n2; secondnum $s1, $s2"

# Latency at half the peak: each connection pauses 1 ms between requests;
# a short calibration run tells what one paced connection does here, and
# that sets the connection count for half the peak.
DURATION_SAVED=$DURATION DURATION=3
SN_DELAY_MS=1 wrk_run "http://127.0.0.1:$SN_PORT$CAMARA" bench/http/camara_paced.lua 8
DURATION=$DURATION_SAVED
CONNS=$(awk -v p="$PEAK" -v r="$(rate)" 'BEGIN {c = int(p / 2 / (r / 8) + 0.5); print (c < 1 ? 1 : (c > 2000 ? 2000 : c))}')
SN_DELAY_MS=1 wrk_run "http://127.0.0.1:$SN_PORT$CAMARA" bench/http/camara_paced.lua "$CONNS"
HALF=$(rate) P50=$(pct 50%) P99=$(pct 99%)
# The same paced load on nginx: what this machine and wrk's pacing add by themselves.
SN_DELAY_MS=1 wrk_run "http://127.0.0.1:$NGINX_PORT$CAMARA" bench/http/camara_paced.lua "$CONNS"
NHALF=$(rate) NP50=$(pct 50%) NP99=$(pct 99%)

stop_secondnum

# The default configuration (one loop per core) for the rest.
start_secondnum 2
wrk_run "http://127.0.0.1:$SN_PORT$CAMARA" bench/http/camara.lua 64; T2=$(rate)
wrk_run "http://127.0.0.1:$SN_PORT/v1/check/batch" bench/http/batch.lua 8
BATCH=$(awk -v r="$(rate)" 'BEGIN {printf "%.0f", r * 1000}')
before=$(curl -s "http://127.0.0.1:$SN_PORT/healthz" | sed 's/.*"numbers":\([0-9]*\).*/\1/')
export SN_EVENTS_BASE=$before # new numbers on every run, also on a reused store
wrk_run "http://127.0.0.1:$SN_PORT/v1/events" bench/http/events.lua 8
EVENTS=$(awk -v r="$(rate)" 'BEGIN {printf "%.0f", r * 1000}')
after=$(curl -s "http://127.0.0.1:$SN_PORT/healthz" | sed 's/.*"numbers":\([0-9]*\).*/\1/')
stop_secondnum

awk -v n="$NGINX" -v s="$PEAK" -v t2="$T2" -v half="$HALF" -v conns="$CONNS" -v p50="$P50" \
    -v p99="$P99" -v nhalf="$NHALF" -v np50="$NP50" -v np99="$NP99" -v batch="$BATCH" -v ev="$EVENTS" -v numbers="$NUMBERS" -v added="$((after - before))" 'BEGIN {
  printf "\n%-44s %14s %14s\n", "what (" numbers " numbers loaded)", "value", "goal"
  printf "%-44s %14.0f\n", "nginx fixed JSON, req/s", n
  printf "%-44s %14.0f\n", "secondnum CAMARA check, 1 thread, req/s", s
  printf "%-44s %14.2f %14s\n", "ratio secondnum/nginx", s / n, ">= 0.90"
  printf "%-44s %14.0f\n", "secondnum CAMARA check, 2 threads, req/s", t2
  printf "%-44s %14.0f %14s\n", "batch check, 2 threads, numbers/s", batch, ">= 2000000"
  printf "%-44s %14.0f %14s\n", "events over HTTP, 2 threads, events/s", ev, ">= 200000"
  printf "%-44s %14d\n", "  numbers added by the events run", added
  printf "%-44s %14.0f %14s\n", "half-peak run: req/s (" conns " conns)", half, "~" int(s / 2)
  printf "%-44s %14s\n", "  p50 latency", p50
  printf "%-44s %14s %14s\n", "  p99 latency", p99, "<= 1ms"
  printf "%-44s %14.0f\n", "same paced load on nginx: req/s", nhalf
  printf "%-44s %14s\n", "  nginx p50 latency", np50
  printf "%-44s %14s\n", "  nginx p99 latency", np99
}'
