/* msgid.h: what identifies a message in the logs (hub/queue/QUEUE.md sec 1,
 * qmail-trace.8).
 *
 * The queue id: qmail's message number N is the inode of mess/S/N and is
 * reused as soon as the message is gone, often within seconds. qmail-queue
 * therefore names each message once more, "SEC.NSEC.N": the wall-clock
 * time read after the inode became ours (seconds, then nanoseconds as
 * exactly nine digits) and N. Two messages with the same N hold the inode
 * during disjoint intervals, each reads the clock inside its own, so the
 * ids differ (unless the clock is stepped back by more than the time
 * between them). The id goes into qmail-queue's Received line and into the
 * envelope file as an "i" record; qmail-send logs it with "new msg N".
 *
 * The Message-ID, as logged: the value of the first Message-ID field of
 * the header block (name matched without regard to case; folds
 * unfolded, tabs made spaces, blanks at both ends dropped), with every
 * byte outside printable ASCII written as \ooo and backslash as \\ (so
 * the value holds no control byte, no NUL and no newline), and cut at
 * MID_MAX bytes, never inside an escape. qmail-queue finds it while it
 * copies the message (midscan: streaming, fixed memory, no look at the
 * body) and writes it as an "m" record. */
#ifndef MSGID_H
#define MSGID_H

#include <stddef.h>

#define QID_MAX 64    /* "SEC.NSEC.N" and its NUL: 20 + 1 + 9 + 1 + 20 + 1 */
#define MID_MAX 200   /* the escaped Message-ID, bytes */

/* qid_fmt: write "SEC.NSEC.N" and a NUL into s (QID_MAX bytes); nsec is
 * taken modulo 10^9. Returns the length without the NUL. */
size_t qid_fmt(char *s, unsigned long long sec, unsigned long nsec, unsigned long long n);
/* qid_check: 1 if s[0..len) has the form of qid_fmt's output (digits, a
 * dot, nine digits, a dot, digits; shorter than QID_MAX), else 0. */
int qid_check(const char *s, size_t len);

struct midscan {
  int state;         /* where in the header block we are (msgid.c) */
  size_t k;          /* bytes of the field name matched so far */
  int cr;            /* a CR in the value waits for its LF */
  int full;          /* the value reached MID_MAX: nothing more is added */
  int found;         /* a Message-ID field was seen */
  size_t len, keep;  /* bytes in out; bytes up to the last non-blank */
  char out[MID_MAX];
};

/* midscan_init: start on a new message. */
void midscan_init(struct midscan *m);
/* midscan_feed: the next len bytes of the message (any chunking). Cheap
 * once the header block or the first Message-ID field has ended. */
void midscan_feed(struct midscan *m, const char *buf, size_t len);
/* midscan_value: the Message-ID found so far (*s, length returned); 0 when
 * there is none or it is empty. */
size_t midscan_value(const struct midscan *m, const char **s);

#endif
