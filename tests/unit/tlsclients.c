/* tests/unit/tlsclients.c: TAP tests for hub/servers/tlsclients.c (control/
 * tlsclients). Certificates are made at run time with openssl(1) in a
 * temporary home ($QMAILHOME):
 *   parse: sha256: with and without ':', either case, the keyword in
 *     capitals; wrong length, a bad digit, a misplaced ':', an unknown
 *     keyword, "ca:" without a file: each refused with the item's number
 *   tlsclients_fp: libtls's "SHA256:hex" matched; another one, a short
 *     one, NULL not
 *   ca: a file relative to control/ and an absolute one; missing,
 *     garbage, empty: refused; a chain issued by the CA verifies (leaf
 *     alone and with an intermediate); a self-signed certificate, one
 *     from another CA, an expired one, a CA certificate without
 *     digitalSignature (no TLS client) do not; garbage PEM is "no"
 *   load: a missing file is 0 and lists nothing; an unreadable one -1 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "tlsclients.h"

static char home[256], ctl[300];

static void sh(const char *cmd)
{
  if (system(cmd) != 0) { printf("Bail out! failed: %s\n", cmd); exit(2); }
}

static void mkcerts(void)
{
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "exec 2>/dev/null; cd %s && K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes' && "
           "openssl req -x509 $K -days 2 -subj /CN=self -keyout self.key -out self.crt && "
           "for c in ca other; do openssl req -x509 $K -days 2 -subj /CN=$c -keyout $c.key -out $c.crt "
           "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign || exit 1; done && "
           "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=keyCertSign\\n' > ca.ext && "
           "openssl req $K -subj /CN=mid -keyout mid.key -out mid.csr && "
           "openssl x509 -req -in mid.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
           "-extfile ca.ext -out mid.crt && "
           "for l in leaf:ca deep:mid alien:other; do n=${l%%:*} i=${l#*:}; "
           "openssl req $K -subj /CN=$n -keyout $n.key -out $n.csr && "
           "openssl x509 -req -in $n.csr -CA $i.crt -CAkey $i.key -CAcreateserial -days 2 -out $n.crt "
           "|| exit 1; done && "
           "openssl req $K -subj /CN=old -keyout old.key -out old.csr && "
           "openssl x509 -req -in old.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
           "-days -1 -out old.crt && "
           "cat deep.crt mid.crt > deepchain.pem && cp ca.crt control/clientca.pem && "
           "printf 'junk\\n' > control/junk.pem && : > control/empty.pem",
           home);
  sh(cmd);
}

/* parse: the items of text (one per line) into a fresh tc */
static int parse(struct tlsclients *tc, const char *text, stralloc *why)
{
  stralloc items = {0};
  int r;
  memset(tc, 0, sizeof *tc);
  for (; *text; ++text)
    if (!stralloc_append(&items, *text == '\n' ? "" : text)) return -2;
  why->len = 0;
  r = tlsclients_parse(tc, items.s, items.len, why);
  stralloc_free(&items);
  return r;
}

static int has(const stralloc *sa, const char *s)
{
  return sa->len && memmem(sa->s, sa->len, s, strlen(s)) != 0;
}

/* fp_of: "SHA256:hex" of a certificate, as libtls prints it */
static void fp_of(char *out, size_t n, const char *crt, int colons)
{
  char cmd[600];
  FILE *f;
  snprintf(cmd, sizeof cmd,
           "openssl x509 -noout -fingerprint -sha256 -in %s/%s | sed 's/.*=//%s'", home, crt,
           colons ? "" : ";s/://g;y/ABCDEF/abcdef/");
  f = popen(cmd, "r");
  if (!f || !fgets(out, (int)n, f)) { printf("Bail out! %s\n", cmd); exit(2); }
  pclose(f);
  out[strcspn(out, "\n")] = 0;
}

static void test_fp(void)
{
  struct tlsclients tc;
  stralloc why = {0};
  char hex[200], col[200], line[600], libtls[300];
  fp_of(hex, sizeof hex, "self.crt", 0);
  fp_of(col, sizeof col, "self.crt", 1);
  snprintf(libtls, sizeof libtls, "SHA256:%s", hex);
  snprintf(line, sizeof line, "sha256:%s\n", col);
  is_int(parse(&tc, line, &why), 0, "sha256: with ':' between pairs (openssl's form)");
  ok(tlsclients_fp(&tc, libtls), "  matches libtls's SHA256:hex");
  tlsclients_free(&tc);
  snprintf(line, sizeof line, "SHA256:%s\n", hex);
  is_int(parse(&tc, line, &why), 0, "SHA256: in capitals, digits unseparated");
  ok(tlsclients_fp(&tc, libtls), "  matches");
  libtls[10] = libtls[10] == '0' ? '1' : '0';
  ok(!tlsclients_fp(&tc, libtls), "  another fingerprint does not");
  ok(!tlsclients_fp(&tc, "SHA256:00"), "  a short one does not");
  ok(!tlsclients_fp(&tc, 0), "  NULL does not");
  tlsclients_free(&tc);

  snprintf(line, sizeof line, "sha256:%s\nsha256:%.62s\n", hex, hex);
  is_int(parse(&tc, line, &why), -1, "62 hex digits: refused");
  ok(has(&why, "item 2: sha256: wants 64 hex digits"), "  the reason names item 2");
  tlsclients_free(&tc);
  snprintf(line, sizeof line, "sha256:%.63sg\n", hex);
  is_int(parse(&tc, line, &why), -1, "a bad digit: refused");
  tlsclients_free(&tc);
  snprintf(line, sizeof line, "sha256::%s\n", hex);
  is_int(parse(&tc, line, &why), -1, "a ':' before the first pair: refused");
  tlsclients_free(&tc);
  snprintf(line, sizeof line, "sha256:%s0\n", hex);
  is_int(parse(&tc, line, &why), -1, "65 digits: refused");
  tlsclients_free(&tc);
  is_int(parse(&tc, "md5:00\n", &why), -1, "an unknown keyword: refused");
  ok(has(&why, "item 1: neither sha256:HEX nor ca:FILE"), "  with the reason");
  tlsclients_free(&tc);
  is_int(parse(&tc, "ca:\n", &why), -1, "ca: without a file: refused");
  tlsclients_free(&tc);
  stralloc_free(&why);
}

