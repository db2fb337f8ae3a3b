/* q_net.h: mail-server addresses for the leaf (control/qmqpservers) and a
 * happy-eyeballs style TCP connect over a list of candidate addresses.
 *
 * One qmqpservers line (after control_readlist dropped blank and '#'
 * lines and trailing blanks; leading blanks are skipped here):
 *
 *     [qmtp:|qmqp:|qmtps:]HOST[:PORT]
 *
 *   HOST  an IPv4 dotted quad    192.0.2.7
 *         a bracketed address    [2001:db8::25]  [::1]  (also [192.0.2.7])
 *         a host name            hub.example.org  localhost
 *                                (letters, digits, '-', '.', '_'; at most
 *                                253 bytes; resolved with getaddrinfo, all
 *                                addresses tried in the order returned)
 *   PORT  decimal 1..65535, at most 5 digits; default 628 for qmqp (the
 *         default protocol), 209 for qmtp, 6209 for qmtps (QMTP inside
 *         TLS: q_qmqpc.c, docs/qmtps.md).
 *
 * A line of a plain qmail file (one IPv4 address) is a valid line. The
 * protocol prefix is always read as a prefix, so a host literally named
 * "qmtp" must be written "qmqp:qmtp". Refused: an empty host, an IPv6
 * address without brackets, unbalanced brackets, anything after ']' but
 * ":PORT", a host of digits and dots that is not a dotted quad, a port of
 * 0, above 65535, empty or not all digits, blanks or other bytes inside. */
#ifndef Q_NET_H
#define Q_NET_H

#include <stddef.h>

#define NET_HOSTMAX 253
#define NET_PORT_QMQP 628
#define NET_PORT_QMTP 209
#define NET_PORT_QMTPS 6209

enum net_proto { NET_QMQP = 0, NET_QMTP = 1, NET_QMTPS = 2 };

struct net_server {
  int proto;                   /* NET_QMQP, NET_QMTP or NET_QMTPS */
  char host[NET_HOSTMAX + 1];  /* NUL-terminated, brackets removed */
  int family;                  /* AF_INET/AF_INET6 for a literal; 0 for a name */
  unsigned char ip[16];        /* the literal address (4 or 16 bytes used) */
  unsigned short port;
};

/* one address to connect to */
struct net_addr {
  int family;                  /* AF_INET or AF_INET6 */
  unsigned char ip[16];
  unsigned short port;
};

/* per-candidate state kept by the caller across net_connect calls */
enum net_state { NET_UNTRIED = 0, NET_FAILED = 1, NET_USED = 2 };

/* net_parse: parse line[0..len) into *srv. 0 ok; -1 invalid (errno EINVAL). */
int net_parse(const char *line, size_t len, struct net_server *srv);

/* net_parse_why: net_parse that also says why a line is refused: why
 * (NET_WHY bytes; may be NULL) gets a NUL-terminated reason with the part
 * of the line at fault quoted and cleaned (bytes outside printable ASCII
 * as '?', at most 64 of them): `bad port "99999"`, `no host`,
 * `IPv6 address without brackets "::1"`, `bad host name "a b"`, ... */
#define NET_WHY 128
int net_parse_why(const char *line, size_t len, struct net_server *srv, char *why);

/* net_line: walk the lines of a list file raw[0..len) that
 * control_readlist keeps (blank and '#' lines skipped, trailing blanks and
 * CR stripped), with their line numbers. *pos and *lineno start at 0.
 * 1: line[0..*linelen) is the next line, *lineno its number (from 1);
 * 0: no more lines. */
int net_line(const char *raw, size_t len, size_t *pos, size_t *lineno,
             const char **line, size_t *linelen);

/* net_strerror: a short lower-case text for an errno of net_resolve or
 * net_connect: "no such host", "connection refused", "timed out", ... */
const char *net_strerror(int e);

/* net_resolve: the addresses of srv, at most max of them, into out; *n gets
 * the count. 0 ok (*n >= 1); -1 when the name does not resolve (errno:
 * ENOENT no such name or no address, EAGAIN temporary, ENOMEM). */
int net_resolve(const struct net_server *srv, struct net_addr *out, size_t max,
                size_t *n);

/* net_fmt: "a.b.c.d:port" or "[v6]:port" into buf (NET_FMT bytes, NUL-ended). */
#define NET_FMT 56
void net_fmt(char *buf, const struct net_addr *a);

/* net_source: bind the sockets of later net_connect calls to a local
 * address first (the port is ignored: 0, any): a is used for candidates of
 * its own family (AF_INET or AF_INET6); NULL forgets both. A failed bind
 * fails that attempt (errno as for a failed connect). */
void net_source(const struct net_addr *a);

/* net_connect: race non-blocking connects to the candidates cand[i] whose
 * state[i] is NET_UNTRIED, in index order: start the first; when it has not
 * connected within stagger_ms, start the next as well, and so on; a failed
 * attempt (refused, unreachable) starts the next one at once. Each attempt
 * gives up after timeout_ms; nothing goes on past deadline_ms (absolute,
 * io_now_ms() clock; 0: none). The first attempt to complete wins: the
 * other pending attempts are closed and their state left NET_UNTRIED, so a
 * later call can try them again. Every failed attempt's state becomes
 * NET_FAILED; the winner's becomes NET_USED.
 * Returns the connected socket (non-blocking, close-on-exec) with *winner
 * its index; or -1 when no candidate is left, with *err the errno of the
 * last failure (ETIMEDOUT for a connect timeout or the deadline,
 * ECONNREFUSED, ENETUNREACH, ..., ENOENT if there was nothing to try). */
int net_connect(const struct net_addr *cand, unsigned char *state, size_t n,
                int stagger_ms, int timeout_ms, long long deadline_ms,
                size_t *winner, int *err);
/* net_connect_errs: net_connect that also sets errs[i] to the errno of
 * each candidate i whose attempt failed in this call (ETIMEDOUT for its
 * connect timeout or the deadline); other entries are left alone. */
int net_connect_errs(const struct net_addr *cand, unsigned char *state, int *errs,
                     size_t n, int stagger_ms, int timeout_ms, long long deadline_ms,
                     size_t *winner, int *err);

#endif
