#!/usr/bin/env bash
# bench/receipts.sh - what a signed receipt costs, and that a check without
# one costs what it did: wrk (one thread, -c64, keep-alive, 127.0.0.1)
# against 'secondnum serve --threads 1' on a store of BENCH_NUMBERS numbers
# (default 100,000; 'secondnum gen --seed 1').
#
#   SN_BASE=/path/to/old/secondnum bench/receipts.sh
#       also runs the CAMARA check on that binary (a build without receipts,
#       on a store of its own made from the same feed): three pairs of runs
#       back to back, base then this build, and the ratio of each pair
#       (this machine drifts by 20-40% between runs; a pair sees the same
#       conditions). Without SN_BASE the pairs are skipped.
#   BENCH_SECONDS=5 (default 5) each wrk run; BENCH_DIR keeps the work dir.
#
# Then, on this build alone, three pairs each: the CAMARA check without and
# with 'Secondnum-Receipt: true', and POST /v1/check without and with
# "receipt": true; requests/s of each and the ratio with/without. Every
# answer must be 200 (a non-2xx or socket error fails the bench).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NUMBERS=${BENCH_NUMBERS:-100000}
DURATION=${BENCH_SECONDS:-5}
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/sn-receipts.XXXXXX")}
mkdir -p "$WORK"
SN=${SECONDNUM:-$ROOT/build/secondnum}
[ -n "${SECONDNUM:-}" ] || make -s build/secondnum
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "bench/receipts.sh: $*" >&2; exit 1; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$SN" gen --numbers "$NUMBERS" --seed 1 >"$WORK/feed.csv"
NUMBER=$(awk -F, 'NR == 2 {print $1}' "$WORK/feed.csv")

# make_store BINARY DB: the feed imported, an app key with the largest limits
make_store() {
  "$1" import --create --db "$2" "$WORK/feed.csv" >/dev/null
  "$1" keys create --db "$2" --role app --name bench-app --rate 100000000/s \
    --daily 1000000000000 2>/dev/null | head -1
}
# start BINARY DB: URL is the server's once it answers
start() {
  local port i
  port=$(free_port)
  "$1" serve --db "$2" --listen "127.0.0.1:$port" --threads 1 >/dev/null 2>>"$WORK/serve.log" &
  PIDS+=($!)
  URL=http://127.0.0.1:$port
  for i in $(seq 1 300); do
    curl -sf -o /dev/null "$URL/healthz" && return 0
    sleep 0.1
  done
  fail "no answer on port $port"
}

cat >"$WORK/check.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SN_KEY")
local receipt = os.getenv("SN_RECEIPT") == "1" and ',"receipt":true' or ''
wrk.body = '{"number":"' .. os.getenv("SN_NUMBER") .. '","date":"2020-01-01"' .. receipt .. '}'
EOF
cat >>"$WORK/check.lua" <<'EOF'
function response(status, headers, body)
  if status ~= 200 then error("status " .. status) end
end
EOF

# rate URL SCRIPT [wrk args...]: requests/s of one wrk run (fails on errors)
rate() {
  local url=$1 script=$2 out
  shift 2
  out=$(wrk -t1 -c64 -d"${DURATION}s" -s "$script" "$@" "$url" 2>&1) || fail "wrk: $out"
  if echo "$out" | grep -q "Non-2xx\|Socket errors"; then fail "errors: $out"; fi
  echo "$out" | awk '/^Requests\/sec/ {printf "%.0f", $2}'
}
ratio() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

export SN_KEY SN_NUMBER=$NUMBER
SN_KEY=$(make_store "$SN" "$WORK/new.db")
NEW_KEY=$SN_KEY
start "$SN" "$WORK/new.db"
NEW=$URL
CAMARA=$ROOT/bench/http/camara.lua
echo "store: $NUMBERS numbers; wrk -t1 -c64, ${DURATION}s a run; serve --threads 1"

if [ -n "${SN_BASE:-}" ]; then
  BASE_KEY=$(make_store "$SN_BASE" "$WORK/base.db")
  start "$SN_BASE" "$WORK/base.db"
  BASE=$URL
  rs=()
  for i in 1 2 3; do
    b=$(SN_KEY=$BASE_KEY rate "$BASE/number-recycling/v0.2/check" "$CAMARA")
    n=$(SN_KEY=$NEW_KEY rate "$NEW/number-recycling/v0.2/check" "$CAMARA")
    r=$(ratio "$n" "$b"); rs+=("$r")
    echo "CAMARA, no receipt: base $b req/s, this build $n req/s, ratio $r"
  done
  echo "CAMARA, no receipt: median ratio this build / base = $(median "${rs[@]}")"
fi

rs=()
for i in 1 2 3; do
  a=$(rate "$NEW/number-recycling/v0.2/check" "$CAMARA")
  b=$(rate "$NEW/number-recycling/v0.2/check" "$CAMARA" -H "Secondnum-Receipt: true")
  r=$(ratio "$b" "$a"); rs+=("$r")
  echo "CAMARA: without $a req/s, with a receipt $b req/s, ratio $r"
done
echo "CAMARA: median ratio with / without a receipt = $(median "${rs[@]}")"
rs=()
for i in 1 2 3; do
  a=$(SN_RECEIPT=0 rate "$NEW/v1/check" "$WORK/check.lua")
  b=$(SN_RECEIPT=1 rate "$NEW/v1/check" "$WORK/check.lua")
  r=$(ratio "$b" "$a"); rs+=("$r")
  echo "/v1/check: without $a req/s, with a receipt $b req/s, ratio $r"
done
echo "/v1/check: median ratio with / without a receipt = $(median "${rs[@]}")"
