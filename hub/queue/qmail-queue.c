/* qmail-queue.c: the hub's queue entry point (qmail's "straight paper
 * path" with Linux durability). Spec: hub/queue/QUEUE.md (states, exact syscall
 * order, why each fsync is there and why each crash point is safe),
 * docs/protocols.md (the queue interface) and docs/queue.md.
 *
 * Input: the message on fd 0, the envelope on fd 1
 *   F<sender>\0 T<rcpt>\0 ... \0
 * Output: nothing but the exit code (qmail-queue prints no diagnostics,
 * but one alert line on fd 2 for an unusable control/maxaddress):
 *   0 queued (the todo/ link is durable)   11 an address over maxaddress
 *   52 24 h alarm (no cleanup)             53 write error, disk full, fsync
 *   54 read error on fd 0 or fd 1          55 control/maxaddress present
 *                                             but unreadable or invalid
 *   61 cannot chdir to the home
 *   62 cannot chdir to HOME/queue          63 pid/ file (create, fstat, unlink)
 *   64 mess/ link (or its directory)       65 intd/ file
 *   66 todo/ link or its directory         91 envelope format (incl. EOF
 *                                             before the final empty item)
 *   51 out of memory
 * 11 is also an address holding a control character (a byte below 32
 * or DEL: envelope.h, the SMTP rule of q_addr.h).
 * Every failure before exit 0 removes what this run created.
 *
 * Each message gets a queue id unique on this hub (msgid.h: the time and
 * the inode), written into its Received line and, with its Message-ID,
 * into the envelope file as i and m items, for qmail-send's log.
 *
 * Installed setuid qmailq when the home is installed as root: no
 * environment variable is trusted then (home_dir() ignores $QMAILHOME under
 * AT_SECURE; the date is UTC, so TZ is never read), and the real uid is
 * looked up with getpwuid only in that case. Cost per message: one
 * process, 4 fsyncs (hub/queue/qconf.h QUEUE_SYNC_MESSDIR), 26 syscalls from main on (40 in all when linked
 * statically, 58 dynamically): QUEUE.md sections 4, 5 and 7. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fmt.h"
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "q_limits.h"
#include "envelope.h"
#include "msgid.h"
#include "qconf.h"
#include "qname.h"

#define BUFSIZE 65536   /* one buffer for the message, then the envelope */
#define PIDTRIES 9      /* pid/PID.TIME.SEQ with SEQ 1..9 */

static char buf[BUFSIZE];
static size_t buflen;

static char pidfn[64];
static char messfn[QNAME_MAX], intdfn[QNAME_MAX], todofn[QNAME_MAX];
static int made_pid, made_mess, made_intd, made_todo;
static unsigned long long ino;
static int messfd = -1, intdfd = -1;
static char qid[QID_MAX];      /* the message's queue id (msgid.h) */
static struct midscan mids;    /* its Message-ID, found while copying */

/* cleanup: remove what this run created, newest first: todo (the commit
 * link) before intd before mess, so no name ever points at a half-removed
 * message (a crash in here leaves S2/S3 garbage at worst). */
static void cleanup(void)
{
  if (made_todo) unlink(todofn);
  if (made_intd) unlink(intdfn);
  if (made_mess) unlink(messfn);
  if (made_pid) unlink(pidfn);
}

static void __attribute__((noreturn)) die(int code)
{
  cleanup();
  _exit(code);
}

/* bad_control: a cap file that is present but unusable: 55 ("unable to
 * read configuration", temporary), never the default */
static void __attribute__((noreturn)) bad_control(const char *name, const char *why)
{
  err_print("alert", 0, "cannot use control/", name, ": ", why, (const char *)0);
  die(55);
}

/* die_make: a create or link failed; a full disk (blocks or inodes) or
 * quota is 53 wherever it happens, anything else the step's own code. */
static void __attribute__((noreturn)) die_make(int code)
{
  die(errno == ENOSPC || errno == EDQUOT ? 53 : code);
}

