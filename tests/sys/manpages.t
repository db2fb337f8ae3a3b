#!/bin/bash
# manpages.t: the manual of an installed hub and an installed leaf.
#  * every program in bin/ has a page in man/man1 or man/man8 (a symbolic
#    link such as mailq, newaliases or a leaf's qmail-queue counts as its
#    target);
#  * every section-5 page of docs/man/ is installed in both homes (and the
#    seven pages the other pages refer to exist there);
#  * every installed page renders without a warning, both with
#    `groff -ww -z -man` (all warnings) and with `man --warnings -l`;
#  * man finds the pages the way README.md and docs/README.md say: with
#    the home's bin/ in PATH (man-db then looks in ../man), and with
#    `man -M HOME/man`.
# Needs man (man-db) and groff (make deps installs them); skips without.
# As root the hub gets qmail's users, as a normal user a single-user home;
# the pages are the same. TAP on stdout.
source "$(dirname "$0")/../lib/common.sh"

command -v man >/dev/null && command -v groff >/dev/null ||
  { echo "1..0 # skip man or groff is not installed"; exit 0; }

HUBH=$T/hub LEAFH=$T/leaf
qmake install QMAILHOME="$HUBH" > "$T/hub.log" 2>&1 ||
  { sed 's/^/# /' "$T/hub.log"; echo "Bail out! make install failed"; exit 1; }
qmake install-leaf QMAILHOME="$LEAFH" > "$T/leaf.log" 2>&1 ||
  { sed 's/^/# /' "$T/leaf.log"; echo "Bail out! make install-leaf failed"; exit 1; }
unset MANPATH MANOPT MANSECT

# page_of HOME PROG: the installed page of PROG, or nothing
page_of() {
  local f
  for f in "$1/man/man1/$2.1" "$1/man/man8/$2.8"; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
}

# programs: every entry of HOME/bin has a page
for home in "$HUBH" "$LEAFH"; do
  kind=${home##*/}
  for p in "$home"/bin/*; do
    name=${p##*/}
    case $name in .*) continue ;; esac
    target=$name
    [ -L "$p" ] && target=$(basename "$(readlink "$p")")
    page=$(page_of "$home" "$target")
    if [ "$target" = "$name" ]; then what="$kind: $name has a man page"
    else what="$kind: $name (a link to $target) has a man page"; fi
    ok "$([ -n "$page" ]; echo $?)" "$what"
  done
done

# section 5: the source pages are all installed, in both homes
want="dot-qmail envelopes maildir qmail-control qmail-header qmail-log qmail-users"
src5=$(cd "$SRCDIR/docs/man" && ls *.5 2>/dev/null | sed 's/\.5$//' | sort | tr '\n' ' ')
for w in $want; do
  ok "$(case " $src5 " in *" $w "*) echo 0 ;; *) echo 1 ;; esac)" "docs/man has $w.5"
done
for home in "$HUBH" "$LEAFH"; do
  got=$(cd "$home/man/man5" 2>/dev/null && ls *.5 2>/dev/null | sed 's/\.5$//' | sort | tr '\n' ' ')
  is "$got" "$src5" "${home##*/}: man/man5 holds every page of docs/man"
done

# every installed page renders without a warning
for home in "$HUBH" "$LEAFH"; do
  for f in "$home"/man/man[158]/*; do
    rel=${home##*/}/${f#"$home"/}
    out=$(groff -ww -z -man "$f" 2>&1)
    is "$out" "" "$rel: groff -ww -z -man says nothing"
    out=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
    is "$out" "" "$rel: man --warnings -l says nothing"
    lines=$(MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l)
    ok "$([ "$lines" -gt 5 ]; echo $?)" "$rel: renders ($lines lines)"
  done
done

# man finds the pages: HOME/bin in PATH (man-db's ../man rule), or -M
for home in "$HUBH" "$LEAFH"; do
  for w in $want; do
    got=$(cd / && PATH="$home/bin:$PATH" man -w "$w" 2>&1)
    is "$got" "$home/man/man5/$w.5" "${home##*/}: man -w $w with bin/ in PATH"
  done
  # section 8 named: another MTA's sendmail(1) (Postfix's, which make deps
  # installs for its test clients) comes first in man's section order
  got=$(cd / && PATH="$home/bin:$PATH" man -w 8 sendmail 2>&1)
  is "$got" "$home/man/man8/sendmail.8" "${home##*/}: the home's sendmail(8) comes first"
  got=$(cd / && man -M "$home/man" -w 5 dot-qmail 2>&1)
  is "$got" "$home/man/man5/dot-qmail.5" "${home##*/}: man -M HOME/man -w 5 dot-qmail"
done
got=$(cd / && PATH="$HUBH/bin:$PATH" man -w qmail-send 2>&1)
is "$got" "$HUBH/man/man8/qmail-send.8" "hub: man -w qmail-send with bin/ in PATH"

done_testing
