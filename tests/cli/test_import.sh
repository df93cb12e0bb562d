# `secondnum import`: bad rows are rejected with line and reason while every
# good row of the same file is applied; bad headers reject the file; flags.
. "$(dirname "$0")/lib.sh"

case_bad_rows_rejected_good_rows_applied() {
  cat >f.csv <<'CSV'
number,event,at,event_id
+8613800000001,activate,2024-01-01,a1
+8613,activate,2024-01-01,b1
+8613800000002,explode,2024-01-01,b2
+8613800000003,activate,2023-02-29,b3
+8613800000004,activate,2999-01-01T00:00:00Z,b4
+8613800000005,activate
+8613800000006,activate,2024-01-01,b6,extra
+8613800000007,activate,2024-01-01T10:00:00,b7

+8613800000008,"activate,2024-01-01,b8
+8613800000009,activate,2024-02-01,a2
CSV
  expect_exit 1 "$SN" import --create --db t.db --rejects rej.csv f.csv
  expect_eq "summary" "applied 2, duplicate 0, rejected 9" "$(cat "$WORK/out")"
  for want in "line 3: number '+8613' has 4 digits" "line 4: unknown event 'explode'" \
              "line 5: '2023-02-29' is not" "line 6: time '2999-01-01T00:00:00Z' is in the future" \
              "line 7: missing column 'at'" "line 8: wrong column count" "line 9: '2024-01-01T10:00:00' is not" \
              "line 10: empty line" "line 11: unterminated quote"; do
    grep -qF "$want" "$WORK/err" || fail "stderr lacks '$want': $(cat "$WORK/err")"
  done
  expect_eq "rejects rows" 10 "$(wc -l <rej.csv)"
  expect_eq "rejects header" "line,reason,input" "$(head -1 rej.csv)"
  grep -q '^4,"unknown event' rej.csv || fail "rej.csv: $(cat rej.csv)"
  expect_eq "good rows checkable" reassigned "$(verdict t.db +8613800000001 2023-12-31)"
  expect_eq "good rows checkable" reassigned "$(verdict t.db +8613800000009 2024-01-31)"
}

case_reason_for_apply_time_rejects_in_rejects_file() {
  feed f.csv "+8613800000001,suspend,2024-01-01,a1" "+8613800000001,resume,2024-02-01,a2" \
             "+8613800000001,resume,2024-03-01,a3"
  expect_exit 1 "$SN" import --create --db t.db --rejects rej.csv f.csv
  grep -q '^4,resume is allowed only when suspended; the number is active,"+8613800000001,resume,2024-03-01T00:00:00+08:00"$' rej.csv \
    || fail "rej.csv: $(cat rej.csv)"
}

