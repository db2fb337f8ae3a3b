/* tests/unit/dkimsign.c: hub/remote/dkimsign.c. Relaxed canonicalization as RFC
 * 6376 sec 3.4 describes it (the sec 3.4.5 example among the cases), on
 * the body wherever the input is cut into chunks, LF or CRLF line ends
 * and the CR rule of rblast.h; the header block kept and the body split
 * off at the first empty line; dkim_domain; keys from control/dkim/
 * (none, bad, too many, a bad selector name, sorted); which stored
 * messages may be signed (dkim_eligible); the signature
 * field: the tags, h= with From oversigned, bh= of a known body, every
 * line within 78 columns; no From, a header over the cap. dkimpy checks
 * the signatures themselves (tests/sys/dkim.t). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "tap.h"
#include "dkimsign.h"

static int collect(void *ctx, const char *s, size_t n)
{
  return stralloc_catb((stralloc *)ctx, s, n);
}

/* body: the canonical body of the message m fed to dkimsign_put cut at
 * every place (two chunks); same: every cut gave the same bytes. */
static void body(const char *m, const char *want, const char *name)
{
  size_t len = strlen(m), cut;
  int same = 1;
  stralloc out = {0}, first = {0};
  for (cut = 0; cut <= len; ++cut) {
    struct dkimsign d;
    const char *why;
    struct dkim_keys none = {0};
    stralloc sig = {0};
    out.len = 0;
    dkimsign_start(&d);
    d.body.out = collect;
    d.body.ctx = &out;
    dkimsign_put(&d, m, cut);
    dkimsign_put(&d, m + cut, len - cut);
    dkimsign_finish(&d, &none, 0, "\n", &sig, &why);
    dkimsign_free(&d);
    stralloc_free(&sig);
    if (cut == 0) stralloc_copy(&first, &out);
    else if (out.len != first.len || (out.len && memcmp(out.s, first.s, out.len))) same = 0;
  }
  is_sa(first, want, name);
  ok(same, "  every chunking gives the same bytes");
  stralloc_free(&out);
  stralloc_free(&first);
}

static void field(const char *f, const char *want, const char *name)
{
  stralloc out = {0};
  ok(dkim_relaxed_field(&out, f, strlen(f)), name);
  is_sa(out, want, name);
  stralloc_free(&out);
}

static void test_canon(void)
{
  /* RFC 6376 sec 3.4.5: the example's header and body, relaxed */
  field("A: X", "a:X\r\n", "header example: A: X");
  field("B : Y\t\r\n\tZ  ", "b:Y Z\r\n", "header example: B : Y<TAB><CRLF><TAB>Z");
  body("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n",
       "body example (CRLF)");
  body("A: X\nB : Y\t\n\tZ  \n\n C \nD \t E\n\n\n", " C\r\nD E\r\n", "body example (LF)");
  field("Subject:   several   words\n   folded \n\there\t ", "subject:several words folded here\r\n",
        "unfolded, WSP runs one SP, trailing WSP gone");
  field("SUBJECT:", "subject:\r\n", "name lower-cased, empty value");
  field("X-8bit: caf\xc3\xa9  \xff", "x-8bit:caf\xc3\xa9 \xff\r\n", "8-bit bytes kept");
  { stralloc o = {0}; ok(!dkim_relaxed_field(&o, "no colon", 8), "a line without colon is no field"); stralloc_free(&o); }

  body("From: a\n\n", "", "empty body: nothing");
  body("From: a\n", "", "no body at all: nothing");
  body("From: a\n\n\n\n \t \n\n", "", "only empty and blank lines: nothing");
  body("From: a\n\nlast line", "last line\r\n", "a last line without line end gets CRLF");
  body("From: a\n\nx  \t\n\n\ny\n\n", "x\r\n\r\n\r\ny\r\n", "inner empty lines kept, trailing ones dropped");
  body("From: a\n\n\tindented\n", " indented\r\n", "leading WSP: one SP");
  body("From: a\n\na\rb\r\n", "a b\r\n", "a lone CR is a space (as rblast sends it)");
  body("From: a\n\nend\r", "end\r\n", "a CR at the very end: a space, dropped at the line end");
  body("From: a\r\n\r\n8bit \xe9\xe8\r\n", "8bit \xe9\xe8\r\n", "8-bit body bytes kept");
}

