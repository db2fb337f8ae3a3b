/* tests/unit/dane.c: TAP tests for hub/remote/dane.c and the DNSSEC parts of
 * hub/remote/rdns.c. rdns.c is included with res_ninit and res_nquery replaced by
 * a scripted zone (as tests/fuzz/fuzz_rdns.c does), so answers with and
 * without the AD bit, NXDOMAIN, NODATA and SERVFAIL are built here:
 *   rdns_tlsa: the query name (_PORT._tcp.HOST), records parsed, an
 *     oversized one kept as toolong; rdns_secure after MX, A and TLSA
 *     answers, negative ones included; AD ignored without control/dnsservers
 *   dane_lookup: DANE on only with authenticated MX (listing the host),
 *     address and TLSA answers; insecure or NXDOMAIN/NODATA: none;
 *     SERVFAIL on MX or TLSA: temporary
 *   dane_usable: usages 2/3, selectors 0/1, types 0/1/2 with their lengths
 *   dane_verify_pem: certificates made at run time with openssl(1) and the
 *     digests computed by openssl(1) too: DANE-EE 3 0/1 x 0/1/2 matches the
 *     server certificate only (expired or wrong name still match); DANE-TA
 *     matches a CA sent in the chain, the chain must verify (not expired,
 *     signed by it) and name the MX host or the domain (wildcards for the
 *     first label only); a TA the server does not send, a TA that did not
 *     sign the leaf, garbage: no match; no usable record: unauthenticated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
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
#include "dane.h"
#include "rtls.h"
#include "tap.h"

/* ---- the scripted zone ------------------------------------------------ */

struct rec {
  const char *name;
  int type;
  int fail;          /* 0 answer, else HOST_NOT_FOUND, NO_DATA, TRY_AGAIN */
  int ad;
  const unsigned char *rdata;   /* one record's data (0: none) */
  size_t rdlen;
};

#define ZMAX 16
static struct rec zone[ZMAX];
static size_t nzone;
static char lastq[300];

static void zone_clear(void) { nzone = 0; }

static void zone_add(const char *name, int type, int fail, int ad,
                     const unsigned char *rd, size_t rdlen)
{
  struct rec r = { name, type, fail, ad, rd, rdlen };
  if (nzone < ZMAX) zone[nzone++] = r;
}

static int fake_ninit(res_state s)
{
  memset(s, 0, sizeof *s);
  return 0;
}

static size_t put_name(unsigned char *p, const char *name)
{
  size_t n = 0;
  while (*name) {
    const char *dot = strchr(name, '.');
    size_t l = dot ? (size_t)(dot - name) : strlen(name);
    p[n++] = (unsigned char)l;
    memcpy(p + n, name, l);
    n += l;
    name += l + (dot != 0);
  }
  p[n++] = 0;
  return n;
}

/* fake_nquery: the records of the zone for (name, type) as a packet */
static int fake_nquery(res_state s, const char *name, int class, int type,
                       unsigned char *ans, int anslen)
{
  unsigned char *p = ans;
  size_t n = 12, i, an = 0, hit = 0;
  int fail = NO_DATA, ad = 1;
  (void)class; (void)anslen;
  snprintf(lastq, sizeof lastq, "%s/%d", name, type);
  memset(p, 0, 12);
  n += put_name(p + n, name);
  p[n++] = 0; p[n++] = (unsigned char)type; p[n++] = 0; p[n++] = 1;
  for (i = 0; i < nzone; ++i) {
    if (strcasecmp(zone[i].name, name) != 0 || zone[i].type != type) continue;
    hit = 1;
    fail = zone[i].fail;
    ad &= zone[i].ad;
    if (fail || !zone[i].rdata) continue;
    p[n++] = 0xc0; p[n++] = 12;
    p[n++] = 0; p[n++] = (unsigned char)type; p[n++] = 0; p[n++] = 1;
    p[n++] = 0; p[n++] = 0; p[n++] = 1; p[n++] = 0;
    p[n++] = (unsigned char)(zone[i].rdlen >> 8); p[n++] = (unsigned char)zone[i].rdlen;
    memcpy(p + n, zone[i].rdata, zone[i].rdlen);
    n += zone[i].rdlen;
    ++an;
  }
  if (!hit) ad = 0;
  p[2] = 0x81;                           /* QR, RD */
  p[3] = (unsigned char)(0x80 | (ad ? 0x20 : 0) | (fail == HOST_NOT_FOUND ? 3 : fail == TRY_AGAIN ? 2 : 0));
  p[5] = 1;
  p[7] = (unsigned char)an;
  if (fail || !an) {
    s->res_h_errno = fail ? fail : NO_DATA;
    if (fail == TRY_AGAIN) memset(p, 0, 12);   /* glibc: no answer kept */
    return -1;
  }
  return (int)n;
}

