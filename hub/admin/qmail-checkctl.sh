#!/bin/sh
# qmail-checkctl: check a hub home's settings before they lose mail
# (`qmailctl check` runs it). One line per problem on stdout, in the form
#   control/NAME line N: what is wrong
# then a summary line. Checks:
#   - every control file: numbers are numbers, host names are host names,
#     lists and routes are well formed, line by line
#   - me is local (locals or virtualdomains), rcpthosts covers every local
#     and virtual domain (or mail for them is refused from the network)
#   - every cdb is newer than its source (users/assign, users/passwd, tcp.*,
#     morercpthosts; with control/rcptcheck 1, recipients.cdb than users/cdb,
#     control/recipients and the alias home)
#     and the tcp rules compile
#   - each service's env/: address, port, numbers; no two on one port
#   - users/assign homes exist; the alias home and its Maildir exist
#   - DKIM keys (control/dkim/DOMAIN/SELECTOR.key) can be used, by qmailr
#     alone
# Exit: 0 nothing found, 1 problems found, 111 the home cannot be read.
home=@QMAILHOME@
ctl=$home/control
[ -d "$ctl" ] && [ -r "$ctl" ] || { echo "qmail-checkctl: cannot read $ctl" >&2; exit 111; }
problems=0
bad() { echo "$*"; problems=$((problems + 1)); }

# lines FILE: "N<TAB>line" for each line that is not blank or a comment
lines() { awk '{ sub(/[ \t]+$/, "") } $0 != "" && $0 !~ /^#/ { print NR "\t" $0 }' "$1"; }

ishost() { # a domain name (letters, digits, -, dots; no empty label)
  case $1 in ''|*[!A-Za-z0-9.-]*|.*|*.|*..*) return 1 ;; esac
}
isnum() { case $1 in ''|*[!0-9]*) return 1 ;; esac; [ ${#1} -le 18 ]; }
isip4() {
  echo "$1" | awk -F. 'NF != 4 { exit 1 } { for (i = 1; i <= 4; i++) if ($i !~ /^[0-9]+$/ || $i > 255) exit 1 }'
}
isip() { isip4 "$1" && return 0; case $1 in *:*) case $1 in *[!0-9A-Fa-f:.]*) return 1 ;; esac; return 0 ;; esac; return 1; }

# number files: one decimal number on the first line
num_files="databytes maxrcpt maxsmtpline maxaddress maxheader maxheaderfield maxhops
  maxnetstring maxqmtppackages maxinjectrcpt timeoutsession timeoutsmtpd timeoutqmtpd
  timeoutqmqpd timeoutconnect timeoutremote timeoutidle timeoutdelivery timeoutprogram
  concurrencylocal concurrencyremote sessionsperhost queuelifetime bouncemaxbytes
  qmqptimeoutconnect qmqptimeout checkpwshadow authfailures authdelay rcptcheck
  authguard authguardtime"
# host files: one host name
host_files="me defaultdomain defaulthost plusdomain idhost envnoathost bouncehost
  doublebouncehost helohost localiphost"

check_numbers() {
  for f in $num_files; do
    [ -e "$ctl/$f" ] || continue
    if [ ! -f "$ctl/$f" ] || [ ! -r "$ctl/$f" ]; then bad "control/$f: not a readable file"; continue; fi
    v=$(head -n 1 "$ctl/$f" | sed 's/^[ \t]*//; s/[ \t]*$//')
    isnum "$v" || bad "control/$f line 1: not a decimal number: '$v'"
  done
}

check_hosts() {
  for f in $host_files; do
    [ -e "$ctl/$f" ] || continue
    v=$(head -n 1 "$ctl/$f" | sed 's/^[ \t]*//; s/[ \t]*$//')
    ishost "$v" || bad "control/$f line 1: not a host name: '$v'"
  done
  [ -s "$ctl/me" ] || bad "control/me: missing or empty (qmail-send and qmail-smtpd refuse to run)"
}

