# tests/pg/test_pg.sh - the PostgreSQL backend's own cases: the same log and
# states as SQLite from the same feeds, batches all or nothing when a write
# fails at commit or in a flush before it, writers serialised, verify
# finding tampering, schema version and migration, connection errors. Run by
# tests/pg/run.sh, which starts the server (SN_PG_DIR); SECONDNUM is the real
# binary.
. "$(dirname "$0")/../cli/lib.sh"
: "${SN_PG_DIR:?run by tests/pg/run.sh}"
PGS="$(cd "$(dirname "$0")" && pwd)/pg_server.sh"
SQLITE=/usr/bin/sqlite3 # the real one: tests/pg/bin has a stand-in first on PATH

# newdb: a fresh database for this case; sets URL and SECONDNUM_KEY.
newdb() {
  local name="pgcase_$(printf '%s' "$WORK" | md5sum | cut -c1-16)"
  "$PGS" createdb "$SN_PG_DIR" "$name"
  URL=$("$PGS" url "$SN_PG_DIR" "$name")
  DBNAME=$name
  export SECONDNUM_KEY="$WORK/pg.key"
}

# sql 'SQL': one value per line (fields separated by |) from this case's database.
sql() { "$PGS" psql "$SN_PG_DIR" "$DBNAME" -At -F '|' -c "$1"; }

state_sql="select number, status, first_is_activation, tenure, carrier, events, first_day,
  last_activation_day, last_cancel_day, last_at from numbers order by number"

dump_pg() {
  sql "$state_sql"
  sql "select id, at, kind, carrier, coalesce(event_id, '-'), coalesce(encode(id6_hash, 'hex'), '-'),
       flags from events order by id"
}

dump_sqlite() {
  "$SQLITE" -separator '|' "$1" "$state_sql"
  "$SQLITE" -separator '|' "$1" "select id, at, kind, carrier, coalesce(event_id, '-'),
       case when id6_hash is null then '-' else lower(hex(id6_hash)) end, flags from events
       order by id"
}

# Both backends from the same feeds, in small and large batches: a first
# import of the older half of every history, then the whole feed (its first
# half now duplicates found through the read-ahead windows, its second half
# appended to numbers that exist), then an import with rejected lines.
case_same_log_and_states_as_sqlite() {
  newdb
  "$SN" gen --numbers 3000 --seed 11 >all.csv
  head -n 6000 all.csv >first.csv
  { head -1 all.csv; echo "+8613800000001,activate,2024-01-01,x1"; echo "bogus,activate,2024-01-01,x2"
    echo "+8613800000001,activate,2024-01-02,x3"; tail -n 50 all.csv; } >mixed.csv
  "$SN" init --db "$URL" >/dev/null
  "$SN" init --db t.db >/dev/null
  cp "$SECONDNUM_KEY" t.db.key # the same secret: the same id6 hashes
  for f in first.csv all.csv mixed.csv; do
    for bs in 700 100000; do
      "$SN" import --db "$URL" --batch-size $bs $f >pg.out 2>pg.err || true
      "$SN" import --db t.db --batch-size $bs $f >sq.out 2>sq.err || true
      expect_eq "report of $f (batch $bs)" "$(cat sq.out)" "$(cat pg.out)"
      expect_eq "rejects of $f (batch $bs)" "$(cat sq.err)" "$(cat pg.err)"
    done
  done
  dump_pg >pg.dump
  dump_sqlite t.db >sq.dump
  [ -s pg.dump ] || fail "empty dump"
  cmp -s pg.dump sq.dump || fail "stores differ: $(diff pg.dump sq.dump | head -5)"
  "$SN" verify --db "$URL" >v.out || fail "verify: $(cat v.out)"
  printf 'number,date\n' >q.csv
  cut -d, -f1 all.csv | tail -n +2 | sort -u | head -500 | sed 's/$/,2024-06-01/' >>q.csv
  "$SN" check --db "$URL" --file q.csv >pg.check || true
  "$SN" check --db t.db --file q.csv >sq.check || true
  cmp -s pg.check sq.check || fail "checks differ"
}

