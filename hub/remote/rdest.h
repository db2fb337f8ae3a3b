/* rdest.h: where qmail-remote delivers a message for a domain: the list of
 * addresses to try, in order, each with its protocol, grouped by host
 * (one MX host or one relay: a group's addresses are raced happy-eyeballs
 * style, the groups are tried one after the other).
 *
 * Order of the sources (first that applies wins):
 *  1. the domain itself is an address literal [1.2.3.4] / [IPv6:...]:
 *     that address, SMTP port 25;
 *  2. control/qmtproutes (rroute.h syntax): the relay, QMTP, port 209
 *     unless the route says otherwise;
 *  3. control/smtproutes: the relay, SMTP, port 25 unless given;
 *  4. the domain's MX records, best preference first, equal preferences
 *     in random order; no MX records: the domain's own A/AAAA records
 *     (preference 0). A route with an empty relay does this too, with the
 *     route's protocol and port.
 * MXPS: without a route, an MX of preference 12800..13055 with
 * (pref - 12800) % 16 == 1 is tried with QMTP (port 209) first, then SMTP
 * (port 25) on the same addresses.
 *
 * Us: when an MX host (or the domain's own address) is this machine -
 * its name is control/me or in control/locals, or one of its addresses is
 * an address of a local interface (getifaddrs) - only MX hosts with a
 * better (lower) preference are used; none left is a permanent failure
 * (#5.4.6, BAD-INPUT C7). Routes are not checked (the operator chose them).
 *
 * Failures are reported in the job: no such domain or no address h/D
 * (#5.1.2), null MX h/D (#5.1.10), temporary DNS failure s/Z (#4.4.3),
 * a bad matching route line s/Z (#4.3.5).
 * Caps: RDEST_MAX addresses, RDNS_MXMAX MX hosts, RDNS_ADDRMAX addresses
 * per host. */
#ifndef RDEST_H
#define RDEST_H

#include <stddef.h>
#include "q_net.h"
#include "rdns.h"
#include "rjob.h"

#define RDEST_MAX 256
#define RDEST_PORT_SMTP 25

struct rdest_cand {
  struct net_addr a;
  int qmtp;        /* speak QMTP (else SMTP) */
  size_t group;    /* index of its host in the try order */
  unsigned pref;   /* the MX preference (0 for routes and A records) */
  char name[RDNS_NAMEMAX + 1];   /* the MX host or relay name ("" for a
                                    literal): TLS's SNI and verify name */
};

struct rdest {
  struct rdest_cand c[RDEST_MAX];
  size_t n;
};

struct rdest_conf {
  const char *qmtproutes;   /* NUL-separated lines (control_readlist) */
  size_t qlen;
  const char *smtproutes;
  size_t slen;
  const char *me;           /* control/me ("" when unset) */
  const char *locals;       /* NUL-separated */
  size_t llen;
  /* is a an address of this machine? (tests may replace it) */
  int (*ipme)(const struct net_addr *a);
};

/* rdest_find: fill d for host. 0 ok (d->n >= 1); -1 failed, the failure
 * reported in j (every recipient and the message). */
int rdest_find(const char *host, const struct rdest_conf *cf, struct rdest *d,
               struct rjob *j);
/* rdest_ipme: a is an address of a local interface. */
int rdest_ipme(const struct net_addr *a);
/* rdest_mxps: pref means "QMTP is served here" (RFCMXPS). */
int rdest_mxps(unsigned pref);

#endif
