#!/usr/bin/env bash
# bench/pg_import.sh - where the time of an import into PostgreSQL goes,
# against SQLite's import of the same feed in the same round.
#
#   bench/pg_import.sh                      200,000 numbers, 3 rounds
#   BENCH_NUMBERS=1000000 BENCH_ROUNDS=2 bench/pg_import.sh
#   BENCH_SECONDNUM=path/secondnum          that build instead of build/rel
#   BENCH_BASELINE=path/secondnum           another build, alternated with
#                                           the first in every round (old, new)
#
# One feed ('secondnum gen --numbers BENCH_NUMBERS --seed 1'); each round
# and build runs 'secondnum import --create' into a new SQLite file, then
# into a new database of one private PostgreSQL server (tests/pg/pg_server.sh,
# TCP on 127.0.0.1, as bench/pg.sh), and prints:
#   seconds    elapsed, SQLite and PostgreSQL, and PG/SQLite (SQLite's
#              time over PostgreSQL's: the ratio of events/s)
#   client     the PostgreSQL import's own CPU seconds (user + system)
#   server     CPU seconds of the server's processes that ended meanwhile
#              (the import's backend, autovacuum workers), from the
#              postmaster's children times
#   statements the server's time per statement class (log_min_duration_statement
#              = 0 on that database): COPY into events, COPY into numbers,
#              the staged states (staging table and upsert), the
#              partitions' creation (the schema's DO block), the rest
# The server is stopped and removed when the script exits.
set -euo pipefail
cd "$(dirname "$0")/.."
NUMBERS=${BENCH_NUMBERS:-200000}
ROUNDS=${BENCH_ROUNDS:-3}
[[ "$NUMBERS" =~ ^[0-9]+$ ]] && [ "$NUMBERS" -ge 1000 ] ||
  { echo "bench/pg_import.sh: BENCH_NUMBERS must be a number >= 1000" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[0-9]+$ ]] && [ "$ROUNDS" -ge 1 ] ||
  { echo "bench/pg_import.sh: BENCH_ROUNDS must be a number >= 1" >&2; exit 2; }
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
if [ -n "${BENCH_SECONDNUM:-}" ]; then
  SN=$(abs "$BENCH_SECONDNUM")
else
  make -s -j2 BUILD=build/rel build/rel/secondnum
  SN=$PWD/build/rel/secondnum
fi
BUILDS=("$SN")
[ -z "${BENCH_BASELINE:-}" ] || BUILDS=("$(abs "$BENCH_BASELINE")" "$SN")

WORK=$(mktemp -d /tmp/sn-benchpgi.XXXXXX)
PGDIR=$(mktemp -d -u /tmp/sn-benchpgi-db.XXXXXX)
PG_STARTED=
cleanup() {
  [ -z "$PG_STARTED" ] || tests/pg/pg_server.sh stop "$PGDIR" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export SECONDNUM_KEY=$WORK/secret.key

tests/pg/pg_server.sh start "$PGDIR" >/dev/null
PG_STARTED=1
PM=$(head -1 "$PGDIR/data/postmaster.pid")
TICK=$(getconf CLK_TCK)
children_cpu() { awk '{print $16 + $17}' "/proc/$PM/stat"; }
psql_admin() { tests/pg/pg_server.sh psql "$PGDIR" secondnum -qAt -c "$1"; }

"${BUILDS[0]}" gen --numbers "$NUMBERS" --seed 1 >"$WORK/feed.csv"
echo "feed: $NUMBERS numbers, $(($(wc -l <"$WORK/feed.csv") - 1)) events"

# statements LOG_FROM: milliseconds per statement class in the server's log
# from line LOG_FROM on.
statements() {
  tail -n "+$1" "$PGDIR/server.log" | awk '
    /duration: [0-9.]+ ms/ {
      ms = $0; sub(/.*duration: /, "", ms); sub(/ ms.*/, "", ms)
      if ($0 ~ /COPY events/) c = "events"
      else if ($0 ~ /COPY numbers/) c = "numbers"
      else if ($0 ~ /sn_staged_states/) c = "staged"
      else if ($0 ~ /DO \$\$/) c = "partitions"
      else c = "rest"
      t[c] += ms
    }
    END {
      printf "COPY events %.0f ms, COPY numbers %.0f ms, staged %.0f ms, partitions %.0f ms, rest %.0f ms\n",
        t["events"], t["numbers"], t["staged"], t["partitions"], t["rest"]
    }'
}

# one_import BUILD DB OUT: elapsed seconds of 'import --create' (CPU in OUT.time).
one_import() {
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$3.time" "$1" import --create --db "$2" "$WORK/feed.csv" >"$3" 2>&1 ||
    { cat "$3" >&2; echo "bench/pg_import.sh: import into $2 failed" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

n=0
for round in $(seq 1 "$ROUNDS"); do
  for b in "${BUILDS[@]}"; do
    n=$((n + 1))
    db=bench$n
    rm -f "$WORK/s.db"*
    sq=$(one_import "$b" "$WORK/s.db" "$WORK/sq.out")
    tests/pg/pg_server.sh createdb "$PGDIR" "$db"
    psql_admin "ALTER DATABASE $db SET log_min_duration_statement = 0"
    from=$(($(wc -l <"$PGDIR/server.log") + 1))
    c0=$(children_cpu)
    pg=$(one_import "$b" "$(tests/pg/pg_server.sh url "$PGDIR" "$db")" "$WORK/pg.out")
    sleep 0.5 # the backend has exited and been reaped
    c1=$(children_cpu)
    read -r u s <"$WORK/pg.out.time"
    cmp -s "$WORK/sq.out" "$WORK/pg.out" ||
      { echo "bench/pg_import.sh: the reports differ: $(cat "$WORK/sq.out") / $(cat "$WORK/pg.out")" >&2; exit 1; }
    awk -v r="$round" -v b="$b" -v sq="$sq" -v pg="$pg" -v u="$u" -v s="$s" -v c="$((c1 - c0))" -v k="$TICK" 'BEGIN {
      printf "round %s %s\n  seconds: SQLite %.2f, PostgreSQL %.2f, PG/SQLite %.2f\n", r, b, sq, pg, sq / pg
      printf "  CPU: client %.2f s, server %.2f s\n", u + s, c / k }'
    echo "  statements: $(statements "$from")"
    psql_admin "DROP DATABASE $db"
  done
done
