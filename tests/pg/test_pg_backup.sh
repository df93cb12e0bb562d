# tests/pg/test_pg_backup.sh - the restore drills of docs/operations.md for
# a PostgreSQL store: events imported, then a logical backup (`pg_dump -Fc`,
# `pg_restore` into a new database) and a physical one (`pg_basebackup -X
# stream`, started as a server of its own); `secondnum verify` passes on
# each copy and every check answers as on the original. Run by
# tests/pg/run.sh, which starts the server (SN_PG_DIR); SECONDNUM is the
# real binary.
. "$(dirname "$0")/../cli/lib.sh"
: "${SN_PG_DIR:?run by tests/pg/run.sh}"
PGS="$(cd "$(dirname "$0")" && pwd)/pg_server.sh"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1) # the server's own tools

# newdb NAME: a database of this case; prints its URL.
newdb() {
  local name="$1_$(printf '%s' "$WORK" | md5sum | cut -c1-16)"
  "$PGS" createdb "$SN_PG_DIR" "$name" >&2
  "$PGS" url "$SN_PG_DIR" "$name"
}

case_pg_dump_and_pg_restore_drill() {
  export SECONDNUM_KEY="$WORK/pg.key" # one secret for the store and its copy
  src=$(newdb drill_src)
  "$SN" init --db "$src" >/dev/null
  "$SN" gen --numbers 5000 --seed 13 >f.csv
  "$SN" import --db "$src" f.csv >/dev/null
  "$SN" carriers add --db "$src" --name cmcc --range +86139 >/dev/null
  "$SN" keys create --db "$src" --role app --name bank >/dev/null
  # the backup: a consistent snapshot, taken while the store may be in use
  "$PGBIN/pg_dump" -Fc -f ledger.dump "$src" || fail "pg_dump failed"
  # the drill: restore into a new, empty database and prove it
  dst=$(newdb drill_dst)
  "$PGBIN/pg_restore" --exit-on-error --no-owner -d "$dst" ledger.dump || fail "pg_restore failed"
  expect_exit 0 "$SN" verify --db "$dst"
  grep -q "5000 numbers, .* consistent" "$WORK/out" || fail "verify: $(cat "$WORK/out")"
  { echo number,date; cut -d, -f1 f.csv | tail -n +2 | sort -u | sed 's/$/,2024-06-01/'; } >q.csv
  "$SN" check --db "$src" --file q.csv >src.ans || true
  "$SN" check --db "$dst" --file q.csv >dst.ans || true
  [ "$(wc -l <src.ans)" -gt 5000 ] || fail "too few answers: $(wc -l <src.ans)"
  cmp -s src.ans dst.ans || fail "checks differ: $(diff src.ans dst.ans | head -5)"
  expect_eq "keys" "$("$SN" keys list --db "$src")" "$("$SN" keys list --db "$dst")"
  expect_eq "carriers" "$("$SN" carriers list --db "$src")" "$("$SN" carriers list --db "$dst")"
}

# as_server CMD...: run CMD as the server's user (postgres when root).
as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# same_answers URL_A URL_B FEED: every number of FEED checked on both.
same_answers() {
  { echo number,date; cut -d, -f1 "$3" | tail -n +2 | sort -u | sed 's/$/,2024-06-01/'; } >q.csv
  "$SN" check --db "$1" --file q.csv >a.ans || true
  "$SN" check --db "$2" --file q.csv >b.ans || true
  [ "$(wc -l <a.ans)" -gt 1000 ] || fail "too few answers: $(wc -l <a.ans)"
  cmp -s a.ans b.ans || fail "checks differ: $(diff a.ans b.ans | head -5)"
}

case_pg_basebackup_drill() {
  export SECONDNUM_KEY="$WORK/pg.key"
  src=$(newdb base_src)
  db=${src##*/}
  "$SN" init --db "$src" >/dev/null
  "$SN" gen --numbers 2000 --seed 17 >f.csv
  "$SN" import --db "$src" f.csv >/dev/null
  # the physical backup, with the WAL it needs to open consistent
  base="$SN_PG_DIR/base-$(printf '%s' "$WORK" | md5sum | cut -c1-8)"
  as_server "$PGBIN/pg_basebackup" -D "$base" -X stream -c fast \
    -d "$("$PGS" socket-url "$SN_PG_DIR" postgres)" || fail "pg_basebackup failed"
  # the drill: start the copy as a server of its own, on another port
  port=$(free_port)
  as_server "$PGBIN/pg_ctl" -D "$base" -l "$base.log" -w -t 60 -o "-p $port" start >/dev/null ||
    fail "the copy did not start: $(tail -5 "$base.log")"
  trap 'as_server "$PGBIN/pg_ctl" -D "$base" -m fast -w stop >/dev/null 2>&1' EXIT
  copy="postgresql://secondnum:$(cat "$SN_PG_DIR/password")@127.0.0.1:$port/$db"
  expect_exit 0 "$SN" verify --db "$copy"
  grep -q "2000 numbers, .* consistent" "$WORK/out" || fail "verify: $(cat "$WORK/out")"
  same_answers "$src" "$copy" f.csv
}

run_cases
