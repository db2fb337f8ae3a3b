/* rdns.c: MX and address lookups with glibc's resolver (see rdns.h).
 * One static resolver state per process; answers in a 64 KB buffer. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "rdns.h"
#include "rroute.h"

#define ANSWER_MAX 65536

static struct __res_state rs;
static int inited;
static int all_ad;   /* every answer since the last public call had AD */
/* the last rdns_mx: its name, result, AD and the hosts it named */
static char mx_domain[RDNS_NAMEMAX + 1];
static int mx_result = RDNS_TEMP, mx_ad;
static char mx_hosts[RDNS_MXMAX][RDNS_NAMEMAX + 1];
static size_t mx_n;
static unsigned char answer[ANSWER_MAX];

int rdns_parse_server(const char *line, size_t len, unsigned char ip[4],
                      unsigned short *port)
{
  const char *colon = memchr(line, ':', len);
  size_t hl = colon ? (size_t)(colon - line) : len, i;
  char buf[20];
  unsigned long v = 0;
  *port = 53;
  if (hl == 0 || hl >= sizeof buf) goto bad;
  memcpy(buf, line, hl);
  buf[hl] = 0;
  if (inet_pton(AF_INET, buf, ip) != 1) goto bad;
  if (!colon) return 0;
  if (len - hl - 1 == 0 || len - hl - 1 > 5) goto bad;
  for (i = hl + 1; i < len; ++i) {
    if (line[i] < '0' || line[i] > '9') goto bad;
    v = v * 10 + (unsigned long)(line[i] - '0');
  }
  if (v == 0 || v > 65535) goto bad;
  *port = (unsigned short)v;
  return 0;
bad:
  errno = EINVAL;
  return -1;
}

/* set_servers: replace the resolver's server list by the lines. */
static int set_servers(const char *servers, size_t len)
{
  size_t pos = 0;
  int n = 0;
  while (pos < len) {
    const char *line = servers + pos;
    size_t ll = strnlen(line, len - pos);
    unsigned char ip[4];
    unsigned short port;
    pos += ll + 1;
    if (rdns_parse_server(line, ll, ip, &port) < 0) return -1;
    if (n >= MAXNS) continue;
    memset(&rs.nsaddr_list[n], 0, sizeof rs.nsaddr_list[n]);
    rs.nsaddr_list[n].sin_family = AF_INET;
    rs.nsaddr_list[n].sin_port = htons(port);
    memcpy(&rs.nsaddr_list[n].sin_addr, ip, 4);
    ++n;
  }
  if (n) rs.nscount = n;
  return 0;
}

int rdns_init(const char *servers, size_t len)
{
  memset(&rs, 0, sizeof rs);
  if (res_ninit(&rs) < 0) { errno = EIO; return -1; }
  inited = 1;
  rs.retrans = 3;   /* seconds before the first retransmission */
  rs.retry = 3;
  rs.options &= ~(unsigned long)(RES_DEFNAMES | RES_DNSRCH);
  if (len && set_servers(servers, len) < 0) return -1;
  /* control/dnsservers names a resolver the administrator trusts: ask it
   * for the AD bit and keep it (resolv.conf needs "options trust-ad") */
  if (len) rs.options |= RES_TRUSTAD;
  return 0;
}

/* query results below 0 */
#define Q_NX (-2)
#define Q_NONE (-3)
#define Q_TEMP (-4)

/* answer_ad: the AD bit of the answer's header (glibc leaves the server's
 * reply in the buffer for NXDOMAIN and NODATA too; it clears AD unless
 * RES_TRUSTAD). */
static int answer_ad(void)
{
  return (rs.options & RES_TRUSTAD) && (answer[3] & 0x20) != 0;
}

