/* srvfork.h: the network servers' own listener, a fork server in place of
 * tcpserver (docs/process.md).
 *
 * qmail-smtpd, qmail-qmtpd, qmail-qmqpd and qmail-popup call srvfork at
 * the top of main. Without $SERVE it returns at once: the program was run
 * by tcpserver (classic mode) or by hand, with the client on fd 0 and 1.
 * With $SERVE=1 the process becomes the service's listener and srvfork
 * returns only in a child, once per connection, with everything tcpserver
 * -v -DHRl0 -x RULES would have given the program it executes:
 *   fd 0 and 1 the connection (TCP_NODELAY), fd 2 the log, no listener;
 *   PROTO, TCPLOCALIP, TCPLOCALPORT, TCPLOCALHOST=0, TCPREMOTEIP,
 *   TCPREMOTEPORT (for an IPv6 client PROTO=TCP6 and the TCP6* copies,
 *   as ucspi-tcp-ipv6 sets them), no TCPREMOTEHOST or TCPREMOTEINFO;
 *   the +VAR=value settings of the first tcprules entry that matches
 *   (the address, then its prefixes ending in '.' or ':', then ""),
 *   read from the cdb for each connection; a "deny" entry ends the
 *   child (exit 100) and a rules file that cannot be read drops the
 *   connection (exit 111), as tcpserver does without -X;
 *   no SERVE* variable; signals at their defaults, none blocked.
 * The program then runs its normal path with fresh state: no exec, no
 * state shared between sessions.
 *
 * Settings (the run script's, through qmail-svcrun):
 *   SERVE=1         listen (anything else but unset or empty: refused)
 *   SERVE_IP        address to bind (0.0.0.0; "0" too; an IPv6 address)
 *   SERVE_PORT      port (decimal)
 *   SERVE_RULES     the tcprules cdb (required)
 *   SERVE_BACKLOG   listen backlog (256)
 *   SERVE_UID, SERVE_GID  after the bind, run as these ids (tcpserver -u
 *                   -g; unset: keep the ids, as qmail-popup's root parent)
 *   CONCURRENCY     children at once (40); at the cap no accept (-c)
 * A bad setting, a failed bind or drop: one "fatal" line, exit 111.
 *
 * Log lines on fd 2, those of tcpserver -v with the program's name:
 *   PROG: status: N/MAX     PROG: pid PID from IP
 *   PROG: ok PID 0:LOCALIP:LOCALPORT :REMOTEIP::REMOTEPORT   (or deny)
 *   PROG: end PID status WAITSTATUS
 * SIGTERM ends the listener at once (its default action); running
 * sessions go on to their end, as under tcpserver. */
#ifndef SRVFORK_H
#define SRVFORK_H

/* srvfork: the above. hook, when not NULL, runs in the listener after the
 * ids are dropped and then before each fork (TLS preload: smtptls.h); it
 * keeps what the children share. */
void srvfork(const char *prog, void (*hook)(void));
/* srvfork_atchild: fn runs in each child first thing after the fork, to
 * drop what only the listener may hold (ctlcache's inotify descriptor).
 * At most SRVFORK_ATCHILD functions; 0 ok, -1 the table is full. */
#define SRVFORK_ATCHILD 4
int srvfork_atchild(void (*fn)(void));

#endif
