#!/bin/sh
# datemail: sendmail with a Date: field in the sender's local time zone.
#
#   datemail [sendmail options and arguments]
#
# Runs bin/predate in front of bin/sendmail, so the message gets a
# "Date:" line in local time before sendmail/qmail-inject see it (and
# qmail-inject then leaves it alone instead of adding a UTC one).
# Installed as bin/datemail; install replaces @QMAILHOME@ with the home.
# Exit codes: those of sendmail (0, 100 permanent, 111 temporary); 111 if
# predate itself fails.
exec "@QMAILHOME@/bin/predate" "@QMAILHOME@/bin/sendmail" "$@"