/* one long line: canonical output in pieces, memory fixed */
static void test_stream(void)
{
  struct dkim_body b;
  stralloc out = {0};
  size_t i;
  char chunk[1000];
  memset(chunk, 'x', sizeof chunk);
  dkim_body_start(&b, collect, &out);
  for (i = 0; i < 3000; ++i) dkim_body_put(&b, chunk, sizeof chunk);
  for (i = 0; i < 100000; ++i) dkim_body_put(&b, "\n", 1);
  ok(dkim_body_end(&b), "3 MB line and 100,000 empty lines");
  is_int(out.len, 3000 * 1000 + 2, "  one line, one CRLF");
  stralloc_free(&out);
}

static void test_domain(void)
{
  char d[DKIM_DOMMAX + 1];
  ok(dkim_domain("alice@Example.ORG", d) && !strcmp(d, "example.org"), "domain lower-cased");
  ok(dkim_domain("a@b@sub.example.org", d) && !strcmp(d, "sub.example.org"), "after the last @");
  ok(!dkim_domain("", d), "empty sender: none");
  ok(!dkim_domain("#@[]", d), "double bounce: none");
  ok(!dkim_domain("alice", d), "no @: none");
  ok(!dkim_domain("a@../etc", d), "a path: none");
  ok(!dkim_domain("a@x/y", d), "a slash: none");
  ok(!dkim_domain("a@example..org", d), "an empty label: none");
  ok(!dkim_domain("a@[1.2.3.4]", d), "an address literal: none");
}

static int elig(const char *s) { return dkim_eligible(s, strlen(s)); }

static void test_eligible(void)
{
  const char *q = "Received: (qmail 1 invoked by uid 1000 id 1.2.3); Mon, 7 Dec 2026 10:00:00 +0000\n";
  const char *n = "Received: (qmail 1 invoked from network id 1.2.3); Mon, 7 Dec 2026 10:00:00 +0000\n";
  stralloc m = {0};
#define E(first, rest, want, name) \
  do { stralloc_copys(&m, first); stralloc_cats(&m, rest); is_int(dkim_eligible(m.s, m.len), want, name); } while (0)
  E(q, "From: a@example.org\nSubject: x\n\nbody\n", 1, "local injection: yes");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTPA; Mon, 7 Dec 2026\nFrom: a\n\n", 1,
    "authenticated (ESMTPA): yes");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTPSA (TLSv1.3 x); Mon, 7 Dec 2026\n\n", 1,
    "authenticated over TLS (ESMTPSA): yes");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTP (relay client); Mon\n\n", 1,
    "relay client: yes");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTPS (TLSv1.3 x) (relay client); Mon\n\n", 1,
    "relay client over TLS: yes");
  E(n, "Received: from 1.2.3.4 (HELO leaf) ([1.2.3.4])\n  by hub with QMQP; Mon\n\n", 1,
    "a trusted leaf (QMQP): yes");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with QMTP (relay client); Mon\n\n", 1,
    "QMTP relay client: yes");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTP; Mon, 7 Dec 2026\n\n", 0,
    "an unauthenticated client: no");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTPS (TLSv1.3 x); Mon\n\n", 0,
    "an unauthenticated client over TLS: no");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with QMTP; Mon\n\n", 0, "QMTP from another hub: no");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTP; Mon, 7 Dec (relay client)\n\n", 0,
    "the mark after the ';' does not count");
  E(n, "Received: from h (h [1.2.3.4])\n  by hub with ESMTP; Mon\nReceived: from x by y with ESMTPA; z\n\n", 0,
    "a client's own Received line does not count");
  E(q, "Received: from h (h [1.2.3.4])\n  by hub with SMTP; Mon\n\n", 0,
    "single-user mode: the server's line decides (no)");
  E(q, "Delivered-To: bob@example.org\nFrom: a@example.org\n\n", 0, "a forward (Delivered-To): no");
  E(q, "Return-Path: <a@example.org>\nDelivered-To: b@example.org\n\n", 0,
    "a .qmail program re-injecting (Return-Path): no");
  E(n, "From: a@example.org\n\n", 0, "from the network without a server's line: no");
  E("Received: (qmail 1 invoked for bounce id 1.2.3); Mon\n", "From: MAILER-DAEMON\n\n", 0, "a bounce: no");
  E("Received: (qmail 1 invoked by alias id 1.2.3); Mon\n", "From: a@example.org\n\n", 0,
    "forwarded by the alias user: no");
  ok(!elig("From: a@example.org\n\n"), "not a queue file: no");
  ok(!elig(""), "empty: no");
  stralloc_free(&m);
