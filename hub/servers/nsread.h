/* nsread.h: streaming netstring readers and the QMQP/QMTP request readers
 * shared by qmail-qmqpd and qmail-qmtpd (and linked by their unit test and
 * fuzz harnesses). Specs: docs/protocols.md (netstrings, QMQP, QMTP),
 * docs/bad-input.md (QMQP, QMTP); caps: docs/limits.md.
 *
 * Nothing here holds a whole message: message bytes go to a callback in
 * the chunks the input buffer happens to hold, so memory stays flat for a
 * message of any length. Addresses are small netstrings read into a
 * stralloc of at most `maxaddr` bytes; a longer one is skipped (consumed
 * and counted, never stored) and reported as refused, so the stream stays
 * in step and the client gets a proper D reply. An address holding a
 * control character (q_addr.h addr_env_check: SMTP's byte rule) is
 * refused the same way.
 *
 * Status values: NSR_OK (0), NSR_BADADDR (1), or one of the negative
 * ns_status codes of q_netstring.h (NS_EOF, NS_BAD, NS_TOOBIG, NS_IOERR,
 * NS_NOMEM). A negative status from a request reader means: drop the
 * connection, send no reply for this request; the queue has already been
 * told to abort. */
#ifndef NSREAD_H
#define NSREAD_H

#include <stddef.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_netstring.h"

#define NSR_OK 0
#define NSR_BADADDR 1   /* address consumed but refused: too long or has a
                           control character (NUL, CR, LF, ESC, DEL, ...) */

/* ---- low-level readers ---------------------------------------------------
 * `left`, when not NULL, is the byte budget of an enclosing netstring: the
 * whole item (header, content, comma) must fit in it, else NS_BAD; the
 * item's size is taken off *left as soon as the header is read. */

/* nsr_sink: receives content bytes; called only with len > 0. */
typedef void (*nsr_sink)(void *ctx, const char *buf, size_t len);

/* nsr_head: read "<digits>:" (strict, no leading zeros) with len <= cap
 * (and fitting *left). NS_EOF only if the input ends before the first byte. */
int nsr_head(buffer *b, size_t cap, size_t *len, size_t *left);
/* nsr_stream: pass the next len bytes of b to sink as they arrive, then
 * read the closing ','. EOF inside is NS_IOERR (errno EPROTO). */
int nsr_stream(buffer *b, size_t len, nsr_sink sink, void *ctx);
/* nsr_skip: nsr_stream into nothing. */
int nsr_skip(buffer *b, size_t len);
/* nsr_addr: read one whole netstring into sa (replacing it). Content longer
 * than maxaddr bytes is skipped (sa left empty), and content with a control
 * character is kept, both giving NSR_BADADDR. The header cap is *left when
 * left is given, else maxaddr (then a longer length is NS_TOOBIG). */
int nsr_addr(buffer *b, size_t maxaddr, stralloc *sa, size_t *left);

/* ---- request readers -------------------------------------------------------- */

/* Why a request or recipient is refused; nsr_reply() gives the reply text. */
enum nsr_why {
  NSR_ACCEPT = 0,  /* goes to the queue; the queue's verdict is the reply */
  NSR_TOOBIG,      /* message over databytes             D (#5.3.4) */
  NSR_HOPS,        /* maxhops Received/Delivered-To lines D (#5.4.6) */
  NSR_SENDER,      /* sender too long or has a control byte    D (#5.1.7) */
  NSR_ADDR,        /* recipient too long or has a control byte D (#5.1.3) */
  NSR_NORCPT,      /* QMQP without recipients             D (#5.1.3) */
  NSR_TOOMANY,     /* QMQP over maxrcpts                  D (#5.5.3) */
  NSR_LATER,       /* QMTP recipient over maxrcpts        Z (#4.5.3) */
  NSR_RELAY,       /* domain not in rcpthosts             D (#5.7.1) */
  NSR_TEMP,        /* rcpthosts could not be read         Z (#4.3.0) */
  NSR_NOUSER,      /* no such local address (rcpt_known); QMQP: all of them D (#5.1.1) */
  NSR_NOCHECK,     /* rcpt_known cannot tell now          Z (#4.3.0) */
  NSR_WHYCOUNT
};

/* nsr_reply: "D<text> (#x.y.z)" or "Z..." for a refusal (a C string; for
 * NSR_ACCEPT it is "K", which callers never send as it is). */
