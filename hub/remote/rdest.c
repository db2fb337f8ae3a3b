/* rdest.c: destination choice for qmail-remote (see rdest.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "rdest.h"
#include "rdns.h"
#include "rroute.h"

int rdest_mxps(unsigned pref)
{
  return pref >= 12800 && pref <= 13055 && (pref - 12800) % 16 == 1;
}

int rdest_ipme(const struct net_addr *a)
{
  struct ifaddrs *ifa, *p;
  int me = 0;
  if (getifaddrs(&ifa) < 0) return 0;
  for (p = ifa; p && !me; p = p->ifa_next) {
    if (!p->ifa_addr || p->ifa_addr->sa_family != a->family) continue;
    if (a->family == AF_INET)
      me = memcmp(&((struct sockaddr_in *)p->ifa_addr)->sin_addr, a->ip, 4) == 0;
    else
      me = memcmp(&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr, a->ip, 16) == 0;
  }
  freeifaddrs(ifa);
  return me;
}

/* name_is_me: name (no trailing dot) is control/me or in control/locals. */
static int name_is_me(const char *name, const struct rdest_conf *cf)
{
  size_t pos = 0;
  if (!*name) return 0;
  if (cf->me && strcasecmp(name, cf->me) == 0) return 1;
  while (pos < cf->llen) {
    const char *l = cf->locals + pos;
    size_t ll = strnlen(l, cf->llen - pos);
    if (strlen(name) == ll && strncasecmp(l, name, ll) == 0) return 1;
    pos += ll + 1;
  }
  return 0;
}

/* add: append an address. */
static void add(struct rdest *d, const struct net_addr *a, int qmtp, size_t group,
                unsigned pref, const char *name)
{
  if (d->n >= RDEST_MAX) return;
  {
    size_t nl = strnlen(name, RDNS_NAMEMAX);
    memcpy(d->c[d->n].name, name, nl);
    d->c[d->n].name[nl] = 0;
  }
  d->c[d->n].a = *a;
  d->c[d->n].qmtp = qmtp;
  d->c[d->n].group = group;
  d->c[d->n].pref = pref;
  ++d->n;
}

/* ---- failures ---------------------------------------------------------- */

static int nohost(struct rjob *j, const char *host)
{
  rjob_all(j, 'h', 'D', "Sorry, I couldn't find any host named ", host, ". (#5.1.2)",
           (const char *)0);
  return -1;
}

static int dnstemp(struct rjob *j, const char *name)
{
  rjob_all(j, 's', 'Z', "Sorry, the DNS lookup of ", name, " failed temporarily. (#4.4.3)",
           (const char *)0);
  return -1;
}

/* ---- routes -------------------------------------------------------------- */

static int by_name(const char *name, unsigned short port, int qmtp, struct rdest *d,
                   struct rjob *j)
{
  struct net_addr a[RDNS_ADDRMAX];
  size_t n, i;
  int r = rdns_addrs(name, port, a, RDNS_ADDRMAX, &n);
  if (r == RDNS_TEMP) return dnstemp(j, name);
  if (r != RDNS_OK) return nohost(j, name);
  for (i = 0; i < n; ++i) add(d, &a[i], qmtp, 0, 0, name);
  return 0;
}

static int mx_lookup(const char *host, unsigned short port, int proto, const struct rdest_conf *cf,
                     struct rdest *d, struct rjob *j);

/* routed: 1 route used (d filled or failure reported: *res), 0 no route. */
static int routed(const char *host, const char *list, size_t len, int qmtp,
                  const struct rdest_conf *cf, struct rdest *d, struct rjob *j, int *res)
{
  struct rroute r;
  int f = rroute_find(list, len, host, &r);
  unsigned short port;
  if (f == 0) return 0;
  if (f < 0) {
    rjob_all(j, 's', 'Z', "Sorry, the line for ", host, " in control/",
             qmtp ? "qmtproutes" : "smtproutes", " is not valid. (#4.3.5)", (const char *)0);
    *res = -1;
    return 1;
  }
  port = r.port ? r.port : qmtp ? NET_PORT_QMTP : RDEST_PORT_SMTP;
  if (r.kind == RROUTE_LITERAL) {
    struct net_addr a;
    memset(&a, 0, sizeof a);
    a.family = r.family;
    memcpy(a.ip, r.ip, 16);
    a.port = port;
    add(d, &a, qmtp, 0, 0, "");
    *res = 0;
  } else if (r.kind == RROUTE_NAME) {
    *res = by_name(r.name, port, qmtp, d, j);
  } else {
    *res = mx_lookup(host, r.port, qmtp ? 1 : r.port ? 0 : -1, cf, d, j);
  }
  return 1;
}

/* ---- MX -------------------------------------------------------------- */

static unsigned rnd(void)
{
  unsigned v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v) v = (unsigned)rand();
  return v;
}

/* sort_mx: by preference, equal preferences shuffled (random keys, then
 * an insertion sort: at most RDNS_MXMAX entries). */
static void sort_mx(struct rdns_mx *mx, size_t n)
{
  unsigned key[RDNS_MXMAX];
  size_t i, k;
  for (i = 0; i < n; ++i) key[i] = rnd();
  for (i = 1; i < n; ++i)
    for (k = i; k > 0 && (mx[k].pref < mx[k - 1].pref ||
                          (mx[k].pref == mx[k - 1].pref && key[k] < key[k - 1])); --k) {
      struct rdns_mx t = mx[k];
      unsigned tk = key[k];
      mx[k] = mx[k - 1];
      mx[k - 1] = t;
      key[k] = key[k - 1];
      key[k - 1] = tk;
    }
}