static const unsigned char rd_mx[] = { 0, 10, 2, 'm', 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0 };
static const unsigned char rd_a[] = { 127, 0, 0, 1 };
static unsigned char rd_tlsa[3 + 32] = { 3, 1, 1 };
static unsigned char rd_pkix[3 + 32] = { 1, 1, 1 };
static unsigned char rd_big[3 + RDNS_TLSADATA + 1] = { 3, 0, 0 };

#define TLSANAME "_25._tcp.mx.example.org"

/* secure_zone: everything authenticated; then tweak one record */
static void secure_zone(void)
{
  zone_clear();
  zone_add("example.org", ns_t_mx, 0, 1, rd_mx, sizeof rd_mx);
  zone_add("mx.example.org", ns_t_aaaa, NO_DATA, 1, 0, 0);
  zone_add("mx.example.org", ns_t_a, 0, 1, rd_a, sizeof rd_a);
  zone_add(TLSANAME, ns_t_tlsa, 0, 1, rd_tlsa, sizeof rd_tlsa);
}

static void set(const char *name, int type, int fail, int ad)
{
  size_t i;
  for (i = 0; i < nzone; ++i)
    if (strcmp(zone[i].name, name) == 0 && zone[i].type == type) {
      zone[i].fail = fail;
      zone[i].ad = ad;
    }
}

static void test_named(void)
{
  struct rdns_mx mx[RDNS_MXMAX];
  size_t n;
  const char *dom = 0;
  secure_zone();
  rdns_mx("example.org", mx, RDNS_MXMAX, &n);
  is_int(rdns_mx_named("MX.example.org", &dom), 1, "rdns_mx_named: host from a secure MX RRset");
  is_str(dom, "example.org", "... and its domain");
  is_int(rdns_mx_named("relay.example.net", &dom), -1, "rdns_mx_named: another host was not named");
  set("example.org", ns_t_mx, 0, 0);
  rdns_mx("example.org", mx, RDNS_MXMAX, &n);
  is_int(rdns_mx_named("mx.example.org", &dom), 0, "rdns_mx_named: host from an insecure MX RRset");
  zone_clear();
  zone_add("mx.example.org", ns_t_mx, NO_DATA, 1, 0, 0);
  rdns_mx("mx.example.org", mx, RDNS_MXMAX, &n);
  is_int(rdns_mx_named("mx.example.org", &dom), 1, "rdns_mx_named: the domain itself after a secure NODATA");
  zone_add("example.org", ns_t_mx, TRY_AGAIN, 0, 0, 0);
  rdns_mx("example.org", mx, RDNS_MXMAX, &n);
  is_int(rdns_mx_named("mx.example.org", &dom), -1, "rdns_mx_named: nothing after a failed lookup");
}

