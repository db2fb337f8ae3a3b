/* qwrite.c: the queue-writing steps qmail-queue and qmail-queued share
 * (see qwrite.h; hub/queue/QUEUE.md sections 2 and 5). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fmt.h"
#include "q_crc32c.h"
#include "qconf.h"
#include "qwrite.h"

#define PIDTRIES 9  /* pid/PID.TIME.SEQ with SEQ 1..9 */

/* a growing line in a caller's buffer, always far below its size */
struct line { char *b; size_t n; };

static void put(struct line *l, const char *s, size_t len) { memcpy(l->b + l->n, s, len); l->n += len; }
static void putstr(struct line *l, const char *s) { put(l, s, strlen(s)); }
static void putnum(struct line *l, unsigned long long n) { l->n += fmt_ulonglong(l->b + l->n, n); }
static void put2(struct line *l, unsigned int n)
{
  l->b[l->n++] = (char)('0' + n / 10 % 10);
  l->b[l->n++] = (char)('0' + n % 10);
}

void qw_init(struct qw *w)
{
  memset(w, 0, sizeof *w);
  w->messfd = w->intdfd = -1;
}

/* made: a create or link failed: 53 for a full disk or quota, else code */
static int made(int code)
{
  return errno == ENOSPC || errno == EDQUOT ? 53 : code;
}

/* pidfile: create pid/PID.TIME.SEQ exclusively; its inode names the
 * message. A leftover of an earlier run with the same pid in the same
 * second is skipped by trying the next SEQ. */
static int pidfile(struct qw *w, unsigned long pid, time_t now)
{
  struct stat st;
  int seq;
  for (seq = 1; seq <= PIDTRIES; ++seq) {
    size_t n = fmt_str(w->pidfn, QDIR_PID "/");
    n += fmt_ulong(w->pidfn + n, pid);
    w->pidfn[n++] = '.';
    n += fmt_ulonglong(w->pidfn + n, (unsigned long long)now);
    w->pidfn[n++] = '.';
    n += fmt_ulong(w->pidfn + n, (unsigned long)seq);
    w->pidfn[n] = 0;
    w->messfd = open(w->pidfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, QMODE_FILE);
    if (w->messfd != -1) break;
    if (errno != EEXIST) return made(63);
  }
  if (w->messfd == -1) return 63;
  w->made_pid = 1;
  if (fstat(w->messfd, &st) == -1) return 63;
  w->ino = (unsigned long long)st.st_ino;
  return 0;
}

/* make_qid: the queue id, from the clock read now that the inode is ours
 * (msgid.h: why this makes it unique). The Received line's date is the
 * same reading. clock_gettime is a vDSO call: no syscall. */
static time_t make_qid(struct qw *w)
{
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) == -1) { ts.tv_sec = time(0); ts.tv_nsec = 0; }
  qid_fmt(w->qid, (unsigned long long)ts.tv_sec, (unsigned long)ts.tv_nsec, w->ino);
  return ts.tv_sec;
}

/* to_mess: give the new inode its real name mess/S/N; drop the pid name. */
static int to_mess(struct qw *w)
{
  if (!qname_file(w->messfn, QDIR_MESS, w->ino)) return 64;
  if (link(w->pidfn, w->messfn) == -1) return made(64);
  w->made_mess = 1;
  if (unlink(w->pidfn) == -1) return 63;
  w->made_pid = 0;
  return 0;
}

int qw_create(struct qw *w, unsigned long pid, time_t now, time_t *when)
{
  int r = pidfile(w, pid, now);
  if (r) return r;
  *when = make_qid(w);
  midscan_init(&w->mids);
  return to_mess(w);
}

const char *qw_how(const char *name)
{
  if (!name) return 0;
  if (!strcmp(name, QUSER_DAEMON)) return "invoked from network";
  if (!strcmp(name, QUSER_ALIAS)) return "invoked by alias";
  if (!strcmp(name, QUSER_SEND)) return "invoked for bounce";
  return 0;
}

/* putdate: RFC 5322 date-time of t in UTC, "Mon, 23 Nov 2026 21:05:10
 * +0000". Our own arithmetic (days to civil date) because glibc's gmtime
 * loads /etc/localtime on first use: 7 syscalls per message for nothing. */
