#!/usr/bin/env bash
# bench/scale.sh - national scale, first figures: what N numbers cost to load
# and to serve, against Redis holding the same numbers, in the same run.
#
#   bench/scale.sh [N]          (default 20000000 numbers)
#
# Environment:
#   SCALE_FILL     gen --fill PERCENT of the feed (default 80: dense blocks of
#                  10,000 as carriers allocate them; 0: gen's thin spread)
#   SCALE_SEED     gen --seed (default 1)
#   BENCH_DIR      work directory (kept); default a temporary one, removed
#   SECONDNUM      the binary (default build/secondnum, built with make)
#   SCALE_REDIS    0: skip Redis (its column prints '-'); default 1, and a
#                  missing redis-server is then an error
#
# Steps, each with its figures:
#   1. secondnum gen --numbers N [--fill P]: the feed.
#   2. secondnum import into a new SQLite store under /usr/bin/time: elapsed
#      seconds and peak RSS.
#   3. secondnum serve on a free loopback port: seconds until GET /healthz
#      answers (the index is loaded before the listeners open), seconds until
#      the first POST /v1/check is answered, RSS once loaded minus the RSS of
#      the same server on an empty store, and the index's own accounting
#      (secondnum_index_bytes on --metrics-listen): built from the store
#      (no snapshot), then stopped (SIGTERM writes the index snapshot,
#      --index-snapshot) and started again from that snapshot: its size,
#      the seconds the stop took to write it, ready, first check and RSS
#      (over the empty server's) from it; then the same two starts with
#      --hashed-checks off (no digest lookups).
#   4. redis-server (Debian's), a private instance on a free loopback port in
#      the work directory: what a check needs of each number (status, first
#      record an activation, first day, last activation day, last
#      cancellation day; as text "1,1,17964,19025,18833") as a field of a hash holding 1,000 consecutive numbers (key: the
#      number without its last three digits), hash-max-listpack-entries 1024
#      so every hash stays a listpack; used_memory after the load minus
#      before, per number, and the seconds of DEBUG RELOAD (save the RDB and
#      load it again).
# Counters go through awk's printf "%.0f", not "%d": mawk's "%d" stops at
# 2^31 - 1 (the accounting of 100M numbers with the digest tables, 2.45 GB,
# read as 21.5 bytes a number, not 24.5).
# Prints one table with both. Exits non-zero with a message when a tool is
# missing (redis-server, redis-cli, sqlite3, curl, python3, /usr/bin/time)
# or a step fails; every server it started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000000}
FILL=${SCALE_FILL:-80}
SEED=${SCALE_SEED:-1}

fail() { echo "bench/scale.sh: $*" >&2; exit 1; }
REDIS=${SCALE_REDIS:-1}
tools="sqlite3 curl python3 awk"
[ "$REDIS" = 0 ] || tools="redis-server redis-cli $tools"
for tool in $tools; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (Debian: see the Makefile's DEB_PKGS)"
done
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (Debian package 'time')"
case "$N" in '' | *[!0-9]*) fail "N must be a number of numbers, not '$N'" ;; esac
case "$FILL" in '' | *[!0-9]*) fail "SCALE_FILL must be 0-100, not '$FILL'" ;; esac

if [ -n "${SECONDNUM:-}" ]; then SN=$SECONDNUM; else make -s build/secondnum; SN=build/secondnum; fi
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sn-scale.XXXXXX")}
mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# wait_until SECONDS CMD...: run CMD every 10 ms until it succeeds
wait_until() {
  local limit=$1 t0; shift
  t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    [ $(($(date +%s) - t0)) -lt "$limit" ] || return 1
    sleep 0.01
  done
}

# ---- 1. the feed -------------------------------------------------------------------
fill_args=()
[ "$FILL" = 0 ] || fill_args=(--fill "$FILL")
echo "generating $N numbers (fill ${FILL}%, seed $SEED) in $WORK"
"$SN" gen --numbers "$N" --seed "$SEED" "${fill_args[@]}" --out "$WORK/feed.csv"
EVENTS=$(($(wc -l <"$WORK/feed.csv") - 1))

# ---- 2. the import -------------------------------------------------------------------
DB=$WORK/scale.db
rm -f "$DB" "$DB"-wal "$DB"-shm "$DB".key
/usr/bin/time -f "%e %M" -o "$WORK/import.time" "$SN" import --create --db "$DB" "$WORK/feed.csv" \
  >"$WORK/import.out" 2>"$WORK/import.err" || { tail -5 "$WORK/import.err" >&2; fail "import failed"; }
read -r import_s import_kb <"$WORK/import.time"
echo "import: $(cat "$WORK/import.out") in ${import_s} s, peak RSS $((import_kb / 1024)) MB"
KEY=$("$SN" keys create --db "$DB" --role app --name scale --rate 100000000/s \
  --daily 1000000000000 2>/dev/null | head -1)
