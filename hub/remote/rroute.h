/* rroute.h: qmail-remote's static routes: control/qmtproutes (the relay
 * speaks QMTP, default port 209) and control/smtproutes (SMTP, port 25),
 * one route per line (control_readlist: '#' lines and blanks dropped):
 *
 *     domain:relay[:port[:options]]
 *
 *   domain  the recipient domain, ASCII case ignored; ".suffix" matches
 *           every domain ending in it; an empty domain is the default
 *           route. Tried in qmail's order for a.b.c: "a.b.c", ".b.c",
 *           ".c", "" - the first line with that domain wins.
 *   relay   a host name (its A/AAAA records, no MX lookup), an address
 *           literal [192.0.2.1], [IPv6:2001:db8::1] or [2001:db8::1], a
 *           plain dotted quad 192.0.2.1 (as in qmail's files), or
 *           empty: look up the MX of the recipient domain as usual (only
 *           the port, if given, comes from the route).
 *   port    decimal 1..65535; empty or missing: the protocol's default
 *           (465 with the option smtps).
 *   options (smtproutes; qmail's own parser stops after the port, so a
 *           line with options still means the same relay and port to it)
 *           comma-separated:
 *             smtps       TLS from the first byte (implicit TLS, RFC 8314)
 *             auth        AUTH PLAIN or LOGIN with the relay's credentials
 *                         (control/remoteauth, rtls.h), only over TLS
 *             auth-notls  auth, and allowed without TLS too
 *           e.g. ":smtp.example.net:587:auth" (submission with STARTTLS),
 *           ":smtp.example.net:465:smtps,auth".
 *           qmtproutes: only qmtps: QMTP inside TLS from the first byte
 *           (QMTPS, port 6209 by default; docs/qmtps.md).
 *
 * A matching line that does not parse is an error (the caller defers the
 * message), lines for other domains are not looked at. Caps: host names
 * RROUTE_HOSTMAX bytes, ports 5 digits. */
#ifndef RROUTE_H
#define RROUTE_H

#include <stddef.h>

#define RROUTE_HOSTMAX 253

enum rroute_kind { RROUTE_MX = 0, RROUTE_NAME = 1, RROUTE_LITERAL = 2 };

struct rroute {
  int kind;                         /* enum rroute_kind */
  char name[RROUTE_HOSTMAX + 1];    /* RROUTE_NAME: the relay; a literal:
                                       as written ("[192.0.2.1]") */
  int family;                       /* RROUTE_LITERAL: AF_INET or AF_INET6 */
  unsigned char ip[16];
  unsigned short port;              /* 0: the protocol's default */
  int smtps, auth, authnotls;       /* the options */
  int qmtps;                        /* the qmtps option (qmtproutes) */
};

#define RROUTE_PORT_SMTPS 465
#define RROUTE_PORT_QMTPS 6209

/* rroute_find: the route for host in list[0..len) (NUL-separated lines as
 * control_readlist gives them). 1 found (*r set), 0 no route, -1 the
 * matching line is malformed (errno EINVAL). */
int rroute_find(const char *list, size_t len, const char *host, struct rroute *r);
/* rroute_parse: parse one line's "relay[:port[:options]]" part (after
 * "domain:"). */
int rroute_parse(const char *s, size_t len, struct rroute *r);
/* rroute_match: the first line of list[0..len) for host in qmail's order
 * ("a.b.c", ".b.c", ".c", and "" when with_default): 1 found, *rest and
 * *restlen what follows the line's first ':'; 0 none. */
int rroute_match(const char *list, size_t len, const char *host, int with_default,
                 const char **rest, size_t *restlen);
/* rroute_literal: s[0..len) as "[1.2.3.4]", "[IPv6:...]" or "[v6]":
 * 0 ok (*family, ip set), -1 not a literal. */
int rroute_literal(const char *s, size_t len, int *family, unsigned char *ip);
/* rroute_name_ok: a plausible host name: letters, digits, '-', '_', '.',
 * not starting with '-' or '.', at most RROUTE_HOSTMAX bytes. */
int rroute_name_ok(const char *s, size_t len);

#endif