check_domainlist() { # FILE WILDCARDS(0/1)
  [ -f "$ctl/$1" ] || return 0
  lines "$ctl/$1" | while IFS="$(printf '\t')" read -r n l; do
    d=$l; [ "$2" = 1 ] && d=${l#.}
    ishost "$d" || echo "control/$1 line $n: not a domain: '$l'"
  done
}

check_routes() { # FILE: domain:relay[:port]
  [ -f "$ctl/$1" ] || return 0
  lines "$ctl/$1" | while IFS="$(printf '\t')" read -r n l; do
    d=${l%%:*} rest=${l#*:}
    [ "$d" = "$l" ] && { echo "control/$1 line $n: no ':' (domain:relay[:port])"; continue; }
    [ -z "$d" ] || ishost "${d#.}" || echo "control/$1 line $n: not a domain: '$d'"
    case $rest in
      \[*\]*) relay=${rest%%]*}]; port=${rest#"$relay"}; port=${port#:} ;;
      *) relay=${rest%%:*}; port=${rest#"$relay"}; port=${port#:} ;;
    esac
    relay=${relay#\[}; relay=${relay%\]}
    [ -z "$relay" ] || ishost "$relay" || isip "$relay" || echo "control/$1 line $n: bad relay: '$relay'"
    [ -z "$port" ] || { isnum "$port" && [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; } ||
      echo "control/$1 line $n: bad port: '$port'"
  done
}

check_virtual() {
  [ -f "$ctl/virtualdomains" ] || return 0
  lines "$ctl/virtualdomains" | while IFS="$(printf '\t')" read -r n l; do
    d=${l%%:*}
    [ "$d" = "$l" ] && { echo "control/virtualdomains line $n: no ':' (domain:prepend)"; continue; }
    [ -z "$d" ] && continue                        # catch-all
    d=${d#*@}; d=${d#.}
    ishost "$d" || echo "control/virtualdomains line $n: not a domain: '${l%%:*}'"
  done
}

check_ips() { # FILE: one address per line (dnsservers may add :port)
  [ -f "$ctl/$1" ] || return 0
  lines "$ctl/$1" | while IFS="$(printf '\t')" read -r n l; do
    a=$l
    case $1:$a in dnsservers:*.*:*) a=${a%:*} ;; esac
    isip "$a" || echo "control/$1 line $n: not an IP address: '$l'"
  done
}

# run a checker that prints problems and count them
count() { out=$("$@"); [ -z "$out" ] && return; echo "$out"; problems=$((problems + $(echo "$out" | wc -l))); }

# covered DOMAIN FILE: the domain is in FILE, or under one of its .suffix lines
covered() {
  [ -f "$2" ] || return 1
  awk -v d="$1" '{ sub(/[ \t]+$/, ""); l = tolower($0); x = tolower(d) }
    l == x { f = 1 } substr(l, 1, 1) == "." && length(x) > length(l) && substr(x, length(x) - length(l) + 1) == l { f = 1 }
    END { exit !f }' "$2"
}

check_local_names() {
  me=$(head -n 1 "$ctl/me" 2>/dev/null | tr -d ' \t')
  [ -n "$me" ] || return 0
  if ! covered "$me" "$ctl/locals" && ! awk -F: -v d="$me" '$1 == d { f = 1 } END { exit !f }' "$ctl/virtualdomains" 2>/dev/null; then
    if [ -f "$ctl/locals" ]; then bad "control/locals: does not hold me ($me): mail to postmaster@$me leaves this host"; fi
  fi
  for f in locals; do
    [ -f "$ctl/$f" ] || continue
    lines "$ctl/$f" | cut -f2 > "$tmp/doms"
  done
  [ -f "$ctl/virtualdomains" ] &&
    lines "$ctl/virtualdomains" | cut -f2 | cut -d: -f1 | sed 's/.*@//' | grep -v '^\.\|^$' >> "$tmp/doms"
  [ -f "$tmp/doms" ] || return 0
  sort -u "$tmp/doms" | while read -r d; do
    [ "$d" = localhost ] && continue
    covered "$d" "$ctl/rcpthosts" || echo "control/rcpthosts: does not cover $d (a local or virtual domain): its mail is refused from the network"
  done > "$tmp/rh"
  count cat "$tmp/rh"
}

check_cdbs() {
  for pair in "users/assign:users/cdb" "users/passwd:users/passwd.cdb" \
              "control/morercpthosts:control/morercpthosts.cdb" \
              "control/tcp.smtp:control/tcp.smtp.cdb" "control/tcp.qmtp:control/tcp.qmtp.cdb" \
              "control/tcp.qmqp:control/tcp.qmqp.cdb" "control/tcp.pop3:control/tcp.pop3.cdb"; do
    src=$home/${pair%%:*} cdb=$home/${pair#*:}
    [ -f "$src" ] || continue
    if [ ! -f "$cdb" ]; then bad "${pair#*:}: missing (run $( case $src in *assign) echo qmail-newu ;; *) echo qmailctl cdb ;; esac))"
    elif [ "$src" -nt "$cdb" ]; then bad "${pair#*:}: older than ${pair%%:*} (run $( case $src in *assign) echo qmail-newu ;; *) echo qmailctl cdb ;; esac))"
    fi
    case $src in *tcp.*)
      command -v tcprules > /dev/null 2>&1 || continue
      tcprules "$tmp/t.cdb" "$tmp/t.tmp" < "$src" > /dev/null 2>&1 || bad "${pair%%:*}: does not compile (tcprules)" ;;
    esac
  done
  check_rcptcdb
}

# check_rcptcdb: with the RCPT check on, its table (docs/rcptcheck.md)
check_rcptcdb() {
  v=$(head -n 1 "$ctl/rcptcheck" 2>/dev/null | tr -d ' \t')
  if isnum "$v" && [ "$v" -gt 1 ]; then bad "control/rcptcheck line 1: not 0 or 1: '$v' (the servers answer 421)"; fi
  [ "$v" = 1 ] || return 0
  t=$ctl/recipients.cdb
  if [ ! -f "$t" ]; then bad "control/recipients.cdb: missing while control/rcptcheck is 1: every local recipient gets 451 (run qmailctl cdb)"; return; fi
  for f in users/cdb control/recipients alias; do
    [ "$home/$f" -nt "$t" ] &&
      bad "control/recipients.cdb: older than $f: addresses it does not list get 451 (run qmailctl cdb)"
  done
  return 0
}

check_services() {
  : > "$tmp/ports"
  for d in "$home"/service/*/; do
    s=$(basename "$d")
    [ -d "$d/env" ] || continue
    ip=$(head -n 1 "$d/env/IP" 2>/dev/null) port=$(head -n 1 "$d/env/PORT" 2>/dev/null)
    [ -z "$ip" ] || isip "$ip" || bad "service/$s/env/IP: not an IP address: '$ip'"
    if [ -n "$port" ]; then
      { isnum "$port" && [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; } || bad "service/$s/env/PORT: bad port: '$port'"
      echo "${ip:-0.0.0.0}:$port $s" >> "$tmp/ports"
    fi
    for v in CONCURRENCY PERIP BACKLOG; do
      [ -e "$d/env/$v" ] || continue
      x=$(head -n 1 "$d/env/$v"); isnum "$x" || bad "service/$s/env/$v: not a number: '$x'"
    done
  done
  sort "$tmp/ports" | awk '{ if ($1 == p) print "service/" $2 "/env/PORT: " $1 " is also used by service/" s; p = $1; s = $2 }' > "$tmp/dup"
  count cat "$tmp/dup"
}

check_users() {
  [ -d "$home/alias" ] || bad "alias: the alias home $home/alias is missing"
  dd=$(head -n 1 "$ctl/defaultdelivery" 2>/dev/null)
  case $dd in ./*/|/*/) [ -d "$home/alias/${dd#./}" ] || [ -d "$dd" ] ||
    bad "alias/${dd#./}: the alias home's default Maildir is missing" ;; esac
  [ -f "$home/users/assign" ] || return 0
  awk -F: '$1 ~ /^[=+]/ && NF >= 7 { print NR "\t" $5 }' "$home/users/assign" |
  while IFS="$(printf '\t')" read -r n h; do
    [ -d "$h" ] || echo "users/assign line $n: home $h does not exist"
  done > "$tmp/u"
  count cat "$tmp/u"
}

# check_dkim: each control/dkim/DOMAIN/SELECTOR.key is one qmail-remote can
# use (docs/dkim.md; a broken one defers the domain's mail): the selector a
# DNS name, a PEM RSA key of 1024 bits or more or an Ed25519 key without a
# passphrase (when openssl is there), readable by qmailr and by no one else
check_dkim() {
  for d in "$ctl"/dkim/*/; do
    [ -d "$d" ] || continue
    dom=${d%/}; dom=${dom##*/}
    ishost "$dom" || echo "control/dkim/$dom: not a domain name: never used"
    for f in "$d"*.key; do
      [ -e "$f" ] || continue
      sel=${f##*/}; sel=${sel%.key}; n=control/dkim/$dom/$sel.key
      case $sel in *[!A-Za-z0-9_.-]*|.*|*.|*..*)
        echo "$n: the selector is no DNS name: mail of $dom is deferred"; continue ;; esac
      if command -v openssl >/dev/null 2>&1; then
        t=$(openssl pkey -in "$f" -passin pass: -noout -text 2>/dev/null | head -n 1)
        case $t in
          "ED25519 Private-Key:"*) ;;
          "Private-Key: ("*) b=${t#*(}; b=${b%% *}
            [ "$b" -ge 1024 ] 2>/dev/null || echo "$n: an RSA key of $b bits (at least 1024): mail of $dom is deferred" ;;
          *) echo "$n: not a PEM RSA or Ed25519 key without a passphrase: mail of $dom is deferred" ;;
        esac
      fi
      set -- $(stat -L -c '%U %G %A' "$f")
      case $3 in ???????r*) echo "$n: every user can read this private key (chmod 600)" ;; esac
      if [ "$(id -u)" = 0 ] && id qmailr >/dev/null 2>&1; then
        case $1:$3 in qmailr:?r*) ;; *) case $2:$3 in qmail:????r*) ;; *)
          echo "$n: qmailr cannot read it (owner $1:$2): mail of $dom is deferred" ;; esac ;; esac
      fi
    done
  done
}

tmp=$(mktemp -d) || exit 111
trap 'rm -rf "$tmp"' EXIT
check_numbers
check_hosts
count check_domainlist locals 0
count check_domainlist rcpthosts 1
count check_domainlist percenthack 0
count check_virtual
count check_routes smtproutes
count check_routes qmtproutes
count check_ips outgoingip
count check_ips dnsservers
check_local_names
check_cdbs
check_services
check_users
count check_dkim
if [ $problems = 0 ]; then echo "qmail-checkctl: $home: no problems found"; exit 0; fi
echo "qmail-checkctl: $home: $problems problem(s)"
exit 1
