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
 * of at most 64 KB.
 *
 * DNSSEC (DANE, docs/dane.md): rdns never validates. With control/dnsservers
 * (a validating resolver the administrator trusts, normally on loopback)
 * or "options trust-ad" in resolv.conf, queries carry the AD bit and the
 * AD bit of answers is kept (glibc's RES_TRUSTAD); rdns_secure() then says
 * whether every answer of the last lookup was authenticated. Without
 * either, rdns_secure() is always 0 (no DANE). */
#ifndef RDNS_H
#define RDNS_H

#include <stddef.h>
#include "q_net.h"

#define RDNS_MXMAX 32
#define RDNS_ADDRMAX 16
#define RDNS_NAMEMAX 253
#define RDNS_TLSAMAX 8        /* TLSA records kept per name */
#define RDNS_TLSADATA 2048    /* bytes of association data kept */

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

/* One TLSA record (RFC 6698 sec 2.1). A record whose data is longer than
 * RDNS_TLSADATA is kept with len 0 and toolong 1 (it exists, but can never
 * match). */
struct rdns_tlsa {
  unsigned char usage, selector, mtype, toolong;
  size_t len;
  unsigned char data[RDNS_TLSADATA];
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
/* rdns_tlsa: the TLSA records of _PORT._tcp.HOST (RFC 7672 sec 2.2.3),
 * every usage (the caller picks the usable ones). */
int rdns_tlsa(const char *host, unsigned short port, struct rdns_tlsa *out,
              size_t max, size_t *n);
/* rdns_secure: 1 when every DNS answer of the last rdns_mx, rdns_addrs or
 * rdns_tlsa call had the AD bit (authenticated data, RFC 4035 sec 3.2.3),
 * negative answers (NXDOMAIN, no records) included; 0 otherwise (no
 * answer, an unauthenticated one, or AD not trusted). */
int rdns_secure(void);
/* rdns_mx_named: was host named by the last rdns_mx answer (or, when that
 * domain had no MX records, is host that domain)? 1 yes and the answer was
 * authenticated, 0 yes but not authenticated, -1 no (a host from
 * smtproutes, or another domain's lookup). *domain: the domain looked up
 * (valid until the next rdns_mx). */
int rdns_mx_named(const char *host, const char **domain);

#endif
