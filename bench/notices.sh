#!/usr/bin/env bash
# bench/notices.sh - unbind notices end to end: NUMBERS cancellations with
# APPS bound apps each, every notice delivered by signed webhook to a local
# receiver (nginx answering 204 and logging the arrival time of each POST).
#
#   bench/notices.sh [NUMBERS] [APPS]      (default 1000000 and 5)
#
# Steps, all through the public API of a real `secondnum serve`:
#   1. import NUMBERS activations (secondnum import), make APPS app keys,
#      each app binds one account to every number (PUT /v1/bindings) and sets
#      its webhook to the receiver;
#   2. the carrier cancels every number (POST /v1/events, 10,000 per request);
#      each cancellation issues APPS notices and queues APPS deliveries in the
#      same transaction;
#   3. wait until no delivery is pending, then read the receiver's log.
# Prints deliveries/s (first to last arrival; goal >= 50,000/s) and the lag:
# from the first cancellation acknowledged to the first delivery, and from
# the last cancellation acknowledged to the last delivery (the drain).
# Baselines in the same run, both POSTing a notice-sized body (354 bytes)
# with a delivery's headers to the same receiver for 5 s:
#  - wrk (1 thread, 64 connections, keep-alive): the most this receiver and
#    loopback take on this machine;
#  - bench/curl_post.c: libcurl alone, set up as the deliverer is
#    (socket_action over epoll, reused handles), with no store, JSON or
#    signature work, in the deliverer's shape (2 threads of 128 transfers)
#    and three others; the best of the four is the most the delivery
#    library sends into this receiver here.
# Both ratios are printed (to wrk, to the best libcurl run).
set -euo pipefail
cd "$(dirname "$0")/.."
NUMBERS=${1:-1000000}
APPS=${2:-5}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/sn-notices.XXXXXX)}
PORT=${BENCH_PORT:-18300}
RPORT=$((PORT + 1))
mkdir -p "$WORK"
if [ -z "${SECONDNUM:-}" ]; then make -s build/secondnum; fi
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror bench/curl_post.c -lcurl -lpthread -o "$WORK/curl_post"
SN=${SECONDNUM:-$PWD/build/secondnum}
DRIVER="python3 bench/notices/driver.py"
URL=http://127.0.0.1:$PORT
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== setup in $WORK: $NUMBERS numbers, $APPS apps"
rm -f "$WORK"/s.db* "$WORK"/access.log
{ echo number,event,at; awk -v n="$NUMBERS" 'BEGIN { for (i = 0; i < n; i++) printf "+86139%08d,activate,2025-01-01T00:00:00Z\n", i }'; } >"$WORK/feed.csv"
"$SN" carriers add --create --db "$WORK/s.db" --name cm --range +86139 >/dev/null
"$SN" import --db "$WORK/s.db" --carrier cm "$WORK/feed.csv" >/dev/null
CARRIER=$("$SN" keys create --db "$WORK/s.db" --role carrier --name cm-feed --carrier cm 2>/dev/null | head -1)

sed -e "s|@PORT@|$RPORT|g" -e "s|@WORK@|$WORK|g" bench/notices/nginx.conf.in >"$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -p "$WORK" &
pids+=($!)
"$SN" serve --db "$WORK/s.db" --listen "127.0.0.1:$PORT" --allow-private-webhooks 2>"$WORK/serve.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.2; done

echo "== baseline: wrk POSTing a notice-sized body to the receiver"
baseline=$(wrk -t1 -c64 -d5s -s bench/notices/post.lua "http://127.0.0.1:$RPORT/hook/baseline" |
  awk '/Requests\/sec/ { print $2 }')
echo "wrk: $baseline requests/s"
curl_baseline=0
for shape in "2 128" "2 32" "3 32" "4 32"; do # the deliverer's shape first, then others
  rate=$("$WORK/curl_post" "http://127.0.0.1:$RPORT/hook/baseline" 5 $shape 354)
  echo "libcurl alone (bench/curl_post.c, ${shape% *} threads x ${shape#* } transfers): $rate requests/s"
  curl_baseline=$(awk -v a="$curl_baseline" -v b="$rate" 'BEGIN {print (b + 0 > a + 0 ? b : a)}')
done

keys=()
for a in $(seq "$APPS"); do
  keys+=("$("$SN" keys create --db "$WORK/s.db" --role app --name "app$a" 2>/dev/null | head -1)")
done
sleep 1.5 # a running server picks up keys made by the CLI within a second
t0=$(date +%s.%N)
for a in $(seq "$APPS"); do
  key=${keys[$((a - 1))]}
  curl -sf -X PUT "$URL/v1/webhook" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "{\"url\":\"http://127.0.0.1:$RPORT/hook/app$a\",\"secret\":\"bench-secret-of-app$a\"}" >/dev/null
  $DRIVER bind "$URL" "$key" "app$a" 0 "$NUMBERS"
done
t1=$(date +%s.%N)
echo "bindings: $((NUMBERS * APPS)) in $(echo "$t1 - $t0" | bc) s"

echo "== cancelling $NUMBERS numbers"
read -r first_ack last_ack < <($DRIVER cancel "$URL" "$CARRIER" 0 "$NUMBERS")
$DRIVER wait "$URL" "$(IFS=,; echo "${keys[*]}")" $((NUMBERS * APPS)) 3600
sleep 0.5
awk -v base="$baseline" -v cbase="$curl_baseline" -v n=$((NUMBERS * APPS)) -v fa="$first_ack" -v la="$last_ack" '
  $2 == 204 && $3 != "-" { c++; if (first == 0 || $1 < first) first = $1; if ($1 > last) last = $1 }
  END {
    printf "deliveries: %d received (%d expected)\n", c, n
    printf "cancellations: the last acknowledged %.1f s after the first\n", la - fa
    printf "deliveries/s: %.0f (first to last arrival, %.1f s; goal >= 50000)\n", c / (last - first), last - first
    printf "ratio to wrk into the same receiver: %.2fx\n", c / (last - first) / base
    printf "ratio to libcurl alone (best shape) into the same receiver: %.2fx\n", c / (last - first) / cbase
    printf "lag: first delivery %.3f s after the first cancellation was acknowledged;\n", first - fa
    printf "     last delivery %.3f s after the last cancellation was acknowledged\n", last - la
    if (c < n) exit 1
  }' APPS="$APPS" "$WORK/access.log"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
