# postfix-tools.sh: Postfix's load clients for tests and benchmarks (source it).
#
# postfix_tools: set and export SMTP_SOURCE and QMQP_SOURCE, commands that
# run Postfix's smtp-source and qmqp-source (use them unquoted: with the
# fallback below they are "env LD_LIBRARY_PATH=... /path/to/binary").
# Installing the postfix package system-wide is not an option for a test:
# it takes over /usr/sbin/sendmail and port 25. So:
#   1. if smtp-source and qmqp-source are on PATH already, use those;
#   2. else fetch the package without installing it: `apt-get download
#      postfix` (after one `apt-get update` if that fails) into
#      $SRCDIR/build/peers/, unpack it with `dpkg-deb -x` (in $TMPDIR: the
#      Makefile includes every *.d under build/, and the package has
#      directories named so), keep smtp-source, qmqp-source and the shared
#      libraries in build/peers/postfix/usr/{sbin,lib/postfix}, and run the
#      binaries with LD_LIBRARY_PATH at that usr/lib/postfix (checked with
#      ldd: every library must resolve), and with MAIL_CONFIG at a private
#      config directory holding an empty main.cf, so no /etc/postfix is
#      needed. The unpacked tree is kept in build/peers (a cache across
#      runs; make clean removes it with build/).
# Returns 0 when both commands work, non-zero otherwise (the caller skips);
# says why on stderr. Needs SRCDIR (tests/lib/common.sh sets it).
# POSTFIX_TOOLS_NO_PATH=1 ignores step 1 (to test the fallback).

postfix_tools() {
  local peers root pfx lib bin deb lt x
  if [ "${POSTFIX_TOOLS_NO_PATH:-0}" != 1 ] &&
     command -v smtp-source > /dev/null 2>&1 && command -v qmqp-source > /dev/null 2>&1; then
    SMTP_SOURCE=$(command -v smtp-source) QMQP_SOURCE=$(command -v qmqp-source)
    export SMTP_SOURCE QMQP_SOURCE
    return 0
  fi
  [ -n "${SRCDIR:-}" ] || { echo "postfix_tools: SRCDIR is not set" >&2; return 1; }
  peers=$SRCDIR/build/peers
  root=$peers/postfix
  if [ ! -x "$root/usr/sbin/smtp-source" ] || [ ! -x "$root/usr/sbin/qmqp-source" ]; then
    if ! command -v apt-get > /dev/null 2>&1 || ! command -v dpkg-deb > /dev/null 2>&1; then
      echo "postfix_tools: no apt-get/dpkg-deb to fetch the postfix package" >&2; return 1
    fi
    mkdir -p "$peers" || return 1
    # a lock so that two test runs do not unpack into the same tree at once
    lt=$peers/.lock
    (
      command -v flock > /dev/null 2>&1 && { exec 9> "$lt"; timeout 300 flock 9 || exit 1; }
      [ -x "$root/usr/sbin/smtp-source" ] && [ -x "$root/usr/sbin/qmqp-source" ] && exit 0
      rm -f "$peers"/postfix_*.deb
      # apt-get download writes into the current directory; as root it
      # drops privileges to _apt, which must be able to write there
      ( cd "$peers" && timeout 300 apt-get download -q postfix ) > "$peers/download.log" 2>&1 ||
        { timeout 300 apt-get update -q >> "$peers/download.log" 2>&1
          ( cd "$peers" && timeout 300 apt-get download -q postfix ) >> "$peers/download.log" 2>&1; } ||
        { echo "postfix_tools: apt-get download postfix failed:" >&2; tail -n 5 "$peers/download.log" >&2; exit 1; }
      deb=$(find "$peers" -maxdepth 1 -name 'postfix_*.deb' | head -n 1)
      [ -n "$deb" ] || { echo "postfix_tools: no postfix_*.deb after apt-get download" >&2; exit 1; }
      # unpack outside build/ (the Makefile includes every build*/**/*.d,
      # and the package has directories named like that), keep only the
      # two clients and the shared libraries
      x=$(mktemp -d "${TMPDIR:-/tmp}/postfix-deb.XXXXXX") || exit 1
      dpkg-deb -x "$deb" "$x" ||
        { echo "postfix_tools: dpkg-deb -x $deb failed" >&2; rm -rf "$x"; exit 1; }
      rm -rf "$root.tmp" && mkdir -p "$root.tmp/usr/sbin" "$root.tmp/usr/lib/postfix" &&
        cp -p "$x/usr/sbin/smtp-source" "$x/usr/sbin/qmqp-source" "$root.tmp/usr/sbin/" &&
        cp -p "$x"/usr/lib/postfix/*.so "$root.tmp/usr/lib/postfix/" ||
        { echo "postfix_tools: the package lacks smtp-source, qmqp-source or its libraries" >&2
          rm -rf "$x" "$root.tmp"; exit 1; }
      rm -rf "$x" "$root" && mv "$root.tmp" "$root" && rm -f "$deb"
    ) || return 1
  fi
  lib=$root/usr/lib/postfix
  mkdir -p "$peers/etc" && : >> "$peers/etc/main.cf" || return 1
  for bin in smtp-source qmqp-source; do
    [ -x "$root/usr/sbin/$bin" ] || { echo "postfix_tools: $root/usr/sbin/$bin missing" >&2; return 1; }
    if command -v ldd > /dev/null 2>&1 &&
       LD_LIBRARY_PATH=$lib ldd "$root/usr/sbin/$bin" 2>&1 | grep -q 'not found'; then
      echo "postfix_tools: $bin has unresolved libraries:" >&2
      LD_LIBRARY_PATH=$lib ldd "$root/usr/sbin/$bin" 2>&1 | grep 'not found' >&2
      return 1
    fi
  done
  pfx="env LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} MAIL_CONFIG=$peers/etc"
  SMTP_SOURCE="$pfx $root/usr/sbin/smtp-source"
  QMQP_SOURCE="$pfx $root/usr/sbin/qmqp-source"
  export SMTP_SOURCE QMQP_SOURCE
  # a usage run proves it starts: both print usage and exit non-zero with
  # no arguments, so look for their usage text rather than the status
  for bin in "$SMTP_SOURCE" "$QMQP_SOURCE"; do
    # shellcheck disable=SC2086
    timeout 10 $bin 2>&1 | grep -qi 'usage' ||
      { echo "postfix_tools: $bin does not run:" >&2; timeout 10 $bin 2>&1 | head -n 3 >&2; return 1; }
  done
  return 0
}
