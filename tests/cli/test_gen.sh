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

# --dense: blocks of 10,000 numbers sharing their first seven national
# digits, each filled to the share asked; the feed is as valid as a thin one
case_dense_numbers_fill_whole_blocks() {
  "$SN" gen --numbers 20000 --dense --seed 8 >d.csv
  "$SN" gen --numbers 20000 --dense --seed 8 >d2.csv
  cmp -s d.csv d2.csv || fail "same seed differs"
  tail -n +2 d.csv | cut -d, -f1 | sort -u | cut -c4-10 | uniq -c | awk '{print $1}' | sort -n | uniq -c >blocks
  expect_eq "blocks of 8000 (80%)" "1x4000 2x8000" "$(awk '{print $1 "x" $2}' blocks | paste -sd' ')"
  "$SN" gen --numbers 20000 --fill 50 --seed 8 | tail -n +2 | cut -d, -f1 | sort -u | cut -c4-10 | uniq -c \
    | awk '{print $1}' | sort -u >half
  expect_eq "blocks of 5000 (50%)" "5000" "$(cat half)"
  rows=$(($(wc -l <d.csv) - 1))
  expect_exit 0 "$SN" import --create --db t.db d.csv
  expect_eq "all applied" "applied $rows, duplicate 0, rejected 0" "$(cat "$WORK/out")"
  expect_eq "numbers" 20000 "$(sqlite3 t.db 'select count(*) from numbers')"
  "$SN" gen --numbers 20000 --seed 8 | tail -n +2 | cut -d, -f1 | sort -u | cut -c4-10 | sort -u | wc -l >thin
  [ "$(cat thin)" -gt 10000 ] || fail "the default is no longer the thin spread: $(cat thin) blocks"
}

# the blocks of the mobile prefixes (40 x 10,000) bound a dense feed
case_dense_feed_that_cannot_fit_is_refused() {
  expect_exit 2 "$SN" gen --numbers 40000001 --fill 1
  grep -q "do not fit 400000 blocks filled to 1% (at most 40000000)" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_exit 2 "$SN" gen --numbers 100000000 --fill 2
  grep -q "(at most 80000000)" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_gen_usage() {
  expect_exit 2 "$SN" gen
  expect_exit 2 "$SN" gen --numbers 0
  expect_exit 2 "$SN" gen --numbers 10 --start 2020-13-01
  expect_exit 2 "$SN" gen --numbers 10 --seed x
  expect_exit 2 "$SN" gen --numbers 10 --fill 0
  expect_exit 2 "$SN" gen --numbers 10 --fill 101
}

run_cases