static void test_hook(void)
{
  struct rdns_mx mx[RDNS_MXMAX];
  size_t n;
  void *p = 0;
  stralloc why = {0};
  secure_zone();
  rdns_mx("example.org", mx, RDNS_MXMAX, &n);
  is_int(dane_hook(RTLS_DANE_BEFORE, &p, "mx.example.org", 25, 0, &why), RTLS_DANE_OK, "hook: secure MX and TLSA: TLS required");
  is_int(dane_hook(RTLS_DANE_AFTER, &p, "mx.example.org", 25, 0, &why), RTLS_DANE_DEFER, "hook: no connection to match: defer");
  ok(why.len && strstr(why.s, "(#4.7.5)") != 0, "... with #4.7.5");
  set("example.org", ns_t_mx, 0, 0);
  rdns_mx("example.org", mx, RDNS_MXMAX, &n);
  is_int(dane_hook(RTLS_DANE_BEFORE, &p, "mx.example.org", 25, 0, &why), RTLS_DANE_NONE, "hook: insecure MX: no DANE");
  is_int(dane_hook(RTLS_DANE_AFTER, &p, "mx.example.org", 25, 0, &why), RTLS_DANE_DEFER, "hook: never OK after no DANE");
  is_int(dane_hook(RTLS_DANE_BEFORE, &p, "relay.example.net", 25, 0, &why), RTLS_DANE_NONE, "hook: a route without TLSA: no DANE");
  secure_zone(); set(TLSANAME, ns_t_tlsa, TRY_AGAIN, 0);
  rdns_mx("example.org", mx, RDNS_MXMAX, &n);
  is_int(dane_hook(RTLS_DANE_BEFORE, &p, "mx.example.org", 25, 0, &why), RTLS_DANE_DEFER, "hook: TLSA SERVFAIL: defer");
  ok(why.len && strstr(why.s, "mx.example.org") && strstr(why.s, "(#4.7.5)"), "... naming the host, #4.7.5");
  dane_hook_free(&p);
  ok(p == 0, "hook state freed");
  stralloc_free(&why);
}

static void test_lookup(void)
{
  struct dane d;
  struct rdns_tlsa t[RDNS_TLSAMAX];
  size_t n = 0;
  memset(rd_tlsa + 3, 0xab, 32);
  memset(rd_pkix + 3, 0xcd, 32);
  memset(rd_big + 3, 0xee, sizeof rd_big - 3);

  rdns_init("127.0.0.1:5353", 14);
  secure_zone();
  is_int(rdns_tlsa("mx.example.org", 25, t, RDNS_TLSAMAX, &n), RDNS_OK, "rdns_tlsa finds the record");
  is_str(lastq, TLSANAME "/52", "rdns_tlsa asks _25._tcp.HOST TLSA");
  ok(n == 1 && t[0].usage == 3 && t[0].selector == 1 && t[0].mtype == 1 && t[0].len == 32
     && t[0].data[0] == 0xab && !t[0].toolong, "rdns_tlsa parses usage, selector, type, data");
  ok(rdns_secure(), "an AD answer is secure");
  rdns_tlsa("mx.example.org", 465, t, RDNS_TLSAMAX, &n);
  is_str(lastq, "_465._tcp.mx.example.org/52", "the port of the route in the name");

  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_ON, "all secure: DANE on");
  ok(d.n == 1 && d.usable == 1, "one usable record");

  secure_zone(); set("example.org", ns_t_mx, 0, 0);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_NONE, "MX without AD: no DANE");
  is_int(dane_lookup(&d, 0, "mx.example.org", 25), DANE_ON, "a route (no MX) needs no MX answer");
  secure_zone();
  is_int(dane_lookup(&d, "example.com", "mx.example.org", 25), DANE_NONE, "host not in the MX RRset: no DANE");
  secure_zone(); set("mx.example.org", ns_t_a, 0, 0);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_NONE, "A without AD: no DANE");
  secure_zone(); set("mx.example.org", ns_t_aaaa, NO_DATA, 0);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_NONE, "an unauthenticated NODATA for AAAA: no DANE");
  secure_zone(); set(TLSANAME, ns_t_tlsa, 0, 0);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_NONE, "TLSA without AD: no DANE");
  secure_zone(); set(TLSANAME, ns_t_tlsa, HOST_NOT_FOUND, 1);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_NONE, "authenticated NXDOMAIN for TLSA: no DANE");
  secure_zone(); set(TLSANAME, ns_t_tlsa, NO_DATA, 1);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_NONE, "authenticated NODATA for TLSA: no DANE");
  secure_zone(); set(TLSANAME, ns_t_tlsa, TRY_AGAIN, 1);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_TEMP, "SERVFAIL for TLSA: temporary");
  secure_zone(); set("example.org", ns_t_mx, TRY_AGAIN, 0);
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_TEMP, "SERVFAIL for MX: temporary");

  secure_zone(); zone[3].rdata = rd_pkix;
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_ON, "PKIX-only TLSA: DANE on");
  ok(d.n == 1 && d.usable == 0, "... with no usable record");
  is_int(dane_verify_pem(&d, 0, 0, "example.org", "mx.example.org"), DANE_UNAUTH, "... so TLS is enough, unauthenticated");

  secure_zone(); zone[3].rdata = rd_big; zone[3].rdlen = sizeof rd_big;
  rdns_tlsa("mx.example.org", 25, t, RDNS_TLSAMAX, &n);
  ok(n == 1 && t[0].toolong && t[0].len == 0 && !dane_usable(&t[0]), "an oversized record is kept, unusable");

  test_named();
  test_hook();

  secure_zone();
  rdns_init(0, 0);   /* resolv.conf, no trust-ad: AD not believed */
  is_int(dane_lookup(&d, "example.org", "mx.example.org", 25), DANE_NONE, "without control/dnsservers AD is not trusted");
  rdns_init("127.0.0.1", 9);
}

