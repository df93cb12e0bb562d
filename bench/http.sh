#!/usr/bin/env bash
# bench/http.sh - the HTTP API against nginx, measured in the same run on the
# same machine with wrk (one wrk thread, keep-alive, everything on 127.0.0.1).
#
#   bench/http.sh                          10,000,000 numbers in the store
#   BENCH_NUMBERS=1000000 bench/http.sh    a smaller store, a quicker run
#   BENCH_DIR=/tmp/snhttp bench/http.sh    keep the work dir; a later run with
#                                          the same BENCH_NUMBERS reuses its store
#   BENCH_SECONDS=5 bench/http.sh          shorter wrk runs (default 10 s)
#   BENCH_SECONDNUM=/path/secondnum bench/http.sh
#                                          another build (an older one: the
#                                          baseline of a change, same store)
#   SN_BENCH_SERVE_ARGS="--request-log FILE" bench/http.sh
#                                          more flags for every serve under test,
#                                          e.g. the request log on (to a file; a
#                                          relative FILE is under the work dir),
#                                          or "--audit off" (the audit trail's cost)
#
# The store: 'secondnum gen --seed 1' (about 3.7 events per number) imported
# with 'secondnum import', an app key, and a carrier 'bench' owning a range gen
# never uses (+86170) for the events run. Then, each wrk run 10 s:
#  1. CAMARA check, wrk -c64: nginx (1 worker) answering a fixed
#     {"phoneNumberRecycled":false} against 'secondnum serve --threads 1'
#     answering a real check (body parse, key, index lookup, verdict) of one
#     number of the store; three pairs of runs (nginx, then secondnum), the
#     ratio secondnum/nginx of each pair, and the median of the three ratios
#     (goal >= 0.90): rates on this shared machine drift by 10% between runs,
#     and a pair run back to back sees the same conditions. Each run also
#     prints the server's CPU time a request (all its threads, /proc), and
#     the median of the pairs' nginx/secondnum CPU ratios: when a peer's
#     load slows this machine between runs (rates moved 2x within an hour),
#     the CPU a request moves much less. The same again with --threads 2
#     (one loop per core, the default, on a 2-core machine).
#  2. Latency at half the peak (--threads 1): wrk has no rate control, so each
#     connection pauses 1 ms between requests (Lua delay()), about
#     1000/(1 + latency ms) requests/s each; two 3 s calibration runs set the
#     connection count that offers about half the peak of 1. Prints the rate
#     reached, its fraction of the peak, p50 and p99. The same paced load on
#     nginx shows what the machine and wrk's pacing add; the goal is relative
#     (this machine alone misses 1 ms at p99 now and then): secondnum's p99
#     <= 1.5x nginx's p99 in the same run.
#  3. Batch check (--threads 2), wrk -c8: /v1/check/batch with 1000 numbers of
#     the store per request; numbers/s = requests/s x 1000 (goal >= 2M/s).
#  4. Events over HTTP (--threads 2), wrk -c8: /v1/events with 1000 new
#     activations per request, committed before the answer; events/s =
#     requests/s x 1000 (goal >= 200K/s). GET /healthz must have grown by the
#     events of the answered requests (plus at most those still in flight).
#     Its baseline, run first: bench/raw_events.c, the two rows a new
#     activation adds (log and state with its change number, the store's
#     tables, indexes and statements: 64 rows an INSERT, as the store's
#     SQ_ROWS_CHUNK) inserted by SQLite alone on one thread, 8000 per
#     transaction (the most the writer groups from 8 connections of 1000),
#     2,000,000 events into a new database in the work dir; the ratio is
#     printed.
#  5. Checks and events at once (--threads 2): the CAMARA run of 1 (wrk
#     -c64) and the events run of 4 (wrk -c8) against the same server at the
#     same time; each rate as a fraction of its own alone (the --threads 2
#     CAMARA best of 1, the events run of 4): what one kind of work costs the
#     other (an acknowledged write waits for its audit row; on SQLite the
#     audit thread and the writer share the write lock). /healthz must grow
#     by the events answered, as in 4.
# At the end, the audit trail (on unless SN_BENCH_SERVE_ARGS has "--audit
# off") must hold a row for every request wrk counted and the batch items of
# its batch requests (secondnum audit count, before and after the run).
# A secondnum answer other than 2xx, a socket error or a crash fails the
# bench. Servers and wrk are started by the script on free ports and stopped
# when it exits; nothing is written outside the work dir but build/ (make)
# and standard output.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NUMBERS=${BENCH_NUMBERS:-10000000}
DURATION=${BENCH_SECONDS:-10}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/sn-http.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SN=${BENCH_SECONDNUM:-$ROOT/build/secondnum}
DB=$WORK/sn.db

