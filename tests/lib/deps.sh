#!/bin/sh
# deps.sh PACKAGE...: install the Debian packages that are missing (make
# deps, make deps-run). As root: apt-get. As a normal user: one line with
# the command to run as root, and exit 1.
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: as root, run: apt-get install$missing" >&2
  exit 1
fi
echo "installing:$missing"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
