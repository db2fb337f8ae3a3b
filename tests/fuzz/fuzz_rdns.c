/* tests/fuzz/fuzz_rdns.c: libFuzzer harness for hub/remote/rdns.c, qmail-remote's
 * use of DNS answers. rdns.c is included here with res_ninit and
 * res_nquery replaced by stand-ins that hand out packets from the input,
 * so glibc's ns_initparse/ns_parserr/dn_expand and our code around them
 * see hostile answers without a network. The first input byte says, two
 * bits per query (MX, AAAA, A), whether the query answers or fails with
 * HOST_NOT_FOUND, NO_DATA or TRY_AGAIN; the second picks the caps given
 * to rdns_mx and rdns_addrs; the rest is the three answer packets
 * separated by "@@@", then a control/dnsservers line. Checks, beyond "no
 * crash, no leak, no undefined behaviour":
 *  - the failures map to RDNS_NXDOMAIN, RDNS_NONE and RDNS_TEMP;
 *  - rdns_mx returns at most max records, RDNS_OK only with one (a packet
 *    that breaks after some records is RDNS_TEMP with those), each name either "" (null MX) or a clean host name (rroute.h)
 *    without a trailing dot;
 *  - every address from an answer is 4 or 16 bytes found in that packet;
 *    rdns_addrs interleaves them IPv6 first, drops duplicates, keeps at
 *    most max, sets the port, and its result follows rdns.h;
 *  - rdns_parse_server accepts exactly a dotted quad with an optional
 *    ":port" of 1..65535 (at most 5 digits).
 * Build: make fuzz-build (compiles hub/remote/rdns.c in here; links rroute.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/nameser.h>
#include <resolv.h>

static int fake_ninit(res_state s);
static int fake_nquery(res_state s, const char *name, int class, int type,
                       unsigned char *ans, int anslen);
#undef res_ninit
#undef res_nquery
#define res_ninit fake_ninit
#define res_nquery fake_nquery
#include "rdns.c"

static const unsigned char *pkt[3];
static size_t pktlen[3];
static int fail[3];   /* 0 answer, else the h_errno */

static int fake_ninit(res_state s)
{
  memset(s, 0, sizeof *s);
  return 0;
}

static int fake_nquery(res_state s, const char *name, int class, int type,
                       unsigned char *ans, int anslen)
{
  int k = type == ns_t_mx ? 0 : type == ns_t_aaaa ? 1 : 2;
  (void)name;
  if (class != ns_c_in || (type != ns_t_mx && type != ns_t_aaaa && type != ns_t_a)) abort();
  if (fail[k]) { s->res_h_errno = fail[k]; return -1; }
  if (pktlen[k] > (size_t)anslen) abort();
  memcpy(ans, pkt[k], pktlen[k]);
  return (int)pktlen[k];
}

static int expect(int k)
{
  return fail[k] == HOST_NOT_FOUND ? RDNS_NXDOMAIN : fail[k] == NO_DATA ? RDNS_NONE : RDNS_TEMP;
}

static void check_mx(size_t max)
{
  struct rdns_mx mx[RDNS_MXMAX];
  size_t n = 99, i;
  int r = rdns_mx("example.org", mx, max, &n);
  if (fail[0] && (r != expect(0) || n)) abort();
  if (n > max || (r == RDNS_OK && !n) || (n && r != RDNS_OK && r != RDNS_TEMP)) abort();
  if (!fail[0] && r != RDNS_OK && r != RDNS_NONE && r != RDNS_TEMP) abort();
  for (i = 0; i < n; ++i) {
    size_t l = strlen(mx[i].name);
    if (l > RDNS_NAMEMAX || mx[i].pref > 65535) abort();
    if (l && (!rroute_name_ok(mx[i].name, l) || mx[i].name[l - 1] == '.')) abort();
  }
}

static void check_family(int type, int k, struct net_addr *a, size_t *n, int *r)
{
  size_t i, w = type == ns_t_aaaa ? 16 : 4;
  *r = addrs_of("example.org", type, a, RDNS_ADDRMAX, n, 25);
  if (fail[k] && (*r != expect(k) || *n)) abort();
  if (*n > RDNS_ADDRMAX || (*r == RDNS_OK && !*n) || (*n && *r != RDNS_OK && *r != RDNS_TEMP))
    abort();
  for (i = 0; i < *n; ++i) {
    if (a[i].family != (type == ns_t_aaaa ? AF_INET6 : AF_INET) || a[i].port != 25) abort();
    if (!memmem(pkt[k], pktlen[k], a[i].ip, w)) abort();
  }
}

