# Durability: kill -9 in the middle of a large import leaves a consistent
# store holding whole batches, and re-running the same import completes it,
# counting the already-applied events as duplicates.
. "$(dirname "$0")/lib.sh"

events_in() { sqlite3 "$1" 'select count(*) from events' 2>/dev/null || echo 0; }

case_kill_9_mid_import_then_rerun_completes() {
  "$SN" gen --numbers 60000 --seed 7 >feed.csv
  total=$(($(wc -l <feed.csv) - 1))
  "$SN" init --db t.db
  "$SN" import --create --db t.db --batch-size 5000 feed.csv >/dev/null 2>&1 &
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
  "$SN" verify --db t.db >v1 || fail "inconsistent after kill: $(cat v1)"
  expect_exit 0 "$SN" import --create --db t.db --batch-size 5000 feed.csv
  expect_eq "rerun" "applied $((total - before)), duplicate $before, rejected 0" "$(cat "$WORK/out")"
  "$SN" verify --db t.db >v2 || fail "inconsistent after rerun"
  expect_eq "all events" "$total" "$(events_in t.db)"
}

run_cases