/* The 24 h alarm: exit at once, leaving everything for the stale-file
 * cleanup (a signal handler must not walk the unlink list anyway). */
static void on_alarm(int sig)
{
  (void)sig;
  _exit(52);
}

/* writeall: 0 ok, -1 error (errno set). */
static int writeall(int fd, const char *p, size_t len)
{
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* flush: write the buffer to fd and empty it; exit 53 on error. */
static void flush(int fd)
{
  if (writeall(fd, buf, buflen) == -1) die(53);
  buflen = 0;
}

/* fill: read into the free part of the buffer from fd; returns the byte
 * count (0 at EOF); exit 54 on a read error. */
static size_t fill(int fd)
{
  for (;;) {
    ssize_t r = read(fd, buf + buflen, BUFSIZE - buflen);
    if (r >= 0) return (size_t)r;
    if (errno != EINTR) die(54);
  }
}

static void put(const char *s, size_t len)
{
  memcpy(buf + buflen, s, len);  /* callers stay far below BUFSIZE */
  buflen += len;
}
static void putstr(const char *s) { put(s, strlen(s)); }
static void putnum(unsigned long long n)
{
  buflen += fmt_ulonglong(buf + buflen, n);
}

static void setup_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, 0);
  /* The trigger's reader may go away between our open and write: that
   * must not kill us after the commit. */
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, 0);
}

/* go_home: chdir to HOME/queue in one syscall; only on failure find out
 * whether the home (61) or the queue (62) is the problem. */
static void go_home(void)
{
  stralloc sa = {0};
  if (!home_path(&sa, QUEUE_DIR)) die(51);
  if (chdir(sa.s) == 0) return;
  die(chdir(home_dir()) == -1 ? 61 : 62);
}

/* invoked: the "invoked ..." words of the Received line for the real uid.
 * The qmail users are looked up only when running setuid (one getpwuid,
 * not three getpwnam: same answer when names and uids are one to one);
 * a plain run (single-user mode, tests) always says "by uid U". */
static const char *invoked(uid_t uid)
{
  struct passwd *pw;
  if (!getauxval(AT_SECURE)) return 0;
  pw = getpwuid(uid);
  if (!pw || !pw->pw_name) return 0;
  if (!strcmp(pw->pw_name, QUSER_DAEMON)) return "invoked from network";
  if (!strcmp(pw->pw_name, QUSER_ALIAS)) return "invoked by alias";
  if (!strcmp(pw->pw_name, QUSER_SEND)) return "invoked for bounce";
  return 0;
}

/* put2: two digits. */
static void put2(unsigned int n)
{
  buf[buflen++] = (char)('0' + n / 10 % 10);
  buf[buflen++] = (char)('0' + n % 10);
}

/* putdate: RFC 5322 date-time of t in UTC, "Mon, 23 Nov 2026 21:05:10
 * +0000". Our own arithmetic (days to civil date) because glibc's gmtime
 * loads /etc/localtime on first use: 7 syscalls per message for nothing. */
static void putdate(time_t t)
{
  static const char wday[] = "ThuFriSatSunMonTueWed";
  static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  long long days = (long long)t / 86400, secs = (long long)t % 86400;
  long long era, doe, yoe, doy, mp, d, m, y;
  if (secs < 0) { secs += 86400; --days; }
  put(wday + 3 * (((days % 7) + 7) % 7), 3);
  put(", ", 2);
  days += 719468;  /* days since 0000-03-01 */
  era = (days >= 0 ? days : days - 146096) / 146097;
  doe = days - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = yoe + era * 400 + (m <= 2);
  putnum((unsigned long long)d);
  put(" ", 1);
  put(mon + 3 * (m - 1), 3);
  put(" ", 1);
  putnum((unsigned long long)(y < 0 ? 0 : y));
  put(" ", 1);
  put2((unsigned int)(secs / 3600)); put(":", 1);
  put2((unsigned int)(secs / 60 % 60)); put(":", 1);
  put2((unsigned int)(secs % 60));
  put(" +0000", 6);
}

