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
 * The steps it shares with qmail-queued (names, queue id, Received line,
 * envelope items, commit link, undo, trigger) are in qwrite.h.
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
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "q_limits.h"
#include "envelope.h"
#include "msgid.h"
#include "qconf.h"
#include "qname.h"
#include "qwrite.h"

#define BUFSIZE 65536   /* one buffer for the message, then the envelope */

static char buf[BUFSIZE];
static size_t buflen;
static struct qw w;            /* the message's names and files (qwrite.h) */

static void __attribute__((noreturn)) die(int code)
{
  qw_cleanup(&w);
  _exit(code);
}

/* bad_control: a cap file that is present but unusable: 55 ("unable to
 * read configuration", temporary), never the default */
static void __attribute__((noreturn)) bad_control(const char *name, const char *why)
{
  err_print("alert", 0, "cannot use control/", name, ": ", why, (const char *)0);
  die(55);
}

/* check: a qwrite step's result; exit with its code on failure. */
static void check(int code)
{
  if (code) die(code);
}

/* The 24 h alarm: exit at once, leaving everything for the stale-file
 * cleanup (a signal handler must not walk the unlink list anyway). */
static void on_alarm(int sig)
{
  (void)sig;
  _exit(52);
}

/* flush: write the buffer to fd and empty it; exit 53 on error. */
static void flush(int fd)
{
  if (qw_writeall(fd, buf, buflen) == -1) die(53);
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
  return pw ? qw_how(pw->pw_name) : 0;
}

/* copy_message: the Received line is already in the buffer; append fd 0
 * verbatim in 64 KB writes, looking for the Message-ID on the way. */
static void copy_message(void)
{
  for (;;) {
    size_t r;
    if (buflen == BUFSIZE) flush(w.messfd);
    r = fill(0);
    if (!r) break;
    midscan_feed(&w.mids, buf + buflen, r);
    buflen += r;
  }
  flush(w.messfd);
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
  (void)sync_file_range(w.messfd, 0, 0, SYNC_FILE_RANGE_WRITE);
  (void)sync_file_range(w.intdfd, 0, 0, SYNC_FILE_RANGE_WRITE);
  sync_fd(w.messfd);
  sync_fd(w.intdfd);
#if QUEUE_SYNC_MESSDIR
  {
    char dir[QNAME_MAX];
    qname_dir(dir, QDIR_MESS, w.ino);
    sync_dir(dir, 64);
  }
#endif
}

/* copy_envelope: intd/S/N gets u<uid>\0 p<pid>\0, the trace items (i, m)
 * and the envelope through its final empty item, checked on the way (91
 * format, 11 too long, 91 for EOF before the end). Nothing after the final
 * item is read. */
static void copy_envelope(unsigned long pid, uid_t uid)
{
  struct envscan es;
  envscan_init(&es, limit_get(LIM_ADDR));
  check(qw_open_intd(&w));
  buflen = qw_items(&w, buf, uid, pid);
  for (;;) {
    size_t r;
    long n;
    if (buflen == BUFSIZE) flush(w.intdfd);
    r = fill(1);
    if (!r) die(91);
    n = envscan_feed(&es, buf + buflen, r);
    if (n == ENV_LONG || n == ENV_CTRL) die(11);
    if (n < 0) die(91);
    buflen += n ? (size_t)n : r;
    if (n) break;
  }
  flush(w.intdfd);
}

/* commit: with both files flushed (sync_files), todo/S/N is linked to
 * intd's inode and the todo/S directory flushed: from that fsync on, the
 * message is queued. intd/ itself is never flushed: nothing reads intd/N
 * after the commit, and before it the name is garbage either way. */
static void commit(void)
{
  char dir[QNAME_MAX];
  check(qw_link_todo(&w));
  qname_dir(dir, QDIR_TODO, w.ino);
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
  int fd = qw_trigger_open();
  if (fd == -1) return;
  qw_trigger(fd, w.ino);
  close(fd);
}

int main(void)
{
  unsigned long pid;
  uid_t uid;
  time_t now, when;
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
  qw_init(&w);
  check(qw_create(&w, pid, now, &when));
  buflen = qw_received(&w, buf, pid, uid, how, when);
  copy_message();
  copy_envelope(pid, uid);
  sync_files();
  commit();
  qw_committed(&w);  /* committed: nothing to undo */
  trigger();
  _exit(0);
}