# same_as_sqlite_in_one_batch FEED...: new stores (this case's database and
# t.db, the same secret), each feed imported into both as one batch; the
# same reports, then the same log and states, and verify passes.
same_as_sqlite_in_one_batch() {
  local f
  "$SN" init --db "$URL" >/dev/null
  "$SN" init --db t.db >/dev/null
  cp "$SECONDNUM_KEY" t.db.key
  for f in "$@"; do
    "$SN" import --db "$URL" --batch-size 0 "$f" >pg.out 2>pg.err || fail "pg import: $(cat pg.err)"
    "$SN" import --db t.db --batch-size 0 "$f" >sq.out 2>sq.err || fail "sqlite import: $(cat sq.err)"
    expect_eq "report of $f" "$(cat sq.out)" "$(cat pg.out)"
  done
  dump_pg >pg.dump
  dump_sqlite t.db >sq.dump
  cmp -s pg.dump sq.dump || fail "stores differ: $(diff pg.dump sq.dump | head -5)"
  "$SN" verify --db "$URL" >v.out || fail "verify: $(cat v.out)"
}

# One batch reading more states than one statement asks for (get_states:
# 8,192 numbers per statement), most of them existing: the same log and
# states as SQLite.
case_batch_reading_more_states_than_one_statement_asks() {
  newdb
  "$SN" gen --numbers 9000 --seed 12 >all.csv
  head -n 30000 all.csv >first.csv
  existing=$(cut -d, -f1 first.csv | tail -n +2 | sort -u | wc -l)
  [ "$existing" -gt 8192 ] || fail "only $existing numbers existed before the second import"
  same_as_sqlite_in_one_batch first.csv all.csv
}

# A write that PostgreSQL refuses only when the buffered rows are sent (at
# commit) fails its batch, all of it; earlier batches stay committed.
case_write_refused_at_commit_fails_the_whole_batch() {
  newdb
  "$SN" init --db "$URL" >/dev/null
  sql "alter table events add constraint no_poison check (event_id is distinct from 'poison')"
  feed f.csv "+8613800000001,activate,2024-01-01,a1" "+8613800000002,activate,2024-01-01,a2" \
             "+8613800000003,activate,2024-01-01,a3" "+8613800000004,activate,2024-01-01,poison"
  expect_exit 1 "$SN" import --db "$URL" --batch-size 2 f.csv
  grep -q "no_poison" "$WORK/err" || fail "no reason given: $(cat "$WORK/err")"
  expect_eq "events" 2 "$(sql 'select count(*) from events')"
  expect_eq "states" 2 "$(sql 'select count(*) from numbers')"
  expect_eq "the failed batch" unknown "$(verdict "$URL" +8613800000003 2024-02-01)"
  "$SN" verify --db "$URL" >/dev/null || fail "inconsistent after the failed batch"
}

# A batch larger than the write buffer (65,536 events, buffer.c: a full
# buffer is sent before the commit): the same log and states as SQLite,
# also when the second import reads existing states and events past rows
# sent by such a flush. Then a write refused in a flush before the commit's
# (the poisoned event is of the lowest number, so in the first buffer)
# fails the whole batch, with its reason.
case_batch_larger_than_the_write_buffer() {
  newdb
  "$SN" gen --numbers 25000 --seed 13 >all.csv
  [ "$(wc -l <all.csv)" -gt 80000 ] || fail "the feed is smaller than two buffers"
  head -n 45000 all.csv >first.csv
  same_as_sqlite_in_one_batch first.csv all.csv
  DBNAME=${DBNAME}_poisoned
  "$PGS" createdb "$SN_PG_DIR" "$DBNAME"
  URL=$("$PGS" url "$SN_PG_DIR" "$DBNAME")
  "$SN" init --db "$URL" >/dev/null
  sql "alter table events add constraint no_poison check (event_id is distinct from 'poison')"
  { cat all.csv; echo "+8610000000001,activate,2024-01-01,poison,"; } >poisoned.csv
  expect_exit 1 "$SN" import --db "$URL" --batch-size 0 poisoned.csv
  grep -q "no_poison" "$WORK/err" || fail "no reason given: $(cat "$WORK/err")"
  expect_eq "events" 0 "$(sql 'select count(*) from events')"
  expect_eq "states" 0 "$(sql 'select count(*) from numbers')"
}

