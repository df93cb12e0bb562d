# tests/cli/test_backup.sh - `secondnum backup` and `secondnum restore`: a
# backup taken while serve is applying an events load restores to a store
# that verify accepts and that holds every event acknowledged before the
# backup began; existing outputs, bad inputs, a store in use and PostgreSQL
# URLs are refused with nothing written. CASE_FILTER as every suite.
. "$(dirname "$0")/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"

# Backups are of SQLite files: under tests/pg/run.sh (every --db a database)
# only the PostgreSQL refusal applies.
on_pg() {
  if [ -n "${SN_PG_DIR:-}" ]; then echo "skipped on PostgreSQL (backups of a store file)"; return 0; fi
  return 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_serve DB: serve DB on a free loopback port; sets PORT and SERVE_PID.
start_serve() {
  local i
  for _ in 1 2 3; do
    PORT=$(free_port)
    "$SN" serve --db "$1" --listen "127.0.0.1:$PORT" --threads 2 >serve.out 2>serve.err &
    SERVE_PID=$!
    for i in $(seq 100); do
      if python3 -c 'import sys, urllib.request; urllib.request.urlopen("http://127.0.0.1:%s/healthz" % sys.argv[1], timeout=1)' "$PORT" 2>/dev/null; then
        return 0
      fi
      kill -0 "$SERVE_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null
    grep -qi "in use" serve.err || break
  done
  fail "serve did not start: $(tail -5 serve.err)"
}

stop_serve() {
  kill -TERM "$SERVE_PID" 2>/dev/null || return 0
  local rc=0
  wait "$SERVE_PID" || rc=$?
  [ "$rc" = 0 ] || fail "serve exited $rc: $(tail -5 serve.err)"
}

# A store of 100,000 numbers (more than SN_BACKUP_STEP_PAGES pages: the
# backup takes several steps) and the carrier that posts the load.
make_store() {
  "$SN" gen --numbers 100000 --seed 7 >hist.csv
  "$SN" init --db live.db >/dev/null
  "$SN" import --db live.db hist.csv >/dev/null
  "$SN" carriers add --db live.db --name cmcc --range +86139 >/dev/null
  KEY=$("$SN" keys create --db live.db --role carrier --name cmcc-feed --carrier cmcc | head -1)
  [ -n "$KEY" ] || fail "no carrier key"
}

# The must-show case: backup under an events load, restore, verify, and
# every event acknowledged before the backup began is in the restored store.
case_backup_under_load_keeps_every_acknowledged_event() {
  on_pg && return 0
  make_store
  start_serve live.db
  trap 'kill $SERVE_PID $LOAD_PID 2>/dev/null' EXIT
  : >acks
  python3 "$HERE/backup_load.py" "$PORT" "$KEY" acks stop >load.out 2>load.err &
  LOAD_PID=$!
  for _ in $(seq 300); do [ "$(wc -l <acks)" -ge 400 ] && break; sleep 0.05; done
  [ "$(wc -l <acks)" -ge 400 ] || fail "the load acknowledged too little: $(cat load.err)"
  cp acks before # every event acknowledged before the backup began
  "$SN" backup --db live.db backup.db >backup.out || fail "backup failed"
  cp acks during # acknowledged once the backup was done
  for _ in $(seq 200); do [ "$(wc -l <acks)" -gt "$(wc -l <during)" ] && break; sleep 0.05; done
  touch stop
  wait "$LOAD_PID" || fail "the load failed: $(cat load.err)"
  stop_serve
  trap - EXIT
  cat backup.out load.out
  echo "$(($(wc -l <during) - $(wc -l <before))) events acknowledged while the backup ran"
  [ "$(wc -l <acks)" -gt "$(wc -l <during)" ] || fail "the load did not go on after the backup"
  steps=$(sed -n 's/.* in \([0-9]*\) steps.*/\1/p' backup.out)
  [ "${steps:-0}" -ge 2 ] || fail "a store of more than 1024 pages took ${steps:-?} steps"
  [ "$(stat -c %a backup.db)" = 600 ] || fail "backup mode $(stat -c %a backup.db)"
  expect_exit 0 "$SN" restore --db restored.db backup.db
  expect_exit 0 "$SN" verify --db restored.db
  grep -q consistent "$WORK/out" || fail "verify: $(cat "$WORK/out")"
  { echo number,date; sed 's/$/,2025-01-01/' before; } >q.csv
  "$SN" check --db restored.db --file q.csv >answers.csv || fail "check: exit $?"
  expect_eq "acknowledged events in the restored store" "$(wc -l <before)" \
    "$(grep -c ',unchanged,' answers.csv)"
  # the backup is the snapshot of one moment: the load went on after it
  { echo number,date; sed 's/$/,2025-01-01/' acks; } >all.csv
  "$SN" check --db restored.db --file all.csv >all.ans || true
  grep -q ',unknown,' all.ans || fail "events acknowledged after the backup are in it: not a snapshot?"
  expect_exit 0 "$SN" verify --db live.db
}

case_existing_out_is_refused_unless_force() {
  on_pg && return 0
  "$SN" init --db s.db >/dev/null
  echo "precious" >out.db
  expect_exit 1 "$SN" backup --db s.db out.db
  grep -q "out.db exists: not replaced (--force replaces it)" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_eq "out.db untouched" precious "$(cat out.db)"
  [ -z "$(ls | grep 'out.db.tmp')" ] || fail "a temporary file was left: $(ls)"
  (umask 022; "$SN" backup --db s.db --force out.db >/dev/null) || fail "--force: exit $?"
  [ "$(stat -c %a out.db)" = 600 ] || fail "mode $(stat -c %a out.db) under umask 022"
  expect_exit 0 "$SN" verify --db out.db
  # the store itself, even with --force (and by another name)
  ln -s s.db link.db
  for self in s.db link.db ./s.db; do
    expect_exit 1 "$SN" backup --db s.db --force "$self"
    grep -q "is the store itself" "$WORK/err" || fail "$self: $(cat "$WORK/err")"
    expect_exit 1 "$SN" restore --db s.db --force "$self"
    grep -q "are the same file" "$WORK/err" || fail "restore $self: $(cat "$WORK/err")"
  done
  expect_exit 0 "$SN" verify --db s.db
  # a missing store, a folder as OUT
  expect_exit 1 "$SN" backup --db nope.db x.db
  grep -q "no store at nope.db" "$WORK/err" || fail "$(cat "$WORK/err")"
  mkdir d
  expect_exit 1 "$SN" backup --db s.db d
  expect_exit 2 "$SN" backup --db s.db
  expect_exit 2 "$SN" backup --db s.db a.db b.db
  [ ! -e x.db ] || fail "x.db was written"
}

# hold_lock DB SECONDS: hold DB locked against readers (another program's
# exclusive transaction) for SECONDS, in the background; returns once held.
hold_lock() {
  python3 - "$1" "$2" 3>held <<'PY' &
import os, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA locking_mode = EXCLUSIVE")
con.execute("BEGIN EXCLUSIVE")
con.execute("SELECT count(*) FROM meta").fetchone()
os.write(3, b"held\n")
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
con.close()
PY
  LOCK_PID=$!
  for _ in $(seq 100); do [ -s held ] && return 0; sleep 0.05; done
  fail "the lock was not taken"
}

# SN_BACKUP_BUSY_GIVE_UP_MS (10 s): a store locked for less is waited for,
# one locked for longer fails the backup with nothing written
case_locked_store_is_waited_for_then_given_up() {
  on_pg && return 0
  "$SN" init --db s.db >/dev/null
  hold_lock s.db 2
  t0=$(date +%s)
  expect_exit 0 "$SN" backup --db s.db a.db
  wait "$LOCK_PID"
  [ $(($(date +%s) - t0)) -ge 1 ] || fail "the backup did not wait for the lock"
  rm -f held
  hold_lock s.db 14
  t0=$(date +%s)
  expect_exit 1 "$SN" backup --db s.db b.db
  took=$(($(date +%s) - t0))
  wait "$LOCK_PID"
  grep -q "s.db stayed locked by another process for 10000 ms: nothing backed up" "$WORK/err" ||
    fail "$(cat "$WORK/err")"
  [ "$took" -ge 9 ] && [ "$took" -le 13 ] || fail "gave up after $took s, not 10"
  [ ! -e b.db ] && [ -z "$(ls | grep 'b.db.tmp')" ] || fail "something was written: $(ls)"
}

# restore refuses what is not a whole secondnum store, and writes nothing
case_bad_input_is_refused_and_nothing_written() {
  on_pg && return 0
  "$SN" gen --numbers 20000 --seed 5 >f.csv
  "$SN" init --db s.db >/dev/null
  "$SN" import --db s.db f.csv >/dev/null
  "$SN" backup --db s.db good.db >/dev/null
  echo "number,event" >text.db
  : >empty.db
  head -c $(( $(stat -c %s good.db) / 2 )) good.db >half.db
  sqlite3 other.db "create table t(x); insert into t values (1)"
  sum=$(md5sum good.db)
  cp good.db live.db; printf 'x%.0s' $(seq 100) >live.db-wal
  before=$(ls | sort)
  for bad in "text.db:is not a SQLite database" "empty.db:it is empty" "half.db:damaged" \
             "other.db:is not a secondnum store" "live.db:write-ahead log beside it" \
             "nope.db:cannot read nope.db"; do
    expect_exit 1 "$SN" restore --db new.db "${bad%%:*}"
    grep -q "${bad#*:}" "$WORK/err" || fail "${bad%%:*}: $(cat "$WORK/err")"
    [ ! -e new.db ] || fail "${bad%%:*}: new.db was written"
    expect_eq "files after restoring ${bad%%:*}" "$before" "$(ls | grep -v '^out$\|^err$' | sort)"
  done
  expect_exit 0 "$SN" restore --db new.db good.db
  expect_eq "good.db unchanged by its restore" "$sum" "$(md5sum good.db)"
  [ "$(stat -c %a new.db)" = 600 ] || fail "mode $(stat -c %a new.db)"
  expect_exit 0 "$SN" verify --db new.db
}

# a store that exists needs --force, and is never replaced while serve has it open
case_restore_refuses_existing_store_and_one_in_use() {
  on_pg && return 0
  feed a.csv "+8613800000001,activate,2024-01-01,a1"
  feed b.csv "+8613800000002,activate,2024-01-01,b1"
  "$SN" init --db s.db >/dev/null
  "$SN" import --db s.db a.csv >/dev/null
  "$SN" backup --db s.db a.bak >/dev/null
  "$SN" import --db s.db b.csv >/dev/null
  expect_exit 1 "$SN" restore --db s.db a.bak
  grep -q "s.db exists: not replaced (--force replaces it)" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_eq "s.db untouched" unchanged "$(verdict s.db +8613800000002 2024-01-01)"
  start_serve s.db
  trap 'kill $SERVE_PID 2>/dev/null' EXIT
  expect_exit 1 "$SN" restore --db s.db --force a.bak
  grep -q "open in another process (a running serve?): stop it first" "$WORK/err" ||
    fail "$(cat "$WORK/err")"
  stop_serve
  trap - EXIT
  expect_eq "s.db untouched while served" unchanged "$(verdict s.db +8613800000002 2024-01-01)"
  expect_exit 0 "$SN" restore --db s.db --force a.bak
  expect_eq "restored" unknown "$(verdict s.db +8613800000002 2024-01-01)"
  expect_eq "restored" unchanged "$(verdict s.db +8613800000001 2024-01-01)"
  [ -z "$(ls | grep 'restore-')" ] || fail "a staging file was left: $(ls)"
}

# the deployment secret is copied only on request, and then 0600
case_secret_is_copied_only_with_with_key() {
  on_pg && return 0
  "$SN" init --db s.db >/dev/null
  expect_exit 0 "$SN" backup --db s.db b.db
  grep -q "the deployment secret (s.db.key) is not in it: back it up separately" "$WORK/out" ||
    fail "$(cat "$WORK/out")"
  [ ! -e b.db.key ] || fail "b.db.key was written without --with-key"
  expect_exit 0 "$SN" backup --db s.db --with-key k.db
  cmp -s s.db.key k.db.key || fail "k.db.key differs from s.db.key"
  [ "$(stat -c %a k.db.key)" = 600 ] || fail "key mode $(stat -c %a k.db.key)"
  echo old >m.db.key
  expect_exit 1 "$SN" backup --db s.db --with-key m.db
  [ ! -e m.db ] || fail "m.db was written although m.db.key is refused"
  expect_exit 0 "$SN" restore --db r.db --with-key k.db
  cmp -s s.db.key r.db.key || fail "r.db.key differs"
  # a secret kept elsewhere: --key names it (as for serve)
  mkdir keys; cp s.db.key keys/ledger.key
  expect_exit 0 "$SN" backup --db s.db --with-key --key keys/ledger.key e.db
  cmp -s s.db.key e.db.key || fail "e.db.key differs"
  expect_exit 0 "$SN" restore --db r2.db --with-key --key keys/r2.key e.db
  cmp -s s.db.key keys/r2.key || fail "keys/r2.key differs"
  [ ! -e r2.db.key ] || fail "r2.db.key was written although --key names another file"
  expect_exit 1 "$SN" backup --db s.db --with-key --key nope.key f.db
  grep -q "no deployment secret to copy at nope.key" "$WORK/err" || fail "$(cat "$WORK/err")"
}

# a PostgreSQL store is backed up with PostgreSQL's tools: a clear error
case_postgres_url_points_at_pg_dump() {
  url="postgresql://secondnum@127.0.0.1:1/secondnum"
  real="${SN_PG_REAL:-$SN}" # the real binary: sn_pg.sh maps only --db PATHs
  expect_exit 1 "$real" backup --db "$url" out.db
  grep -q "pg_dump" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_exit 1 "$real" restore --db "$url" in.db
  grep -q "pg_restore" "$WORK/err" || fail "$(cat "$WORK/err")"
  [ ! -e out.db ] || fail "out.db was written"
}

run_cases