[ -n "$KEY" ] || fail "no app key"
CHECK_NUMBER=$(awk -F, 'NR == 2 {print $1; exit}' "$WORK/feed.csv")

# ---- 3. serve ----------------------------------------------------------------------
# start_serve DB [ARGS...]: sets SERVE_PID, SERVE_URL, METRICS_URL, SERVE_T0 (the start)
# and READY_S (seconds from it to the first /healthz answer)
start_serve() {
  local port mport t0
  port=$(free_port)
  mport=$(free_port)
  SERVE_URL=http://127.0.0.1:$port
  METRICS_URL=http://127.0.0.1:$mport/metrics
  t0=$(now)
  SERVE_T0=$t0
  "$SN" serve --db "$1" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" \
    --threads 1 "${@:2}" 2>>"$WORK/serve.log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  wait_until 1800 curl -sf --max-time 2 "$SERVE_URL/healthz" || fail "serve never answered /healthz"
  READY_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
}
stop_serve() {
  kill "$SERVE_PID"
  wait "$SERVE_PID" 2>/dev/null || true
}
check_once() {
  curl -sf --max-time 5 -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $KEY" \
    -d "{\"number\":\"$CHECK_NUMBER\",\"date\":\"2020-01-01\"}" "$SERVE_URL/v1/check"
}

EMPTY=$WORK/empty.db
rm -f "$EMPTY" "$EMPTY"-wal "$EMPTY"-shm "$EMPTY".key
"$SN" init --db "$EMPTY" >/dev/null
start_serve "$EMPTY" --index-snapshot off
empty_kb=$(rss_kb "$SERVE_PID")
stop_serve

# first_check: seconds from the start to the first answered check
first_check() {
  check_once >/dev/null || wait_until 60 check_once || fail "no check answered"
  awk -v a="$SERVE_T0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}'
}
# snapshot_loaded: the last start loaded the snapshot (its log line)
snapshot_loaded() {
  tail -n 20 "$WORK/serve.log" | grep -q "index snapshot loaded" ||
    fail "serve did not load the index snapshot: $(tail -n 5 "$WORK/serve.log")"
}
SNAP=$WORK/scale.index
rm -f "$SNAP" "$SNAP".tmp
start_serve "$DB" --index-snapshot "$SNAP"
first_check_s=$(first_check)
serve_ready_s=$READY_S
loaded_kb=$(rss_kb "$SERVE_PID")
metrics=$(curl -sf --max-time 10 "$METRICS_URL") || fail "no /metrics answer"
index_bytes=$(awk '$1 == "secondnum_index_bytes" {printf "%.0f", $2}' <<<"$metrics")
index_numbers=$(awk '$1 == "secondnum_index_numbers" {printf "%.0f", $2}' <<<"$metrics")
[ -n "$index_bytes" ] || fail "no secondnum_index_bytes in /metrics"
t0=$(now)
stop_serve
snap_write_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
[ -s "$SNAP" ] || fail "no index snapshot written at the stop"
snap_mb=$(awk -v b="$(stat -c %s "$SNAP")" 'BEGIN {printf "%.1f", b / 1e6}')

# again, from the snapshot
start_serve "$DB" --index-snapshot "$SNAP"
snap_first_s=$(first_check)
snap_ready_s=$READY_S
snapshot_loaded
snap_kb=$(rss_kb "$SERVE_PID")
stop_serve

# the same without the digest lookups (serve --hashed-checks off): from the store, from the snapshot
start_serve "$DB" --hashed-checks off --index-snapshot off
first_check >/dev/null
off_ready_s=$READY_S
off_kb=$(rss_kb "$SERVE_PID")
off_bytes=$(curl -sf --max-time 10 "$METRICS_URL" | awk '$1 == "secondnum_index_bytes" {printf "%.0f", $2}')
[ -n "$off_bytes" ] || fail "no secondnum_index_bytes in /metrics (hashed checks off)"
stop_serve
start_serve "$DB" --hashed-checks off --index-snapshot "$SNAP"
off_snap_first_s=$(first_check)
off_snap_ready_s=$READY_S
snapshot_loaded
stop_serve

# ---- 4. redis ------------------------------------------------------------------------
# load_redis: sets redis_before, redis_after (used_memory), redis_numbers,
# encoding (of one hash) and reload_s
load_redis() {
  local rport t0
  rport=$(free_port)
  mkdir -p "$WORK/redis"
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$WORK/redis" --dbfilename dump.rdb \
    --save '' --appendonly no --hash-max-listpack-entries 1024 --hash-max-listpack-value 64 \
    --enable-debug-command local --daemonize no --logfile "$WORK/redis/redis.log" &
  PIDS+=("$!")
  R() { redis-cli -p "$rport" "$@"; }
  wait_until 30 R ping || fail "redis-server did not start (see $WORK/redis/redis.log)"
  used() { R info memory | awk -F: '/^used_memory:/ {gsub(/\r/, "", $2); print $2}'; }
  redis_before=$(used)
  # one HSET per number, piped in the RESP protocol
  sqlite3 -separator ' ' "$DB" \
    'select number, status, first_is_activation, first_day, last_activation_day, last_cancel_day from numbers' |
    awk '{key = "n:" substr($1, 1, length($1) - 3); field = substr($1, length($1) - 2)
          val = $2 "," $3 "," $4 "," $5 "," $6
          printf "*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n",
                 length(key), key, length(field), field, length(val), val}' |
    R --pipe >"$WORK/redis/pipe.out" || fail "loading redis failed: $(tail -2 "$WORK/redis/pipe.out")"
  redis_numbers=$(R eval "local n = 0 for _, k in ipairs(redis.call('keys', 'n:*')) do n = n + redis.call('hlen', k) end return n" 0)
  encoding=$(R object encoding "$(R randomkey)")
  redis_after=$(used)
  t0=$(now)
  R debug reload >/dev/null || fail "DEBUG RELOAD failed"
  reload_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
  R shutdown nosave >/dev/null 2>&1 || true
}
redis_before=0 redis_after=0 redis_numbers=0 encoding=- reload_s=0
[ "$REDIS" = 0 ] || load_redis