# Two imports at once: the writer lock serialises their transactions, so
# the same feed twice is applied once and counted once as duplicates.
case_concurrent_imports_serialise() {
  newdb
  "$SN" init --db "$URL" >/dev/null
  "$SN" gen --numbers 20000 --seed 5 >f.csv
  total=$(($(wc -l <f.csv) - 1))
  "$SN" import --db "$URL" --batch-size 3000 f.csv >a.out 2>&1 &
  a=$!
  "$SN" import --db "$URL" --batch-size 3000 f.csv >b.out 2>&1 &
  b=$!
  wait $a || fail "first import: $(cat a.out)"
  wait $b || fail "second import: $(cat b.out)"
  applied=$(($(sed 's/applied \([0-9]*\),.*/\1/' a.out) + $(sed 's/applied \([0-9]*\),.*/\1/' b.out)))
  dups=$(($(sed 's/.*duplicate \([0-9]*\),.*/\1/' a.out) + $(sed 's/.*duplicate \([0-9]*\),.*/\1/' b.out)))
  expect_eq "applied once" "$total" "$applied"
  expect_eq "counted once as duplicates" "$total" "$dups"
  expect_eq "events" "$total" "$(sql 'select count(*) from events')"
  "$SN" verify --db "$URL" >/dev/null || fail "inconsistent"
}

# verify: a state that disagrees with its log, a log row gone, a notice of
# an app that does not exist.
case_verify_finds_tampering() {
  newdb
  "$SN" gen --numbers 200 --seed 3 >f.csv
  "$SN" import --db "$URL" f.csv >/dev/null
  "$SN" verify --db "$URL" >/dev/null || fail "inconsistent before tampering"
  n=$(sql "select min(number) from numbers where events > 1")
  sql "update numbers set last_at = last_at + 1 where number = $n"
  expect_exit 1 "$SN" verify --db "$URL"
  grep -q "differs from the replay" "$WORK/err" || fail "$(cat "$WORK/err")"
  sql "update numbers set last_at = last_at - 1 where number = $n"
  sql "delete from events where id = (select max(id) from events where id >> 13 = $n)"
  expect_exit 1 "$SN" verify --db "$URL"
  grep -q "integrity check: .*events" "$WORK/err" || fail "$(cat "$WORK/err")"
  sql "update numbers set events = events - 1, last_at = (select max(at) from events
       where id >> 13 = $n) where number = $n"
  sql "insert into notices(id, app, number, event_at, created, deadline, tenure, kind, source,
       event) values (1, 42, $n, 0, 0, 0, 1, 1, 1, 4)"
  expect_exit 1 "$SN" verify --db "$URL"
  grep -q "names app 42" "$WORK/err" || fail "$(cat "$WORK/err")"
}

# Columns (by name: a dropped and re-added one moves) and indexes of the store.
schema_of() {
  sql "select table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
       coalesce(column_default, '') from information_schema.columns
       where table_schema = current_schema() order by 1"
  sql "select indexdef from pg_indexes where schemaname = current_schema() order by indexname"
}

# The event log as schema versions before 11 kept it: one table (open.c's
# schema_sql up to version 10), its rows copied from the partitioned one.
unpartition_events() {
  sql "create table events_plain(id bigint primary key, at bigint not null,
         carrier integer not null, kind smallint not null, flags smallint not null default 0,
         event_id text collate \"C\", id6_hash bytea);
       insert into events_plain select id, at, carrier, kind, flags, event_id, id6_hash from events;
       drop table events; alter table events_plain rename to events;
       alter index events_plain_pkey rename to events_pkey" >/dev/null
}

