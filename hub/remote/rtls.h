/* rtls.h: qmail-remote's outbound TLS and AUTH settings and the TLS step
 * of an SMTP connection (docs/remote-tls.md; the TLS itself is
 * common/q_tlsc.h).
 *
 * control/tlsdestinations: the TLS policy per destination, one a line
 * (control_readlist: '#' lines and blanks dropped), smtproutes' syntax:
 *
 *     domain:policy
 *
 *   domain  as in smtproutes (rroute.h): "a.b.c", ".b.c" (every domain
 *           ending in it), or empty: the default. Looked up first for the
 *           recipient domain, then for the relay host of its smtproutes
 *           line (if any), then the default line.
 *   policy  none     never STARTTLS
 *           may      STARTTLS when offered, certificate not checked; a
 *                    refused STARTTLS goes on in plain text (the default).
 *                    But an MX host from an authenticated MX answer with
 *                    secure, usable TLSA records gets `dane` (RFC 7672
 *                    sec 2.2): TLS required and matched, no plain text
 *           encrypt  TLS required, certificate not checked
 *           verify   TLS required, the certificate valid for the MX host
 *                    or relay name, against control/remoteca.pem or the
 *                    system's CA store
 *           dane     RFC 7672 (hub/remote/dane.c, rtls_dane below), also for
 *                    relays from smtproutes
 * A policy that cannot be met (no STARTTLS offered or a refused one under
 * encrypt/verify/dane, a failed handshake, a bad certificate) is a
 * temporary failure "... (#4.7.5)": never plain text instead. A line that
 * does not parse is a temporary failure naming the file (#4.3.5).
 *
 * Other files: control/remoteca.pem (trusted CAs for verify; absent: the
 * system store), control/clientcert.pem (optional: a certificate, chain
 * and key presented to servers, as in the qmail-tls patch),
 * control/tlsclientciphers (libtls cipher list; default "secure"),
 * control/remoteauth (AUTH credentials, rtls_creds).
 *
 * smtproutes options (rroute.h): "smtps" (TLS from the first byte, port
 * 465 by default) and "auth" / "auth-notls" (AUTH PLAIN or LOGIN with the
 * relay's credentials; without "auth-notls" never before TLS). */
#ifndef RTLS_H
#define RTLS_H

#include <stddef.h>
#include "stralloc.h"
#include "q_tlsc.h"

enum rtls_policy { RTLS_NONE = 0, RTLS_MAY = 1, RTLS_ENCRYPT = 2, RTLS_VERIFY = 3,
                   RTLS_DANE = 4 };

#define RTLS_DESTS "tlsdestinations"
#define RTLS_CA "remoteca.pem"
#define RTLS_CERT "clientcert.pem"
#define RTLS_CIPHERS "tlsclientciphers"
#define RTLS_AUTH "remoteauth"
#define RTLS_USERMAX 255
#define RTLS_PASSMAX 255

/* the TLS and AUTH settings of one destination (qmail-remote fills one per
 * job; rconn points at it) */
struct rtls_dest {
  int policy;                  /* enum rtls_policy */
  int smtps;                   /* implicit TLS (an smtps route) */
  int auth;                    /* AUTH with user/pass (an auth route) */
  int authnotls;               /* ... even without TLS (auth-notls) */
  char user[RTLS_USERMAX + 1];
  char pass[RTLS_PASSMAX + 1];
  const char *cafile;          /* control/remoteca.pem, or NULL: system store */
  const char *certfile;        /* control/clientcert.pem, or NULL */
  const char *ciphers;         /* control/tlsclientciphers, or NULL */
};

/* rtls_policy_name: "none", "may", ...; rtls_policy_parse: the reverse on
 * s[0..len), -1 unknown. */
const char *rtls_policy_name(int policy);
int rtls_policy_parse(const char *s, size_t len);

/* rtls_lookup: the policy for domain (and relay, the route's relay host
 * or NULL) in list[0..len) (control_readlist lines); no line: RTLS_MAY.
 * 0 ok (*policy), -1 the line that applies is not valid (errno EINVAL). */
