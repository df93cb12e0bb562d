#!/bin/sh
# scripts/embed.sh SYMBOL FILE - write a C file defining `const char SYMBOL[]`
# with FILE's bytes and `const size_t SYMBOL_len`, so the binary carries it.
set -eu
sym=$1 file=$2
printf '/* Generated from %s by scripts/embed.sh; do not edit. */\n#include <stddef.h>\n' "$file"
printf 'const char %s[] = {\n' "$sym"
od -An -v -tu1 "$file" | awk '{ for (i = 1; i <= NF; i++) printf "%s,", $i; printf "\n" }'
printf '0};\nconst size_t %s_len = sizeof(%s) - 1;\n' "$sym" "$sym"
