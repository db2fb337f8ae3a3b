/* hops.h: counting Received: and Delivered-To: lines in a message header
 * as the message streams past, to refuse mail that loops
 * (control/maxhops, default 100: a message with that many such lines is
 * refused with 554 5.4.6 / D ... (#5.4.6)). Works on any chunking of the
 * bytes; stops looking at the first empty line. */
#ifndef HOPS_H
#define HOPS_H

#include <stddef.h>

struct hops {
  unsigned long count;   /* Received/Delivered-To lines seen */
  size_t col;            /* bytes into the current line (capped) */
  char start[14];        /* first bytes of the current line */
  int inbody;            /* past the header */
};

void hops_init(struct hops *h);
/* hops_feed: look at the next len bytes of the message (LF line ends; a
 * CR before LF is fine). */
void hops_feed(struct hops *h, const char *buf, size_t len);

#endif
