/* envelope.h: checking a qmail-queue envelope as it streams in
 * (envelopes(5); docs/protocols.md, the queue interface):
 *   F<sender>\0 T<rcpt>\0 ... T<rcpt>\0 \0
 * The first item must start with 'F', every later one with 'T'; an empty
 * item (a lone NUL) ends the envelope. Zero recipients are allowed, as in
 * qmail. An address (the bytes after F or T) longer than the cap, or holding
 * a control character (q_addr.h addr_env_byte: SMTP's byte rule, the one
 * every network entrance applies), is refused.
 * DSN items (hub/queue/QUEUE.md, "DSN items"; hub/servers/dsnparam.h): one
 * optional item "d<RET/ENVID words>" before F, and one optional
 * "d<NOTIFY/ORCPT words>" right after a T, for that recipient. Their bytes
 * must be printable ASCII (32..126), at most ENV_DSN_MAX of them; their
 * words are checked by qmail-send, which ignores a malformed one. An
 * envelope without d items is qmail's.
 * Works on any chunking of the bytes; keeps no copy of them. */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <stddef.h>

#define ENV_BAD (-1L)   /* format error: qmail-queue exit 91 */
#define ENV_LONG (-2L)  /* an address over the cap: qmail-queue exit 11 */
#define ENV_CTRL (-3L)  /* a control character in an address: exit 11 */
#define ENV_DSN_MAX 1024UL  /* bytes of a d item (RFC 3461 caps: 100, 500) */

struct envscan {
  unsigned long max;     /* cap on one address, bytes */
  unsigned long cur;     /* bytes of the current address so far */
  unsigned long items;   /* items begun (F counts) */
  int initem;            /* 1: past the type byte of an item */
  char last;             /* type of the last item begun: 0, d, F, T, or
                          * 'r' for a recipient's d item */
};

/* envscan_init: start a new envelope whose addresses may be up to maxaddr
 * bytes long. */
void envscan_init(struct envscan *e, unsigned long maxaddr);
/* envscan_feed: check the next len bytes. Returns the number of bytes of
 * buf up to and including the terminating empty item when the envelope
 * ends inside buf (bytes after it are not part of the envelope); 0 when all
 * len bytes are fine and the envelope goes on; ENV_BAD, ENV_LONG or ENV_CTRL on
 * the first bad byte (the state is then undefined). */
long envscan_feed(struct envscan *e, const char *buf, size_t len);
/* envscan_rcpts: recipients seen so far (T items; d items do not count). */
unsigned long envscan_rcpts(const struct envscan *e);

#endif
