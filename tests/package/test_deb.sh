#!/usr/bin/env bash
# tests/package/test_deb.sh DEB - the Debian package: lintian reports no
# error, its contents are as designed, it installs, the installed binary
# answers a check through `serve --config` of the installed default
# config, systemd-analyze verifies the installed unit, and it purges.
#
# Where it installs: by default into a temporary root, with
#   dpkg --root=ROOT --force-script-chrootless --force-depends -i DEB
# dpkg runs the real maintainer scripts on this machine with DPKG_ROOT=ROOT,
# and they work under it (the user is added to ROOT/etc/passwd by
# useradd --prefix, the directories made in ROOT, systemd left alone):
# safe on a developer's machine. SN_PACKAGE_INSTALL=system installs it into
# this machine with dpkg -i instead, and purges it after (for a throwaway CI
# machine, as root). Run by `make test-package` (part of `make check`).
# Cases as every suite (CASE_FILTER); "ok NAME" / "not ok NAME" lines.
set -u
DEB="$(cd "$(dirname "${1:?usage: test_deb.sh DEB}")" && pwd)/$(basename "$1")"
[ -f "$DEB" ] || { echo "no package $1" >&2; exit 2; }
export SECONDNUM=/bin/false # lib.sh wants one; the cases run the installed binary
. "$(dirname "$0")/../cli/lib.sh"
UPSTREAM=$(dpkg-deb -f "$DEB" Version | sed 's/-[^-]*$//')

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A root dpkg can install into: its database and the users every system has.
new_root() {
  local r=$1
  mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/triggers" "$r/etc"
  : >"$r/var/lib/dpkg/status"; : >"$r/var/lib/dpkg/available"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
  echo 'root:x:0:' >"$r/etc/group"
  echo 'root:*:19000:0:99999:7:::' >"$r/etc/shadow"
  echo 'root:*::' >"$r/etc/gshadow"
  chmod 0640 "$r/etc/shadow" "$r/etc/gshadow"
}

rdpkg() { dpkg --root="$R" --force-script-chrootless --force-depends "$@"; }

# Install into ROOT (or the system), run BODY, remove.
install_pkg() {
  if [ "${SN_PACKAGE_INSTALL:-root}" = system ]; then
    R=""
    dpkg -i "$DEB" || { apt-get install -f -y -qq && dpkg -i "$DEB"; }
  else
    R="$WORK/root"; new_root "$R"
    rdpkg -i "$DEB" >dpkg.out 2>&1 || { cat dpkg.out; fail "dpkg -i into $R failed"; }
  fi
}
purge_pkg() {
  if [ -z "$R" ]; then dpkg --purge secondnum; else rdpkg --purge secondnum >>dpkg.out 2>&1; fi
}

case_lintian_reports_no_error() {
  lintian --no-tag-display-limit "$DEB" >lintian.out 2>&1 || true
  cat lintian.out
  if grep -q '^E: ' lintian.out; then fail "lintian errors"; fi
}

case_contents_and_control() {
  dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}' >list
  for f in "-rwxr-xr-x root/root ./usr/bin/secondnum" \
           "-rw-r--r-- root/root ./etc/secondnum/secondnum.conf" \
           "-rw-r--r-- root/root ./lib/systemd/system/secondnum.service" \
           "-rw-r--r-- root/root ./etc/logrotate.d/secondnum" \
           "-rw-r--r-- root/root ./usr/share/man/man1/secondnum.1.gz" \
           "-rw-r--r-- root/root ./usr/share/man/man5/secondnum.conf.5.gz" \
           "-rw-r--r-- root/root ./usr/share/doc/secondnum/copyright" \
           "-rw-r--r-- root/root ./usr/share/doc/secondnum/changelog.Debian.gz"; do
    grep -qxF -- "$f" list || fail "not in the package: $f"
  done
  dpkg-deb -I "$DEB" conffiles | grep -qx /etc/secondnum/secondnum.conf || fail "config not a conffile"
  dpkg-deb -I "$DEB" conffiles | grep -qx /etc/logrotate.d/secondnum || fail "logrotate not a conffile"
  deps=$(dpkg-deb -f "$DEB" Depends)
  for p in libh2o-evloop0.13 libjansson4 libsqlite3-0 libpq5 libcurl4 libsodium23 libssl3 libsystemd0 passwd; do
    case ", $deps" in *", $p"*) ;; *) fail "Depends lacks $p: $deps" ;; esac
  done
  expect_eq "arch" "$(dpkg --print-architecture)" "$(dpkg-deb -f "$DEB" Architecture)"
}