/* received: the first line of the stored message, into the empty buffer:
 * Received: (qmail PID invoked by uid U id QID); DATE
 * how is invoked()'s answer. */
static void received(unsigned long pid, uid_t uid, const char *how, time_t now)
{
  putstr("Received: (qmail ");
  putnum(pid);
  if (how) {
    put(" ", 1);
    putstr(how);
  } else {
    putstr(" invoked by uid ");
    putnum(uid);
  }
  putstr(" id ");
  putstr(qid);
  putstr("); ");
  putdate(now);
  put("\n", 1);
}

/* pidfile: create pid/PID.TIME.SEQ exclusively; its inode names the
 * message. A leftover of an earlier run with the same pid in the same
 * second is skipped by trying the next SEQ. */
static void pidfile(unsigned long pid, time_t now)
{
  struct stat st;
  int seq;
  for (seq = 1; seq <= PIDTRIES; ++seq) {
    size_t n = fmt_str(pidfn, QDIR_PID "/");
    n += fmt_ulong(pidfn + n, pid);
    pidfn[n++] = '.';
    n += fmt_ulonglong(pidfn + n, (unsigned long long)now);
    pidfn[n++] = '.';
    n += fmt_ulong(pidfn + n, (unsigned long)seq);
    pidfn[n] = 0;
    messfd = open(pidfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, QMODE_FILE);
    if (messfd != -1) break;
    if (errno != EEXIST) die_make(63);
  }
  if (messfd == -1) die(63);
  made_pid = 1;
  if (fstat(messfd, &st) == -1) die(63);
  ino = (unsigned long long)st.st_ino;
}

/* to_mess: give the new inode its real name mess/S/N; drop the pid name. */
static void to_mess(void)
{
  if (!qname_file(messfn, QDIR_MESS, ino)) die(64);
  if (link(pidfn, messfn) == -1) die_make(64);
  made_mess = 1;
  if (unlink(pidfn) == -1) die(63);
  made_pid = 0;
}

/* make_qid: the queue id, from the clock read now that the inode is ours
 * (msgid.h: why this makes it unique). The Received line's date is the
 * same reading. clock_gettime is a vDSO call: no syscall. */
static time_t make_qid(void)
{
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) == -1) { ts.tv_sec = time(0); ts.tv_nsec = 0; }
  qid_fmt(qid, (unsigned long long)ts.tv_sec, (unsigned long)ts.tv_nsec, ino);
  return ts.tv_sec;
}

/* copy_message: the Received line is already in the buffer; append fd 0
 * verbatim in 64 KB writes, looking for the Message-ID on the way. */
static void copy_message(void)
{
  midscan_init(&mids);
  for (;;) {
    size_t r;
    if (buflen == BUFSIZE) flush(messfd);
    r = fill(0);
    if (!r) break;
    midscan_feed(&mids, buf + buflen, r);
    buflen += r;
  }
  flush(messfd);
}

/* sync_fd: fsync or exit 53 (EIO, ENOSPC at writeback, ...). */
static void sync_fd(int fd)
{
  if (fsync(fd) == -1) die(53);
}

/* sync_dir: make the entries of directory dir durable; code when it
 * cannot be opened, 53 when the flush fails. */
static void sync_dir(const char *dir, int code)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) die(code);
  sync_fd(fd);
  close(fd);
}

/* sync_files: the message and the envelope must both be on disk before
 * anything can commit them. Writeback of both is started first, so the
 * first fsync's journal commit carries both files' block allocations and
 * the second finds nothing left to commit (one journal commit instead of
 * two: measured ~15-30% less flush time per message here). The mess/S/N
 * entry is durable by this commit and at the latest by the todo/
 * directory fsync on ext4/xfs (ordered metadata journal: QUEUE.md
 * "Flushes"); QUEUE_SYNC_MESSDIR adds its own flush for filesystems
 * without that ordering. */
