# Import then check: every branch of the check semantics in PRODUCT.md,
# through the real binary and a real store.
. "$(dirname "$0")/lib.sh"

N=+8613800000001

case_activation_after_date_is_reassigned() {
  feed f.csv "$N,activate,2024-05-01T09:00:00+08:00,a1"
  "$SN" import --create --db t.db f.csv
  expect_eq "day before" reassigned "$(verdict t.db $N 2024-04-30)"
}

case_activation_on_date_is_not_reassigned() {
  feed f.csv "$N,activate,2024-05-01T23:30:00+08:00,a1"
  "$SN" import --create --db t.db f.csv
  expect_eq "same day" unchanged "$(verdict t.db $N 2024-05-01)"
}

case_activation_day_uses_the_jurisdiction_zone() {
  # 16:30Z on 30 April is 00:30 on 1 May in +08:00.
  feed f.csv "$N,activate,2024-04-30T16:30:00Z,a1"
  "$SN" import --create --db t.db f.csv
  expect_eq "30 April" reassigned "$(verdict t.db $N 2024-04-30)"
  expect_eq "1 May" unchanged "$(verdict t.db $N 2024-05-01)"
}

case_cancellation_on_date_is_disconnected() {
  feed f.csv "$N,activate,2020-01-01,a1" "$N,cancel,2024-06-01T10:00:00+08:00,a2"
  "$SN" import --create --db t.db f.csv
  expect_eq "cancel day" disconnected "$(verdict t.db $N 2024-06-01)"
  expect_eq "before cancel" disconnected "$(verdict t.db $N 2023-01-01)"
  expect_eq "after cancel" unchanged "$(verdict t.db $N 2024-06-02)"
}

case_cancellation_then_reclaim_is_unchanged() {
  feed f.csv "$N,activate,2020-01-01,a1" "$N,cancel,2024-06-01,a2" "$N,reclaim,2024-07-01,a3"
  "$SN" import --create --db t.db f.csv
  expect_eq "after reclaim" unchanged "$(verdict t.db $N 2023-01-01)"
}

case_suspend_and_resume_keep_the_tenure() {
  feed f.csv "$N,activate,2020-01-01,a1" "$N,suspend,2021-01-01,a2" "$N,resume,2021-02-01,a3"
  "$SN" import --create --db t.db f.csv
  expect_eq "through arrears" unchanged "$(verdict t.db $N 2020-06-01)"
}

case_reissue_before_minimum_aging_is_rejected() {
  feed f.csv "$N,activate,2020-01-01,a1" "$N,cancel,2024-01-01,a2" "$N,activate,2024-03-30,a3"
  expect_exit 1 "$SN" import --create --db t.db f.csv
  grep -q "line 4: activate before the minimum aging" "$WORK/err" || fail "reason: $(cat "$WORK/err")"
  expect_eq "still disconnected" disconnected "$(verdict t.db $N 2023-06-01)"
  # 90 days after 2024-01-01 is 2024-03-31: accepted.
  feed g.csv "$N,activate,2024-03-31,a4"
  "$SN" import --create --db t.db g.csv
  expect_eq "reissued" reassigned "$(verdict t.db $N 2024-03-30)"
}

case_release_waits_for_the_minimum_aging() {
  feed f.csv "$N,activate,2020-01-01,a1" "$N,cancel,2024-01-01,a2" "$N,release,2024-03-30,a3"
  expect_exit 1 "$SN" import --create --db t.db f.csv
  grep -q "line 4: release before the minimum aging" "$WORK/err" || fail "reason: $(cat "$WORK/err")"
  feed g.csv "$N,release,2024-03-31,a4" "$N,activate,2024-04-02,a5"
  expect_exit 0 "$SN" import --create --db t.db g.csv
  expect_eq "reissued after release" reassigned "$(verdict t.db $N 2024-04-01)"
}

case_minimum_aging_comes_from_init() {
  "$SN" init --db t.db --min-aging-days 45 --country 1 --tz -05:00
  feed f.csv "+12025550123,activate,2020-01-01,a1" "+12025550123,cancel,2024-01-01,a2" \
             "+12025550123,activate,2024-02-15,a3"
  expect_exit 0 "$SN" import --create --db t.db f.csv
  expect_eq "US reissue" reassigned "$(verdict t.db 2025550123 2024-02-01)"
}