static int same(const struct net_addr *a, const struct net_addr *b)
{
  return a->family == b->family && !memcmp(a->ip, b->ip, 16);
}

static void check_addrs(size_t max)
{
  struct net_addr v6[RDNS_ADDRMAX], v4[RDNS_ADDRMAX], want[2 * RDNS_ADDRMAX], out[2 * RDNS_ADDRMAX];
  size_t n6 = 0, n4 = 0, nw = 0, n = 99, i, j;
  int r6, r4 = RDNS_NXDOMAIN, r, wr;
  check_family(ns_t_aaaa, 1, v6, &n6, &r6);
  if (r6 != RDNS_NXDOMAIN) check_family(ns_t_a, 2, v4, &n4, &r4);
  for (i = 0; i < n6 || i < n4; ++i)           /* the model: interleave, dedup */
    for (j = 0; j < 2; ++j) {
      const struct net_addr *a = j == 0 ? (i < n6 ? &v6[i] : 0) : (i < n4 ? &v4[i] : 0);
      size_t k;
      if (!a) continue;
      for (k = 0; k < nw && !same(&want[k], a); ++k) ;
      if (k == nw && nw < max) want[nw++] = *a;
    }
  wr = nw ? RDNS_OK : (r6 == RDNS_TEMP || r4 == RDNS_TEMP) ? RDNS_TEMP
                    : r4 == RDNS_NXDOMAIN ? RDNS_NXDOMAIN : RDNS_NONE;
  r = rdns_addrs("example.org", 25, out, max, &n);
  if (r != wr || n != nw) abort();
  for (i = 0; i < n; ++i) {
    if (!same(&out[i], &want[i]) || out[i].port != 25) abort();
    for (j = 0; j < i; ++j) if (same(&out[i], &out[j])) abort();
  }
}

static void check_server(const char *line, size_t len)
{
  unsigned char ip[4], want[4];
  unsigned short port = 0;
  const char *colon = memchr(line, ':', len);
  size_t hl = colon ? (size_t)(colon - line) : len, i;
  char host[32];
  unsigned long v = 0;
  int ok;
  len = strnlen(line, len);                    /* lines are NUL-separated */
  colon = memchr(line, ':', len);
  hl = colon ? (size_t)(colon - line) : len;
  ok = hl > 0 && hl < sizeof host;
  if (ok) {
    memcpy(host, line, hl);
    host[hl] = 0;
    ok = inet_pton(AF_INET, host, want) == 1;
  }
  if (ok && colon) {
    size_t pl = len - hl - 1;
    ok = pl >= 1 && pl <= 5;
    for (i = hl + 1; ok && i < len; ++i) {
      ok = line[i] >= '0' && line[i] <= '9';
      v = v * 10 + (unsigned long)(line[i] - '0');
    }
    ok = ok && v >= 1 && v <= 65535;
  }
  if (!colon) v = 53;
  if (rdns_parse_server(line, len, ip, &port) != (ok ? 0 : -1)) abort();
  if (ok && (port != v || memcmp(ip, want, 4))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int code[4] = { 0, HOST_NOT_FOUND, NO_DATA, TRY_AGAIN };
  const unsigned char *p = data + 2, *end = data + size;
  size_t k;
  if (size < 2) return 0;
  for (k = 0; k < 3; ++k) {
    const unsigned char *s = memmem(p, (size_t)(end - p), "@@@", 3);
    fail[k] = code[(data[0] >> (2 * k)) & 3];
    pkt[k] = p;
    pktlen[k] = s ? (size_t)(s - p) : (size_t)(end - p);
    p += pktlen[k] + (s ? 3 : 0);
  }
  check_mx(1 + (data[1] & 31));
  check_addrs(1 + ((data[1] >> 5) & 7) * 4);
  check_server((const char *)p, (size_t)(end - p) > 40 ? 40 : (size_t)(end - p));
  return 0;
}
