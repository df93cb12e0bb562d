#!/bin/sh
# scripts/mkdeb.sh BINARY OUTDIR - build the Debian package of secondnum
# from a staged tree, with dpkg-deb alone (no debhelper: it runs offline in
# CI). Version: `BINARY --version` with the Debian revision -1; Depends:
# dpkg-shlibdeps on the binary, plus passwd (useradd). Maintainer scripts,
# copyright and control come from dist/deb/. Prints the .deb's path.
# `make deb` runs it on a release build (build/release).
set -eu

bin=$1
out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
upstream=$("$bin" --version | awk '{ print $2 }')
version="$upstream-1"
arch=$(dpkg --print-architecture)
stage="$out/stage"
deb="$out/secondnum_${version}_${arch}.deb"

rm -rf "$stage"
mkdir -p "$stage/DEBIAN"
umask 022

install -D -m 0755 "$bin" "$stage/usr/bin/secondnum"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/secondnum"
for page in secondnum.1 secondnum.conf.5; do
    sec=${page##*.}
    install -d "$stage/usr/share/man/man$sec"
    gzip -9n <"$top/man/$page" >"$stage/usr/share/man/man$sec/$page.gz"
done
install -D -m 0644 "$top/dist/secondnum.conf" "$stage/etc/secondnum/secondnum.conf"
install -D -m 0644 "$top/dist/secondnum.service" "$stage/lib/systemd/system/secondnum.service"
install -D -m 0644 "$top/dist/secondnum.logrotate" "$stage/etc/logrotate.d/secondnum"
doc="$stage/usr/share/doc/secondnum"
install -D -m 0644 "$top/dist/deb/copyright" "$doc/copyright"
for f in README.md docs/operations.md docs/http-api.md; do
    install -m 0644 "$top/$f" "$doc/$(basename "$f")"
done
install -D -m 0644 "$top/dist/deb/lintian-overrides" "$stage/usr/share/lintian/overrides/secondnum"

# changelog.Debian: one entry for this version, dated by the last commit
# (the same tree gives the same bytes)
date=$(git -C "$top" log -1 --format=%aD 2>/dev/null || date -R)
maint=$(sed -n 's/^Maintainer: //p' "$top/dist/deb/control.in")
{
    echo "secondnum ($version) unstable; urgency=medium"
    echo
    echo "  * Release $upstream; the changes are in the project's git history."
    echo
    echo " -- $maint  $date"
} | gzip -9n >"$doc/changelog.Debian.gz"

# Depends: the shared libraries' packages, found by dpkg-shlibdeps (which
# wants a debian/control to read)
shl=$(mktemp -d "${TMPDIR:-/tmp}/mkdeb.XXXXXX")
mkdir "$shl/debian"
printf 'Source: secondnum\n\nPackage: secondnum\nArchitecture: any\n' >"$shl/debian/control"
absbin=$(cd "$(dirname "$stage/usr/bin/secondnum")" && pwd)/secondnum
depends=$(cd "$shl" && dpkg-shlibdeps -O "$absbin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf "$shl"
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
depends="$depends, passwd"

for s in postinst prerm postrm; do
    install -m 0755 "$top/dist/deb/$s" "$stage/DEBIAN/$s"
done
printf '%s\n' /etc/secondnum/secondnum.conf /etc/logrotate.d/secondnum >"$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    xargs md5sum >DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    -e "s/@DEPENDS@/$depends/" "$top/dist/deb/control.in" >"$stage/DEBIAN/control"

rm -f "$out"/secondnum_*.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
