#!/usr/bin/env bash
# bench/ingest.sh - import speed of the ledger against a raw SQLite insert of
# the same rows, measured in the same run on the same machine.
#
#   bench/ingest.sh [EVENTS]     (default 10000000)
#
# Generates a synthetic feed of EVENTS events (secondnum gen, seed 1), then
# times, with /usr/bin/time:
#   raw        bench/raw_insert: the rows into a plain table, one transaction
#   secondnum  secondnum import into a new store (validation, timeline rules,
#              duplicate detection, log + state per number, batches of 100K)
# and prints events/s for each, their ratio, and the store's size per number.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-10000000}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/sn-bench.XXXXXX)}
mkdir -p "$WORK"
make -s build/secondnum
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror bench/raw_insert.c -lsqlite3 -o "$WORK/raw_insert"
SN=build/secondnum

# About 3.7 events per generated number; generate enough, keep the first EVENTS
# (the feed is in time order, so any prefix is a valid history).
numbers=$((EVENTS * 10 / 36 + 1000))
echo "generating $EVENTS events ($numbers numbers) in $WORK"
set +o pipefail # head closes the pipe early on purpose
"$SN" gen --numbers "$numbers" --seed 1 | head -n $((EVENTS + 1)) >"$WORK/feed.csv"
set -o pipefail
rows=$(($(wc -l <"$WORK/feed.csv") - 1))
[ "$rows" = "$EVENTS" ] || { echo "generated only $rows events" >&2; exit 1; }

measure() { # name command... ; prints seconds and peak RSS into $WORK/name.time
  local name=$1; shift
  sync; /usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$@" >"$WORK/$name.out"
}
rm -f "$WORK"/raw.db* "$WORK"/sn.db*
measure raw "$WORK/raw_insert" "$WORK/raw.db" "$WORK/feed.csv"
measure secondnum "$SN" import --create --db "$WORK/sn.db" "$WORK/feed.csv"
cat "$WORK/secondnum.out"

read -r raw_s raw_kb <"$WORK/raw.time"
read -r sn_s sn_kb <"$WORK/secondnum.time"
numbers_in_store=$(sqlite3 "$WORK/sn.db" 'select count(*) from numbers')
db_bytes=$(stat -c %s "$WORK/sn.db")
awk -v n="$EVENTS" -v r="$raw_s" -v s="$sn_s" -v rk="$raw_kb" -v sk="$sn_kb" \
    -v nums="$numbers_in_store" -v b="$db_bytes" 'BEGIN {
  printf "%-28s %10s %14s %12s\n", "", "seconds", "events/s", "peak RSS MB"
  printf "%-28s %10.2f %14.0f %12.0f\n", "raw SQLite insert", r, n / r, rk / 1024
  printf "%-28s %10.2f %14.0f %12.0f\n", "secondnum import", s, n / s, sk / 1024
  printf "ratio secondnum/raw: %.2fx (goal >= 0.5x)\n", r / s
  printf "store: %.1f MB for %d numbers = %.1f bytes per number (%.1f per event)\n",
         b / 1048576, nums, b / nums, b / n
}'
[ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
