/* q_mbox.c: mboxrd entries: From_ line, quoting, streaming (see q_mbox.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "q_mbox.h"

#define CHUNK 65536

static const char fromsp[] = "From ";   /* the 5 bytes that make a From_ line */
static const char gts[] = ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>";

/* cat_gt: append n '>' bytes. */
static int cat_gt(stralloc *out, size_t n)
{
  while (n) {
    size_t k = n < sizeof gts - 1 ? n : sizeof gts - 1;
    if (!stralloc_catb(out, gts, k)) return 0;
    n -= k;
  }
  return 1;
}

void mbox_quote_init(struct mbox_quote *q)
{
  q->gt = 0;
  q->matched = 0;
  q->bol = 1;
  q->lastnl = 1;
  q->any = 0;
}

/* release: the held prefix turned out not to be ">*From ": write it as is. */
static int release(struct mbox_quote *q, stralloc *out)
{
  if (!cat_gt(out, q->gt) || !stralloc_catb(out, fromsp, q->matched)) return 0;
  q->gt = 0;
  q->matched = 0;
  q->bol = 0;
  return 1;
}

/* prefix_byte: one byte c while the line may still be ">*From ". */
static int prefix_byte(struct mbox_quote *q, stralloc *out, char c)
{
  if (c == '>' && q->matched == 0) { ++q->gt; return 1; }
  if (c == fromsp[q->matched]) {
    if (++q->matched < sizeof fromsp - 1) return 1;
    /* the whole prefix matched: one more '>' than the line had */
    if (!cat_gt(out, q->gt + 1) || !stralloc_cats(out, fromsp)) return 0;
    q->gt = 0;
    q->matched = 0;
    q->bol = 0;
    return 1;
  }
  if (!release(q, out) || !stralloc_append(out, &c)) return 0;
  if (c == '\n') q->bol = 1;
  return 1;
}

int mbox_quote_feed(struct mbox_quote *q, stralloc *out, const char *in, size_t len)
{
  size_t i = 0;
  if (len) {
    q->any = 1;
    q->lastnl = in[len - 1] == '\n';
  }
  while (i < len) {
    const char *nl;
    size_t end;
    if (q->bol) {
      if (!prefix_byte(q, out, in[i++])) return 0;
      continue;
    }
    nl = memchr(in + i, '\n', len - i);
    end = nl ? (size_t)(nl - in) + 1 : len;
    if (!stralloc_catb(out, in + i, end - i)) return 0;
    i = end;
    if (nl) q->bol = 1;
  }
  return 1;
}

int mbox_quote_end(struct mbox_quote *q, stralloc *out)
{
  if (q->bol && !release(q, out)) return 0;
  if (q->any && !q->lastnl && !stralloc_append(out, "\n")) return 0;
  return stralloc_append(out, "\n");
}

/* cat_asctime: append t as asctime(3) would, in UTC, without the newline. */
static int cat_asctime(stralloc *out, time_t t)
{
  static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
  static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  struct tm tm;
  char buf[64];
  int n;
  if (!gmtime_r(&t, &tm)) {
    time_t zero = 0;
    gmtime_r(&zero, &tm);
  }
  n = snprintf(buf, sizeof buf, "%s %s %2d %02d:%02d:%02d %d", days[tm.tm_wday % 7],
               months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
               tm.tm_year + 1900);
  if (n < 0 || (size_t)n >= sizeof buf) n = 0;
  return stralloc_catb(out, buf, (size_t)n);
}

int mbox_fromline(stralloc *out, const char *sender, size_t len, time_t t)
{
  size_t i;
  if (!stralloc_cats(out, fromsp)) return 0;
  if (len == 0 && !stralloc_cats(out, "MAILER-DAEMON")) return 0;
  for (i = 0; i < len; ++i) {
    unsigned char c = (unsigned char)sender[i];
    char put = (c <= ' ' || c == 127) ? '_' : (char)c;
    if (!stralloc_append(out, &put)) return 0;
  }
  return stralloc_append(out, " ") && cat_asctime(out, t) && stralloc_append(out, "\n");
}

int mbox_message(stralloc *out, const char *sender, size_t slen, time_t t,
                 const char *msg, size_t msglen)
{
  struct mbox_quote q;
  mbox_quote_init(&q);
  return mbox_fromline(out, sender, slen, t) && mbox_quote_feed(&q, out, msg, msglen) &&
         mbox_quote_end(&q, out);
}

/* drain: write out's bytes to fd and empty it. 0 ok, MBOX_EWRITE.
 * Plain blocking writes: the target is a file (poll-based q_io would add
 * nothing here, and never returns on a bad descriptor). */
static int drain(int fd, stralloc *out)
{
  size_t done = 0;
  while (done < out->len) {
    ssize_t w = write(fd, out->s + done, out->len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return MBOX_EWRITE;
    }
    done += (size_t)w;
  }
  out->len = 0;
  return 0;
}

/* pump: quote everything readable from infd into out, draining to outfd. */
static int pump(int outfd, int infd, struct mbox_quote *q, stralloc *out)
{
  char buf[CHUNK];
  for (;;) {
    ssize_t n = read(infd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return MBOX_EREAD;
    }
    if (n == 0) return 0;
    if (!mbox_quote_feed(q, out, buf, (size_t)n)) { errno = ENOMEM; return MBOX_EWRITE; }
    if (out->len >= CHUNK && drain(outfd, out) < 0) return MBOX_EWRITE;
  }
}

int mbox_copyfd(int outfd, int infd, const char *sender, size_t slen, time_t t)
{
  stralloc out = {0};
  struct mbox_quote q;
  int r = 0, e;
  mbox_quote_init(&q);
  if (!mbox_fromline(&out, sender, slen, t)) { errno = ENOMEM; r = MBOX_EWRITE; }
  if (r == 0) r = pump(outfd, infd, &q, &out);
  if (r == 0 && !mbox_quote_end(&q, &out)) { errno = ENOMEM; r = MBOX_EWRITE; }
  if (r == 0) r = drain(outfd, &out);
  e = errno;
  stralloc_free(&out);
  errno = e;
  return r;
}