case_header_missing_required_column_rejects_file() {
  printf 'number,event\n+8613800000001,activate\n' >f.csv
  expect_exit 1 "$SN" import --create --db t.db f.csv
  grep -q "line 1: header: missing column 'at'" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_header_unknown_column_rejects_file() {
  printf 'number,event,at,colour\n' >f.csv
  expect_exit 1 "$SN" import --create --db t.db f.csv
  grep -q "unknown column 'colour'" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_empty_file_rejected() {
  : >f.csv
  expect_exit 1 "$SN" import --create --db t.db f.csv
  grep -q "no header" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_columns_in_any_order_and_quoted() {
  printf 'at,"event",number\n"2024-01-01T08:00:00+08:00",activate,"+8613800000001"\n' >f.csv
  expect_exit 0 "$SN" import --create --db t.db f.csv
  expect_eq "applied" "applied 1, duplicate 0, rejected 0" "$(cat "$WORK/out")"
}

case_crlf_and_bom_accepted() {
  printf '\xef\xbb\xbfnumber,event,at\r\n+8613800000001,activate,2024-01-01\r\n' >f.csv
  expect_exit 0 "$SN" import --create --db t.db f.csv
}

case_stdin_feed() {
  printf 'number,event,at\n+8613800000001,activate,2024-01-01\n' | "$SN" import --create --db t.db - >out
  expect_eq "stdin" "applied 1, duplicate 0, rejected 0" "$(cat out)"
}

case_id6_is_stored_only_as_a_keyed_hash() {
  printf 'number,event,at,id6\n+8613800000001,activate,2024-01-01,12345X\n+8613800000002,activate,2024-01-01,12X45X\n' >f.csv
  expect_exit 1 "$SN" import --create --db t.db f.csv
  grep -q "line 3: id6 must be" "$WORK/err" || fail "$(cat "$WORK/err")"
  [ -f t.db.key ] || fail "no secret file"
  expect_eq "key mode" 600 "$(stat -c %a t.db.key)"
  expect_eq "hash length" 16 "$(sqlite3 t.db 'select length(id6_hash) from events')"
  ! grep -a -q 12345X t.db* || fail "clear id6 in the store"
}

case_id6_without_secret_file_is_rejected() {
  "$SN" init --db t.db
  rm t.db.key
  printf 'number,event,at,id6\n+8613800000001,activate,2024-01-01,123456\n' >f.csv
  expect_exit 1 "$SN" import --create --db t.db f.csv
  grep -q "no deployment secret" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_carriers_are_recorded() {
  feed f.csv "+8613800000001,activate,2024-01-01,a1"
  "$SN" carriers add --create --db t.db --name cmcc --range +86138 >/dev/null
  "$SN" import --db t.db --carrier cmcc f.csv
  expect_eq "carrier" cmcc "$(sqlite3 t.db 'select c.name from events e join carriers c on c.id = e.carrier')"
}

# --carrier NAME is a carrier's own feed: NAME must exist, and the rules of
# POST /v1/events hold (its ranges; a port only after the donor's port_out)
case_unknown_carrier_is_an_error_and_changes_nothing() {
  feed f.csv "+8613800000001,activate,2024-01-01,a1"
  "$SN" init --db t.db >/dev/null
  expect_exit 1 "$SN" import --db t.db --carrier cmcx f.csv
  grep -q "unknown carrier 'cmcx'" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_eq "carriers" 0 "$(sqlite3 t.db 'select count(*) from carriers')"
  expect_eq "events" 0 "$(sqlite3 t.db 'select count(*) from events')"
}

case_carrier_feed_keeps_to_its_ranges_and_ports() {
  "$SN" carriers add --create --db t.db --name cmcc --range +86138 >/dev/null
  "$SN" carriers add --db t.db --name cucc --range +86186 >/dev/null
  feed a.csv "+8613800000001,activate,2024-01-01,a1" "+8618600000001,activate,2024-01-01,a2" \
             "+8613800000002,activate,2024-01-01,a3"
  expect_exit 1 "$SN" import --db t.db --carrier cmcc --rejects rej.csv a.csv
  grep -q "outside this carrier's ranges" rej.csv || fail "$(cat rej.csv)"
  expect_eq "applied" 2 "$(sqlite3 t.db 'select count(*) from events')"
  feed b.csv "+8613800000001,port_in,2024-02-01,b1"
  expect_exit 1 "$SN" import --db t.db --carrier cucc b.csv
  grep -q "port not authorised" "$WORK/err" || fail "$(cat "$WORK/err")"
  printf 'number,event,at,event_id,to\n+8613800000001,port_out,2024-02-01,c1,cucc\n' >c.csv
  expect_exit 0 "$SN" import --db t.db --carrier cmcc c.csv
  feed d.csv "+8613800000001,port_in,2024-02-02,d1"
  expect_exit 0 "$SN" import --db t.db --carrier cucc d.csv
  expect_eq "carrier of record" cucc \
    "$(sqlite3 t.db 'select c.name from numbers n join carriers c on c.id = n.carrier where n.number = 8613800000001')"
}

# a store is created only by init or an explicit --create: a mistyped path
# is an error, not a new empty store
case_missing_store_is_an_error_without_create() {
  # a file path only: tests/pg/run.sh maps every --db PATH to a database
  if [ -n "${SN_PG_DIR:-}" ]; then echo "skipped on PostgreSQL (no store file)"; return 0; fi
  feed f.csv "+8613800000001,activate,2024-01-01,a1"
  for cmd in "import --db nope.db f.csv" "check --db nope.db +8613800000001 2024-01-01" \
             "verify --db nope.db" "keys list --db nope.db" "carriers list --db nope.db" \
             "sms outbox --db nope.db"; do
    expect_exit 1 "$SN" $cmd
    grep -q "no store at nope.db" "$WORK/err" || fail "$cmd: $(cat "$WORK/err")"
    [ ! -e nope.db ] || fail "$cmd created nope.db"
  done
  expect_exit 0 "$SN" import --create --db yes.db f.csv
  [ -e yes.db ] || fail "--create made no store"
}

case_usage_errors_exit_2() {
  expect_exit 2 "$SN" import f.csv
  expect_exit 2 "$SN" import --create --db t.db
  expect_exit 2 "$SN" import --create --db t.db a.csv b.csv
  expect_exit 2 "$SN" import --create --db t.db --batch-size -1 f.csv
  expect_exit 2 "$SN" import --create --db t.db --bogus f.csv
  expect_exit 2 "$SN" check --db t.db +8613800000001
  expect_exit 2 "$SN" init --db t.db --tz 25:00
  expect_exit 2 "$SN" init --db t.db --min-aging-days x
  expect_exit 2 "$SN" frobnicate
  expect_exit 2 "$SN"
}

case_every_command_has_help() {
  "$SN" --help >h.txt
  for c in init import check gen verify; do
    grep -q "^  $c " h.txt || fail "--help lacks $c"
    "$SN" $c --help | grep -q "usage: secondnum $c" || fail "$c --help"
  done
}

case_init_refuses_other_rules_on_existing_store() {
  "$SN" init --db t.db --min-aging-days 90
  expect_exit 0 "$SN" init --db t.db --min-aging-days 90
  expect_exit 1 "$SN" init --db t.db --min-aging-days 45
}

case_not_a_database() {
  echo "hello" >t.db
  expect_exit 1 "$SN" check --db t.db +8613800000001 2024-01-01
  grep -q "not a SQLite database" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_batch_check_file() {
  feed f.csv "+8613800000001,activate,2024-05-01,a1" "+8613800000002,activate,2020-01-01,a2" \
             "+8613800000002,cancel,2024-06-01,a3"
  "$SN" import --create --db t.db f.csv
  printf 'number,date\n+8613800000001,2024-04-01\n13800000002\n+8613800000003,2024-01-01\nnope,2024-01-01\n+8613800000001,2024-13-01\n+8613800000001,2999-01-01\n+8613800000001,2024-01-01,x\n' >in.csv
  expect_exit 1 "$SN" check --db t.db --file in.csv --date 2024-05-01
  cat >want.csv <<'CSV'
number,date,result,reason
+8613800000001,2024-04-01,reassigned,activated for a new subscriber on 2024-05-01
+8613800000002,2024-05-01,disconnected,"cancelled on 2024-06-01, not reissued"
+8613800000003,2024-01-01,unknown,never reported
nope,2024-01-01,invalid,number 'nope' is neither E.164 (+ and digits) nor national digits
+8613800000001,2024-13-01,invalid,'2024-13-01' is not a valid date (YYYY-MM-DD)
+8613800000001,2999-01-01,invalid,date 2999-01-01 is in the future (today is TODAY)
+8613800000001,2024-05-01,invalid,"expected number[,date], got 3 columns"
CSV
  sed "s/TODAY/$(TZ=Asia/Shanghai date +%F)/" want.csv >want2.csv
  diff want2.csv "$WORK/out" || fail "batch output differs"
}

run_cases