static void test_usable(void)
{
  struct rdns_tlsa r;
  memset(&r, 0, sizeof r);
  r.usage = 3; r.selector = 1; r.mtype = 1; r.len = 32;
  ok(dane_usable(&r), "3 1 1 usable");
  r.usage = 2; ok(dane_usable(&r), "2 1 1 usable");
  r.usage = 1; ok(!dane_usable(&r), "1 1 1 (PKIX-EE) unusable for SMTP");
  r.usage = 0; ok(!dane_usable(&r), "0 1 1 (PKIX-TA) unusable for SMTP");
  r.usage = 3; r.selector = 2; ok(!dane_usable(&r), "selector 2 unusable");
  r.selector = 0; r.mtype = 3; ok(!dane_usable(&r), "matching type 3 unusable");
  r.mtype = 1; r.len = 31; ok(!dane_usable(&r), "SHA-256 of 31 bytes unusable");
  r.mtype = 2; r.len = 32; ok(!dane_usable(&r), "SHA-512 of 32 bytes unusable");
  r.len = 64; ok(dane_usable(&r), "SHA-512 of 64 bytes usable");
  r.mtype = 0; r.len = 0; ok(!dane_usable(&r), "full data of 0 bytes unusable");
}

/* ---- certificates ------------------------------------------------------ */

static char dir[256];

static void sh(const char *cmd)
{
  if (system(cmd) != 0) { printf("Bail out! failed: %s\n", cmd); exit(2); }
}

/* mkcerts: a CA; leaves for mx.example.org (good, expired), one for
 * other.example.net, one for *.example.org, all signed by the CA; a second
 * CA with a leaf; the chains server-first. */