/* query: res_nquery; returns the answer length or Q_NX, Q_NONE, Q_TEMP. */
static int query(const char *name, int type)
{
  int n;
  if (!inited && rdns_init(0, 0) < 0) { all_ad = 0; return Q_TEMP; }
  memset(answer, 0, 12);
  n = res_nquery(&rs, name, ns_c_in, type, answer, sizeof answer);
  if (n >= 0 || rs.res_h_errno == HOST_NOT_FOUND || rs.res_h_errno == NO_DATA)
    all_ad &= answer_ad();
  else
    all_ad = 0;
  if (n >= 0) return n;
  switch (rs.res_h_errno) {
  case HOST_NOT_FOUND: return Q_NX;
  case NO_DATA: return Q_NONE;
  default: errno = EAGAIN; return Q_TEMP;
  }
}

int rdns_secure(void)
{
  return all_ad;
}

/* negative: map query()'s negative result to an rdns_result. */
static int negative(int q)
{
  return q == Q_NX ? RDNS_NXDOMAIN : q == Q_NONE ? RDNS_NONE : RDNS_TEMP;
}

/* clean_name: check and copy a name from an answer ("." -> ""). */
static int clean_name(const char *in, char *out)
{
  size_t len = strlen(in);
  if (len && in[len - 1] == '.') --len;
  if (len == 0) { out[0] = 0; return 0; }
  if (!rroute_name_ok(in, len)) return -1;
  memcpy(out, in, len);
  out[len] = 0;
  return 0;
}

/* take_mx: one MX record into out; 0 kept, -1 dropped. */
static int take_mx(ns_msg *m, ns_rr *rr, struct rdns_mx *out)
{
  char name[NS_MAXDNAME];
  const unsigned char *d = ns_rr_rdata(*rr);
  if (ns_rr_rdlen(*rr) < 3) return -1;
  if (dn_expand(ns_msg_base(*m), ns_msg_end(*m), d + 2, name, sizeof name) < 0) return -1;
  out->pref = ns_get16(d);
  return clean_name(name, out->name);
}

/* remember_mx: note rdns_mx's answer for rdns_mx_named. */
static int remember_mx(const char *name, int r, const struct rdns_mx *out, size_t n)
{
  size_t i;
  mx_n = 0;
  mx_result = RDNS_TEMP;
  if (strlen(name) > RDNS_NAMEMAX) return r;
  strcpy(mx_domain, name);
  mx_result = r;
  mx_ad = all_ad;
  for (i = 0; i < n && i < RDNS_MXMAX; ++i) strcpy(mx_hosts[mx_n++], out[i].name);
  return r;
}

int rdns_mx_named(const char *host, const char **domain)
{
  size_t i;
  int named = mx_result == RDNS_NONE && strcasecmp(mx_domain, host) == 0;
  for (i = 0; i < mx_n && !named; ++i) named = strcasecmp(mx_hosts[i], host) == 0;
  if (!named || mx_result == RDNS_TEMP) return -1;
  *domain = mx_domain;
  return mx_ad;
}

static int mx_lookup(const char *name, struct rdns_mx *out, size_t max, size_t *n)
{
  ns_msg m;
  int q, i, c;
  all_ad = 1;
  q = query(name, ns_t_mx);
  *n = 0;
  if (q < 0) return negative(q);
  if (ns_initparse(answer, q, &m) < 0) { errno = EPROTO; return RDNS_TEMP; }
  c = ns_msg_count(m, ns_s_an);
  for (i = 0; i < c && *n < max; ++i) {
    ns_rr rr;
    if (ns_parserr(&m, ns_s_an, i, &rr) < 0) { errno = EPROTO; return RDNS_TEMP; }
    if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in) continue;
    if (take_mx(&m, &rr, &out[*n]) == 0) ++*n;
  }
  return *n ? RDNS_OK : RDNS_NONE;
}

int rdns_mx(const char *name, struct rdns_mx *out, size_t max, size_t *n)
{
  int r = mx_lookup(name, out, max, n);
  return remember_mx(name, r, out, *n);
}