/* addr_is_me: one of the MX host's addresses is ours. */
static int addr_is_me(const struct net_addr *a, size_t n, const struct rdest_conf *cf)
{
  size_t i;
  for (i = 0; i < n; ++i)
    if (cf->ipme && cf->ipme(&a[i])) return 1;
  return 0;
}

/* add_host: the addresses of one MX host; with MXPS (proto < 0 and a
 * QMTP preference) QMTP first, then SMTP. */
static void add_host(struct rdest *d, const struct net_addr *a, size_t n, unsigned pref,
                     unsigned short port, int proto, size_t group, const char *name)
{
  size_t i;
  int mxps = proto < 0 && rdest_mxps(pref);
  for (i = 0; mxps && i < n; ++i) {
    struct net_addr q = a[i];
    q.port = NET_PORT_QMTP;
    add(d, &q, 1, group, pref, name);
  }
  for (i = 0; i < n; ++i) {
    struct net_addr s = a[i];
    s.port = port ? port : proto > 0 ? NET_PORT_QMTP : RDEST_PORT_SMTP;
    add(d, &s, proto > 0, group, pref, name);
  }
}

struct mxstate {
  unsigned prefme;     /* best preference of an MX that is us (~0u: none) */
  int temp;            /* some address lookup failed temporarily */
};

/* mx_hosts: resolve each MX (sorted) and add the usable ones. */
static void mx_hosts(struct rdns_mx *mx, size_t n, unsigned short port, int proto,
                     const struct rdest_conf *cf, struct rdest *d, struct mxstate *st)
{
  struct net_addr a[RDNS_ADDRMAX];
  size_t i, na, group = 0;
  for (i = 0; i < n && mx[i].pref < st->prefme; ++i) {
    int r;
    if (name_is_me(mx[i].name, cf)) { st->prefme = mx[i].pref; break; }
    r = rdns_addrs(mx[i].name, RDEST_PORT_SMTP, a, RDNS_ADDRMAX, &na);
    if (r == RDNS_TEMP) st->temp = 1;
    if (r != RDNS_OK) continue;
    if (addr_is_me(a, na, cf)) { st->prefme = mx[i].pref; break; }
    add_host(d, a, na, mx[i].pref, port, proto, group++, mx[i].name);
  }
}

/* prune: drop the hosts whose preference is not better than ours (equal
 * preferences met before ours in the shuffled order). */
static void prune(struct rdest *d, unsigned prefme)
{
  size_t i, k = 0;
  for (i = 0; i < d->n; ++i)
    if (d->c[i].pref < prefme) d->c[k++] = d->c[i];
  d->n = k;
}

static int ambiguous(struct rjob *j)
{
  rjob_all(j, 'h', 'D', "Sorry. Although I'm listed as a best-preference MX or A for that host,"
           " it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)",
           (const char *)0);
  return -1;
}

/* no_mx: the domain has no MX: its own addresses at preference 0. */
static int no_mx(const char *host, unsigned short port, int proto, const struct rdest_conf *cf,
                 struct rdest *d, struct rjob *j)
{
  struct rdns_mx one;
  struct mxstate st = { ~0u, 0 };
  if (strlen(host) > RDNS_NAMEMAX) return nohost(j, host);
  one.pref = 0;
  strcpy(one.name, host);
  mx_hosts(&one, 1, port, proto, cf, d, &st);
  if (st.prefme != ~0u) return ambiguous(j);  /* our own address */
  if (d->n) return 0;
  return st.temp ? dnstemp(j, host) : nohost(j, host);
}

/* mx_lookup: proto -1 = SMTP with MXPS, 0 = SMTP, 1 = QMTP. */
static int mx_lookup(const char *host, unsigned short port, int proto, const struct rdest_conf *cf,
                     struct rdest *d, struct rjob *j)
{
  struct rdns_mx mx[RDNS_MXMAX];
  struct mxstate st = { ~0u, 0 };
  size_t n;
  int r = rdns_mx(host, mx, RDNS_MXMAX, &n);
  if (r == RDNS_TEMP) return dnstemp(j, host);
  if (r == RDNS_NXDOMAIN) return nohost(j, host);
  if (r == RDNS_NONE) return no_mx(host, port, proto, cf, d, j);
  if (n == 1 && mx[0].name[0] == 0) {
    rjob_all(j, 'h', 'D', "Sorry, ", host, " does not accept mail (null MX). (#5.1.10)",
             (const char *)0);
    return -1;
  }
  sort_mx(mx, n);
  mx_hosts(mx, n, port, proto, cf, d, &st);
  prune(d, st.prefme);
  if (d->n) return 0;
  if (st.prefme != ~0u) return ambiguous(j);
  if (st.temp) return dnstemp(j, host);
  return nohost(j, host);
}

/* literal: the domain is [address]. */
static int literal(const char *host, const struct rdest_conf *cf, struct rdest *d,
                   struct rjob *j)
{
  struct net_addr a;
  memset(&a, 0, sizeof a);
  if (rroute_literal(host, strlen(host), &a.family, a.ip) < 0) return nohost(j, host);
  a.port = RDEST_PORT_SMTP;
  if (cf->ipme && cf->ipme(&a)) return ambiguous(j);
  add(d, &a, 0, 0, 0, "");
  return 0;
}

int rdest_find(const char *host, const struct rdest_conf *cf, struct rdest *d,
               struct rjob *j)
{
  int res = 0;
  d->n = 0;
  if (host[0] == '[') return literal(host, cf, d, j);
  if (routed(host, cf->qmtproutes, cf->qlen, 1, cf, d, j, &res)) return res;
  if (routed(host, cf->smtproutes, cf->slen, 0, cf, d, j, &res)) return res;
  if (!rroute_name_ok(host, strlen(host))) return nohost(j, host);
  return mx_lookup(host, 0, -1, cf, d, j);
}