PIDS=() # every background process of the script: nginx, secondnum, wrk
SN_URL=none SN_PID=
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "bench/http.sh: $*" >&2; exit 1; }

[ -n "${BENCH_SECONDNUM:-}" ] || make -s build/secondnum

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() { # URL: up to 120 s for the first answer
  local i
  for i in $(seq 1 600); do
    curl -sf -o /dev/null --max-time 2 "$1" && return 0
    sleep 0.2
  done
  fail "no answer from $1"
}
healthz_numbers() { # URL: the count of numbers in the index; fails without an answer
  local body
  body=$(curl -sf --max-time 5 "$1/healthz") || return 1
  echo "$body" | sed -n 's/.*"numbers": *\([0-9]*\).*/\1/p' | grep .
}

# ---- the store ---------------------------------------------------------------
# $WORK/store.done holds NUMBERS, the feed's line count and the events prefix
# once the import finished; a store with another NUMBERS is made anew.
if [ -f "$DB" ] && [ -f "$WORK/feed.csv" ] && [ -f "$WORK/store.done" ] &&
   [ "$(awk '{print $1}' "$WORK/store.done")" = "$NUMBERS" ]; then
  read -r _ LINES PREFIX <"$WORK/store.done"
  echo "reusing the store of $NUMBERS numbers in $WORK"
else
  rm -f "$DB" "$DB"-wal "$DB"-shm "$DB".key "$WORK/store.done" "$WORK/events.next"
  echo "generating and importing $NUMBERS numbers in $WORK"
  t0=$(date +%s)
  "$SN" gen --numbers "$NUMBERS" --seed 1 >"$WORK/feed.csv"
  "$SN" import --create --db "$DB" "$WORK/feed.csv"
  echo "  (gen + import: $(($(date +%s) - t0)) s)"
  LINES=$(wc -l <"$WORK/feed.csv")
  # The events run needs a range no generated number is in: gen never uses
  # +86170, which the grep confirms; else the first unused 1xx prefix.
  PREFIX=+86170
  if grep -q '^[+]86170' "$WORK/feed.csv"; then
    PREFIX=$(awk -F, 'NR > 1 {used[substr($1, 1, 6)] = 1}
      END {for (p = 100; p < 200; p++) if (!(("+86" p) in used)) {print "+86" p; exit}}' "$WORK/feed.csv")
    [ -n "$PREFIX" ] || fail "every +861xx prefix is in the feed"
  fi
  echo "$NUMBERS $LINES $PREFIX" >"$WORK/store.done"
fi
"$SN" carriers add --db "$DB" --name bench --range "$PREFIX" >/dev/null
export SN_KEY SN_CARRIER_KEY
# the app key checks as fast as the server answers: the largest limits
# (docs/operations.md, "Check limits"), as a bulk customer's key would have
SN_KEY=$("$SN" keys create --db "$DB" --role app --name "bench-app" \
  --rate 100000000/s --daily 1000000000000 2>/dev/null | head -1)
SN_CARRIER_KEY=$("$SN" keys create --db "$DB" --role carrier --name bench --carrier bench 2>/dev/null | head -1)

# 1000 distinct numbers spread over the whole feed, the batch body made of them.
awk -F, -v step=$((LINES / 1500 + 1)) \
  'NR > 1 && NR % step == 0 && !seen[$1]++ {print $1; if (++n == 1000) exit}' \
  "$WORK/feed.csv" >"$WORK/numbers.txt"
[ "$(wc -l <"$WORK/numbers.txt")" = 1000 ] ||
  awk -F, 'NR > 1 && !seen[$1]++ {print $1; if (++n == 1000) exit}' "$WORK/feed.csv" >"$WORK/numbers.txt"
[ "$(wc -l <"$WORK/numbers.txt")" = 1000 ] || fail "the feed has fewer than 1000 numbers"
awk 'BEGIN {printf "{\"items\":["} {printf "%s{\"number\":\"%s\",\"date\":\"2020-01-01\"}", (NR > 1 ? "," : ""), $1}
  END {printf "]}"}' "$WORK/numbers.txt" >"$WORK/batch.json"
export SN_BATCH_FILE=$WORK/batch.json SN_NUMBER="" SN_EVENTS_PREFIX=$PREFIX

# ---- servers -----------------------------------------------------------------
start_nginx() {
  NGINX_PORT=$(free_port)
  NGINX_URL=http://127.0.0.1:$NGINX_PORT
  mkdir -p "$WORK/nginx"
  sed -e "s|@DIR@|$WORK/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" bench/http/nginx.conf.in >"$WORK/nginx/nginx.conf"
  /usr/sbin/nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
  NGINX_PID=$!
  PIDS+=($NGINX_PID)
  wait_http "$NGINX_URL/"
}

start_secondnum() { # THREADS
  SN_PORT=$(free_port)
  SN_URL=http://127.0.0.1:$SN_PORT
  # SN_BENCH_SERVE_ARGS: split into words on purpose (flags and their values)
  # shellcheck disable=SC2086
  (cd "$WORK" && exec "$SN" serve --db "$DB" --listen "127.0.0.1:$SN_PORT" --threads "$1" \
    ${SN_BENCH_SERVE_ARGS:-} 2>>"$WORK/serve.log") &
  SN_PID=$!
  PIDS+=($SN_PID)
  wait_http "$SN_URL/healthz"
}

stop_secondnum() { # SIGTERM, then a clean exit within 30 s
  local i rc=0
  kill -TERM "$SN_PID"
  for i in $(seq 1 300); do kill -0 "$SN_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SN_PID" 2>/dev/null && { kill -KILL "$SN_PID"; fail "serve did not stop within 30 s"; }
  wait "$SN_PID" || rc=$?
  [ "$rc" = 0 ] || { tail -5 "$WORK/serve.log" >&2; fail "serve exited with status $rc"; }
}

# ---- wrk ---------------------------------------------------------------------
to_ms() { # wrk's "123.45us" / "1.20ms" / "1.01s" -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    printf "%.3f", (u == "us" ? n / 1000 : u == "ms" ? n : u == "s" ? n * 1000 : u == "m" ? n * 60000 : n)
  }'
}

