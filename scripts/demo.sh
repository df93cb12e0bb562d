#!/usr/bin/env bash
# scripts/demo.sh - generate demo data into demo/ and walk through the CLI.
# Usage: scripts/demo.sh path/to/secondnum
set -euo pipefail
SN=${1:-build/secondnum}
mkdir -p demo
DB=demo/demo.db
rm -f "$DB" "$DB"-wal "$DB"-shm "$DB".key
run() { printf '\n$ %s\n' "$*"; "$@"; }

run "$SN" init --db "$DB" --country 86 --min-aging-days 90 --tz +08:00
run "$SN" gen --numbers 100000 --seed 1 --out demo/feed.csv
run "$SN" import --db "$DB" --carrier demo-carrier demo/feed.csv
N=$(awk -F, '$2=="activate" {seen[$1]++} END {for (n in seen) if (seen[n] > 1) {print n; exit}}' demo/feed.csv)
FIRST=$(awk -F, -v n="$N" '$1==n {print substr($3,1,10); exit}' demo/feed.csv)
printf '\nA reissued number from the feed: %s (first activated %s). Its history:\n' "$N" "$FIRST"
grep -F "$N," demo/feed.csv | cut -d, -f1-3
run "$SN" check --db "$DB" "$N" "$FIRST"
run "$SN" check --db "$DB" --json "$N" "$FIRST"
printf 'number,date\n%s,%s\n13800000000,2024-01-01\n+8613,2024-01-01\n' "$N" "$FIRST" >demo/questions.csv
run "$SN" check --db "$DB" --file demo/questions.csv || true
run "$SN" verify --db "$DB"
printf '\nThe demo store is %s; try: %s check --db %s NUMBER YYYY-MM-DD\n' "$DB" "$SN" "$DB"