case_port_in_keeps_the_tenure() {
  feed f.csv "$N,activate,2020-01-01,a1" "$N,port_in,2022-01-01,a2"
  "$SN" import --create --db t.db f.csv
  expect_eq "after port" unchanged "$(verdict t.db $N 2021-01-01)"
}

case_first_record_not_activation_leaves_earlier_dates_unknown() {
  feed f.csv "$N,suspend,2022-01-01,a1"
  "$SN" import --create --db t.db f.csv
  expect_eq "before first record" unknown "$(verdict t.db $N 2021-12-31)"
  expect_eq "on first record" unchanged "$(verdict t.db $N 2022-01-01)"
}

case_first_record_cancel_before_date_unknown() {
  feed f.csv "$N,cancel,2022-01-01,a1"
  "$SN" import --create --db t.db f.csv
  expect_eq "before" unknown "$(verdict t.db $N 2021-06-01)"
  expect_eq "on" disconnected "$(verdict t.db $N 2022-01-01)"
}

case_gap_then_activation_is_reassigned() {
  feed f.csv "$N,activate,2020-01-01,a1" "$N,cancel,2021-01-01,a2" "$N,release,2021-05-01,a3" \
             "$N,activate,2022-01-01,a4"
  "$SN" import --create --db t.db f.csv
  expect_eq "in the gap" reassigned "$(verdict t.db $N 2021-08-01)"
}

case_never_seen_is_unknown() {
  "$SN" init --db t.db
  expect_eq "never seen" unknown "$(verdict t.db +8613999999999 2024-01-01)"
}

case_national_format_in_feed_and_check() {
  feed f.csv "13800000001,activate,2024-05-01,a1"
  "$SN" import --create --db t.db f.csv
  expect_eq "national" reassigned "$(verdict t.db 13800000001 2024-04-01)"
  expect_eq "e164" reassigned "$(verdict t.db +8613800000001 2024-04-01)"
}

case_out_of_order_in_a_later_import_is_rejected() {
  feed f.csv "$N,activate,2024-01-01,a1" "$N,suspend,2024-03-01,a2"
  "$SN" import --create --db t.db f.csv
  feed g.csv "$N,resume,2024-02-01,a3"
  expect_exit 1 "$SN" import --create --db t.db g.csv
  grep -q "line 2: out of order" "$WORK/err" || fail "reason: $(cat "$WORK/err")"
}

case_events_are_applied_in_time_order_within_a_file() {
  feed f.csv "$N,cancel,2024-03-01,a2" "$N,activate,2024-01-01,a1"
  expect_exit 0 "$SN" import --create --db t.db f.csv
  expect_eq "applied" "applied 2, duplicate 0, rejected 0" "$(cat "$WORK/out")"
}

case_replayed_events_are_duplicates() {
  feed f.csv "$N,activate,2024-01-01,a1" "$N,suspend,2024-03-01,a2"
  "$SN" import --create --db t.db f.csv
  expect_exit 0 "$SN" import --create --db t.db f.csv
  expect_eq "replay" "applied 0, duplicate 2, rejected 0" "$(cat "$WORK/out")"
}

case_duplicate_without_event_id() {
  printf 'number,event,at\n%s,activate,2024-01-01\n%s,activate,2024-01-01\n' "$N" "$N" >f.csv
  expect_exit 0 "$SN" import --create --db t.db f.csv
  expect_eq "in-file repeat" "applied 1, duplicate 1, rejected 0" "$(cat "$WORK/out")"
}

case_same_time_other_event_id_is_not_a_duplicate() {
  feed f.csv "$N,activate,2024-01-01,a1"
  "$SN" import --create --db t.db f.csv
  feed g.csv "$N,activate,2024-01-01,OTHER"
  expect_exit 1 "$SN" import --create --db t.db g.csv
  grep -q "activate is allowed only when" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_future_date_is_a_client_error() {
  "$SN" init --db t.db
  expect_exit 1 "$SN" check --db t.db $N 2999-01-01
  grep -q "in the future" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_json_output() {
  feed f.csv "13800000001,activate,2024-05-01,a1"
  "$SN" import --create --db t.db f.csv
  out=$("$SN" check --db t.db --json 13800000001 2024-04-01)
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["number"]=="+8613800000001" and d["date"]=="2024-04-01" and d["result"]=="reassigned", d' "$out"
}

run_cases