/* pem: a file of home as a string (static) */
static const char *pem(const char *name, size_t *len)
{
  static char buf[16384];
  char p[512];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", home, name);
  f = fopen(p, "r");
  if (!f) { printf("Bail out! %s\n", p); exit(2); }
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

static int ca_ok(const struct tlsclients *tc, const char *name)
{
  size_t len;
  const char *s = pem(name, &len);
  return tlsclients_ca(tc, s, len);
}

static void test_ca(void)
{
  struct tlsclients tc;
  stralloc why = {0};
  char line[600];
  is_int(parse(&tc, "ca:clientca.pem\n", &why), 0, "ca: a file relative to control/");
  is_int(ca_ok(&tc, "leaf.crt"), 1, "  a certificate issued by the CA verifies");
  is_int(ca_ok(&tc, "deepchain.pem"), 1, "  one under an intermediate the client sends verifies");
  is_int(ca_ok(&tc, "deep.crt"), 0, "  the same without the intermediate does not");
  is_int(ca_ok(&tc, "self.crt"), 0, "  a self-signed one does not");
  is_int(ca_ok(&tc, "alien.crt"), 0, "  one from another CA does not");
  is_int(ca_ok(&tc, "old.crt"), 0, "  an expired one does not");
  is_int(ca_ok(&tc, "ca.crt"), 0, "  the CA's own (keyUsage keyCertSign: no TLS client) does not");
  is_int(tlsclients_ca(&tc, "garbage", 7), 0, "  garbage PEM is a no");
  ok(!tlsclients_fp(&tc, "SHA256:00"), "  and no fingerprint is listed");
  tlsclients_free(&tc);

  snprintf(line, sizeof line, "ca:%s/mid.crt\n", home);
  is_int(parse(&tc, line, &why), 0, "ca: an absolute path (an intermediate as the anchor)");
  is_int(ca_ok(&tc, "deep.crt"), 1, "  a certificate under it verifies");
  is_int(ca_ok(&tc, "leaf.crt"), 0, "  one from its issuer does not");
  tlsclients_free(&tc);

  is_int(parse(&tc, "ca:nosuch.pem\n", &why), -1, "ca: a missing file: refused");
  ok(has(&why, "item 1: cannot read ca: file: "), "  with the reason");
  tlsclients_free(&tc);
  is_int(parse(&tc, "ca:junk.pem\n", &why), -1, "ca: a file without a certificate: refused");
  ok(has(&why, "no certificate in ca: file junk.pem"), "  with the reason");
  tlsclients_free(&tc);
  is_int(parse(&tc, "ca:empty.pem\n", &why), -1, "ca: an empty file: refused");
  tlsclients_free(&tc);
  is_int(tlsclients_ca(&tc, "x", 1), 0, "no ca: line: a chain is a no");
  stralloc_free(&why);
}

static void test_load(void)
{
  struct tlsclients tc;
  stralloc why = {0};
  char p[512];
  FILE *f;
  memset(&tc, 0, sizeof tc);
  is_int(tlsclients_load(&tc, &why), 0, "load: no control/tlsclients is 0");
  is_int((int)tc.fps.len, 0, "  and lists nothing");
  snprintf(p, sizeof p, "%s/tlsclients", ctl);
  f = fopen(p, "w");
  if (!f) exit(2);
  fputs("# comment\n\nca:clientca.pem\n", f);
  fclose(f);
  is_int(tlsclients_load(&tc, &why), 1, "load: a file with a comment, a blank line, a ca: line");
  is_int(ca_ok(&tc, "leaf.crt"), 1, "  its CA is used");
  tlsclients_free(&tc);
  if (geteuid() != 0) {
    chmod(p, 0);
    memset(&tc, 0, sizeof tc);
    is_int(tlsclients_load(&tc, &why), -1, "load: an unreadable file is -1");
    ok(has(&why, "ermission denied"), "  with the reason");
  } else {
    ok(1, "# skip load: unreadable (root reads anything)");
    ok(1, "# skip");
  }
  stralloc_free(&why);
}

int main(void)
{
  char cmd[600];
  snprintf(home, sizeof home, "/tmp/tlsclients.XXXXXX");
  if (!mkdtemp(home)) return 2;
  snprintf(ctl, sizeof ctl, "%s/control", home);
  if (mkdir(ctl, 0700) < 0) return 2;
  setenv("QMAILHOME", home, 1);
  mkcerts();
  test_fp();
  test_ca();
  test_load();
  snprintf(cmd, sizeof cmd, "rm -rf %s", home);
  sh(cmd);
  return done_testing();
}