static void putdate(struct line *l, time_t t)
{
  static const char wday[] = "ThuFriSatSunMonTueWed";
  static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  long long days = (long long)t / 86400, secs = (long long)t % 86400;
  long long era, doe, yoe, doy, mp, d, m, y;
  if (secs < 0) { secs += 86400; --days; }
  put(l, wday + 3 * (((days % 7) + 7) % 7), 3);
  put(l, ", ", 2);
  days += 719468;  /* days since 0000-03-01 */
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = days - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yoe + era * 400 + (m <= 2);
  putnum(l, (unsigned long long)d);
  put(l, " ", 1);
  put(l, mon + 3 * (m - 1), 3);
  put(l, " ", 1);
  putnum(l, (unsigned long long)(y < 0 ? 0 : y));
  put(l, " ", 1);
  put2(l, (unsigned int)(secs / 3600)); put(l, ":", 1);
  put2(l, (unsigned int)(secs / 60 % 60)); put(l, ":", 1);
  put2(l, (unsigned int)(secs % 60));
  put(l, " +0000", 6);
}

size_t qw_received(const struct qw *w, char *buf, unsigned long pid, uid_t uid,
                   const char *how, time_t when)
{
  struct line l = { buf, 0 };
  putstr(&l, "Received: (qmail ");
  putnum(&l, pid);
  if (how) {
    put(&l, " ", 1);
    putstr(&l, how);
  } else {
    putstr(&l, " invoked by uid ");
    putnum(&l, uid);
  }
  putstr(&l, " id ");
  putstr(&l, w->qid);
  putstr(&l, "); ");
  putdate(&l, when);
  put(&l, "\n", 1);
  return l.n;
}

int qw_open_intd(struct qw *w)
{
  if (!qname_file(w->intdfn, QDIR_INTD, w->ino)) return 65;
  w->intdfd = open(w->intdfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, QMODE_FILE);
  if (w->intdfd == -1) return made(65);
  w->made_intd = 1;
  return 0;
}

size_t qw_items(const struct qw *w, char *buf, uid_t uid, unsigned long pid)
{
  struct line l = { buf, 0 };
  const char *mid;
  size_t n = midscan_value(&w->mids, &mid);
  put(&l, "u", 1); putnum(&l, uid); put(&l, "", 1);
  put(&l, "p", 1); putnum(&l, pid); put(&l, "", 1);
  put(&l, "i", 1); putstr(&l, w->qid); put(&l, "", 1);
  if (n) { put(&l, "m", 1); put(&l, mid, n); put(&l, "", 1); }
  return l.n;
}

size_t qw_lc(char *buf, unsigned long long len, uint32_t crc)
{
  struct line l = { buf, 0 };
  put(&l, "l", 1); putnum(&l, len); put(&l, "", 1);
  put(&l, "c", 1); l.n += crc32c_fmt(l.b + l.n, crc); put(&l, "", 1);
  return l.n;
}

int qw_link_todo(struct qw *w)
{
  if (!qname_file(w->todofn, QDIR_TODO, w->ino)) return 66;
  if (link(w->intdfn, w->todofn) == -1) return made(66);
  w->made_todo = 1;
  return 0;
}

int qw_writeall(int fd, const char *p, size_t len)
{
  while (len) {
    ssize_t r = write(fd, p, len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

void qw_close(struct qw *w)
{
  if (w->messfd != -1) close(w->messfd);
  if (w->intdfd != -1) close(w->intdfd);
  w->messfd = w->intdfd = -1;
}

void qw_cleanup(struct qw *w)
{
  if (w->made_todo) unlink(w->todofn);
  if (w->made_intd) unlink(w->intdfn);
  if (w->made_mess) unlink(w->messfn);
  if (w->made_pid) unlink(w->pidfn);
  w->made_todo = w->made_intd = w->made_mess = w->made_pid = 0;
  qw_close(w);
}

void qw_committed(struct qw *w)
{
  w->made_todo = w->made_intd = w->made_mess = w->made_pid = 0;
}

int qw_trigger_open(void)
{
  return open(QFILE_TRIGGER, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

void qw_trigger(int fd, unsigned long long ino)
{
  char b[24];
  size_t i = sizeof b;
  b[--i] = '\n';
  do b[--i] = (char)('0' + ino % 10); while ((ino /= 10) && i);
  (void)!write(fd, b + i, sizeof b - i);
}