/* addrs_of: the records of one family into buf (at most max). */
static int addrs_of(const char *name, int type, struct net_addr *buf, size_t max,
                    size_t *n, unsigned short port)
{
  ns_msg m;
  int q = query(name, type), i, c;
  size_t want = type == ns_t_aaaa ? 16 : 4;
  *n = 0;
  if (q < 0) return negative(q);
  if (ns_initparse(answer, q, &m) < 0) { errno = EPROTO; return RDNS_TEMP; }
  c = ns_msg_count(m, ns_s_an);
  for (i = 0; i < c && *n < max; ++i) {
    ns_rr rr;
    if (ns_parserr(&m, ns_s_an, i, &rr) < 0) { errno = EPROTO; return RDNS_TEMP; }
    if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in || ns_rr_rdlen(rr) != want)
      continue;
    memset(&buf[*n], 0, sizeof buf[*n]);
    buf[*n].family = type == ns_t_aaaa ? AF_INET6 : AF_INET;
    buf[*n].port = port;
    memcpy(buf[*n].ip, ns_rr_rdata(rr), want);
    ++*n;
  }
  return *n ? RDNS_OK : RDNS_NONE;
}

/* add: append a to out unless it is there already. */
static void add(struct net_addr *out, size_t max, size_t *n, const struct net_addr *a)
{
  size_t i;
  for (i = 0; i < *n; ++i)
    if (out[i].family == a->family && memcmp(out[i].ip, a->ip, 16) == 0) return;
  if (*n < max) out[(*n)++] = *a;
}

int rdns_addrs(const char *name, unsigned short port, struct net_addr *out,
               size_t max, size_t *n)
{
  struct net_addr v6[RDNS_ADDRMAX], v4[RDNS_ADDRMAX];
  size_t n6 = 0, n4 = 0, i;
  int r6, r4;
  all_ad = 1;
  r6 = addrs_of(name, ns_t_aaaa, v6, RDNS_ADDRMAX, &n6, port);
  r4 = r6 == RDNS_NXDOMAIN ? RDNS_NXDOMAIN
                           : addrs_of(name, ns_t_a, v4, RDNS_ADDRMAX, &n4, port);
  *n = 0;
  for (i = 0; i < n6 || i < n4; ++i) {
    if (i < n6) add(out, max, n, &v6[i]);
    if (i < n4) add(out, max, n, &v4[i]);
  }
  if (*n) return RDNS_OK;
  if (r6 == RDNS_TEMP || r4 == RDNS_TEMP) return RDNS_TEMP;
  if (r4 == RDNS_NXDOMAIN) return RDNS_NXDOMAIN;
  return RDNS_NONE;
}

/* take_tlsa: one TLSA record into out (RFC 6698 sec 2.1); -1 too short. */
static int take_tlsa(ns_rr *rr, struct rdns_tlsa *out)
{
  const unsigned char *d = ns_rr_rdata(*rr);
  size_t len = ns_rr_rdlen(*rr);
  if (len < 3) return -1;
  out->usage = d[0];
  out->selector = d[1];
  out->mtype = d[2];
  out->toolong = len - 3 > RDNS_TLSADATA;
  out->len = out->toolong ? 0 : len - 3;
  memcpy(out->data, d + 3, out->len);
  return 0;
}

int rdns_tlsa(const char *host, unsigned short port, struct rdns_tlsa *out,
              size_t max, size_t *n)
{
  char name[RDNS_NAMEMAX + 16];
  ns_msg m;
  int q, i, c;
  all_ad = 1;
  *n = 0;
  if (strlen(host) > RDNS_NAMEMAX) { all_ad = 0; errno = EINVAL; return RDNS_TEMP; }
  snprintf(name, sizeof name, "_%u._tcp.%s", (unsigned)port, host);
  q = query(name, ns_t_tlsa);
  if (q < 0) return negative(q);
  if (ns_initparse(answer, q, &m) < 0) { all_ad = 0; errno = EPROTO; return RDNS_TEMP; }
  c = ns_msg_count(m, ns_s_an);
  for (i = 0; i < c && *n < max; ++i) {
    ns_rr rr;
    if (ns_parserr(&m, ns_s_an, i, &rr) < 0) { all_ad = 0; errno = EPROTO; return RDNS_TEMP; }
    if (ns_rr_type(rr) != ns_t_tlsa || ns_rr_class(rr) != ns_c_in) continue;
    if (take_tlsa(&rr, &out[*n]) == 0) ++*n;
  }
  return *n ? RDNS_OK : RDNS_NONE;
}
