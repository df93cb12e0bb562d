#!/usr/bin/env bash
# scripts/demo.sh - generate demo data into demo/, walk through the CLI, then
# start the HTTP API with a demo app key and print curl commands to try.
# Usage: scripts/demo.sh path/to/secondnum [HOST:PORT]
# The address is HOST:PORT, else $DEMO_LISTEN, else 127.0.0.1:8080; it is
# checked before anything is done (`DEMO_LISTEN=127.0.0.1:8081 make demo`).
set -euo pipefail
SN=${1:-build/secondnum}
LISTEN=${2:-${DEMO_LISTEN:-127.0.0.1:8080}}

# Exit 0 when HOST:PORT can be listened on, else say why.
port_free() {
  python3 - "$1" <<'PY'
import socket, sys
host, _, port = sys.argv[1].rpartition(":")
host = host.strip("[]") or "127.0.0.1"
try:
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as serve binds
    s.bind((host, int(port)))
    s.close()
except (OSError, ValueError) as e:
    print(e, file=sys.stderr)
    sys.exit(1)
PY
}
if ! why=$(port_free "$LISTEN" 2>&1); then
  echo "demo: cannot listen on $LISTEN ($why)." >&2
  echo "Choose another address: DEMO_LISTEN=127.0.0.1:8081 make demo" >&2
  exit 1
fi
mkdir -p demo
DB=demo/demo.db
rm -f "$DB" "$DB"-wal "$DB"-shm "$DB".key
run() { printf '\n$ %s\n' "$*"; "$@"; }

run "$SN" init --db "$DB" --country 86 --min-aging-days 90 --tz +08:00
run "$SN" gen --numbers 100000 --seed 1 --out demo/feed.csv
run "$SN" import --db "$DB" demo/feed.csv
N=$(awk -F, '$2=="activate" {seen[$1]++} END {for (n in seen) if (seen[n] > 1) {print n; exit}}' demo/feed.csv)
FIRST=$(awk -F, -v n="$N" '$1==n {print substr($3,1,10); exit}' demo/feed.csv)
printf '\nA reissued number from the feed: %s (first activated %s). Its history:\n' "$N" "$FIRST"
grep -F "$N," demo/feed.csv | cut -d, -f1-3
run "$SN" check --db "$DB" "$N" "$FIRST"
run "$SN" verify --db "$DB"

APP=$("$SN" keys create --db "$DB" --role app --name demo-app 2>/dev/null)
CARRIER=$("$SN" keys create --db "$DB" --role carrier --name demo-feed --carrier demo-carrier 2>/dev/null)
"$SN" carriers add --db "$DB" --name demo-carrier --range +86170 >/dev/null
H=$(printf '%s' "$N" | sha256sum | cut -d' ' -f1)
URL="http://$LISTEN"
cat <<TXT

The API is starting on $URL (Ctrl-C stops it). In another terminal:

  # CAMARA Number Recycling: has $N changed hands since $FIRST?
  curl -s -H 'Authorization: Bearer $APP' -H 'Content-Type: application/json' \\
       -d '{"phoneNumber":"$N","specifiedDate":"$FIRST"}' $URL/number-recycling/v0.2/check

  # the native answer, by number and by its SHA-256
  curl -s -H 'Authorization: Bearer $APP' -H 'Content-Type: application/json' \\
       -d '{"number":"$N","date":"$FIRST"}' $URL/v1/check
  curl -s -H 'Authorization: Bearer $APP' -H 'Content-Type: application/json' \\
       -d '{"number_sha256":"$H","date":"$FIRST"}' $URL/v1/check

  # a carrier reports an activation, and the check sees it at once
  curl -s -H 'Authorization: Bearer $CARRIER' -H 'Content-Type: application/json' \\
       -d '{"events":[{"number":"+8617000000001","event":"activate","at":"2024-05-01T10:00:00+08:00"}]}' $URL/v1/events
  curl -s -H 'Authorization: Bearer $APP' -H 'Content-Type: application/json' \\
       -d '{"number":"+8617000000001","date":"2024-04-01"}' $URL/v1/check

  # the app binds an account to that number; the carrier cancels it; the app
  # gets a number_cancelled notice (pull; PUT /v1/webhook pushes them) and acks it
  curl -s -X PUT -H 'Authorization: Bearer $APP' -H 'Content-Type: application/json' \\
       -d '{"bindings":[{"number":"+8617000000001","account":"user-42","bound_at":"2024-06-01T00:00:00Z"}]}' $URL/v1/bindings
  curl -s -H 'Authorization: Bearer $CARRIER' -H 'Content-Type: application/json' \\
       -d '{"events":[{"number":"+8617000000001","event":"cancel","at":"2025-01-01T10:00:00+08:00"}]}' $URL/v1/events
  curl -s -H 'Authorization: Bearer $APP' $URL/v1/notices
  curl -s -H 'Authorization: Bearer $APP' -H 'Content-Type: application/json' \\
       -d '{"outcome":"unbound"}' $URL/v1/notices/1/ack

  curl -s $URL/healthz
  curl -s $URL/openapi.yaml | head

TXT
# The subscriber portal's demo: a number reissued to a new owner, with a bank
# account of the previous owner and one of the new owner bound to it.
SUB=+8617099990001
ago() { date -u -d "@$(( $(date +%s) - $1 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ; }
printf 'number,event,at,event_id,id6\n%s,activate,%s,p1,111111\n%s,cancel,%s,p2,\n%s,activate,%s,p3,22222X\n' \
  "$SUB" "$(ago 400)" "$SUB" "$(ago 300)" "$SUB" "$(ago 100)" >demo/portal.csv
"$SN" import --db "$DB" --carrier demo-carrier demo/portal.csv >/dev/null
SETUP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SN" serve --db "$DB" --listen "127.0.0.1:$SETUP_PORT" --threads 1 2>/dev/null &
SETUP_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$SETUP_PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -sf -X PUT -H "Authorization: Bearer $APP" -H 'Content-Type: application/json' \
     -d '{"display_name":"演示银行 Demo Bank"}' "http://127.0.0.1:$SETUP_PORT/v1/profile" >/dev/null
curl -sf -X PUT -H "Authorization: Bearer $APP" -H 'Content-Type: application/json' \
     -d "{\"bindings\":[{\"number\":\"$SUB\",\"account\":\"previous-owner\",\"bound_at\":\"$(ago 350)\"},{\"number\":\"$SUB\",\"account\":\"new-owner\",\"bound_at\":\"$(ago 50)\"}]}" \
     "http://127.0.0.1:$SETUP_PORT/v1/bindings" >/dev/null
kill -TERM "$SETUP_PID"; wait "$SETUP_PID" || true
cat <<TXT
  # the subscriber portal: open $URL/ in a browser, enter $SUB, then the
  # code (read it from the outbox, in another terminal) and the ID digits 22222X
  $SN sms outbox --db $DB --number $SUB

TXT
exec "$SN" serve --db "$DB" --listen "$LISTEN"
