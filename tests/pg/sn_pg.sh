#!/usr/bin/env bash
# tests/pg/sn_pg.sh - the binary under test, on PostgreSQL: runs $SN_PG_REAL
# with every `--db PATH` replaced by the URL of a database of its own on the
# test server (tests/pg/pg_server.sh), so the unchanged CLI and integration
# suites run against PostgreSQL. tests/pg/run.sh sets it up as SECONDNUM.
#
#   SN_PG_REAL    the real secondnum binary
#   SN_PG_DIR     the test server's directory (pg_server.sh start DIR)
#
# Each distinct PATH (made absolute) is one database, created on first use,
# so every test case, which works in a temporary directory of its own, gets
# a fresh database. The deployment secret of that store is PATH.key, passed
# as SECONDNUM_KEY: the suites find it where they look for it.
# A PATH that exists as a non-empty file was written by the test itself (a
# corrupt "database"): that is SQLite's file handling, and it is passed
# through unchanged.
set -u
: "${SN_PG_REAL:?set SN_PG_REAL to the secondnum binary}" "${SN_PG_DIR:?set SN_PG_DIR to the directory of the server}"
here=$(cd "$(dirname "$0")" && pwd)

# map ABS: print the URL of the database of absolute path ABS, created on
# first use (or ABS itself when the test wrote a file there).
map() {
  local abs=$1 name
  if [ -s "$abs" ] && [ ! -d "$abs" ]; then
    echo "$abs"
    return 0
  fi
  name="sn_$(printf '%s' "$abs" | md5sum | cut -c1-24)"
  mkdir -p "$SN_PG_DIR/made"
  (
    flock 9
    [ -e "$SN_PG_DIR/made/$name" ] ||
      { "$here/pg_server.sh" createdb "$SN_PG_DIR" "$name" && : >"$SN_PG_DIR/made/$name"; }
  ) 9>"$SN_PG_DIR/made/.lock" || return 1
  "$here/pg_server.sh" url "$SN_PG_DIR" "$name"
}

args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --db | --db=*)
      if [ "$1" = --db ]; then
        [ $# -ge 2 ] || { args+=("$1"); shift; continue; }
        path=$2
        shift 2
      else
        path=${1#--db=}
        shift
      fi
      abs=$(realpath -m -- "$path")
      export SECONDNUM_KEY="$abs.key"
      url=$(map "$abs") || exit 1
      args+=(--db "$url")
      ;;
    *) args+=("$1"); shift ;;
  esac
done
exec "$SN_PG_REAL" ${args[@]+"${args[@]}"}
