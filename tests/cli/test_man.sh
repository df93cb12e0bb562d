# The man pages: they format without a warning, and every option each
# command's --help names is in that command's section of secondnum(1).
. "$(dirname "$0")/lib.sh"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

case_pages_format_without_warnings() {
  for p in "$ROOT/man/secondnum.1" "$ROOT/man/secondnum.conf.5"; do
    groff -man -ww -z "$p" >g.out 2>&1 || fail "groff failed on $p: $(cat g.out)"
    [ ! -s g.out ] || fail "groff warns on $p: $(cat g.out)"
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>m.err >m.out || fail "man failed on $p"
    [ ! -s m.err ] || fail "man warns on $p: $(cat m.err)"
    grep -q "^NAME" m.out || fail "$p has no NAME section"
  done
}

case_every_help_option_is_in_the_page() {
  python3 "$ROOT/tests/cli/man_options.py" "$SN" "$ROOT/man/secondnum.1"
}

# The check itself: an option the page lacks is found.
case_a_missing_option_is_found() {
  sed 's/\\-\\-otp\\-ttl/--gone/g' "$ROOT/man/secondnum.1" >less.1
  if python3 "$ROOT/tests/cli/man_options.py" "$SN" less.1 >out; then fail "not noticed"; fi
  grep -qx "missing from less.1: serve: --otp-ttl" out || fail "$(cat out)"
}

run_cases
