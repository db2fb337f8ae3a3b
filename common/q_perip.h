/* q_perip.h: a per-client-address connection limit shared by every
 * process of one network service (docs/limits.md).
 *
 * tcpserver caps the connections of a service (-c) but not those of one
 * client, so one address could hold every slot. Each server process, at
 * its start, takes a slot in a small table file shared by the service:
 * a slot is a record holding the client address, owned through an fcntl
 * lock on its first byte, so a process that dies frees its slot with no
 * cleanup. Counting the live slots of one address under a table-wide
 * lock decides whether the new connection may go on.
 *
 * Environment (set by the service's run script through qmail-svcrun):
 *   PERIP        most connections from one address (unset: no limit;
 *                0: every connection refused)
 *   PERIPTABLE   the table file (made by the run script, writable by the
 *                server's uid)
 *   CONCURRENCY  slots in the table (tcpserver -c; default 40)
 *   TCPREMOTEIP  the client (set by tcpserver) */
#ifndef Q_PERIP_H
#define Q_PERIP_H

#define PERIP_SLOTSIZE 64
#define PERIP_MAXSLOTS 65536UL

/* perip_take: take a slot for ip in the table at path, allowing at most
 * max live slots per address among slots slots. Returns 1 admitted (the
 * slot is held until the process exits: the descriptor stays open,
 * close-on-exec), 0 over the limit, -1 error (errno set). */
int perip_take(const char *path, const char *ip, unsigned long max,
               unsigned long slots);

/* perip_gate: the servers' entry: reads the environment above and, when a
 * limit is set, takes a slot. Over the limit or on error it logs one line
 * on stderr, writes refusal (when
 * not NULL, e.g. an SMTP 421 line) to fd 1 and exits 0; a table that
 * cannot be used fails closed the same way. The line has the format of
 * the servers' other refusals (hub/servers/refuselog.h):
 *   PROG: refused: IP connect 421 4.7.0 reason="too many connections ..."
 * with "-" for the code when there is no reply (QMTP, QMQP). */
void perip_gate(const char *prog, const char *refusal);

#endif
