#!/bin/sh
# mkdeb.sh OUT [VERSION]: build the Debian packages qmail-hub and
# qmail-leaf from this tree (`make deb`; docs/packages.md). The tree is
# copied to OUT/src (no build directories, no .git) and built there with
# dpkg-buildpackage, so the .deb files land in OUT and the tree itself is
# never written. VERSION (e.g. 0.15.0+1) puts a new changelog entry on top
# of the copy's, for a package that upgrades over the tree's own version.
# lintian runs on the result; what it says is printed, and written to
# OUT/lintian.txt, but does not fail the build.
set -eu
out=$1 version=${2:-}
src=$(cd "$(dirname "$0")/.." && pwd)
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || {
  echo "mkdeb: needs dpkg-dev and debhelper (apt-get install debhelper)" >&2; exit 100; }
rm -rf "$out/src"
mkdir -p "$out/src"
rm -f "$out"/qmail-*.deb "$out"/qmail-family_*
( cd "$src" && tar --exclude=./.git --exclude='./build*' --exclude=./run --exclude=./debian/build -cf - . ) |
  ( cd "$out/src" && tar -xf - )
if [ -n "$version" ]; then
  case $version in *[!0-9A-Za-z.+~-]*) echo "mkdeb: bad version '$version'" >&2; exit 100 ;; esac
  { printf 'qmail-family (%s) unstable; urgency=medium\n\n  * Rebuilt as %s.\n\n -- %s  %s\n\n' \
      "$version" "$version" "qmail-family maintainers <qmail-family@example.org>" "$(date -R)"
    cat "$out/src/debian/changelog"; } > "$out/src/debian/changelog.new"
  mv "$out/src/debian/changelog.new" "$out/src/debian/changelog"
fi
# the build as root needs no fakeroot; as a normal user dpkg-buildpackage uses it
( cd "$out/src" && dpkg-buildpackage -b -us -uc ) > "$out/build.log" 2>&1 || {
  tail -40 "$out/build.log" >&2; echo "mkdeb: dpkg-buildpackage failed (all of it in $out/build.log)" >&2; exit 111; }
ls "$out"/qmail-hub_*.deb "$out"/qmail-leaf_*.deb
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$out"/qmail-hub_*.deb "$out"/qmail-leaf_*.deb > "$out/lintian.txt" 2>&1 || true
  if [ -s "$out/lintian.txt" ]; then echo "lintian ($out/lintian.txt):"; cat "$out/lintian.txt"; else echo "lintian: clean"; fi
fi
