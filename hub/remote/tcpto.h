/* tcpto.h: the table of remote addresses that failed recently
 * (queue/lock/tcpto, QFILE_TCPTO), so that qmail-remote skips a dead host
 * at once instead of waiting timeoutconnect for it on every delivery.
 *
 * File format: exactly QTCPTO_SIZE (1024) bytes = TCPTO_SLOTS (32)
 * records of TCPTO_REC (32) bytes; a fresh file is all zeros (= empty):
 *
 *   bytes  0..15  the address: IPv6, or IPv4 as ::ffff:a.b.c.d
 *   bytes 16..23  time of the last failure: seconds since the epoch,
 *                 signed 64-bit little-endian
 *   byte  24      failures in a row, 1..255 (0: the slot is free)
 *   byte  25      kind of the last failure: 1 connect timeout,
 *                 2 refused, unreachable or another connect error
 *   bytes 26..31  zero (reserved)
 *
 * A successful connect frees the address's slot. A new failure takes the
 * address's slot, else a free one, else the one with the oldest failure.
 * An address is skipped ("dead") while it has failed at least twice in a
 * row and the last failure is less than tcpto_backoff(failures) seconds
 * old: 2 failures 2 min, then doubling, at most TCPTO_MAXSKIP (1 h).
 *
 * Readers and writers flock the file (exclusive for an update). Any
 * problem with the file (missing, unwritable, wrong size) only disables
 * the table: mail is never deferred because of it. */
#ifndef TCPTO_H
#define TCPTO_H

#include <stddef.h>

#define TCPTO_REC 32
#define TCPTO_SLOTS 32
#define TCPTO_BYTES (TCPTO_REC * TCPTO_SLOTS)
#define TCPTO_MAXSKIP 3600

enum tcpto_kind { TCPTO_OK = 0, TCPTO_TIMEOUT = 1, TCPTO_REFUSED = 2 };

struct tcpto_entry {
  unsigned char ip[16];   /* IPv6 or v4-mapped */
  long long when;
  unsigned fails;
  unsigned kind;
};

/* pure functions on a TCPTO_BYTES table */
/* tcpto_key: the 16-byte key of an address (family AF_INET or AF_INET6). */
void tcpto_key(int family, const unsigned char *ip, unsigned char key[16]);
/* tcpto_get: slot i decoded; 1 used, 0 free. */
int tcpto_get(const unsigned char *tab, size_t i, struct tcpto_entry *e);
/* tcpto_backoff: seconds an address with that many failures is skipped. */
long long tcpto_backoff(unsigned fails);
/* tcpto_dead: 1 if key must be skipped at time now. */
int tcpto_dead(const unsigned char *tab, const unsigned char key[16], long long now);
/* tcpto_note: record a connect result (TCPTO_OK clears the slot). */
void tcpto_note(unsigned char *tab, const unsigned char key[16], long long now, int kind);

/* file access; path NULL-terminated. Each returns -1 when the table is
 * unusable (errno set), which callers ignore. */
/* tcpto_load: read the whole table into tab (shared lock). 0 ok. */
int tcpto_load(const char *path, unsigned char *tab);
/* tcpto_update: under an exclusive lock, read the table, record n results
 * (keys[i], kinds[i]) at time now, write it back. 0 ok. */
int tcpto_update(const char *path, const unsigned char (*keys)[16],
                 const int *kinds, size_t n, long long now);
/* tcpto_clear: zero the whole table (exclusive lock). 0 ok. */
int tcpto_clear(const char *path);

#endif