#undef E
}

static char home[] = "/tmp/dkimsign-unit.XXXXXX";

static void writefile(const char *rel, const char *text)
{
  char p[512];
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", home, rel);
  f = fopen(p, "w");
  if (f) { fputs(text, f); fclose(f); }
}

static void writekey(const char *rel, int type, int bits)
{
  char p[512];
  EVP_PKEY *k = type == EVP_PKEY_RSA ? EVP_RSA_gen((unsigned)bits) : EVP_PKEY_Q_keygen(0, 0, "ED25519");
  FILE *f;
  snprintf(p, sizeof p, "%s/%s", home, rel);
  f = fopen(p, "w");
  if (f && k) PEM_write_PrivateKey(f, k, 0, 0, 0, 0, 0);
  if (f) fclose(f);
  EVP_PKEY_free(k);
}

static void mkd(const char *rel)
{
  char p[512];
  snprintf(p, sizeof p, "%s/%s", home, rel);
  mkdir(p, 0700);
}

static void test_keys(void)
{
  struct dkim_keys ks = {0};
  ok(mkdtemp(home) != 0, "a home");
  setenv("QMAILHOME", home, 1);
  mkd("control"); mkd("control/dkim");
  is_int(dkim_loadkeys(&ks, "example.org"), 0, "no directory: no key");
  mkd("control/dkim/example.org");
  is_int(dkim_loadkeys(&ks, "example.org"), 0, "empty directory: no key");
  writefile("control/dkim/example.org/README", "not a key\n");
  is_int(dkim_loadkeys(&ks, "example.org"), 0, "other files ignored");
  writefile("control/dkim/example.org/bad.key", "garbage\n");
  is_int(dkim_loadkeys(&ks, "example.org"), -1, "a file that is no key: refused");
  ok(ks.why && strstr(ks.why, "PEM") && strstr(ks.file.s, "/control/dkim/example.org/bad.key"),
     "  named, with the reason");
  writekey("control/dkim/example.org/bad.key", EVP_PKEY_RSA, 512);
  is_int(dkim_loadkeys(&ks, "example.org"), -1, "RSA 512: refused");
  writekey("control/dkim/example.org/zed.key", EVP_PKEY_ED25519, 0);
  writekey("control/dkim/example.org/bad.key", EVP_PKEY_RSA, 2048);
  is_int(dkim_loadkeys(&ks, "example.org"), 2, "RSA 2048 and Ed25519");
  ok(!strcmp(ks.k[0].selector, "bad") && !ks.k[0].ed25519 && !strcmp(ks.k[1].selector, "zed") &&
     ks.k[1].ed25519, "  in name order, types known");
  dkim_freekeys(&ks);
  writefile("control/dkim/example.org/a b.key", "x");
  is_int(dkim_loadkeys(&ks, "example.org"), -1, "a selector that is no DNS label: refused");
  {
    char p[512];
    snprintf(p, sizeof p, "%s/control/dkim/example.org/a b.key", home);
    unlink(p);
  }
  stralloc_free(&ks.file);
}

