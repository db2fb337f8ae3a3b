/* tests/unit/received.c: TAP tests for hub/servers/received.c, the local
 * name and the Received line of qmail-smtpd, qmail-qmtpd and qmail-qmqpd:
 *  - srvname_read over a temporary home ($QMAILHOME): control/me; without
 *    it the first word of control/smtpgreeting; the greeting defaults to
 *    me, localiphost to me; "by" is $TCPLOCALHOST unless unset, empty or
 *    "0", else me, else "unknown"; the netstring servers do not read
 *    smtpgreeting or localiphost while me exists; a file present but
 *    unreadable (a directory) fails with its name, never the default
 *  - the protocol names SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, QMTP, QMTPS,
 *    QMQP, UTF8SMTP[S][A] (RFC 6531), the TLS description, the relay-client mark (not after AUTH)
 *  - the plain line, IPv6 addresses, and that a HELO, host, ident, IP or
 *    local name holding CR, LF, ESC, DEL, TAB, 8-bit bytes or spaces comes
 *    out as '?' (the line stays two lines, no control byte but the two
 *    newlines), each part cut at 255 bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "stralloc.h"
#include "dkimsign.h"
#include "received.h"

static char home[] = "/tmp/qrcvXXXXXX";

static void put(const char *name, const char *text)
{
  char p[256];
  FILE *f;
  snprintf(p, sizeof p, "%s/control/%s", home, name);
  f = fopen(p, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) { perror("put"); exit(2); }
}

static void del(const char *name)
{
  char p[256];
  snprintf(p, sizeof p, "%s/control/%s", home, name);
  if (unlink(p) < 0 && rmdir(p) < 0 && errno != ENOENT) { perror("del"); exit(2); }
}

static void mkd(const char *name)
{
  char p[256];
  snprintf(p, sizeof p, "%s/control/%s", home, name);
  if (mkdir(p, 0755) < 0) { perror("mkd"); exit(2); }
}

/* names: srvname_read(want) into a fresh struct; "" on failure */
static struct srvname n;
static const char *failed;
static int names(int want)
{
  stralloc_free(&n.me);
  stralloc_free(&n.greeting);
  stralloc_free(&n.localiphost);
  memset(&n, 0, sizeof n);
  failed = "";
  return srvname_read(&n, want, &failed);
}

