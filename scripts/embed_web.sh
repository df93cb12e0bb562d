#!/bin/sh
# scripts/embed_web.sh FILE... - write a C file defining sn_portal_files[]
# (src/http/embedded.h): each file's bytes, its URL path (/ + its name) and its
# content type, so the binary serves the web portal without a web/ directory.
set -eu
printf '/* Generated from %s by scripts/embed_web.sh; do not edit. */\n' "$*"
printf '#include "http/embedded.h"\n'
i=0
for f in "$@"; do
  printf 'static const char file%d[] = {\n' "$i"
  od -An -v -tu1 "$f" | awk '{ for (i = 1; i <= NF; i++) printf "%s,", $i; printf "\n" }'
  printf '0};\n'
  i=$((i + 1))
done
printf 'const sn_portal_file sn_portal_files[] = {\n'
i=0
for f in "$@"; do
  name=$(basename "$f")
  case "$name" in
    *.html) type='text/html; charset=utf-8' ;;
    *.js) type='text/javascript; charset=utf-8' ;;
    *.css) type='text/css; charset=utf-8' ;;
    *.svg) type='image/svg+xml' ;;
    *.png) type='image/png' ;;
    *.ico) type='image/x-icon' ;;
    *) type='application/octet-stream' ;;
  esac
  printf '    {"/%s", "%s", file%d, sizeof(file%d) - 1},\n' "$name" "$type" "$i" "$i"
  i=$((i + 1))
done
printf '};\nconst size_t sn_portal_nfiles = %d;\n' "$i"
