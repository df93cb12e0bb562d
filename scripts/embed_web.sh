#!/bin/sh
# scripts/embed_web.sh FILE... - write a C file defining sn_portal_files[]
# (src/http/embedded.h): each file's bytes, its URL path (/ + its name) and its
# content type, so the binary serves the web portal without a web/ directory.
# An argument /URL/PATH=FILE serves FILE at /URL/PATH instead (the admin
# dashboard's files under /admin/, the charting library from node_modules).
# A file that is missing or empty fails the script: a page never goes out
# without its parts.
set -eu
file_of() { case "$1" in /*=*) printf '%s' "${1#*=}" ;; *) printf '%s' "$1" ;; esac; }
url_of() { case "$1" in /*=*) printf '%s' "${1%%=*}" ;; *) printf '/%s' "$(basename "$1")" ;; esac; }
for a in "$@"; do
  f=$(file_of "$a")
  [ -s "$f" ] || { echo "embed_web.sh: $f is missing or empty" >&2; exit 1; }
done
printf '/* Generated from %s by scripts/embed_web.sh; do not edit. */\n' "$*"
printf '#include "http/embedded.h"\n'
i=0
for a in "$@"; do
  f=$(file_of "$a")
  printf 'static const char file%d[] = {\n' "$i"
  od -An -v -tu1 "$f" | awk '{ for (i = 1; i <= NF; i++) printf "%s,", $i; printf "\n" }'
  printf '0};\n'
  i=$((i + 1))
done
printf 'const sn_portal_file sn_portal_files[] = {\n'
i=0
for a in "$@"; do
  name=$(url_of "$a")
  case "$name" in
    *.html) type='text/html; charset=utf-8' ;;
    *.js) type='text/javascript; charset=utf-8' ;;
    *.css) type='text/css; charset=utf-8' ;;
    *.svg) type='image/svg+xml' ;;
    *.png) type='image/png' ;;
    *.ico) type='image/x-icon' ;;
    *) type='application/octet-stream' ;;
  esac
  printf '    {"%s", "%s", file%d, sizeof(file%d) - 1},\n' "$name" "$type" "$i" "$i"
  i=$((i + 1))
done
printf '};\nconst size_t sn_portal_nfiles = %d;\n' "$i"