/* lines: every line of s within DKIM_WIDTH columns (a tab as 8) */
static int narrow(const stralloc *s)
{
  size_t i, col = 0;
  for (i = 0; i < s->len; ++i) {
    if (s->s[i] == '\n') { col = 0; continue; }
    col += s->s[i] == '\t' ? 8 : 1;
    if (col > DKIM_WIDTH) return 0;
  }
  return 1;
}

static int sign(const char *m, const struct dkim_keys *ks, stralloc *out, const char **why)
{
  struct dkimsign d;
  int r;
  out->len = 0;
  dkimsign_start(&d);
  dkimsign_put(&d, m, strlen(m));
  r = dkimsign_finish(&d, ks, 1796650000, "\n", out, why);
  dkimsign_free(&d);
  return r;
}

static void test_sign(void)
{
  struct dkim_keys ks = {0};
  stralloc out = {0}, m = {0};
  const char *why;
  char *p;
  size_t i;
  is_int(dkim_loadkeys(&ks, "example.org"), 2, "the keys again");
  is_int(sign("From: a@example.org\nTo: b@example.net\nTo: c@example.net\nSubject: s\n"
              "X-Other: o\n\n", &ks, &out, &why), 1, "signed");
  ok(strstr(out.s, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=bad;") == out.s,
     "the RSA field first (name order), its tags");
  p = strstr(out.s + 1, "DKIM-Signature: v=1; a=ed25519-sha256;");
  ok(p != 0, "then the Ed25519 field");
  ok(strstr(out.s, "t=1796650000;") != 0, "t= the time given");
  ok(strstr(out.s, "h=from:subject:to:to:from;") != 0, "h=: both To, From oversigned, X-Other not");
  ok(strstr(out.s, "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;") != 0,
     "bh= of the empty body (SHA-256 of nothing)");
  ok(narrow(&out), "every line within 78 columns");
  ok(out.s[out.len - 1] == '\n' && out.s[out.len - 2] != '\r', "LF line ends asked, LF given");

  is_int(sign("To: b@example.net\nSubject: s\n\nbody\n", &ks, &out, &why), 0, "no From: not signed");
  ok(why && strstr(why, "From"), "  said why");
  is_int(out.len, 0, "  nothing written");

  stralloc_copys(&m, "From: a@example.org\n");
  for (i = 0; m.len <= DKIM_HEADMAX; ++i) stralloc_cats(&m, "X-Filler: 0123456789012345678901234567890123456789\n");
  stralloc_cats(&m, "\nbody\n");
  stralloc_0(&m);
  is_int(sign(m.s, &ks, &out, &why), 0, "a header over 256 KB: not signed");

  stralloc_copys(&m, "From: a@example.org\nSubject: ");
  for (i = 0; i < 100; ++i) stralloc_cats(&m, "word ");
  stralloc_cats(&m, "\nTo: b@example.net\nCc: c@example.net\nDate: x\nMessage-ID: <x@y>\n"
                    "Reply-To: r@example.org\nMIME-Version: 1.0\nContent-Type: text/plain\n"
                    "In-Reply-To: <a@b>\nReferences: <a@b>\nSender: s@example.org\n\nb\n");
  stralloc_0(&m);
  is_int(sign(m.s, &ks, &out, &why), 1, "many fields: signed");
  ok(narrow(&out), "  a long h= folded within 78 columns");
  dkim_freekeys(&ks);
  stralloc_free(&ks.file);
  stralloc_free(&out);
  stralloc_free(&m);
}

int main(void)
{
  test_canon();
  test_stream();
  test_domain();
  test_eligible();
  test_keys();
  test_sign();
  {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0) ok(0, "cleanup");
  }
  return done_testing();
}