# ---- the table -----------------------------------------------------------------------
awk -v n="$N" -v ev="$EVENTS" -v fill="$FILL" -v is="$import_s" -v ik="$import_kb" \
    -v rdy="$serve_ready_s" -v fc="$first_check_s" -v ek="$empty_kb" -v lk="$loaded_kb" \
    -v ib="$index_bytes" -v inum="$index_numbers" -v rb="$redis_before" -v ra="$redis_after" \
    -v rn="$redis_numbers" -v enc="$encoding" -v rl="$reload_s" -v ordy="$off_ready_s" \
    -v ok="$off_kb" -v ob="$off_bytes" -v srdy="$snap_ready_s" -v sfc="$snap_first_s" \
    -v smb="$snap_mb" -v sw="$snap_write_s" -v osrdy="$off_snap_ready_s" \
    -v osfc="$off_snap_first_s" -v sk="$snap_kb" 'BEGIN {
  rpn = (rn > 0) ? (ra - rb) / rn : 0
  printf "\n%.0f numbers, %.0f events, %s\n", n, ev, (fill == 0 ? "thin spread" : "dense blocks " fill "% full")
  printf "%-46s %14s %14s\n", "", "secondnum", "redis"
  printf "%-46s %14.2f %14s\n", "import into SQLite, s", is, "-"
  printf "%-46s %14.0f %14s\n", "import peak RSS, MB", ik / 1024, "-"
  printf "%-46s %14.2f %14s\n", "ready after start / DEBUG RELOAD, s", rdy, (rn > 0 ? sprintf("%.2f", rl) : "-")
  printf "%-46s %14.2f %14s\n", "first check answered after start, s", fc, "-"
  printf "%-46s %14.2f %14s\n", "from the snapshot: ready after start, s", srdy, "-"
  printf "%-46s %14.2f %14s\n", "from the snapshot: first check answered, s", sfc, "-"
  printf "%-46s %14.1f %14s\n", "index snapshot size, MB", smb, "-"
  printf "%-46s %14.2f %14s\n", "stop (writes the snapshot), s", sw, "-"
  printf "%-46s %14.1f %14s\n", "memory per number, bytes (RSS / used_memory)", (lk - ek) * 1024 / n,
         (rn > 0 ? sprintf("%.1f", rpn) : "-")
  printf "%-46s %14.1f %14s\n", "from the snapshot: memory per number (RSS)", (sk - ek) * 1024 / n, "-"
  printf "%-46s %14.1f %14s\n", "index accounting per number, bytes", ib / inum, enc
  printf "%-46s %14.2f %14s\n", "hashed checks off: ready after start, s", ordy, "-"
  printf "%-46s %14.2f %14s\n", "hashed checks off: ready from the snapshot, s", osrdy, "-"
  printf "%-46s %14.2f %14s\n", "hashed checks off: first check from snapshot, s", osfc, "-"
  printf "%-46s %14.1f %14s\n", "hashed checks off: memory per number (RSS)", (ok - ek) * 1024 / n, "-"
  printf "%-46s %14.1f %14s\n", "hashed checks off: index accounting per number", ob / inum, "-"
  if (rn > 0)
    printf "ratios secondnum/redis: memory %.2fx (RSS), %.2fx (index accounting); ready %.2fx; " \
           "hashed checks off: memory %.2fx (RSS), %.2fx (index accounting), ready %.2fx; " \
           "ready from the snapshot %.2fx (hashed checks off: %.2fx)\n",
           ((lk - ek) * 1024 / n) / rpn, (ib / inum) / rpn, rdy / rl,
           ((ok - ek) * 1024 / n) / rpn, (ob / inum) / rpn, ordy / rl, srdy / rl, osrdy / rl
}'
