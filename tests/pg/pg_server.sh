#!/usr/bin/env bash
# tests/pg/pg_server.sh - a private PostgreSQL server for the tests and
# benchmarks, from Debian's packages (postgresql, /usr/lib/postgresql/*/bin).
#
#   pg_server.sh start DIR   initdb into DIR/data, start the server listening
#                            on a unix socket in DIR and on a free 127.0.0.1
#                            port, create the database "secondnum", print its
#                            postgres:// URL (TCP loopback) on stdout
#   pg_server.sh stop DIR    stop the server and remove DIR
#   pg_server.sh url DIR [DBNAME]         the TCP URL of DBNAME (default secondnum)
#   pg_server.sh socket-url DIR [DBNAME]  the same over the unix socket
#   pg_server.sh createdb DIR DBNAME      create a database (no error if it exists)
#   pg_server.sh psql DIR [DBNAME [PSQL ARGS...]]  psql on DBNAME (over the socket)
#   pg_server.sh halt DIR [fast|immediate]  stop the server, keep its data (immediate:
#                            as a crash, no checkpoint; recovery replays the WAL)
#   pg_server.sh resume DIR  start a halted server again, on the same port
#   pg_server.sh standby PRIMARY DIR [NAME]  a streaming hot standby of the
#                            server in PRIMARY (pg_basebackup -R) in DIR, on a
#                            free port, same password; NAME (default standby)
#                            is its application_name, for synchronous_standby_names
#   pg_server.sh promote DIR the standby in DIR becomes a primary (pg_ctl promote)
#
# DIR must be absent or empty: the script owns everything in it. The server
# runs as user postgres when invoked as root (CI runs as root; PostgreSQL
# refuses to), as the caller otherwise. fsync and synchronous_commit stay on:
# the durability tests need real commits. Only the socket directory (mode
# 0700: root and the server's user) and 127.0.0.1 are listened on; TCP needs
# the password, random per server, in DIR/password (0600).
set -euo pipefail

die() { echo "pg_server.sh: $*" >&2; exit 1; }

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] ||
    die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  echo "$d"
}

# as_server CMD...: run CMD as the server's user.
as_server() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The socket directory, percent-encoded for the host part of a URL.
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

url() {
  local dir=$1 db=${2:-secondnum}
  [ -f "$dir/port" ] || die "no server in $dir"
  echo "postgresql://secondnum:$(cat "$dir/password")@127.0.0.1:$(cat "$dir/port")/$db"
}

socket_url() {
  local dir=$1 db=${2:-secondnum}
  [ -f "$dir/port" ] || die "no server in $dir"
  echo "postgresql://secondnum@$(enc "$dir"):$(cat "$dir/port")/$db"
}

psql_on() {
  local dir=$1 db=${2:-secondnum}
  shift $(($# < 2 ? $# : 2))
  "$(bindir)/psql" -X -q -v ON_ERROR_STOP=1 "$(socket_url "$dir" "$db")" "$@"
}

createdb_in() {
  local dir=$1 db=$2 out
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name '$db'"
  out=$(psql_on "$dir" postgres -c "CREATE DATABASE $db" 2>&1) && return 0
  case "$out" in *"already exists"*) return 0 ;; esac
  echo "$out" >&2
  return 1
}

start() {
  local dir=$1 bin port
  bin=$(bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  chmod 0700 "$dir"
  (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/password")
  [ "$(id -u)" != 0 ] || chown -R postgres: "$dir"
  as_server "$bin/initdb" -D "$dir/data" -U secondnum --auth-local=trust \
    --auth-host=scram-sha-256 --pwfile="$dir/password" -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # Settings go in the configuration file: pg_ctl -o is pasted into a shell line.
  as_server tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
fsync = on
synchronous_commit = on
max_connections = 200
wal_level = replica
max_wal_senders = 10
CONF
  for _ in 1 2 3; do # the free port may be taken before the server binds it
    port=$(free_port)
    if as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port" \
         start >/dev/null; then
      echo "$port" >"$dir/port"
      break
    fi
  done
  [ -f "$dir/port" ] || { tail -20 "$dir/server.log" >&2; die "the server did not start"; }
  # amcheck in the template: `secondnum verify` then also checks every B-tree.
  psql_on "$dir" template1 -c "CREATE EXTENSION IF NOT EXISTS amcheck" >/dev/null 2>&1 || true
  createdb_in "$dir" secondnum
  url "$dir"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$(bindir)/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null 2>&1 ||
      as_server "$(bindir)/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

halt() {
  local dir=$1 mode=${2:-fast}
  [ -f "$dir/port" ] || die "no server in $dir"
  as_server "$(bindir)/pg_ctl" -D "$dir/data" -w -t 60 -m "$mode" stop >/dev/null
}

resume() {
  local dir=$1
  [ -f "$dir/port" ] || die "no server in $dir"
  as_server "$(bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $(cat "$dir/port")" start >/dev/null || { tail -20 "$dir/server.log" >&2; die "restart failed"; }
}

# Listen on a free port (retried: another process may take it first).
listen_free() {
  local dir=$1 bin port
  bin=$(bindir)
  for _ in 1 2 3; do
    port=$(free_port)
    if as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port" \
         start >/dev/null; then
      echo "$port" >"$dir/port"
      return 0
    fi
  done
  tail -20 "$dir/server.log" >&2
  die "the server in $dir did not start"
}

standby() {
  local primary=$1 dir=$2 name=${3:-standby} bin
  bin=$(bindir)
  [ -f "$primary/port" ] || die "no server in $primary"
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad standby name '$name'"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  chmod 0700 "$dir"
  cp "$primary/password" "$dir/password"
  [ "$(id -u)" != 0 ] || chown -R postgres: "$dir"
  as_server "$bin/pg_basebackup" -D "$dir/data" -h "$primary" -p "$(cat "$primary/port")" \
    -U secondnum -X stream -c fast -R >"$dir/basebackup.log" 2>&1 ||
    { cat "$dir/basebackup.log" >&2; die "pg_basebackup failed"; }
  # its own socket directory; primary_conninfo again with a name (the last
  # setting wins), which synchronous_standby_names can list
  as_server tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
unix_socket_directories = '$dir'
hot_standby = on
CONF
  as_server tee -a "$dir/data/postgresql.auto.conf" >/dev/null <<CONF
primary_conninfo = 'host=$primary port=$(cat "$primary/port") user=secondnum application_name=$name'
CONF
  listen_free "$dir"
}

promote() {
  local dir=$1
  [ -f "$dir/port" ] || die "no server in $dir"
  as_server "$(bindir)/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
}

[ $# -ge 2 ] || die "usage: pg_server.sh start|stop|url|socket-url|createdb|psql|halt|resume|standby|promote DIR [ARG]"
cmd=$1 dir=$2
shift 2
case "$cmd" in
  start) start "$dir" ;;
  stop) stop "$dir" ;;
  url) url "$dir" "${1:-secondnum}" ;;
  socket-url) socket_url "$dir" "${1:-secondnum}" ;;
  createdb) [ $# = 1 ] || die "createdb needs DBNAME"; createdb_in "$dir" "$1" ;;
  psql) psql_on "$dir" "$@" ;;
  halt) halt "$dir" "${1:-fast}" ;;
  resume) resume "$dir" ;;
  standby) [ $# -ge 1 ] || die "standby needs PRIMARY DIR"; standby "$dir" "$@" ;;
  promote) promote "$dir" ;;
  *) die "unknown command '$cmd'" ;;
esac