const char *nsr_reply(enum nsr_why why);

/* The queue as the readers see it. start begins a message (the server puts
 * its Received line there); put gets message bytes as stored (LF lines);
 * from comes once, before any to; abort ends a message that must not be
 * queued. After a reader returns NSR_OK with something accepted, the queue
 * holds a complete envelope and the caller commits it (qq_finish). */
struct nsr_queue {
  void *ctx;
  void (*start)(void *ctx);
  void (*put)(void *ctx, const char *buf, size_t len);
  void (*from)(void *ctx, const char *addr, size_t len);
  void (*to)(void *ctx, const char *addr, size_t len);
  void (*abort)(void *ctx);
};

struct nsr_policy {
  size_t msgcap;            /* hard cap on a message netstring (QMQP: the
                               outer one); above it: drop (LIM_NETSTRING) */
  size_t blockcap;          /* QMTP: cap on the recipient-list netstring */
  unsigned long databytes;  /* 0: unlimited; counted as stored */
  size_t maxaddr;           /* LIM_ADDR */
  unsigned long maxrcpts;   /* LIM_RCPTS: accepted recipients per message */
  unsigned long maxhops;    /* LIM_HOPS */
  /* rcpt_ok: 1 allowed, 0 relaying refused, -1 temporary problem; NULL
   * allows everything (QMQP: access control is tcpserver's job) */
  int (*rcpt_ok)(void *ctx, const char *addr, size_t len);
  /* rcpt_known: is a recipient that passed rcpt_ok deliverable here
   * (rcptcheck.h)? 1 yes (or not local), 0 no such address, -1 cannot
   * tell now; NULL: no check. QMTP refuses each unknown recipient alone
   * (D #5.1.1, Z #4.3.0). QMQP answers per message: it is refused only
   * when no recipient is deliverable: Z if one of them could not be
   * checked, else D #5.1.1; otherwise it is queued whole, and the hub
   * bounces the unknown ones to the sender, a trusted client's user. */
  int (*rcpt_known)(void *ctx, const char *addr, size_t len);
  void *rcpt_ctx;
  /* refused: told of each refusal as it is decided, once for each reply
   * that will carry it: a message-level one (NSR_TOOBIG, NSR_HOPS,
   * NSR_SENDER, QMQP's NSR_NORCPT and NSR_TOOMANY) once, a recipient's
   * own (NSR_ADDR, NSR_RELAY, NSR_LATER, NSR_TEMP, and in QMTP
   * NSR_NOUSER, NSR_NOCHECK) once per recipient.
   * addr/len: the address refused (the sender for NSR_SENDER), as read,
   * len 0 when there is none or it was too long to keep; ctx is rcpt_ctx.
   * The servers log here; NULL: nobody is told. A request dropped later (malformed) gets
   * no reply at all, whatever was told before. */
  void (*refused)(void *ctx, enum nsr_why why, const char *addr, size_t len);
};

/* nsr_qmqp: read one QMQP request: ns( ns(message) ns(sender) ns(rcpt)... ).
 * NSR_OK: *why is NSR_ACCEPT (commit the queue) or the refusal to send
 * (queue aborted or never started). Negative: drop, nothing queued. */
int nsr_qmqp(buffer *b, const struct nsr_policy *p, const struct nsr_queue *q,
             enum nsr_why *why);

/* One QMTP package's outcome: why->s[i] is the enum nsr_why of recipient i
 * (one byte each; at most blockcap / 3 of them), in order, duplicates
 * included. accepted counts the NSR_ACCEPT ones. */
struct nsr_pkg {
  stralloc why;
  unsigned long accepted;
};

/* nsr_qmtp: read one QMTP package: ns(encoded message) ns(sender)
 * ns(ns(rcpt)...). The message's first byte picks the encoding: LF (stored
 * as it is) or CR (CRLF becomes LF, a lone CR stays, a bare LF stays);
 * anything else is NS_BAD. NSR_OK: pkg filled; when pkg->accepted > 0 the
 * caller commits the queue, else it was aborted. NS_EOF: the input ended
 * cleanly before a package. Other negatives: drop. */
int nsr_qmtp(buffer *b, const struct nsr_policy *p, const struct nsr_queue *q,
             struct nsr_pkg *pkg);

#endif