int rtls_lookup(const char *list, size_t len, const char *domain, const char *relay,
                int *policy);

/* rtls_creds: relay's user and password from control/remoteauth, lines
 * "relay:user:password" (relay as written in smtproutes, ASCII case
 * ignored; the password is the rest of the line). The file must be owned
 * by the user running qmail-remote (qmailr) and have no group or other
 * permission bits (0600 or 0400). 0 ok; -1 with why (missing, unreadable,
 * too open, no line for relay, a bad line): fail closed. */
int rtls_creds(const char *relay, struct rtls_dest *d, stralloc *why);

/* ---- the TLS step of a connection (rsmtp.c) --------------------------------
 * rtls_need: is TLS required on connection c (c->td's policy; for dane,
 * and for may on an MX host from an authenticated MX answer, the BEFORE
 * phase of rtls_dane decides)? 1 yes, 0 no (may, none), -1 the delivery
 * defers (why).
 * rtls_start: the handshake on c (STARTTLS answered, or an SMTPS route's
 * fresh connection) with c->name as SNI and verify name; with DANE on
 * (c->dane.on), the AFTER phase. Input already buffered in c is an error (a server that
 * pipelines bytes after its 220 to STARTTLS could inject them). 0 ok:
 * c->tls set and c->tlsinfo filled; -1 failed (why), the connection is
 * unusable. */
struct rconn;
int rtls_need(struct rconn *c, stralloc *why);
int rtls_start(struct rconn *c, stralloc *why);

/* rtls_b64: append the base64 of s[0..n) to out. 1 ok, 0 no memory.
 * rtls_scrub: replace every occurrence of each secret (NULL-terminated
 * list; empty ones skipped) in text (NUL-terminated) by '*'. */
int rtls_b64(stralloc *out, const char *s, size_t n);
void rtls_scrub(char *text, const char *const *secrets);

/* ---- DANE: filled in by hub/dane.[ch] ----------------------------------
 * rtls_dane is called for the `dane` policy, and for `may` when the host
 * came from an authenticated MX answer (rdns_mx_named 1: never without a
 * resolver trusted for AD), twice per connection:
 *   phase RTLS_DANE_BEFORE: after the TCP connect, before STARTTLS (or the
 *     SMTPS handshake). host is the MX host (or relay) name, port the TCP
 *     port. Look up the TLSA records (_port._tcp.host) through a
 *     validating resolver; keep what is needed in *st (d->state is free
 *     for it, freed by rtls_dane_free). The handshake that follows does
 *     not check the certificate (o->verify is 0; the hook may change o,
 *     e.g. to verify against a name for usage 2 with PKIX).
 *     Return RTLS_DANE_OK: TLS is required and the chain will be matched
 *     after the handshake; RTLS_DANE_NONE: no usable TLSA records (RFC
 *     7672 sec 2.2): the connection goes on as under `may` (opportunistic);
 *     under `may` any other result is taken as under `dane`;
 *     RTLS_DANE_DEFER: why set (ending "(#4.7.5)"), the delivery defers.
 *   phase RTLS_DANE_AFTER: after a successful handshake, t->conn is the
 *     libtls struct tls * (tls_peer_cert_chain_pem gives the chain).
 *     Return RTLS_DANE_OK when a TLSA record matches (set t->verified =
 *     QTLSC_DANE for the log), else RTLS_DANE_DEFER with why. */
enum rtls_dane_phase { RTLS_DANE_BEFORE = 0, RTLS_DANE_AFTER = 1 };
enum rtls_dane_result { RTLS_DANE_OK = 0, RTLS_DANE_NONE = 1, RTLS_DANE_DEFER = -1 };
struct rtls_dane_state {
  void *p;                     /* the hook's own data */
  int on;                      /* BEFORE said OK: TLS required, AFTER runs */
};
int rtls_dane(int phase, struct rtls_dane_state *st, const char *host, unsigned short port,
              struct qtlsc_opts *o, struct qtlsc *t, stralloc *why);
void rtls_dane_free(struct rtls_dane_state *st);

#endif