case_schema_version_is_checked_and_migrated() {
  newdb
  "$SN" init --db "$URL" >/dev/null
  expect_eq "version" 14 "$(sql "select value from meta where key = 'schema_version'")"
  schema_of >new.schema
  feed f.csv "+8613800000001,activate,2024-01-01,a1" "+8613800000002,activate,2024-01-01,a2"
  "$SN" import --db "$URL" f.csv >/dev/null
  sql "update meta set value = '99' where key = 'schema_version'"
  expect_exit 1 "$SN" check --db "$URL" +8613800000001 2024-01-01
  grep -q "schema version 99" "$WORK/err" || fail "$(cat "$WORK/err")"
  # a version 2 store (before the subscriber tables, the change numbers, ports
  # and the keys' check limits) is migrated at open, to the schema of a new store
  sql "drop table sms, otp, rate_limits, sessions, requests, complaints, ports, events_more, oauth_clients,
       receipt_keys, audit, audit_usage, app_demand, guard_holds, audit_items, audit_pending;
       alter table notices drop column request; alter table apps drop column display_name;
       alter table numbers drop column seq;
       alter table api_keys drop column rate_per_s, drop column rate_per_day;
       update meta set value = '2' where key = 'schema_version'"
  unpartition_events
  "$SN" verify --db "$URL" >/dev/null || fail "verify after migration: $(cat "$WORK/err")"
  expect_eq "migrated" 14 "$(sql "select value from meta where key = 'schema_version'")"
  expect_eq "tables" 6 "$(sql "select count(*) from pg_tables where tablename in
    ('sms', 'otp', 'rate_limits', 'sessions', 'requests', 'complaints')")"
  schema_of >migrated.schema
  cmp -s new.schema migrated.schema ||
    fail "migrated schema differs: $(diff new.schema migrated.schema | head -5)"
  expect_eq "existing states numbered" "2|2" "$(sql "select count(distinct seq), count(*) from numbers")"
}

# The event log is partitioned by number prefix (schema version 11): one
# partition per carrier block of +86 (+86100 to +86199) and a default one
# for the rest. A version 10 store (one events table) with a history is
# migrated at open: every event is in the partition of its number, the log
# and states are those of before, and checks answer as before.
case_event_log_is_partitioned_and_migrated_from_version_10() {
  newdb
  "$SN" init --db "$URL" >/dev/null
  expect_eq "partitions" "p|101" "$(sql "select c.relkind, (select count(*) from pg_inherits
    where inhparent = c.oid) from pg_class c where relname = 'events'")"
  "$SN" gen --numbers 3000 --seed 21 >all.csv
  { cat all.csv; echo "+447700900123,activate,2024-01-01,uk1,"
    echo "+861012345678,activate,2024-01-01,bj1,"; echo "+8619912345678,activate,2024-01-01,hi1,"
    echo "+8610012345678,activate,2024-01-01,lo1,"; } >feed.csv
  "$SN" import --db "$URL" feed.csv >/dev/null 2>imp.err || fail "import: $(cat imp.err)"
  expect_eq "events outside their number's partition" 0 "$(sql "select count(*) from events
    where tableoid::regclass::text <> case when id >> 13 between 8610000000000 and 8619999999999
    then 'events_86_' || substr((id >> 13)::text, 3, 3) else 'events_default' end")"
  [ "$(sql 'select count(*) from events_86_138')" -gt 0 ] || fail "nothing in events_86_138"
  expect_eq "default" "447700900123 861012345678" \
    "$(sql 'select id >> 13 from events_default order by id' | tr '\n' ' ' | sed 's/ $//')"
  expect_eq "ends" "1|1" "$(sql 'select (select count(*) from events_86_199 where id >> 13 =
    8619912345678), (select count(*) from events_86_100 where id >> 13 = 8610012345678)')"
  dump_pg >before.dump
  printf 'number,date\n' >q.csv
  cut -d, -f1 feed.csv | tail -n +2 | sort -u | head -800 | sed 's/$/,2024-06-01/' >>q.csv
  "$SN" check --db "$URL" --file q.csv >before.check || true
  unpartition_events
  # (and without version 12's audit index and table, nor version 13's nor 14's)
  sql "drop table audit_items; drop index audit_number; drop table audit_pending;
       alter table audit drop column item_meta;
       update meta set value = '10' where key = 'schema_version'" >/dev/null
  expect_eq "version 10 log" "r" "$(sql "select relkind from pg_class where relname = 'events'")"
  "$SN" verify --db "$URL" >v.out || fail "verify after migration: $(cat "$WORK/err")"
  expect_eq "migrated" "14|p" "$(sql "select value, (select relkind from pg_class where
    relname = 'events') from meta where key = 'schema_version'")"
  expect_eq "old table gone" "" "$(sql "select to_regclass('events_unpartitioned')")"
  dump_pg >after.dump
  cmp -s before.dump after.dump || fail "log differs: $(diff before.dump after.dump | head -5)"
  "$SN" check --db "$URL" --file q.csv >after.check || true
  [ -s after.check ] || fail "no check answers"
  cmp -s before.check after.check || fail "checks differ after migration"
  # duplicates are still found across the partitioned log: the same feed again adds nothing
  n=$(sql 'select count(*) from events')
  "$SN" import --db "$URL" feed.csv >again.out || fail "import again: $(cat "$WORK/err")"
  expect_eq "events after the same feed" "$n" "$(sql 'select count(*) from events')"
  "$SN" verify --db "$URL" >/dev/null || fail "verify: $(cat "$WORK/err")"
}