static void mkcerts(void)
{
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
    "cd %s && K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
    "for c in ca ca2; do openssl req -x509 $K -days 2 -subj /CN=$c -keyout $c.key -out $c.crt 2>/dev/null || exit 1; done && "
    "leaf() { printf 'subjectAltName=DNS:%%s\\n' \"$3\" > $1.ext && "
    "  openssl req -new $K -subj \"/CN=$3\" -keyout $1.key -out $1.csr 2>/dev/null && "
    "  openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -days $4 -extfile $1.ext -out $1.crt 2>/dev/null; } && "
    "leaf good ca mx.example.org 2 && leaf old ca mx.example.org -1 && leaf other ca other.example.net 2 && "
    "leaf wild ca '*.example.org' 2 && leaf bad ca2 mx.example.org 2 && "
    "cat good.crt ca.crt > good.pem && cat old.crt ca.crt > old.pem && cat other.crt ca.crt > other.pem && "
    "cat wild.crt ca.crt > wild.pem && cat good.crt ca2.crt > mixed.pem && cp good.crt leafonly.pem && "
    "cat bad.crt ca2.crt > bad.pem", dir);
  sh(cmd);
}

/* rec: a TLSA record for file f computed by openssl(1) */
static struct rdns_tlsa rec(int usage, int sel, int mtype, const char *f)
{
  struct rdns_tlsa r;
  char cmd[1024];
  FILE *p;
  unsigned x;
  const char *der = sel == 0 ? "openssl x509 -in %s/%s -outform DER"
                             : "openssl x509 -in %s/%s -noout -pubkey | openssl pkey -pubin -outform DER";
  char part[300];
  memset(&r, 0, sizeof r);
  r.usage = (unsigned char)usage; r.selector = (unsigned char)sel; r.mtype = (unsigned char)mtype;
  snprintf(part, sizeof part, der, dir, f);
  snprintf(cmd, sizeof cmd, "%s | %s od -An -tx1 -v", part,
           mtype == 0 ? "" : mtype == 1 ? "openssl dgst -sha256 -binary |" : "openssl dgst -sha512 -binary |");
  p = popen(cmd, "r");
  if (!p) { printf("Bail out! popen\n"); exit(2); }
  while (r.len < sizeof r.data && fscanf(p, "%x", &x) == 1) r.data[r.len++] = (unsigned char)x;
  if (pclose(p) != 0 || r.len == 0) { printf("Bail out! %s\n", cmd); exit(2); }
  return r;
}

static unsigned char pem[65536];
static size_t pemlen;

static void load(const char *f)
{
  char p[512];
  FILE *fp;
  snprintf(p, sizeof p, "%s/%s", dir, f);
  fp = fopen(p, "r");
  if (!fp) { printf("Bail out! %s\n", p); exit(2); }
  pemlen = fread(pem, 1, sizeof pem, fp);
  fclose(fp);
}

/* verify: chain file f against the one record r */
static int verify(const char *f, struct rdns_tlsa r, const char *domain, const char *host)
{
  struct dane d;
  memset(&d, 0, sizeof d);
  d.state = DANE_ON;
  d.n = 1;
  d.usable = 1;
  d.rec[0] = r;
  load(f);
  return dane_verify_pem(&d, pem, pemlen, domain, host);
}

#define MX "mx.example.org"

