/* tests/unit/smtpauth.c: TAP tests for the pieces of hub/servers/smtpauth.c,
 * qmail-smtpd's AUTH: the strict base64 decoder (RFC 4648 test vectors;
 * a wrong length, a byte outside the alphabet, '=' inside, unused bits set
 * are all invalid), the PLAIN message split (authzid empty or the authcid,
 * exactly two NULs, no empty authcid), which client addresses are
 * loopback, control/authsenders matching and the growing delay. */
#include <string.h>
#include "tap.h"
#include "stralloc.h"
#include "smtpauth.h"

static void b64(const char *in, int want, const char *out, size_t outlen)
{
  stralloc sa = {0, 0, 0};
  int r = smtpauth_b64(&sa, in, strlen(in));
  is_int(r, want, in);
  if (want == 1) ok(sa.len == outlen && (outlen == 0 || memcmp(sa.s, out, outlen) == 0), in);
  stralloc_free(&sa);
}

static void test_b64(void)
{
  b64("", 1, "", 0);
  b64("Zg==", 1, "f", 1);
  b64("Zm8=", 1, "fo", 2);
  b64("Zm9v", 1, "foo", 3);
  b64("Zm9vYg==", 1, "foob", 4);
  b64("Zm9vYmE=", 1, "fooba", 5);
  b64("Zm9vYmFy", 1, "foobar", 6);
  b64("AHVzZXIAcGFzcw==", 1, "\0user\0pass", 10);
  b64("+/+/", 1, "\xfb\xff\xbf", 3);
  b64("Zm9", 0, 0, 0);          /* not a multiple of 4 */
  b64("Zm9vY", 0, 0, 0);
  b64("Zm=v", 0, 0, 0);         /* '=' inside */
  b64("Z===", 0, 0, 0);
  b64("====", 0, 0, 0);
  b64("Zm9v====", 0, 0, 0);
  b64("Zh==", 0, 0, 0);         /* unused bits set */
  b64("Zm9=", 0, 0, 0);
  b64("Zm9v\r\n", 0, 0, 0);
  b64("Zm 9", 0, 0, 0);
  b64("Zm-_", 0, 0, 0);         /* the URL alphabet is not this one */
  b64("ab=c", 0, 0, 0);
  b64("Zm9v\x80\x80\x80\x80", 0, 0, 0);
}

static void plain(const char *m, size_t n, int want, const char *u, const char *p, const char *name)
{
  size_t a = 0, al = 0, b = 0, bl = 0;
  int r = smtpauth_plain(m, n, &a, &al, &b, &bl);
  is_int(r, want, name);
  if (want) {
    is_mem(m + a, al, u, name);
    is_mem(m + b, bl, p, name);
  }
}

static void test_plain(void)
{
  plain("\0user\0pass", 10, 1, "user", "pass", "no authzid");
  plain("user\0user\0pass", 14, 1, "user", "pass", "authzid = authcid");
  plain("other\0user\0pass", 15, 0, 0, 0, "authzid another user: refused");
  plain("use\0user\0pass", 13, 0, 0, 0, "authzid a prefix of authcid: refused");
  plain("\0\0pass", 6, 0, 0, 0, "empty authcid");
  plain("\0user\0", 6, 1, "user", "", "empty password splits (checkpassword refuses)");
  plain("\0user\0pa\0ss", 11, 0, 0, 0, "a third NUL");
  plain("userpass", 8, 0, 0, 0, "no NUL");
  plain("\0userpass", 9, 0, 0, 0, "one NUL");
}

static void test_loopback(void)
{
  ok(smtpauth_loopback("127.0.0.1"), "127.0.0.1 is loopback");
  ok(smtpauth_loopback("127.0.0.2"), "127.0.0.2 is loopback");
  ok(smtpauth_loopback("::1"), "::1 is loopback");
  ok(smtpauth_loopback("::ffff:127.0.0.1"), "::ffff:127.0.0.1 is loopback");
  ok(!smtpauth_loopback("192.0.2.1"), "192.0.2.1 is not");
  ok(!smtpauth_loopback("1127.0.0.1"), "1127.0.0.1 is not");
  ok(!smtpauth_loopback("::2"), "::2 is not");
  ok(!smtpauth_loopback("::ffff:10.0.0.1"), "::ffff:10.0.0.1 is not");
  ok(!smtpauth_loopback(""), "empty is not");
  ok(!smtpauth_loopback(0), "unset is not");
}

static void test_senders(void)
{
  stralloc l = {0, 0, 0};
  static const char list[] = "alice: alice@example.org @alice.example\0bob:bob@example.org\0"
                             "al: al@example.org\0";
  stralloc_copyb(&l, list, sizeof list - 1);
  ok(smtpauth_sender(&l, "alice", "alice@example.org", 17), "own address");
  ok(smtpauth_sender(&l, "alice", "ALICE@Example.ORG", 17), "case does not matter");
  ok(smtpauth_sender(&l, "alice", "x@alice.example", 15), "@domain");
  ok(!smtpauth_sender(&l, "alice", "x@sub.alice.example", 19), "@domain is not its subdomains");
  ok(!smtpauth_sender(&l, "alice", "bob@example.org", 15), "another's address");
  ok(!smtpauth_sender(&l, "alice", "al@example.org", 14), "the login 'al' is not 'alice'");
  ok(!smtpauth_sender(&l, "al", "alice@example.org", 17), "the login 'alice' is not 'al'");
  ok(smtpauth_sender(&l, "bob", "bob@example.org", 15), "no blank after the colon");
  ok(!smtpauth_sender(&l, "carol", "carol@example.org", 17), "a login with no line: nothing");
  ok(smtpauth_sender(&l, "carol", "", 0), "<> always");
  ok(!smtpauth_sender(&l, "alice", "alice@example.orgx", 18), "no prefix match");
  stralloc_free(&l);
}

static void test_delay(void)
{
  is_int(smtpauth_delay(1000, 1), 1000, "first failure: the base");
  is_int(smtpauth_delay(1000, 2), 2000, "second: twice");
  is_int(smtpauth_delay(1000, 3), 4000, "third: four times");
  is_int(smtpauth_delay(1000, 10), SMTPAUTH_MAXDELAY, "capped");
  is_int(smtpauth_delay(1000, 1000000), SMTPAUTH_MAXDELAY, "capped, many failures");
  is_int(smtpauth_delay(0, 5), 0, "base 0: none");
  is_int(smtpauth_delay(999999999, 1), SMTPAUTH_MAXDELAY, "a huge base: capped");
}

int main(void)
{
  test_b64();
  test_plain();
  test_loopback();
  test_senders();
  test_delay();
  return done_testing();
}
