#!/bin/sh
# deps.sh PACKAGE...: install the Debian packages that are missing (make
# deps, make deps-run). As root: apt-get. As a normal user: one line with
# the command to run as root, and exit 1.
# postfix is there for its test clients (smtp-sink, smtp-source,
# qmqp-source), not as a mail server: it is installed with debconf's
# "No configuration", which writes no /etc/postfix/main.cf, and without
# main.cf neither systemd (postfix.service: ConditionPathExists) nor the
# init script starts it: nothing listens on port 25. It is not installed
# over another MTA (apt would remove that) nor over a main.cf left by an
# earlier postfix (that one would start): deps.sh says so and fails.
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing packages: as root, run: apt-get install$missing" >&2
  exit 1
fi
fail=0
case " $missing " in
*" postfix "*)
  mta=$(dpkg-query -W -f='${Package} ${Status} ${Provides}\n' 2>/dev/null |
        awk '/ok installed/ && /mail-transport-agent/ && $1 != "postfix" { printf " %s", $1 }')
  why=""
  [ -n "$mta" ] && why="it would replace this machine's MTA:$mta"
  [ -z "$why" ] && [ -e /etc/postfix/main.cf ] && why="/etc/postfix/main.cf exists (an earlier postfix): it would start a mail server"
  if [ -n "$why" ]; then
    echo "not installing postfix (the tests' smtp-sink, smtp-source, qmqp-source): $why" >&2
    missing=$(echo " $missing " | sed 's/ postfix / /')
    fail=1
  else
    echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections || exit 1
  fi ;;
esac
if [ -n "$(echo $missing)" ]; then
  echo "installing:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing || exit 1
fi
case " $missing " in
*" postfix "*)
  [ ! -e /etc/postfix/main.cf ] ||
    { echo "postfix was installed with a main.cf: check that it does not run (postfix status)" >&2; fail=1; } ;;
esac
exit $fail