# wrk_run NAME URL SCRIPT CONNECTIONS [SECONDS] -> $WORK/wrk-NAME.out, and
# RATE REQS P50 P99 (ms) ERRS of it; fails on any non-2xx answer. Adds the
# requests wrk counted on secondnum to SN_WRK_REQS (batch ones also to
# SN_WRK_BATCH): each must have its audit row at the end.
WRK_N=0 SN_WRK_REQS=0 SN_WRK_BATCH=0
wrk_run() {
  local name=$1 url=$2 script=$3 conns=$4 secs=${5:-$DURATION} out rc=0
  WRK_N=$((WRK_N + 1))
  out=$WORK/wrk-$WRK_N-$(echo "$name" | tr -cs 'a-z0-9' '-' | sed 's/-*$//').out
  timeout -k 5 $((secs + 60)) wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$script" "$url" >"$out" 2>&1 &
  PIDS+=($!)
  wait $! || rc=$?
  [ "$rc" = 0 ] || { cat "$out" >&2; fail "wrk failed ($rc): $name"; }
  if grep -q 'Non-2xx' "$out"; then cat "$out" >&2; fail "non-2xx answers: $name"; fi
  if [ "$url" != "${url#"$SN_URL/"}" ]; then # secondnum: still up, no dropped connections
    kill -0 "$SN_PID" 2>/dev/null || { cat "$out" >&2; tail -5 "$WORK/serve.log" >&2; fail "secondnum serve died during: $name"; }
    if grep -q 'Socket errors' "$out"; then cat "$out" >&2; fail "socket errors: $name"; fi
  fi
  RATE=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  REQS=$(awk '/ requests in / {print $1}' "$out")
  if [ "$url" != "${url#"$SN_URL/"}" ]; then # the audit trail's count at the end
    SN_WRK_REQS=$((SN_WRK_REQS + REQS))
    [ "$script" != bench/http/batch.lua ] || SN_WRK_BATCH=$((SN_WRK_BATCH + REQS))
  fi
  P50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  P99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  ERRS=$(sed -n 's/^ *Socket errors: *//p' "$out")
  [ -n "$RATE" ] || { cat "$out" >&2; fail "no rate in wrk's output: $name"; }
  printf '  %-30s -c%-4s %10.0f req/s   p50 %7.3f ms   p99 %7.3f ms%s\n' \
    "$name" "$conns" "$RATE" "$P50" "$P99" "${ERRS:+   socket errors: $ERRS}"
}
best() { awk -v a="$1" -v b="$2" 'BEGIN {print (a + 0 > b + 0 ? a : b)}'; }
median3() { echo "$@" | tr ' ' '\n' | sort -n | sed -n 2p; }

