/* tests/unit/tlsc.c: the client TLS module common/q_tlsc.c (a handshake
 * against a silent peer ends at its deadline, a peer that closes is EOF,
 * verify without a name and a missing CA file are refused before any
 * byte is sent) and qmail-remote's settings in hub/remote/rtls.c and hub/remote/rroute.c:
 * policy words, the tlsdestinations lookup order (domain, .suffix, relay,
 * default), smtproutes options (smtps, auth, auth-notls, SMTPS's port),
 * base64 (RFC 4648 vectors) and the scrubbing of secrets from replies.
 * The handshakes with real servers are in tests/sys/remotetls.t. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"
#include "q_tlsc.h"
#include "rroute.h"
#include "rtls.h"

static void handshakes(void)
{
  struct qtlsc t;
  struct qtlsc_opts o;
  struct io_limits lim = { 0, 300 };
  stralloc why = {0};
  int sv[2];
  long long t0;
  memset(&o, 0, sizeof o);
  o.servername = "mx.test";
  ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  t0 = io_now_ms();
  ok(qtlsc_connect(&t, sv[0], sv[0], &o, &lim, &why) < 0 && errno == ETIMEDOUT, "silent peer: ETIMEDOUT");
  ok(io_now_ms() - t0 >= 250 && io_now_ms() - t0 < 5000, "silent peer: the handshake deadline (300 ms) holds");
  ok(why.len && strstr(why.s, "timed out") != 0, "silent peer: why says timed out");
  qtlsc_free(&t, &lim);
  close(sv[1]);
  ok(qtlsc_connect(&t, sv[0], sv[0], &o, &lim, &why) < 0 && t.eof, "peer closed: EOF");
  qtlsc_free(&t, &lim);
  close(sv[0]);
  o.verify = 1;
  o.servername = 0;
  ok(qtlsc_connect(&t, -1, -1, &o, &lim, &why) < 0 && errno == EINVAL && strstr(why.s, "no name"),
     "verify without a name: refused before the handshake");
  qtlsc_free(&t, &lim);
  o.servername = "mx.test";
  o.cafile = "/nonexistent/ca.pem";
  ok(qtlsc_connect(&t, -1, -1, &o, &lim, &why) < 0 && errno == EINVAL && strstr(why.s, "/nonexistent/ca.pem"),
     "a missing CA file: refused, named");
  qtlsc_free(&t, &lim);
  ok(qtlsc_systemca() && *qtlsc_systemca() == '/', "a system CA bundle path");
  stralloc_free(&why);
}

static const char dests[] =
  "example.com:verify\0"
  ".example.org:encrypt\0"
  "relay.example.net:none\0"
  "bad.test:sometimes\0"
  ":may\0";

static void policies(void)
{
  int p = -1;
  is_int(rtls_policy_parse("none", 4), RTLS_NONE, "none");
  is_int(rtls_policy_parse(" Encrypt ", 9), RTLS_ENCRYPT, "Encrypt, blanks and case");
  is_int(rtls_policy_parse("dane", 4), RTLS_DANE, "dane");
  is_int(rtls_policy_parse("verify2", 7), -1, "unknown word");
  is_str(rtls_policy_name(RTLS_VERIFY), "verify", "name of verify");
  ok(rtls_lookup(dests, sizeof dests - 1, "example.com", 0, &p) == 0 && p == RTLS_VERIFY, "exact domain");
  ok(rtls_lookup(dests, sizeof dests - 1, "a.example.org", 0, &p) == 0 && p == RTLS_ENCRYPT, ".suffix");
  ok(rtls_lookup(dests, sizeof dests - 1, "x.test", "relay.example.net", &p) == 0 && p == RTLS_NONE,
     "the relay's line when the domain has none");
  ok(rtls_lookup(dests, sizeof dests - 1, "example.com", "relay.example.net", &p) == 0 && p == RTLS_VERIFY,
     "the domain's line before the relay's");
  ok(rtls_lookup(dests, sizeof dests - 1, "other.test", 0, &p) == 0 && p == RTLS_MAY, "the default line");
  ok(rtls_lookup("", 0, "other.test", 0, &p) == 0 && p == RTLS_MAY, "no file: may");
  ok(rtls_lookup(dests, sizeof dests - 1, "bad.test", 0, &p) < 0 && errno == EINVAL, "a bad word: error");
}

static void routes(void)
{
  struct rroute r;
  ok(rroute_parse("smtp.example.net:587:auth", 25, &r) == 0 && r.port == 587 && r.auth && !r.authnotls &&
     !r.smtps, "587 with auth");
  ok(rroute_parse("smtp.example.net::smtps,auth-notls", 34, &r) == 0 && r.port == 465 && r.smtps &&
     r.auth && r.authnotls, "smtps without a port: 465; auth-notls");
  ok(rroute_parse("[192.0.2.1]:25:smtps", 20, &r) == 0 && r.kind == RROUTE_LITERAL && r.smtps &&
     strcmp(r.name, "[192.0.2.1]") == 0, "a literal with options, its text kept");
  ok(rroute_parse("smtp.example.net:25:starttls", 28, &r) < 0, "an unknown option: error");
  ok(rroute_parse("smtp.example.net:25:auth,", 25, &r) < 0, "a trailing comma: error");
  ok(rroute_parse("smtp.example.net:2525", 21, &r) == 0 && r.port == 2525 && !r.smtps && !r.auth,
     "qmail's form: no options");
}

static void b64(void)
{
  static const char *const v[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
                                      { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
  size_t i;
  for (i = 0; i < sizeof v / sizeof v[0]; ++i) {
    stralloc o = {0};
    ok(rtls_b64(&o, v[i][0], strlen(v[i][0])) && o.len == strlen(v[i][1]) &&
       memcmp(o.s ? o.s : "", v[i][1], o.len) == 0, v[i][1][0] ? v[i][1] : "empty");
    stralloc_free(&o);
  }
}

static void scrub(void)
{
  char t[] = "535 bad credentials for AHVzZXIAcGFzcw== (pass) pass";
  const char *const s[] = { "pass", "AHVzZXIAcGFzcw==", "", 0 };
  rtls_scrub(t, s);
  is_str(t, "535 bad credentials for **************** (****) ****", "every form of the secret hidden");
}

int main(void)
{
  signal(SIGPIPE, SIG_IGN);   /* as in qmail-remote */
  handshakes();
  policies();
  routes();
  b64();
  scrub();
  return done_testing();
}
