/* q_mbox.h: one message in mboxrd form, for maildir2mbox and the hub's
 * mbox delivery.
 *
 * What an entry looks like:
 *   "From " SENDER " " DATE "\n"   DATE in asctime form, UTC:
 *                                  "Mon Nov  3 20:40:05 2026"
 *   the message, each line matching ^>*From  written with one more '>'
 *   "\n" if the message did not end with a newline (last line completed)
 *   "\n"                           the blank line that ends the entry
 * mboxrd quoting is reversible: a reader removes one '>' from each line
 * matching ^>+From  and gets the message back byte for byte (except a
 * completed last line). "From:" and "Fromage" are not quoted.
 *
 * SENDER: an empty sender becomes MAILER-DAEMON; bytes that would break
 * the From_ line (space, control characters, DEL) become '_'.
 * The quoter keeps O(1) state (a count of pending '>'), so messages of any
 * size and lines of any length stream through in fixed memory. */
#ifndef Q_MBOX_H
#define Q_MBOX_H

#include <stddef.h>
#include <time.h>
#include "stralloc.h"

struct mbox_quote {
  size_t gt;        /* '>' seen at the start of the current line, held back */
  size_t matched;   /* bytes of "From " matched after them, held back */
  int bol;          /* still inside the line's possible ">*From " prefix */
  int lastnl;       /* the last byte fed was '\n' (or nothing fed yet) */
  int any;          /* some byte was fed */
};

/* mbox_quote_init: ready q for a new message. */
void mbox_quote_init(struct mbox_quote *q);
/* mbox_quote_feed: append in[0..len) to out, quoted. Bytes that may start
 * a quotable prefix are held in q until decided. 1 ok, 0 no memory. */
int mbox_quote_feed(struct mbox_quote *q, stralloc *out, const char *in, size_t len);
/* mbox_quote_end: release held bytes, complete the last line, add the blank
 * line ending the entry. 1 ok, 0 no memory. */
int mbox_quote_end(struct mbox_quote *q, stralloc *out);
/* mbox_fromline: append the From_ line (with its "\n") for sender[0..len)
 * received at t. 1 ok, 0 no memory. */
int mbox_fromline(stralloc *out, const char *sender, size_t len, time_t t);
/* mbox_message: append a whole entry (From_ line, quoted message, blank
 * line) for msg[0..msglen). 1 ok, 0 no memory. */
int mbox_message(stralloc *out, const char *sender, size_t slen, time_t t,
                 const char *msg, size_t msglen);

#define MBOX_EREAD (-1)   /* reading infd failed (errno set) */
#define MBOX_EWRITE (-2)  /* writing outfd failed or no memory (errno set) */
/* mbox_copyfd: read infd to its end and write a whole entry to outfd,
 * in fixed memory (64 KB chunks). 0 ok, else MBOX_EREAD or MBOX_EWRITE.
 * Nothing is fsynced: the caller decides when the entry is durable. */
int mbox_copyfd(int outfd, int infd, const char *sender, size_t slen, time_t t);

#endif