# cpu_us PID: the CPU time (user + system, every thread) of PID and its
# children (nginx's worker) so far, in microseconds.
cpu_us() {
  local p t=0
  for p in "$1" $(pgrep -P "$1"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo $((t * 1000000 / $(getconf CLK_TCK)))
}

# camara_pairs NAME: three pairs of CAMARA runs, nginx then secondnum; sets
# NGINX_BEST, SN_BEST (the best rate of each), RATIOS (each pair's
# secondnum/nginx) and RATIO_MEDIAN; and the CPU a request (the server's
# whole process: loops, audit thread, writer) of each run, CPU_RATIOS (each
# pair's nginx/secondnum: the rate ratio the CPU alone allows, which the
# drift of this shared machine's speed between runs does not move) and
# CPU_MEDIAN.
camara_pairs() {
  local i n c0 nus sus
  NGINX_BEST=0 SN_BEST=0 RATIOS= CPU_RATIOS=
  for i in 1 2 3; do
    c0=$(cpu_us "$NGINX_PID")
    wrk_run "nginx" "$NGINX_URL$CAMARA" bench/http/camara.lua 64; n=$RATE
    nus=$(awk -v c="$(($(cpu_us "$NGINX_PID") - c0))" -v r="$REQS" 'BEGIN {printf "%.2f", c / r}')
    c0=$(cpu_us "$SN_PID")
    wrk_run "$1" "$SN_URL$CAMARA" bench/http/camara.lua 64
    sus=$(awk -v c="$(($(cpu_us "$SN_PID") - c0))" -v r="$REQS" 'BEGIN {printf "%.2f", c / r}')
    echo "    CPU a request: nginx $nus us, secondnum $sus us"
    NGINX_BEST=$(best "$NGINX_BEST" "$n") SN_BEST=$(best "$SN_BEST" "$RATE")
    RATIOS="$RATIOS $(awk -v s="$RATE" -v n="$n" 'BEGIN {printf "%.2f", s / n}')"
    CPU_RATIOS="$CPU_RATIOS $(awk -v s="$sus" -v n="$nus" 'BEGIN {printf "%.2f", n / s}')"
  done
  RATIO_MEDIAN=$(median3 $RATIOS) CPU_MEDIAN=$(median3 $CPU_RATIOS)
  echo "  ratios of the pairs:$RATIOS (median $RATIO_MEDIAN);" \
    "CPU a request, nginx/secondnum:$CPU_RATIOS (median $CPU_MEDIAN)"
}

# ---- the audit trail's rows before the run (counted again at its end) -------
audit_count() { # -> "RECORDS ITEMS" of every day
  "$SN" audit count --db "$DB" --from 2000-01-01 --to 2099-12-31 | awk '{print $2, $4}'
}
read -r AUDIT_ROWS0 AUDIT_ITEMS0 <<<"$(audit_count)"

# ---- a number with a 200 answer for the CAMARA runs --------------------------
CAMARA=/number-recycling/v0.2/check
start_nginx
start_secondnum 1
for n in $(head -50 "$WORK/numbers.txt"); do
  code=$(curl -s -o "$WORK/camara.json" -w '%{http_code}' --max-time 5 -X POST \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $SN_KEY" \
    --data "{\"phoneNumber\":\"$n\",\"specifiedDate\":\"2020-01-01\"}" "$SN_URL$CAMARA" || true)
  [ "$code" = 200 ] && { SN_NUMBER=$n; break; }
done
[ -n "$SN_NUMBER" ] || fail "no CAMARA 200 for the first 50 numbers (last: $code $(cat "$WORK/camara.json"))"
[ -z "${SN_BENCH_SERVE_ARGS:-}" ] || echo "every secondnum serve runs with: $SN_BENCH_SERVE_ARGS (in $WORK)"
echo "CAMARA check of $SN_NUMBER on 2020-01-01: $(cat "$WORK/camara.json")"

# ---- 1. CAMARA check, --threads 1 --------------------------------------------
echo "CAMARA check, wrk -t1 -c64 -d${DURATION}s, secondnum --threads 1:"
camara_pairs "secondnum --threads 1"
NGINX1=$NGINX_BEST PEAK1=$SN_BEST RATIO1=$RATIO_MEDIAN RATIOS1=$RATIOS CPU1=$CPU_MEDIAN CPUS1=$CPU_RATIOS

# ---- 2. latency at half the peak, --threads 1 --------------------------------
# What one paced connection does depends on the load, so two short
# calibration runs: 16 connections, then the count that one suggests.
echo "latency at half the peak ($PEAK1 / 2 req/s), 1 ms pause between requests per connection:"
export SN_DELAY_MS=1
CONNS=16
for _ in 1 2; do
  wrk_run "calibration, secondnum" "$SN_URL$CAMARA" bench/http/camara.lua "$CONNS" 3
  CONNS=$(awk -v peak="$PEAK1" -v r="$RATE" -v c="$CONNS" 'BEGIN {
    c = int(peak / 2 / (r / c) + 0.5); print (c < 1 ? 1 : c > 2000 ? 2000 : c) }')
done
wrk_run "paced, secondnum --threads 1" "$SN_URL$CAMARA" bench/http/camara.lua "$CONNS"
HALF=$RATE HALF_P50=$P50 HALF_P99=$P99
wrk_run "paced, nginx" "$NGINX_URL$CAMARA" bench/http/camara.lua "$CONNS"
NHALF=$RATE NHALF_P50=$P50 NHALF_P99=$P99
unset SN_DELAY_MS
stop_secondnum

# ---- 1'. CAMARA check, --threads 2 -------------------------------------------
start_secondnum 2
echo "CAMARA check, wrk -t1 -c64 -d${DURATION}s, secondnum --threads 2:"
camara_pairs "secondnum --threads 2"
NGINX2=$NGINX_BEST PEAK2=$SN_BEST RATIO2=$RATIO_MEDIAN RATIOS2=$RATIOS CPU2=$CPU_MEDIAN CPUS2=$CPU_RATIOS

# ---- 3. batch check, --threads 2 ---------------------------------------------
# One request by hand first: 1000 answers, none an error.
curl -sf --max-time 30 -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $SN_KEY" \
  --data-binary @"$SN_BATCH_FILE" "$SN_URL/v1/check/batch" >"$WORK/batch-answer.json" ||
  fail "batch check by hand failed"
answers=$(grep -o '"result":' "$WORK/batch-answer.json" | wc -l)
[ "$answers" = 1000 ] || fail "batch: $answers results of 1000 (see $WORK/batch-answer.json)"
echo "batch check, 1000 numbers per request:"
wrk_run "secondnum --threads 2, batch" "$SN_URL/v1/check/batch" bench/http/batch.lua 8
BATCH=$(awk -v r="$RATE" 'BEGIN {printf "%.0f", r * 1000}')

# ---- 4. events over HTTP, --threads 2 ----------------------------------------
# The counter goes on from the last run on this store (numbers are PREFIX +
# 8 digits), so every event is new. The run's whole span (10^7 numbers, the
# Lua file's THREAD_SPAN for its one wrk thread) is reserved first; wrk's
# done() then gives back what it did not use. A run that dies keeps the
# reservation, so the next run never repeats a number.
EVENTS_CONNS=8
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror bench/raw_events.c -lsqlite3 -o "$WORK/raw_events"
rm -f "$WORK/raw_events.db" "$WORK/raw_events.db-wal" "$WORK/raw_events.db-shm"
RAW_EVENTS=$("$WORK/raw_events" "$WORK/raw_events.db" 2000000 $((EVENTS_CONNS * 1000)) 64) ||
  fail "bench/raw_events.c failed"
rm -f "$WORK/raw_events.db" "$WORK/raw_events.db-wal" "$WORK/raw_events.db-shm"
echo "SQLite alone, the rows of 2000000 new activations (bench/raw_events.c): $RAW_EVENTS events/s"
export SN_EVENTS_BASE SN_EVENTS_NEXT=$WORK/events.next
SN_EVENTS_BASE=$(cat "$SN_EVENTS_NEXT" 2>/dev/null || echo 0)
[ "$SN_EVENTS_BASE" -le 90000000 ] || fail "range $PREFIX is used up: remove $WORK"
echo $((SN_EVENTS_BASE + 10000000)) >"$SN_EVENTS_NEXT"
before=$(healthz_numbers "$SN_URL") || fail "no /healthz answer before the events run"
echo "events over HTTP, 1000 new activations of $PREFIX numbers per request:"
wrk_run "secondnum --threads 2, events" "$SN_URL/v1/events" bench/http/events.lua "$EVENTS_CONNS"
EVENTS=$(awk -v r="$RATE" 'BEGIN {printf "%.0f", r * 1000}')
sleep 1 # requests still in flight when wrk stopped
after=$(healthz_numbers "$SN_URL") || fail "no /healthz answer after the events run"
ADDED=$((after - before)) ANSWERED=$((REQS * 1000))
echo "  /healthz numbers: $before -> $after (+$ADDED; answered requests x 1000 = $ANSWERED)"
[ "$ADDED" -ge "$ANSWERED" ] && [ "$ADDED" -le $((ANSWERED + EVENTS_CONNS * 1000)) ] ||
  fail "the store grew by $ADDED numbers, the answered requests carried $ANSWERED new ones"

# ---- 5. checks and events at once, --threads 2 --------------------------------
# Two wrk runs at the same time, each in a subshell that leaves its rate
# and request count in a file (wrk_run's variables stay in the subshell).
SN_EVENTS_BASE=$(cat "$SN_EVENTS_NEXT")
[ "$SN_EVENTS_BASE" -le 90000000 ] || fail "range $PREFIX is used up: remove $WORK"
echo $((SN_EVENTS_BASE + 10000000)) >"$SN_EVENTS_NEXT"
before=$(healthz_numbers "$SN_URL") || fail "no /healthz answer before the run at once"
echo "CAMARA checks and events at once:"
(wrk_run "CAMARA, with events" "$SN_URL$CAMARA" bench/http/camara.lua 64
  echo "$RATE $REQS" >"$WORK/mixed-camara") &
mixed_pid=$!
(wrk_run "events, with CAMARA" "$SN_URL/v1/events" bench/http/events.lua "$EVENTS_CONNS"
  echo "$RATE $REQS" >"$WORK/mixed-events") || fail "the events run at once failed"
wait "$mixed_pid" || fail "the CAMARA run at once failed"
read -r MIXED_CAMARA MIXED_CAMARA_REQS <"$WORK/mixed-camara"
read -r MIXED_EVENTS MIXED_EVENTS_REQS <"$WORK/mixed-events"
SN_WRK_REQS=$((SN_WRK_REQS + MIXED_CAMARA_REQS + MIXED_EVENTS_REQS))
MIXED_EVENTS=$(awk -v r="$MIXED_EVENTS" 'BEGIN {printf "%.0f", r * 1000}')
sleep 1
after=$(healthz_numbers "$SN_URL") || fail "no /healthz answer after the run at once"
ANSWERED=$((MIXED_EVENTS_REQS * 1000))
[ $((after - before)) -ge "$ANSWERED" ] ||
  fail "the store grew by $((after - before)) numbers, the answered requests carried $ANSWERED new ones"
stop_secondnum

# ---- the audit trail: a record for every request of the run ------------------
# wrk counts the requests answered before it stopped; those in flight then
# are answered (and audited) too, and so are the probes and checks by hand:
# the records written (`audit count`: a row's own, or each check of a group
# row) must be at least wrk's count, batch items 1000 a request.
read -r AUDIT_ROWS1 AUDIT_ITEMS1 <<<"$(audit_count)"
AUDIT_ROWS=$((AUDIT_ROWS1 - AUDIT_ROWS0)) AUDIT_ITEMS=$((AUDIT_ITEMS1 - AUDIT_ITEMS0))
echo "audit trail: $AUDIT_ROWS records, $AUDIT_ITEMS batch items written during the run;" \
  "wrk counted $SN_WRK_REQS requests to secondnum, $SN_WRK_BATCH of them batches"
case " ${SN_BENCH_SERVE_ARGS:-} " in
*" --audit off "*)
  [ "$AUDIT_ROWS" = 0 ] || fail "--audit off, yet $AUDIT_ROWS audit records were written" ;;
*)
  [ "$AUDIT_ROWS" -ge "$SN_WRK_REQS" ] ||
    fail "$AUDIT_ROWS audit records for $SN_WRK_REQS requests wrk counted"
  [ "$AUDIT_ITEMS" -ge $((SN_WRK_BATCH * 1000)) ] ||
    fail "$AUDIT_ITEMS audit batch items for $((SN_WRK_BATCH * 1000)) numbers checked by batch" ;;