static void test_names(void)
{
  char p[256];
  if (!mkdtemp(home) || (snprintf(p, sizeof p, "%s/control", home), mkdir(p, 0755)) < 0) {
    perror("home");
    exit(2);
  }
  setenv("QMAILHOME", home, 1);
  unsetenv("TCPLOCALHOST");
  put("me", "hub.example.org  \n");
  ok(names(SRVNAME_SMTP) == 0, "me alone: read");
  is_str(n.me.s, "hub.example.org", "me: control/me, trailing blanks cut");
  is_str(n.greeting.s, "hub.example.org", "greeting defaults to me");
  is_str(n.localiphost.s, "hub.example.org", "localiphost defaults to me");
  is_str(n.by, "hub.example.org", "by: me without TCPLOCALHOST");
  setenv("TCPLOCALHOST", "0", 1);
  names(SRVNAME_ME);
  is_str(n.by, "hub.example.org", "by: me when TCPLOCALHOST is 0 (the fork server)");
  setenv("TCPLOCALHOST", "", 1);
  names(SRVNAME_ME);
  is_str(n.by, "hub.example.org", "by: me when TCPLOCALHOST is empty");
  setenv("TCPLOCALHOST", "mx.example.org", 1);
  names(SRVNAME_ME);
  is_str(n.by, "mx.example.org", "by: TCPLOCALHOST when set");
  unsetenv("TCPLOCALHOST");

  put("smtpgreeting", "gate.example.org welcome here\n");
  put("localiphost", "lip.example.org\n");
  names(SRVNAME_SMTP);
  is_str(n.greeting.s, "gate.example.org welcome here", "greeting: control/smtpgreeting");
  is_str(n.me.s, "hub.example.org", "me stays control/me with a greeting");
  is_str(n.localiphost.s, "lip.example.org", "localiphost: control/localiphost");
  del("me");
  ok(names(SRVNAME_SMTP) == 0, "no me: read");
  is_str(n.me.s, "gate.example.org", "no me: the greeting's first word");
  is_str(n.by, "gate.example.org", "no me: by is the greeting's first word");
  names(SRVNAME_ME);
  is_str(n.by, "gate.example.org", "no me: the netstring servers name themselves the same way");
  del("smtpgreeting");
  put("me", "\n");
  ok(names(SRVNAME_SMTP) == 0 && !*n.me.s && !*n.greeting.s, "empty me, no greeting: no name (smtpd refuses)");
  names(SRVNAME_ME);
  is_str(n.by, "unknown", "no name: by is unknown");
  put("me", "hub.example.org\n");

  mkd("smtpgreeting");
  ok(names(SRVNAME_SMTP) < 0 && !strcmp(failed, "smtpgreeting"), "unreadable smtpgreeting: fails, named");
  ok(names(SRVNAME_ME) == 0, "netstring servers with me do not read smtpgreeting");
  del("me");
  ok(names(SRVNAME_ME) < 0 && !strcmp(failed, "smtpgreeting"), "no me, unreadable smtpgreeting: fails");
  del("smtpgreeting");
  mkd("me");
  ok(names(SRVNAME_ME) < 0 && !strcmp(failed, "me"), "unreadable me: fails, named");
  ok(names(SRVNAME_SMTP) < 0 && !strcmp(failed, "me"), "unreadable me: smtpd fails too");
  del("me");
  put("me", "hub.example.org\n");
  del("localiphost");
  mkd("localiphost");
  ok(names(SRVNAME_SMTP) < 0 && !strcmp(failed, "localiphost"), "unreadable localiphost: fails, named");
  ok(names(SRVNAME_ME) == 0, "netstring servers do not read localiphost");
  del("localiphost");
  del("me");
  stralloc_free(&n.me);
  stralloc_free(&n.greeting);
  stralloc_free(&n.localiphost);
  snprintf(p, sizeof p, "%s/control", home);
  rmdir(p);
  rmdir(home);
}

/* with: the "with" part for proto, tls, auth, relay */
static void with(const char *proto, const char *tls, int auth, int relay, const char *exp)
{
  stralloc sa = {0, 0, 0};
  struct received_info ri;
  memset(&ri, 0, sizeof ri);
  ri.proto = proto;
  ri.tls = tls;
  ri.auth = auth;
  ri.relay = relay;
  ok(received_with(&sa, &ri), "with built");
  is_sa(sa, exp, exp);
  stralloc_free(&sa);
}

static void test_with(void)
{
  const char *t = "TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256";
  with("SMTP", 0, 0, 0, "SMTP");
  with("ESMTP", 0, 0, 0, "ESMTP");
  with("ESMTP", t, 0, 0, "ESMTPS (TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256)");
  with("SMTP", t, 0, 0, "ESMTPS (TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256)");
  with("ESMTP", 0, 1, 0, "ESMTPA");
  with("ESMTP", t, 1, 0, "ESMTPSA (TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256)");
  with("ESMTP", 0, 1, 1, "ESMTPA");
  with("ESMTP", 0, 0, 1, "ESMTP" DKIM_RELAYMARK);
  with("QMTP", 0, 0, 0, "QMTP");
  with("QMTP", t, 0, 0, "QMTPS (TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256)");
  with("QMTP", t, 0, 1, "QMTPS (TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256)" DKIM_RELAYMARK);
  with("QMQP", 0, 0, 0, "QMQP");
  with("UTF8SMTP", 0, 0, 0, "UTF8SMTP");
  with("UTF8SMTP", t, 0, 0, "UTF8SMTPS (TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256)");
  with("UTF8SMTP", 0, 1, 0, "UTF8SMTPA");
  with("UTF8SMTP", t, 1, 0, "UTF8SMTPSA (TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256)");
}