case_connection_errors_are_clear_and_keep_the_password() {
  newdb
  pw=$(cat "$SN_PG_DIR/password")
  bad=$(echo "$URL" | sed "s/:$pw@/:wrong-$pw@/")
  expect_exit 1 "$SN" check --db "$bad" +8613800000001 2024-01-01
  grep -q "cannot connect to PostgreSQL" "$WORK/err" || fail "$(cat "$WORK/err")"
  ! grep -q -- "$pw" "$WORK/err" || fail "the password is in the message"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  expect_exit 1 "$SN" check --db "postgresql://nobody@127.0.0.1:$port/x" +8613800000001 2024-01-01
  grep -q "cannot connect to PostgreSQL" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_exit 1 "$SN" check --db "${URL}_no_such_db" +8613800000001 2024-01-01
  grep -q "does not exist" "$WORK/err" || fail "$(cat "$WORK/err")"
}

# A server that accepts the connection and never answers (a hung host, a
# black-holed proxy): the connection gives up after 10 s by default, or the
# URL's own connect_timeout, with a clear message, instead of waiting forever;
# a connect_timeout that is not a number is refused by name.
case_unanswering_server_times_out() {
  python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(60)' >port.txt &
  listener=$!
  for _ in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
  port=$(cat port.txt)
  start=$(date +%s)
  expect_exit 1 "$SN" check --db "postgresql://nobody@127.0.0.1:$port/x?connect_timeout=2" \
    +8613800000001 2024-01-01
  waited=$(($(date +%s) - start))
  grep -q "cannot connect to PostgreSQL.*timeout expired" "$WORK/err" || fail "$(cat "$WORK/err")"
  [ "$waited" -ge 1 ] && [ "$waited" -le 5 ] || fail "the URL's connect_timeout=2: waited $waited s"
  start=$(date +%s)
  expect_exit 1 "$SN" check --db "postgresql://nobody@127.0.0.1:$port/x" +8613800000001 2024-01-01
  waited=$(($(date +%s) - start))
  grep -q "cannot connect to PostgreSQL.*timeout expired" "$WORK/err" || fail "$(cat "$WORK/err")"
  [ "$waited" -ge 9 ] && [ "$waited" -le 14 ] || fail "the default 10 s: waited $waited s"
  expect_exit 1 "$SN" check --db "postgresql://nobody@127.0.0.1:$port/x?connect_timeout=abc" \
    +8613800000001 2024-01-01
  grep -q 'invalid integer value "abc" for connection option "connect_timeout"' "$WORK/err" ||
    fail "$(cat "$WORK/err")"
  kill "$listener"
  wait "$listener" 2>/dev/null || true
}