case_installs_runs_verifies_and_purges() {
  install_pkg
  local bin="$R/usr/bin/secondnum" conf="$R/etc/secondnum/secondnum.conf"
  # the postinst's work
  line=$(grep '^secondnum:' "$R/etc/passwd") || fail "no user secondnum"
  uid=$(echo "$line" | cut -d: -f3)
  [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "not a system uid: $line"
  expect_eq "home" /var/lib/secondnum "$(echo "$line" | cut -d: -f6)"
  for d in var/lib/secondnum var/log/secondnum; do
    expect_eq "/$d" "750 $uid" "$(stat -c '%a %u' "$R/$d")"
  done
  dpkg --root="${R:-/}" -s secondnum | grep -qx 'Status: install ok installed' || fail "not installed"
  # the installed binary and pages
  "$bin" --help | grep -q '^usage: secondnum' || fail "--help"
  expect_eq "version" "secondnum $UPSTREAM" "$("$bin" --version)"
  LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$R/usr/share/man/man1/secondnum.1.gz" | grep -q "^NAME" || fail "man page"
  # init, a feed, a key, then serve from the installed config, store overridden
  "$bin" init --db "$WORK/ledger.db" >/dev/null
  "$bin" gen --numbers 20 --seed 5 >feed.csv
  "$bin" import --db "$WORK/ledger.db" feed.csv >/dev/null
  key=$("$bin" keys create --db "$WORK/ledger.db" --role app --name pkg-test | head -1)
  number=$(sed -n 2p feed.csv | cut -d, -f1)
  want=$("$bin" check --db "$WORK/ledger.db" "$number" 2024-01-01 | head -1)
  port=$(free_port)
  # the installed config, with the store, its log and its addresses moved
  args=(--config "$conf" --db "$WORK/ledger.db" --key "$WORK/ledger.db.key" --listen "127.0.0.1:$port"
        --request-log "$WORK/requests.log" --metrics-listen "127.0.0.1:$(free_port)")
  "$bin" serve "${args[@]}" --threads 1 2>serve.err &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  got=$(curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"number\":\"$number\",\"date\":\"2024-01-01\"}" "http://127.0.0.1:$port/v1/check")
  kill -TERM $pid; wait $pid || fail "serve exited $?: $(cat serve.err)"
  echo "check: $got (CLI: $want)"
  echo "$got" | grep -q "\"result\": *\"$want\"" || fail "HTTP check '$got', CLI says '$want'"
  grep -q '"route":"/v1/check"' "$WORK/requests.log" || fail "no request log line for the check"
  # the installed unit; in a temporary root, with ExecStart naming the
  # binary there (verify wants it to exist, and resolves it on this host)
  unit="$R/lib/systemd/system/secondnum.service"
  if [ -n "$R" ]; then sed "s|/usr/bin/secondnum|$bin|g" "$unit" >secondnum.service; unit=./secondnum.service; fi
  SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$unit" >verify.out 2>&1 \
    || { cat verify.out; fail "verify"; }
  [ ! -s verify.out ] || { cat verify.out; fail "verify warned"; }
  # purge: the program, config and logs go; the store stays
  purge_pkg
  [ ! -e "$bin" ] && [ ! -e "$conf" ] && [ ! -e "$R/var/log/secondnum" ] || fail "purge left files"
  [ -d "$R/var/lib/secondnum" ] || fail "purge removed the store's directory"
  if [ -z "$R" ]; then rmdir /var/lib/secondnum 2>/dev/null || true; fi
}

# make install for everyone else, staged with DESTDIR; the release build
# make deb left is up to date, so nothing is compiled.
case_make_install_under_destdir() {
  local top; top="$(cd "$(dirname "$DEB")/../.." && pwd)"
  mk() { make -C "$top" --no-print-directory BUILD=build/release "$@"; }
  mk install PREFIX=/usr/local DESTDIR="$WORK/a" >/dev/null
  (cd "$WORK/a" && find . -type f | LC_ALL=C sort) >a.list
  expect_eq "files, PREFIX=/usr/local" "./etc/secondnum/secondnum.conf
./usr/local/bin/secondnum
./usr/local/share/doc/secondnum/README.md
./usr/local/share/doc/secondnum/http-api.md
./usr/local/share/doc/secondnum/operations.md
./usr/local/share/doc/secondnum/secondnum.conf
./usr/local/share/doc/secondnum/secondnum.service
./usr/local/share/man/man1/secondnum.1
./usr/local/share/man/man5/secondnum.conf.5" "$(cat a.list)"
  grep -qx "ExecStart=/usr/local/bin/secondnum serve --config /etc/secondnum/secondnum.conf" \
    "$WORK/a/usr/local/share/doc/secondnum/secondnum.service" || fail "unit copy not for /usr/local"
  "$WORK/a/usr/local/bin/secondnum" --version | grep -q "^secondnum $UPSTREAM$" || fail "installed binary"
  mk install PREFIX=/usr DESTDIR="$WORK/b" >/dev/null
  [ -f "$WORK/b/lib/systemd/system/secondnum.service" ] || fail "no unit with PREFIX=/usr"
  echo "# local" >>"$WORK/b/etc/secondnum/secondnum.conf"
  mk install PREFIX=/usr DESTDIR="$WORK/b" | grep -q "keeping" || fail "not said"
  tail -1 "$WORK/b/etc/secondnum/secondnum.conf" | grep -qx "# local" || fail "local config overwritten"
  mk uninstall PREFIX=/usr DESTDIR="$WORK/b" >/dev/null
  expect_eq "left after uninstall" "./etc/secondnum/secondnum.conf" "$(cd "$WORK/b" && find . -type f)"
}

# make runs this directly (not through tests/run.sh): the exit status says
# whether every case passed.
results=$(mktemp "${TMPDIR:-/tmp}/sn-deb.XXXXXX")
run_cases | tee "$results"
rc=0
grep -q '^ok ' "$results" || [ -n "${CASE_FILTER:-}" ] || rc=1 # a filter may match none
if grep -q '^not ok ' "$results"; then rc=1; fi
rm -f "$results"
exit $rc
