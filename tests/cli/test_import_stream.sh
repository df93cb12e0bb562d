# `secondnum import` streams: a feed longer than --chunk-lines is read in
# chunks, sorted in runs on disk (TMPDIR) and merged, with the same results
# as a feed read whole: per-number time order, rejects with their line
# numbers, whole batches, re-runs counting duplicates.
. "$(dirname "$0")/lib.sh"

events_in() { sqlite3 "$1" 'select count(*) from events' 2>/dev/null || echo 0; }
states() { sqlite3 "$1" 'select number, status, tenure, events, last_at from numbers order by number'; }

# a number's events spread over many chunks, out of time order: the merge
# still applies them in time order
case_out_of_order_feed_across_chunks_same_as_whole() {
  feed f.csv "+8613800000002,cancel,2024-06-01,b3" "+8613800000001,activate,2024-01-01,a1" \
             "+8613800000003,activate,2024-01-05,c1" "+8613800000002,activate,2020-01-01,b1" \
             "+8613800000001,suspend,2024-02-01,a2" "+8613800000002,suspend,2022-01-01,b2" \
             "+8613800000001,resume,2024-03-01,a3" "+8613800000003,cancel,2024-02-05,c2"
  expect_exit 0 "$SN" import --create --db whole.db f.csv
  expect_exit 0 "$SN" import --create --db stream.db --chunk-lines 1 --batch-size 2 f.csv
  expect_eq "summary" "applied 8, duplicate 0, rejected 0" "$(cat "$WORK/out")"
  expect_eq "same states" "$(states whole.db)" "$(states stream.db)"
  expect_eq "verdict" disconnected "$(verdict stream.db +8613800000002 2024-05-01)"
}

case_generated_feed_streamed_equals_whole() {
  "$SN" gen --numbers 3000 --seed 11 >g.csv
  rows=$(($(wc -l <g.csv) - 1))
  expect_exit 0 "$SN" import --create --db whole.db g.csv
  local i=0
  for args in "--chunk-lines 1000" "--chunk-lines 997 --batch-size 0" "--chunk-lines 250 --batch-size 777"; do
    i=$((i + 1))
    expect_exit 0 "$SN" import --create --db s$i.db $args g.csv
    expect_eq "$args" "applied $rows, duplicate 0, rejected 0" "$(cat "$WORK/out")"
    expect_eq "$args: states" "$(states whole.db)" "$(states s$i.db)"
  done
  expect_exit 0 "$SN" import --db s3.db --chunk-lines 300 g.csv
  expect_eq "rerun" "applied 0, duplicate $rows, rejected 0" "$(cat "$WORK/out")"
  "$SN" verify --db s3.db >/dev/null || fail "inconsistent"
}

# parse-time and apply-time rejects keep their line numbers through the runs
case_rejects_keep_line_numbers_through_the_runs() {
  feed f.csv "+8613800000001,activate,2024-01-01,a1" "+8613,activate,2024-01-01,b1" \
             "+8613800000002,activate,2024-01-01,c1" "+8613800000001,resume,2024-03-01,a3" \
             "+8613800000001,suspend,2024-02-01,a2" "+8613800000003,explode,2024-01-01,d1" \
             "+8613800000002,resume,2024-02-01,c2"
  expect_exit 1 "$SN" import --create --db t.db --chunk-lines 2 --rejects rej.csv f.csv
  expect_eq "summary" "applied 4, duplicate 0, rejected 3" "$(cat "$WORK/out")"
  grep -q "^line 3: number '+8613' has 4 digits" "$WORK/err" || fail "$(cat "$WORK/err")"
  grep -q "^line 7: unknown event 'explode'" "$WORK/err" || fail "$(cat "$WORK/err")"
  grep -q "^line 8: resume is allowed only when suspended" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_eq "rejects in line order" "line,reason,input 3 7 8" \
    "$(head -1 rej.csv) $(tail -n +2 rej.csv | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')"
  grep -q '^3,.*,"+8613,activate,2024-01-01,b1"$' rej.csv || fail "raw line: $(cat rej.csv)"
}