# A PostgreSQL store has no file to keep its secret next to: without --key
# or SECONDNUM_KEY the commands that need the secret say so and change nothing.
case_secret_file_is_required_for_a_url() {
  newdb
  printf 'number,event,at,id6\n+8613800000001,activate,2024-01-01,123456\n' >id6.csv
  "$SN" init --db "$URL" >/dev/null
  SECONDNUM_KEY= expect_exit 1 "$SN" import --db "$URL" id6.csv
  grep -q "pass --key FILE or set SECONDNUM_KEY" "$WORK/err" || fail "$(cat "$WORK/err")"
  [ "$(sql 'select count(*) from events')" = 0 ] || fail "the import wrote events"
  SECONDNUM_KEY= expect_exit 1 "$SN" serve --db "$URL" --listen 127.0.0.1:1
  grep -q "pass --key FILE or set SECONDNUM_KEY" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_exit 0 "$SN" import --db "$URL" --key "$SECONDNUM_KEY" id6.csv
  [ "$(sql 'select count(*) from events')" = 1 ] || fail "the import with --key wrote nothing"
}

# A writer waits for the writer lock at most 10 s, like SQLite's busy timeout.
case_writer_lock_wait_is_bounded() {
  newdb
  "$SN" init --db "$URL" >/dev/null
  feed f.csv "+8613800000001,activate,2024-01-01,a1"
  "$PGS" psql "$SN_PG_DIR" "$DBNAME" -c "begin; select pg_advisory_xact_lock(8317635505380681573);
    select pg_sleep(14); commit;" >/dev/null 2>&1 &
  holder=$!
  for _ in $(seq 100); do # until the holder has the lock (psql may start slowly on a busy box)
    [ "$(sql "select count(*) from pg_locks where locktype = 'advisory' and granted")" != 0 ] && break
    sleep 0.1
  done
  start=$(date +%s)
  expect_exit 1 "$SN" import --db "$URL" f.csv
  waited=$(($(date +%s) - start))
  grep -q "lock timeout" "$WORK/err" || fail "$(cat "$WORK/err")"
  [ "$waited" -ge 9 ] && [ "$waited" -le 13 ] || fail "waited $waited s"
  wait $holder
  expect_exit 0 "$SN" import --db "$URL" f.csv
}

# serve_once: `serve` on a free loopback port until stop_serve (PORT, SPID;
# its stderr in serve.err).
serve_once() {
  local i t
  for i in 1 2 3; do
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$SN" serve --db "$URL" --listen "127.0.0.1:$PORT" --threads 1 2>>serve.err &
    SPID=$!
    for t in $(seq 200); do
      curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/healthz" && return 0
      kill -0 "$SPID" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  done
  fail "serve did not start: $(tail -5 serve.err)"
}
stop_serve() { kill "$SPID"; wait "$SPID" || fail "serve exited $?: $(tail -5 serve.err)"; }

# A webhook's signing secret is kept sealed under the deployment secret (the
# same file every node shares), never in the clear; a clear one from a store
# written before sealing is sealed when serve starts.
case_webhook_secret_is_sealed_in_the_database() {
  newdb
  "$SN" init --db "$URL" >/dev/null
  key=$("$SN" keys create --db "$URL" --role app --name bank 2>/dev/null | head -1)
  serve_once
  curl -sf -X PUT "http://127.0.0.1:$PORT/v1/webhook" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' \
    -d '{"url": "https://hooks.example.com/sn", "secret": "whsec-pg-0123456789"}' >/dev/null ||
    fail "PUT /v1/webhook"
  stored=$(sql "select webhook_secret from apps where name = 'bank'")
  case "$stored" in sealed1:*) ;; *) fail "stored as '$stored'" ;; esac
  case "$stored" in *whsec-pg-0123456789*) fail "in the clear: $stored" ;; esac
  stop_serve
  sql "update apps set webhook_secret = 'an-older-clear-secret' where name = 'bank'" >/dev/null
  serve_once
  grep -q "sealed 1 webhook secret" serve.err || fail "not sealed at start: $(cat serve.err)"
  stored=$(sql "select webhook_secret from apps where name = 'bank'")
  case "$stored" in sealed1:*) ;; *) fail "not sealed at start: '$stored'" ;; esac
  stop_serve
}

run_cases
