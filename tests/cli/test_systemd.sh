# systemd integration: serve's sd_notify messages to a socket standing in
# for systemd (tests/cli/notify_listen.py), and the unit file
# (dist/secondnum.service) through `systemd-analyze verify`.
. "$(dirname "$0")/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

store() {
  "$SN" gen --numbers 200 --seed 3 >feed.csv
  "$SN" import --create --db t.db feed.csv >/dev/null 2>&1
}

# jq-free reading of the listener's JSON: python expression over `r`.
field() { python3 -c "import json,sys; r=json.load(open('notify.json')); print($1)"; }

case_ready_after_listening_watchdog_pings_stopping_on_sigterm() {
  store
  port=$(free_port)
  python3 "$HERE/notify_listen.py" "$WORK/n.sock" 4000000 7 -- \
    "$SN" serve --db t.db --listen 127.0.0.1:$port --threads 1 >notify.json
  cat notify.json
  expect_eq "exit" 0 "$(field 'r["exit"]')"
  # READY=1 comes once, after the index line and when the port answers
  expect_eq "READY count" 1 "$(field 'sum("READY=1" in m["data"] for m in r["messages"])')"
  expect_eq "ready when" "True True" \
    "$(field '" ".join(str(m[k]) for m in r["messages"] if "READY=1" in m["data"] for k in ("index_logged","port_answers"))')"
  indexed=$(sed -n 's/.*serve: \([0-9]*\) numbers indexed.*/\1/p' "$WORK/n.sock.stderr")
  [ -n "$indexed" ] && [ "$indexed" -gt 0 ] || fail "no index line"
  field '[m["data"] for m in r["messages"] if "READY=1" in m["data"]][0]' | grep -qx "STATUS=serving $indexed numbers on http://127.0.0.1:$port" \
    || fail "READY=1 without the STATUS line"
  # WATCHDOG=1 keeps coming, never more than the interval (4 s) apart
  pings=$(field 'sum(m["data"] == "WATCHDOG=1" for m in r["messages"])')
  [ "$pings" -ge 2 ] || fail "only $pings WATCHDOG=1 in 7 s"
  gap=$(field 'max(b-a for a,b in zip(*(lambda t:(t,t[1:]))([m["t"] for m in r["messages"] if "WATCHDOG=1" in m["data"]])))')
  python3 -c "import sys; sys.exit(0 if $gap < 4.0 else 1)" || fail "pings $gap s apart"
  # STOPPING=1 after SIGTERM, as the last message
  field 'r["messages"][-1]["data"]' | grep -qx "STOPPING=1" || fail "no STOPPING=1 last"
}

case_watchdog_under_4_seconds_refused() {
  store
  port=$(free_port)
  python3 "$HERE/notify_listen.py" "$WORK/n.sock" 3999999 0 -- \
    "$SN" serve --db t.db --listen 127.0.0.1:$port --threads 1 >notify.json
  cat notify.json
  expect_eq "exit" 1 "$(field 'r["exit"]')"
  expect_eq "messages" 0 "$(field 'len(r["messages"])')"
  grep -q "WatchdogSec=4 or more" "$WORK/n.sock.stderr" || fail "no reason given"
}

case_watchdog_of_4_seconds_accepted() {
  store
  port=$(free_port)
  python3 "$HERE/notify_listen.py" "$WORK/n.sock" 4000000 0.5 -- \
    "$SN" serve --db t.db --listen 127.0.0.1:$port --threads 1 >notify.json
  expect_eq "exit" 0 "$(field 'r["exit"]')"
  field 'r["messages"][0]["data"]' | grep -qx "WATCHDOG=1" || fail "READY=1 without the first ping"
}

case_no_watchdog_without_its_variables() {
  store
  port=$(free_port)
  python3 "$HERE/notify_listen.py" "$WORK/n.sock" 0 3 -- \
    "$SN" serve --db t.db --listen 127.0.0.1:$port --threads 1 >notify.json
  cat notify.json
  expect_eq "exit" 0 "$(field 'r["exit"]')"
  expect_eq "pings" 0 "$(field 'sum("WATCHDOG=1" in m["data"] for m in r["messages"])')"
  expect_eq "messages" 2 "$(field 'len(r["messages"])')"
}

# The unit as shipped, with ExecStart pointing at the binary under test
# (verify wants the program to exist).
case_unit_verifies() {
  command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (Debian package systemd)"
  sed "s|/usr/bin/secondnum|$SN|g" "$ROOT/dist/secondnum.service" >secondnum.service
  grep -q "^ExecStart=$SN serve --config /etc/secondnum/secondnum.conf" secondnum.service \
    || fail "ExecStart not as expected"
  SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./secondnum.service >verify.out 2>&1 \
    || { cat verify.out; fail "systemd-analyze verify failed"; }
  # any complaint counts, not only the exit status
  if grep -v "^$" verify.out | grep -q .; then cat verify.out; fail "verify warned"; fi
  grep -qx "Type=notify" secondnum.service || fail "not Type=notify"
}

run_cases
