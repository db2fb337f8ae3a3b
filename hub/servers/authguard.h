/* authguard.h: a failed-AUTH count per client address that outlives the
 * connection (docs/auth.md, "Guessing costs time"). qmail-smtpd drops a
 * connection after control/authfailures refused attempts, but a client
 * could reconnect and go on; this table remembers, for every address that
 * failed lately, how many refused attempts it made since its window began.
 *
 * The table is one small file shared by the processes of a service (the
 * run script makes it and names it in $AUTHGUARDTABLE, owned by the
 * server's uid), AUTHGUARD_SLOTS records of AUTHGUARD_RECSIZE bytes of
 * text, "ADDRESS COUNT START\n" padded with blanks (cat shows it). An
 * address hashes to a slot; it is looked for in AUTHGUARD_PROBE slots
 * from there, and a new one takes the first empty or expired one, else
 * the one whose window began first. The file is bounded; a client with
 * very many addresses can push others out, and gets no more tries for it
 * than its addresses give it anyway. IPv6 clients count by their /64
 * (one host usually has a whole /64), IPv4-mapped ones as IPv4.
 * Every read-modify-write holds an fcntl lock on the whole file. */
#ifndef AUTHGUARD_H
#define AUTHGUARD_H

#include <stddef.h>
#include <time.h>

#define AUTHGUARD_SLOTS 256
#define AUTHGUARD_RECSIZE 64
#define AUTHGUARD_PROBE 8
#define AUTHGUARD_KEYMAX 45          /* the longest textual address */
#define AUTHGUARD_COUNTMAX 999999UL

/* authguard_key: the table's key for client address ip into key
 * (AUTHGUARD_KEYMAX + 1 bytes): IPv4 as is, IPv6 its /64 as
 * "2001:db8:1:2::/64", ::ffff:a.b.c.d as a.b.c.d; anything else "?". */
void authguard_key(char *key, const char *ip);

/* authguard_count: the refused attempts of ip in its current window
 * (window seconds from its first one, now the time), after adding add
 * (0: only look, 1: one more refused attempt). -1 with errno when the
 * table at path cannot be used. */
long authguard_count(const char *path, const char *ip, unsigned long window, time_t now, int add);

#endif
