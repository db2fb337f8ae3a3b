#!/bin/sh
# run: the qmail-send service (qmail-start and the processes it starts:
# qmail-send, qmail-lspawn, qmail-rspawn if installed, qmail-clean), for
# daemontools' supervise, systemd or qmailctl start.
# - qmail-svcrun: qmail-start begins with an empty environment (PATH only)
#   and no descriptor above 2, so a .qmail program never sees the
#   environment or the open files of whoever started the hub.
# - daemon.pid: this shell's pid, which exec keeps for qmail-start, which
#   starts its helpers and then becomes qmail-send itself (as qmail's
#   did); qmailctl flush/reload signal it (SIGALRM/SIGHUP).
# - The argument is the default delivery for addresses without a .qmail
#   file: control/defaultdelivery, else ./Maildir/.
# - No logger arguments: qmail-send logs to qmail-start's stdout, which
#   (with stderr, for qmail-start's own messages) goes through log/run to
#   @QMAILHOME@/log/qmail-send like every other service's log.
# - When qmail-send exits the supervisor restarts the set.
# As root qmail-start runs each program as its qmail user; as a normal user
# (single-user mode) everything runs as that user.
home=@QMAILHOME@
cd "$home/service/qmail-send" || exit 111
exec 2>&1
echo $$ > daemon.pid
dd=$(cat "$home/control/defaultdelivery" 2>/dev/null)
dd=${dd:-./Maildir/}
exec "$home/bin/qmail-svcrun" - "$home/bin/qmail-start" "$dd"
