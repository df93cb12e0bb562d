# `secondnum gen`: deterministic, valid under the timeline rules (imports
# with zero rejects), covering every kind of event.
. "$(dirname "$0")/lib.sh"

case_same_seed_same_output() {
  "$SN" gen --numbers 2000 --seed 42 >a.csv
  "$SN" gen --numbers 2000 --seed 42 >b.csv
  "$SN" gen --numbers 2000 --seed 43 >c.csv
  cmp -s a.csv b.csv || fail "same seed differs"
  ! cmp -s a.csv c.csv || fail "different seeds give the same feed"
}

case_generated_feed_imports_with_zero_rejects() {
  "$SN" gen --numbers 50000 --seed 3 >g.csv
  rows=$(($(wc -l <g.csv) - 1))
  expect_exit 0 "$SN" import --create --db t.db g.csv
  expect_eq "all applied" "applied $rows, duplicate 0, rejected 0" "$(cat "$WORK/out")"
  "$SN" verify --db t.db >/dev/null || fail "inconsistent"
  for ev in activate suspend resume cancel reclaim release port_in; do
    grep -q ",$ev," g.csv || fail "no $ev event generated"
  done
  numbers=$(sqlite3 t.db 'select count(*) from numbers')
  expect_eq "numbers" 50000 "$numbers"
  reissued=$(sqlite3 t.db 'select count(*) from numbers where tenure > 1')
  [ "$reissued" -gt 0 ] || fail "no reissued numbers"
  mid=$(sqlite3 t.db 'select count(*) from numbers where first_is_activation = 0')
  [ "$mid" -gt 0 ] || fail "no number starting mid-history"
}

case_generated_feed_respects_a_shorter_aging() {
  "$SN" init --db t.db --min-aging-days 45 --country 86
  "$SN" gen --numbers 20000 --seed 5 --min-aging-days 45 >g.csv
  expect_exit 0 "$SN" import --create --db t.db g.csv
}

case_one_million_numbers_piped_into_import() {
  # The issue's acceptance pipe, exactly: gen | import -, zero rejects.
  "$SN" gen --numbers 1000000 | "$SN" import --create --db x.db - >out
  rows=$("$SN" gen --numbers 1000000 | wc -l)
  expect_eq "1M numbers" "applied $((rows - 1)), duplicate 0, rejected 0" "$(cat out)"
  expect_eq "numbers" 1000000 "$(sqlite3 x.db 'select count(*) from numbers')"
}

case_gen_usage() {
  expect_exit 2 "$SN" gen
  expect_exit 2 "$SN" gen --numbers 0
  expect_exit 2 "$SN" gen --numbers 10 --start 2020-13-01
  expect_exit 2 "$SN" gen --numbers 10 --seed x
}

run_cases