static void test_match(void)
{
  int s, m;
  char name[100];
  for (s = 0; s <= 1; ++s)
    for (m = 0; m <= 2; ++m) {
      snprintf(name, sizeof name, "DANE-EE 3 %d %d matches the server certificate", s, m);
      is_int(verify("good.pem", rec(3, s, m, "good.crt"), "example.org", MX), DANE_MATCH, name);
    }
  is_int(verify("good.pem", rec(3, 1, 1, "other.crt"), "example.org", MX), DANE_FAIL, "DANE-EE: another key does not match");
  is_int(verify("good.pem", rec(3, 0, 1, "ca.crt"), "example.org", MX), DANE_FAIL, "DANE-EE: the CA's digest does not match the server");
  is_int(verify("old.pem", rec(3, 1, 1, "old.crt"), "example.org", MX), DANE_MATCH, "DANE-EE: an expired certificate matches (dates not checked)");
  is_int(verify("other.pem", rec(3, 1, 1, "other.crt"), "example.org", MX), DANE_MATCH, "DANE-EE: another name matches (name not checked)");

  is_int(verify("good.pem", rec(2, 0, 1, "ca.crt"), "example.org", MX), DANE_MATCH, "DANE-TA 2 0 1: the CA sent in the chain");
  is_int(verify("good.pem", rec(2, 1, 1, "ca.crt"), "example.org", MX), DANE_MATCH, "DANE-TA 2 1 1: the CA's key");
  is_int(verify("good.pem", rec(2, 0, 2, "ca.crt"), "example.org", MX), DANE_MATCH, "DANE-TA 2 0 2");
  is_int(verify("good.pem", rec(2, 0, 1, "ca.crt"), "example.com", "mx.example.com"), DANE_FAIL, "DANE-TA: a name neither MX host nor domain fails");
  is_int(verify("good.pem", rec(2, 0, 1, "ca.crt"), MX, "mail.example.com"), DANE_MATCH, "DANE-TA: the next-hop domain's name is accepted");
  is_int(verify("good.pem", rec(2, 0, 1, "ca.crt"), 0, "MX.Example.ORG"), DANE_MATCH, "DANE-TA: names compared without case");
  is_int(verify("old.pem", rec(2, 0, 1, "ca.crt"), "example.org", MX), DANE_FAIL, "DANE-TA: an expired server certificate fails");
  is_int(verify("leafonly.pem", rec(2, 0, 1, "ca.crt"), "example.org", MX), DANE_FAIL, "DANE-TA: a CA not sent cannot match");
  is_int(verify("good.pem", rec(2, 0, 1, "ca2.crt"), "example.org", MX), DANE_FAIL, "DANE-TA: another CA does not match");
  is_int(verify("mixed.pem", rec(2, 0, 1, "ca2.crt"), "example.org", MX), DANE_FAIL, "DANE-TA: a matching CA that did not sign the server's certificate fails");
  is_int(verify("bad.pem", rec(2, 0, 1, "ca2.crt"), "example.org", MX), DANE_MATCH, "DANE-TA: ... and passes for the one it signed");
  is_int(verify("wild.pem", rec(2, 0, 1, "ca.crt"), "example.org", MX), DANE_MATCH, "DANE-TA: *.example.org names mx.example.org");
  is_int(verify("wild.pem", rec(2, 0, 1, "ca.crt"), "example.com", "a.mx.example.org"), DANE_FAIL, "DANE-TA: *.example.org does not name a.mx.example.org");
  is_int(verify("good.pem", rec(1, 0, 1, "good.crt"), "example.org", MX), DANE_FAIL, "PKIX-EE record never matches");

  {
    struct dane d;
    memset(&d, 0, sizeof d);
    d.state = DANE_ON; d.n = 2; d.usable = 2;
    d.rec[0] = rec(3, 1, 1, "other.crt");
    d.rec[1] = rec(3, 1, 1, "good.crt");
    load("good.pem");
    is_int(dane_verify_pem(&d, pem, pemlen, "example.org", MX), DANE_MATCH, "any one record matching is enough");
    is_int(dane_verify_pem(&d, (const unsigned char *)"garbage\n", 8, "example.org", MX), DANE_FAIL, "garbage instead of a chain fails");
    is_int(dane_verify_pem(&d, 0, 0, "example.org", MX), DANE_FAIL, "no chain fails");
    d.state = DANE_NONE;
    is_int(dane_verify_pem(&d, pem, pemlen, "example.org", MX), DANE_FAIL, "no TLSA state never matches");
  }
}

int main(void)
{
  char cmd[300];
  snprintf(dir, sizeof dir, "%s/dane-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir)) { printf("Bail out! mkdtemp\n"); return 2; }
  test_usable();
  test_lookup();
  mkcerts();
  test_match();
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  sh(cmd);
  return done_testing();
}