static void sync_files(void)
{
  (void)sync_file_range(messfd, 0, 0, SYNC_FILE_RANGE_WRITE);
  (void)sync_file_range(intdfd, 0, 0, SYNC_FILE_RANGE_WRITE);
  sync_fd(messfd);
  sync_fd(intdfd);
#if QUEUE_SYNC_MESSDIR
  {
    char dir[QNAME_MAX];
    qname_dir(dir, QDIR_MESS, ino);
    sync_dir(dir, 64);
  }
#endif
}

/* trace_items: i<queue id>\0, and m<Message-ID>\0 when the message has
 * one (escaped: no NUL in it). */
static void trace_items(void)
{
  const char *mid;
  size_t n = midscan_value(&mids, &mid);
  put("i", 1); putstr(qid); put("", 1);
  if (n) { put("m", 1); put(mid, n); put("", 1); }
}

/* copy_envelope: intd/S/N gets u<uid>\0 p<pid>\0, the trace items (i, m)
 * and the envelope through its final empty item, checked on the way (91
 * format, 11 too long, 91 for EOF before the end). Nothing after the final
 * item is read. */
static void copy_envelope(unsigned long pid, uid_t uid)
{
  struct envscan es;
  envscan_init(&es, limit_get(LIM_ADDR));
  if (!qname_file(intdfn, QDIR_INTD, ino)) die(65);
  intdfd = open(intdfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, QMODE_FILE);
  if (intdfd == -1) die_make(65);
  made_intd = 1;
  put("u", 1); putnum(uid); put("", 1);
  put("p", 1); putnum(pid); put("", 1);
  trace_items();
  for (;;) {
    size_t r;
    long n;
    if (buflen == BUFSIZE) flush(intdfd);
    r = fill(1);
    if (!r) die(91);
    n = envscan_feed(&es, buf + buflen, r);
    if (n == ENV_LONG || n == ENV_CTRL) die(11);
    if (n < 0) die(91);
    buflen += n ? (size_t)n : r;
    if (n) break;
  }
  flush(intdfd);
}

/* commit: with both files flushed (sync_files), todo/S/N is linked to
 * intd's inode and the todo/S directory flushed: from that fsync on, the
 * message is queued. intd/ itself is never flushed: nothing reads intd/N
 * after the commit, and before it the name is garbage either way. */
static void commit(void)
{
  char dir[QNAME_MAX];
  if (!qname_file(todofn, QDIR_TODO, ino)) die(66);
  if (link(intdfn, todofn) == -1) die_make(66);
  made_todo = 1;
  qname_dir(dir, QDIR_TODO, ino);
  sync_dir(dir, 66);
}

/* trigger: "N\n" into lock/trigger wakes qmail-send and names the message,
 * so it is preprocessed without a scan of todo/ (QUEUE.md sec 3; one
 * write under PIPE_BUF bytes is atomic). With no reader the open fails
 * (ENXIO), and a full FIFO says EAGAIN: both are fine, the message is
 * queued and qmail-send's periodic scan (or the scan it makes when it
 * finds the FIFO full) finds it. */
static void trigger(void)
{
  char b[24];
  size_t i = sizeof b;
  unsigned long long n = ino;
  int fd = open(QFILE_TRIGGER, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1) return;
  b[--i] = '\n';
  do b[--i] = (char)('0' + n % 10); while ((n /= 10) && i);
  (void)!write(fd, b + i, sizeof b - i);
  close(fd);
}

int main(void)
{
  unsigned long pid;
  uid_t uid;
  time_t now;
  const char *how;

  setup_signals();
  alarm(QUEUE_ALARM);
  umask(QUEUE_UMASK);
  uid = getuid();
  pid = (unsigned long)getpid();
  now = time(0);
  how = invoked(uid);
  progname = "qmail-queue";
  limit_onfail(bad_control);
  limit_get(LIM_ADDR);  /* reads control/ by absolute path: before chdir */
  go_home();
  pidfile(pid, now);
  received(pid, uid, how, make_qid());
  to_mess();
  copy_message();
  copy_envelope(pid, uid);
  sync_files();
  commit();
  made_todo = made_intd = made_mess = 0;  /* committed: nothing to undo */
  trigger();
  _exit(0);
}
