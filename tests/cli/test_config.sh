# `--config FILE` (src/cli/config.c): a serve started from a file answers on
# the file's address; flags override the file; every error names FILE:LINE
# and stops the command before it does anything; the shared keys; flags as
# true/false; every command takes it; dist/secondnum.conf starts serve.
# On PostgreSQL (tests/pg/run.sh) --db is always given as a flag (the
# wrapper maps it to a database); the cases that read db from the file, or
# are about store files, are skipped there.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

on_pg() { [ -n "${SN_PG_DIR:-}" ] && echo "skipped on PostgreSQL (db from the file, or store files)"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_serve LOG ARGS... : serve in the background (pid in $SERVE_PID),
# back once it says it listens; fails when it exits first.
start_serve() {
  local log=$1; shift
  "$SN" serve "$@" >"$log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 1 200); do
    grep -q "listening on" "$log" && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$log"; fail "serve exited"; return 1; }
    sleep 0.05
  done
  fail "serve did not start: $(cat "$log")"
}

stop_serve() {
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
}

healthz() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz" || true; }

# expect_usage FILE:LINE TEXT CMD... : exit 2 and one stderr line naming both
expect_usage() {
  local where=$1 text=$2; shift 2
  expect_exit 2 "$@"
  grep -qF "$where: " "$WORK/err" || fail "stderr does not name $where: $(cat "$WORK/err")"
  grep -qF -- "$text" "$WORK/err" || fail "stderr lacks '$text': $(cat "$WORK/err")"
  expect_eq "error lines" 1 "$(wc -l <"$WORK/err")"
}

case_serve_listens_where_the_file_says() {
  local port; port=$(free_port)
  printf '# a comment\n[serve]\n  listen = 127.0.0.1:%s\nthreads = 1\ncreate = true\n' "$port" >c.conf
  start_serve serve.log --config c.conf --db t.db
  expect_eq "healthz on the file's port" 200 "$(healthz "$port")"
  grep -q "listening on http://127.0.0.1:$port with 1 thread" serve.log || fail "$(cat serve.log)"
  stop_serve
}

case_flags_override_the_file() {
  local p1 p2; p1=$(free_port); p2=$(free_port)
  printf '[serve]\nlisten = 127.0.0.1:%s\nthreads = 3\n' "$p1" >c.conf
  start_serve serve.log --config c.conf --db t.db --create --listen "127.0.0.1:$p2"
  expect_eq "the flag's port answers" 200 "$(healthz "$p2")"
  expect_eq "the file's port does not" 000 "$(healthz "$p1")"
  grep -q "with 3 thread" serve.log || fail "the file's threads are lost: $(cat serve.log)"
  stop_serve
  printf '[init]\nmin-aging-days = 45\ntz = +05:30\n' >i.conf
  "$SN" init --config i.conf --db t2.db --min-aging-days 60 >out
  grep -q "minimum aging 60 days, time zone +05:30" out || fail "$(cat out)"
}

case_unknown_key_names_file_and_line() {
  printf 'db = t.db\n\n[serve]\ncolour = blue\n' >c.conf
  expect_usage c.conf:4 "unknown key 'colour' in [serve]" "$SN" serve --config c.conf --create
  [ ! -e t.db ] || fail "the store was created despite the error"
  printf 'listen = 127.0.0.1:9\n' >d.conf
  expect_usage d.conf:1 "listen belongs in a command's section ([serve])" \
    "$SN" serve --config d.conf --db t.db
}

case_bad_value_names_file_and_line() {
  printf '[serve]\nlisten = 127.0.0.1:8080\nthreads = 1000\n' >c.conf
  expect_usage c.conf:3 "--threads must be 1-256" "$SN" serve --config c.conf --db t.db --create
  printf '[serve]\nlisten = nowhere\n' >c.conf
  expect_usage c.conf:2 "--listen" "$SN" serve --config c.conf --db t.db --create
  printf '[serve]\ncheck-rate =\n' >c.conf
  expect_usage c.conf:2 "check-rate has no value" "$SN" serve --config c.conf --db t.db
  printf '[serve]\nthreads 2\n' >c.conf
  expect_usage c.conf:2 "not a \`key = value\` line" "$SN" serve --config c.conf --db t.db
  printf '[serve]\nthreads = 2\n# again\nthreads = 3\n' >c.conf
  expect_usage c.conf:4 "threads is set twice (first on line 2)" "$SN" serve --config c.conf --db t.db
  [ ! -e t.db ] || fail "the store was created despite the errors"
}

case_unknown_section_names_file_and_line() {
  printf '[serve]\nthreads = 2\n[srve]\n' >c.conf
  expect_usage c.conf:3 "unknown section [srve]" "$SN" serve --config c.conf --db t.db --create
  # another command's section is skipped, not read
  printf '[import]\nrejects = r.csv\n[keys]\nrole = app\n' >c.conf
  "$SN" init --db t.db >/dev/null
  expect_exit 0 "$SN" verify --config c.conf --db t.db
}

case_shared_keys_db_and_key() {
  on_pg && return 0
  local port; port=$(free_port)
  printf 'db = s.db\nkey = my.key\n[serve]\nlisten = 127.0.0.1:%s\ncreate = yes\n' "$port" >c.conf
  start_serve serve.log --config c.conf
  expect_eq "healthz" 200 "$(healthz "$port")"
  stop_serve
  [ -s s.db ] || fail "db from the file: no s.db"
  [ -s my.key ] || fail "key from the file: no my.key"
  # a command without --key (verify) takes db and skips key
  expect_exit 0 "$SN" verify --config c.conf
  # a section may set db for its command only
  printf 'db = s.db\n[verify]\ndb = none.db\n' >v.conf
  expect_exit 1 "$SN" verify --config v.conf
  grep -q "no store at none.db" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_required_db_from_file_or_flag() {
  printf '[serve]\nthreads = 1\n' >c.conf
  expect_usage "" "--db is required" "$SN" serve --config c.conf
}

case_flag_options_true_false() {
  "$SN" init --db t.db >/dev/null
  printf '[check]\njson = true\n' >yes.conf
  printf '[check]\njson = false\n' >no.conf
  printf '[check]\njson = maybe\n' >bad.conf
  "$SN" check --config yes.conf --db t.db +8613800000001 2024-01-01 | grep -q '^{' || fail "json = true"
  "$SN" check --config no.conf --db t.db +8613800000001 2024-01-01 | grep -q '^{' && fail "json = false"
  "$SN" check --config no.conf --db t.db --json +8613800000001 2024-01-01 | grep -q '^{' ||
    fail "--json overrides json = false"
  expect_usage bad.conf:2 "json is a flag: true or false" "$SN" check --config bad.conf --db t.db +8613800000001 2024-01-01
  on_pg && return 0
  printf '[keys]\ncreate = 1\n' >k1.conf
  printf '[keys]\ncreate = no\n' >k0.conf
  expect_exit 1 "$SN" keys list --config k0.conf --db new.db
  grep -q "no store at new.db" "$WORK/err" || fail "create = no: $(cat "$WORK/err")"
  expect_exit 0 "$SN" keys list --config k1.conf --db new.db
  [ -s new.db ] || fail "create = 1 did not create the store"
}

case_missing_file() {
  expect_exit 2 "$SN" serve --config nope.conf --db t.db --create
  grep -qF -- "--config nope.conf: No such file or directory" "$WORK/err" || fail "$(cat "$WORK/err")"
  [ ! -e t.db ] || fail "the store was created"
  mkdir d.conf
  expect_exit 2 "$SN" serve --config d.conf --db t.db
  grep -qF -- "--config d.conf: not a regular file" "$WORK/err" || fail "$(cat "$WORK/err")"
  printf '[serve]\n' >c.conf
  expect_exit 2 "$SN" serve --config c.conf --config c.conf --db t.db
  grep -q "given twice" "$WORK/err" || fail "$(cat "$WORK/err")"
}

case_every_command_takes_config() {
  for c in init import check serve verify gen "keys list" "carriers list" "sms outbox"; do
    # shellcheck disable=SC2086
    expect_exit 2 "$SN" $c --config nope.conf
    grep -qF -- "--config nope.conf: No such file" "$WORK/err" || fail "$c: $(cat "$WORK/err")"
  done
}

case_line_length_limit() {
  # SN_CLI_CONFIG_LINE_MAX is 199: a line of 199 characters is read, 200 is an error
  { echo "[serve]"; printf '#%.0s' $(seq 1 199); echo; echo "threads = 1"; } >ok.conf
  { echo "[serve]"; printf '#%.0s' $(seq 1 200); echo; echo "threads = 1"; } >long.conf
  expect_exit 0 "$SN" init --config ok.conf --db t.db
  expect_usage long.conf:2 "a line is at most 199 characters" "$SN" init --config long.conf --db t2.db
  [ ! -e t2.db ] || fail "the store was created despite the error"
}

case_import_check_keys_from_file() {
  printf '[import]\ncreate = true\nrejects = rej.csv\nbatch-size = 1\n[check]\ndate = 2023-12-31\n[keys]\nrole = app\nname = shop\n' >c.conf
  feed f.csv "+8613800000001,activate,2024-01-01,a1" "+8613800000001,explode,2024-01-02,a2"
  expect_exit 1 "$SN" import --config c.conf --db t.db f.csv
  grep -q "unknown event" rej.csv || fail "rejects from the file: $(cat rej.csv 2>&1)"
  echo "+8613800000001" >in.csv
  "$SN" check --config c.conf --db t.db --file in.csv >out.csv
  grep -q "reassigned" out.csv || fail "check --file with date from the file: $(cat out.csv)"
  "$SN" keys create --config c.conf --db t.db >key.txt
  grep -q . key.txt || fail "no key"
  "$SN" keys list --db t.db | grep -q "app	shop" || fail "$("$SN" keys list --db t.db)"
}

case_dist_example_config_starts_serve() {
  local port; port=$(free_port)
  [ -f "$ROOT/dist/secondnum.conf" ] || fail "no dist/secondnum.conf"
  grep -q '^db = /var/lib/secondnum/ledger.db$' "$ROOT/dist/secondnum.conf" || fail "db of the installed layout"
  grep -q '^listen = 127.0.0.1:8080$' "$ROOT/dist/secondnum.conf" || fail "listen"
  start_serve serve.log --config "$ROOT/dist/secondnum.conf" --db t.db --create --key t.db.key \
    --listen "127.0.0.1:$port" --request-log requests.log --metrics-listen "127.0.0.1:$(free_port)"
  expect_eq "healthz" 200 "$(healthz "$port")"
  stop_serve
  # every serve option is in the example, set or commented out (--rate is
  # keys create's, named in a sentence of serve's help)
  local opts missing
  opts=$("$SN" serve --help | grep -o -- '--[a-z][a-z-]*' | sort -u |
    grep -vx -- '--help\|--config\|--db\|--key\|--rate')
  [ "$(echo "$opts" | wc -l)" -ge 20 ] || fail "serve --help lists too few options: $opts"
  missing=$(for opt in $opts; do
    grep -Eq "^#? ?${opt#--} = " "$ROOT/dist/secondnum.conf" || echo "${opt#--}"
  done)
  [ -z "$missing" ] || fail "dist/secondnum.conf lacks: $missing"
}

case_sms_config_from_the_file() {
  local port; port=$(free_port)
  printf 'driver = kannel\nurl = http://127.0.0.1:9/cgi-bin/sendsms\n' >kannel.conf
  printf 'colour = blue\n' >bad-kannel.conf
  printf '[serve]\nsms-config = bad-kannel.conf\n' >bad.conf
  expect_usage bad.conf:2 "bad-kannel.conf:1: unknown setting 'colour'" "$SN" serve --config bad.conf --db t.db --create
  printf '[serve]\nsms = kannel\n' >nourl.conf
  expect_usage "" "--sms kannel needs --sms-config with a url" "$SN" serve --config nourl.conf --db t.db --create
  printf '[serve]\nsms = kannel\nsms-config = kannel.conf\nlisten = 127.0.0.1:%s\n' "$port" >c.conf
  start_serve serve.log --config c.conf --db t.db --create
  expect_eq "healthz with the kannel driver" 200 "$(healthz "$port")"
  stop_serve
}

run_cases
