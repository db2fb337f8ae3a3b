/* rdns.h: qmail-remote's DNS lookups through glibc's resolver (res_nquery,
 * -lresolv): MX records and the A/AAAA addresses of a name, with a clean
 * split between "no such name / no such records" (permanent) and
 * temporary failures (docs/libowfat.md, DNS).
 *
 * The servers are those of /etc/resolv.conf unless rdns_init is given the
 * lines of control/dnsservers: each an IPv4 address with an optional
 * ":port" (default 53), e.g. "127.0.0.53" or "127.0.0.53:5353"; at most
 * MAXNS (3) are used. glibc cannot be given IPv6 servers this way: an IPv6
 * line is an error (use /etc/resolv.conf for those).
 *
 * Names taken from answers are checked (letters, digits, '-', '_', '.';
 * at most 253 bytes, trailing dot removed); records with other names are
 * dropped, so nothing odd from the network reaches reports or logs.
 * Caps: RDNS_MXMAX MX records, RDNS_ADDRMAX addresses per name, answers
 * of at most 64 KB. */
#ifndef RDNS_H
#define RDNS_H

#include <stddef.h>
#include "q_net.h"

#define RDNS_MXMAX 32
#define RDNS_ADDRMAX 16
#define RDNS_NAMEMAX 253

enum rdns_result {
  RDNS_OK = 0,         /* at least one record */
  RDNS_NONE = 1,       /* the name exists but has no such record */
  RDNS_NXDOMAIN = 2,   /* no such name */
  RDNS_TEMP = -1       /* temporary failure (errno may say more) */
};

struct rdns_mx {
  unsigned pref;
  char name[RDNS_NAMEMAX + 1];   /* "" for a null MX (RFC 7505: ".") */
};

/* rdns_init: set up the resolver; servers[0..len) are NUL-separated lines
 * of control/dnsservers (len 0: keep /etc/resolv.conf). 0 ok, -1 error
 * (EINVAL: a bad line). */
int rdns_init(const char *servers, size_t len);
/* rdns_parse_server: one dnsservers line into an IPv4 address and port.
 * 0 ok, -1 bad (errno EINVAL). */
int rdns_parse_server(const char *line, size_t len, unsigned char ip[4],
                      unsigned short *port);
/* rdns_mx: the MX records of name, in answer order. */
int rdns_mx(const char *name, struct rdns_mx *out, size_t max, size_t *n);
/* rdns_addrs: the AAAA and A addresses of name, interleaved (IPv6 first,
 * RFC 8305), each with port. RDNS_OK when at least one was found (a
 * temporary failure of the other family is then ignored). */
int rdns_addrs(const char *name, unsigned short port, struct net_addr *out,
               size_t max, size_t *n);

#endif