/* clean: only printable ASCII, exactly two LFs (the fold and the end) */
static int clean(const stralloc *sa)
{
  size_t i, lf = 0;
  for (i = 0; i < sa->len; ++i) {
    unsigned char c = (unsigned char)sa->s[i];
    if (c == '\n') ++lf;
    else if (c < 32 || c > 126) return 0;
  }
  return lf == 2 && sa->len && sa->s[sa->len - 1] == '\n';
}

static void info(struct received_info *ri, const char *proto, const char *by, const char *ip,
                 const char *host, const char *ident, const char *helo)
{
  memset(ri, 0, sizeof *ri);
  ri->proto = proto;
  ri->by = by;
  ri->remoteip = ip;
  ri->remotehost = host;
  ri->remoteinfo = ident;
  ri->helo = helo;
}

static void test_plain(void)
{
  stralloc sa = {0, 0, 0};
  struct received_info ri;
  info(&ri, "ESMTP", "hub.example.org", "192.0.2.9", "client.example.net", 0, "helo.example");
  ok(received_line(&sa, &ri, 0), "plain line built");
  is_sa(sa, "Received: from helo.example (client.example.net [192.0.2.9])\n"
            "  by hub.example.org with ESMTP; Thu, 1 Jan 1970 00:00:00 +0000\n", "plain line");
  sa.len = 0;
  info(&ri, "QMQP", "hub.example.org", "2001:db8::25", 0, 0, 0);
  ok(received_line(&sa, &ri, 0), "IPv6 line built");
  is_sa(sa, "Received: from unknown (unknown [2001:db8::25])\n"
            "  by hub.example.org with QMQP; Thu, 1 Jan 1970 00:00:00 +0000\n",
        "IPv6 address kept whole, no HELO or host: unknown");
  sa.len = 0;
  info(&ri, "SMTP", "hub.example.org", "::ffff:192.0.2.9", "h.example", "alice", "[IPv6:2001:db8::1]");
  ri.relay = 1;
  ok(received_line(&sa, &ri, 0), "IPv6 literal HELO built");
  is_sa(sa, "Received: from [IPv6:2001:db8::1] (h.example [::ffff:192.0.2.9] ident=alice)\n"
            "  by hub.example.org with SMTP" DKIM_RELAYMARK "; Thu, 1 Jan 1970 00:00:00 +0000\n",
        "IPv6 literal HELO, mapped address, ident, relay mark");
  stralloc_free(&sa);
}

static void test_hostile(void)
{
  stralloc sa = {0, 0, 0};
  char longhelo[600];
  struct received_info ri;
  info(&ri, "SMTP", "me\r\nX-Forged: 1", "1.2.3.4\n", "h\x1b[31m\x7f", "id\tent\xff",
       "evil\r\nReceived: from forged\r\n");
  ok(received_line(&sa, &ri, 0), "hostile line built");
  is_sa(sa, "Received: from evil??Received:?from?forged?? (h?[31m? [1.2.3.4?] ident=id?ent?)\n"
            "  by me??X-Forged:?1 with SMTP; Thu, 1 Jan 1970 00:00:00 +0000\n",
        "every control byte, space and 8-bit byte is '?'");
  ok(clean(&sa), "no raw control byte, still two lines");
  memset(longhelo, 'h', sizeof longhelo - 1);
  longhelo[sizeof longhelo - 1] = 0;
  ri.helo = longhelo;
  sa.len = 0;
  ok(received_line(&sa, &ri, 0) && clean(&sa), "600-byte HELO: clean line");
  ok(strstr(sa.s, "from hhh") && !memchr(sa.s + 15, ' ', 255) && sa.s[15 + 255] == ' ',
     "600-byte HELO cut at 255 bytes");
  stralloc_free(&sa);
}

int main(void)
{
  test_names();
  test_with();
  test_plain();
  test_hostile();
  return done_testing();
}
