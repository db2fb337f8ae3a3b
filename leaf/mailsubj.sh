#!/bin/sh
# mailsubj: send stdin as a message with a subject to some recipients.
#
#   mailsubj subject recipient [recipient ...]
#
# Writes "Subject: <subject>", "To: <recipients joined by ', '>", a blank
# line and then stdin into bin/qmail-inject, with the recipients as its
# arguments (after "--", so an address starting with '-' is no option).
# Arguments are only ever expanded in double quotes and written with
# printf %s: spaces, quotes, '%', '\' and '$' reach the header as typed.
# A CR or LF inside an argument becomes a space, so no argument can add
# header lines of its own.
# Installed as bin/mailsubj; install replaces @QMAILHOME@ with the home.
# Exit codes: 100 usage; otherwise qmail-inject's (0, 100, 111).
if [ "$#" -lt 2 ]; then
  echo 'mailsubj: fatal: usage: mailsubj subject recipient [recipient ...] (#5.3.5)' >&2
  exit 100
fi

# oneline: the argument with CR and LF turned into spaces. The trailing "x"
# keeps command substitution from eating trailing spaces.
oneline() {
  r=$(printf '%sx' "$1" | tr '\r\n' '  ')
  printf '%s' "${r%x}"
}

subject=$(oneline "$1")
shift
to=
sep=
for rcpt in "$@"; do
  to="$to$sep$(oneline "$rcpt")"
  sep=', '
done

{
  printf 'Subject: %s\n' "$subject"
  printf 'To: %s\n' "$to"
  printf '\n'
  cat
} | "@QMAILHOME@/bin/qmail-inject" -- "$@"