esac

# ---- summary -----------------------------------------------------------------
awk -v numbers="$NUMBERS" -v n1="$NGINX1" -v s1="$PEAK1" -v n2="$NGINX2" -v s2="$PEAK2" \
    -v r1="$RATIO1" -v r2="$RATIO2" -v rs1="$RATIOS1" -v rs2="$RATIOS2" \
    -v c1="$CPU1" -v c2="$CPU2" -v cs1="$CPUS1" -v cs2="$CPUS2" \
    -v half="$HALF" -v conns="$CONNS" -v p50="$HALF_P50" -v p99="$HALF_P99" \
    -v nhalf="$NHALF" -v np50="$NHALF_P50" -v np99="$NHALF_P99" \
    -v batch="$BATCH" -v ev="$EVENTS" -v added="$ADDED" -v raw="$RAW_EVENTS" \
    -v arows="$AUDIT_ROWS" -v aitems="$AUDIT_ITEMS" -v wreqs="$SN_WRK_REQS" \
    -v mc="$MIXED_CAMARA" -v me="$MIXED_EVENTS" '
function row(what, fmt, value, goal, met) {
  line = sprintf("%-62s " fmt " %12s %s", what, value, goal, (met == "" ? "" : met ? "met" : "MISSED"))
  sub(/ +$/, "", line)
  print line
}
BEGIN {
  printf "\n%-62s %14s %12s\n", "what (" numbers " numbers in the store)", "value", "goal"
  row("nginx fixed JSON, best of 3, req/s", "%14.0f", n1)
  row("secondnum CAMARA check, --threads 1, best of 3, req/s", "%14.0f", s1)
  row("  ratio secondnum/nginx, median of 3 pairs (" substr(rs1, 2) ")", "%14.2f", r1, ">= 0.90", r1 >= 0.90)
  row("  CPU a request, nginx/secondnum (" substr(cs1, 2) ")", "%14.2f", c1)
  row("nginx fixed JSON (second round), best of 3, req/s", "%14.0f", n2)
  row("secondnum CAMARA check, --threads 2, best of 3, req/s", "%14.0f", s2)
  row("  ratio secondnum/nginx, median of 3 pairs (" substr(rs2, 2) ")", "%14.2f", r2, ">= 0.90", r2 >= 0.90)
  row("  CPU a request, nginx/secondnum (" substr(cs2, 2) ")", "%14.2f", c2)
  row("half-peak run (--threads 1, " conns " conns), req/s", "%14.0f", half)
  row("  fraction of the --threads 1 peak", "%14.2f", half / s1, "~0.50")
  row("  p50 latency, ms", "%14.3f", p50)
  row("  p99 latency, ms", "%14.3f", p99)
  row("same paced load on nginx, req/s", "%14.0f", nhalf)
  row("  p50 latency, ms", "%14.3f", np50)
  row("  p99 latency, ms", "%14.3f", np99)
  row("  p99 ratio secondnum/nginx, same paced load", "%14.2f", p99 / np99, "<= 1.50", p99 / np99 <= 1.5)
  row("batch check (--threads 2), numbers/s", "%14.0f", batch, ">= 2000000", batch >= 2000000)
  row("events over HTTP (--threads 2), events/s", "%14.0f", ev, ">= 200000", ev >= 200000)
  row("  numbers added to the store by that run", "%14d", added)
  row("SQLite alone, same rows (raw_events), events/s", "%14.0f", raw)
  row("  ratio events over HTTP / SQLite alone", "%14.2f", ev / raw)
  row("at once (--threads 2): CAMARA checks, req/s", "%14.0f", mc)
  row("  fraction of the --threads 2 CAMARA best alone", "%14.2f", mc / s2)
  row("at once: events over HTTP, events/s", "%14.0f", me)
  row("  fraction of the events run alone", "%14.2f", me / ev)
  row("audit records written during the run", "%14d", arows)
  row("  requests wrk counted on secondnum", "%14d", wreqs)
  row("  batch items in those rows", "%14d", aitems)
}'
[ -n "${BENCH_DIR:-}" ] || echo "(work dir removed; BENCH_DIR=DIR keeps it)"