# event ids and a port_out's recipient are written to the runs and read back
case_carrier_feed_with_ports_streamed() {
  "$SN" carriers add --create --db t.db --name cmcc --range +86138 >/dev/null
  "$SN" carriers add --db t.db --name cucc --range +86186 >/dev/null
  printf 'number,event,at,event_id,to\n+8613800000001,port_out,2024-02-01,c1,cucc\n+8613800000002,activate,2024-01-01,c0,\n+8613800000001,activate,2024-01-01,c00,\n' >c.csv
  expect_exit 0 "$SN" import --db t.db --carrier cmcc --chunk-lines 1 c.csv
  expect_eq "event ids" "c0 c00 c1" \
    "$(sqlite3 t.db 'select event_id from events order by event_id' | tr '\n' ' ' | sed 's/ $//')"
  feed d.csv "+8613800000001,port_in,2024-02-02,d1"
  expect_exit 0 "$SN" import --db t.db --carrier cucc --chunk-lines 1 d.csv
}

case_stdin_streamed() {
  "$SN" gen --numbers 500 --seed 2 >g.csv
  rows=$(($(wc -l <g.csv) - 1))
  "$SN" import --create --db t.db --chunk-lines 100 - <g.csv >out
  expect_eq "stdin" "applied $rows, duplicate 0, rejected 0" "$(cat out)"
}

# SN_SPOOL_RUNS_MAX (4096) runs at most: one line a chunk and 4097 lines
# crosses it; the import stops before applying anything
case_too_many_runs_is_refused_before_applying() {
  { echo "number,event,at"; for i in $(seq 10001 14097); do echo "+86138000$i,activate,2024-01-01"; done; } >f.csv
  expect_exit 1 "$SN" import --create --db t.db --chunk-lines 1 f.csv
  grep -q "more than 4096 sorted runs: raise --chunk-lines" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_eq "nothing applied" 0 "$(events_in t.db)"
  expect_exit 0 "$SN" import --create --db t.db --chunk-lines 2 f.csv
  expect_eq "4096 runs" "applied 4097, duplicate 0, rejected 0" "$(cat "$WORK/out")"
}

case_unwritable_tmpdir_is_a_clear_error() {
  feed f.csv "+8613800000001,activate,2024-01-01,a1" "+8613800000002,activate,2024-01-01,a2"
  TMPDIR="$WORK/nonexistent" expect_exit 1 "$SN" import --create --db t.db --chunk-lines 1 f.csv
  grep -q "cannot create a temporary file in $WORK/nonexistent" "$WORK/err" || fail "$(cat "$WORK/err")"
  expect_eq "nothing applied" 0 "$(events_in t.db)"
  # one chunk needs no temporary file
  TMPDIR="$WORK/nonexistent" expect_exit 0 "$SN" import --create --db t.db f.csv
}

case_chunk_lines_usage() {
  feed f.csv "+8613800000001,activate,2024-01-01,a1"
  expect_exit 2 "$SN" import --create --db t.db --chunk-lines 0 f.csv
  expect_exit 2 "$SN" import --create --db t.db --chunk-lines 100000001 f.csv
  "$SN" import --help | grep -q -- "--chunk-lines N" || fail "--help lacks --chunk-lines"
}

# kill -9 mid streamed import: whole batches only, and a re-run finishes
case_kill_9_mid_streamed_import_then_rerun() {
  "$SN" gen --numbers 60000 --seed 7 >feed.csv
  total=$(($(wc -l <feed.csv) - 1))
  "$SN" init --db t.db
  "$SN" import --db t.db --chunk-lines 7000 --batch-size 5000 feed.csv >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    [ "$(events_in t.db)" -gt 0 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
  done
  kill -9 $pid 2>/dev/null || fail "import finished before it could be killed"
  wait $pid 2>/dev/null || true
  before=$(events_in t.db)
  echo "killed with $before of $total events committed"
  [ "$before" -gt 0 ] && [ "$before" -lt "$total" ] || fail "not killed mid-import ($before/$total)"
  [ $((before % 5000)) = 0 ] || fail "a partial batch is visible: $before events"
  expect_exit 0 "$SN" import --db t.db --chunk-lines 7000 --batch-size 5000 feed.csv
  expect_eq "rerun" "applied $((total - before)), duplicate $before, rejected 0" "$(cat "$WORK/out")"
  "$SN" verify --db t.db >/dev/null || fail "inconsistent after rerun"
}

run_cases
