/* qmail-qconvert: move every message of a stopped netqmail/notqmail queue
 * (qmail 1.03's layout, any conf-split, big-todo or not) into this hub's
 * queue, with nothing lost (man page qmail-qconvert.8, docs/migrating.md).
 *   qmail-qconvert [-n] QMAILQUEUE
 * Each message is written anew through the queue writing steps of
 * qmail-queue (hub/queue/qwrite.h), so it gets a fresh inode N and its own
 * names; our queue contract is hub/queue/QUEUE.md.
 *   todo/M (or todo/S/M): queued, not preprocessed: written as one of our
 *     todo/ messages (state S4: mess, intd, todo link) with its envelope
 *     (u, p, F, T items as qmail's); our qmail-send preprocesses it.
 *   info/S/M (+ local/S/M, remote/S/M, bounce/M): preprocessed: written as
 *     state S5: mess/S/N, the T records of local and remote (the D ones,
 *     done already, are left out), bounce/N, then info/S/N with qmail's
 *     birth (mtime); channel files keep their mtime (the next retry).
 * Durable before the source goes: a todo message as qmail-queue commits
 * (fsync mess, intd, mess/S, link, fsync todo/S); a preprocessed one by a
 * queue commit (q_commit.h) after mess and channel files, and one more
 * after info (so info never names a channel file that is not there);
 * the barrier is lock/sendmutex, as qmail-send's.
 * Only then the source's names go (todo or info first). A crash repeats
 * at most one message (a duplicate), never loses one.
 * Left alone and reported: half-written messages (mess without todo or
 * info, intd without todo), and anything damaged (a symlink, a file of
 * another owner, a record that does not parse, an address over
 * control/maxaddress or with a control byte, a file over its cap).
 * Refuses (exit 100, nothing done): not root (or, in a single-user hub,
 * not the hub's owner), our qmail-send or the source's running (their
 * lock/sendmutex is locked), our queue of the wrong owner, a source whose
 * split cannot be determined.
 * Exit: 0 all converted; 1 some messages left alone (listed on fd 2);
 * 100 refused or usage; 111 a temporary error stopped the run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_addr.h"
#include "q_commit.h"
#include "q_err.h"
#include "q_home.h"
#include "q_limits.h"
#include "qconf.h"
#include "qname.h"
#include "qwrite.h"

#define SPLIT_MAX 1000           /* source split cap */
#define ENV_FILE_MAX (16UL << 20) /* todo, info, local, remote: bytes */
#define BOUNCE_FILE_MAX (16UL << 20)
#define ID_DIGITS 20

static int dry, srcfd = -1;
static unsigned split, bigtodo, bigintd;  /* source layout */
static unsigned long maxaddr;
static uid_t quid, suid;                  /* our queue's owners */
static gid_t qgid, sgid;
static struct q_commit commit;
static unsigned long n_todo, n_pre, n_rcpt, n_done, n_bounce, n_bad, n_half;
static const char *why;                   /* why a message is damaged */

/* ---- the source queue, never through a symlink ---- */

/* sub: "S" of split subdirectory s, or 0 for a flat directory (s < 0) */
static const char *sub(long s)
{
  static char b[24];
  if (s < 0) return 0;
  snprintf(b, sizeof b, "%ld", s);
  return b;
}

/* src_dir: open source dir[/S] (s < 0: dir itself), no symlink followed */
static int src_dir(const char *dir, long s)
{
  int d = openat(srcfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e;
  if (d == -1 || s < 0) return d;
  e = openat(d, sub(s), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close(d);
  return e;
}

/* src_read: the whole file dir[/S]/name, at most cap bytes, into out;
 * *st its stat. 1 ok, 0 missing, -1 damaged (why), -2 error (errno) */
static int src_read(const char *dir, long s, const char *name, size_t cap,
                    stralloc *out, struct stat *st)
{
  struct stat ds;
  char buf[8192];
  ssize_t r;
  int d = src_dir(dir, s), fd;
  out->len = 0;
  if (d == -1) return -2;
  fd = openat(d, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1) {
    int e = errno;
    close(d);
    if (e == ENOENT) return 0;
    if (e == ELOOP) { why = "a symlink"; return -1; }
    errno = e;
    return -2;
  }
  if (fstat(fd, st) == -1 || fstat(d, &ds) == -1) { close(fd); close(d); return -2; }
  close(d);
  if (!S_ISREG(st->st_mode)) why = "not a regular file";
  else if (st->st_uid != ds.st_uid) why = "owned by another user than its directory";
  else if ((unsigned long long)st->st_size > cap) why = "over its size cap";
  else why = 0;
  if (why) { close(fd); return -1; }
  for (;;) {
    r = read(fd, buf, sizeof buf);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) { close(fd); return -2; }
    if (!r) break;
    if (out->len + (size_t)r > cap) { close(fd); why = "over its size cap"; return -1; }
    if (!stralloc_catb(out, buf, (size_t)r)) fatal_nomem();
  }
  close(fd);
  return 1;
}

/* src_has: does dir[/S]/name exist (as any kind of entry)? */
static int src_has(const char *dir, long s, const char *name)
{
  struct stat st;
  int d = src_dir(dir, s), r;
  if (d == -1) return errno == ENOENT ? 0 : -1;
  r = fstatat(d, name, &st, AT_SYMLINK_NOFOLLOW);
  close(d);
  if (r == 0) return 1;
  return errno == ENOENT ? 0 : -1;
}

/* src_unlink: remove dir[/S]/name (ENOENT is success) */
static int src_unlink(const char *dir, long s, const char *name)
{
  int d = src_dir(dir, s), r;
  if (d == -1) return errno == ENOENT ? 0 : -1;
  r = unlinkat(d, name, 0);
  close(d);
  return r == -1 && errno != ENOENT ? -1 : 0;
}

/* ---- the source's split ---- */

/* count_split: how dir is laid out: k (> 0) when it holds exactly the
 * directories 0..k-1, 0 when it holds only regular files (or nothing),
 * -1 otherwise (why) */
static long count_split(const char *dir)
{
  int d = src_dir(dir, -1);
  DIR *dp;
  struct dirent *de;
  unsigned long dirs = 0, files = 0, max = 0, v;
  char *end;
  if (d == -1) { why = "missing or not a directory"; return -1; }
  dp = fdopendir(d);
  if (!dp) { close(d); why = "unreadable"; return -1; }
  while ((de = readdir(dp))) {
    struct stat st;
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (fstatat(d, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) { dirs = files = 1; break; }
    if (!S_ISDIR(st.st_mode)) { ++files; continue; }  /* a flat dir's entry, even a bad one */
    v = strtoul(de->d_name, &end, 10);
    if (!S_ISDIR(st.st_mode) || *end || !*de->d_name || (de->d_name[0] == '0' && de->d_name[1]) ||
        v >= SPLIT_MAX) { dirs = files = 1; break; }
    ++dirs;
    if (v + 1 > max) max = v + 1;
  }
  closedir(dp);
  if (dirs && files) { why = "neither split nor flat"; return -1; }
  if (dirs && max != dirs) { why = "split subdirectories missing"; return -1; }
  return (long)dirs;
}

static void find_split(void)
{
  static const char *same[] = { "info", "local", "remote" };
  long k = count_split("mess"), j;
  size_t i;
  if (k <= 0) fatal(100, "cannot determine the split of ", "mess/", ": ", k ? why : "no subdirectories");
  split = (unsigned)k;
  for (i = 0; i < sizeof same / sizeof *same; ++i)
    if (count_split(same[i]) != k) fatal(100, "cannot determine the split: ", same[i], "/ differs from mess/");
  j = count_split("todo");
  if (j != 0 && j != k) fatal(100, "cannot determine the split: todo/ differs from mess/");
  bigtodo = j == k;
  j = count_split("intd");
  if (j != 0 && j != k) fatal(100, "cannot determine the split: intd/ differs from mess/");
  bigintd = j == k;
  if (count_split("bounce") != 0) fatal(100, "bounce/ holds more than files");
}

/* ---- items of qmail's envelope and channel files ---- */

/* item: the next NUL-terminated item of s[*pos..len): 1 (t, a, alen set),
 * 0 at the end, -1 when the file ends inside an item */
static int item(const stralloc *s, size_t *pos, char *t, const char **a, size_t *alen)
{
  const char *p, *nul;
  if (*pos >= s->len) return 0;
  p = s->s + *pos;
  nul = memchr(p, 0, s->len - *pos);
  if (!nul) { why = "a record without its final NUL"; return -1; }
  *t = *p;
  *a = *t ? p + 1 : p;
  *alen = *t ? (size_t)(nul - p) - 1 : 0;
  *pos += (size_t)(nul - p) + 1;
  return 1;
}

/* addr_bad: is a unfit for our queue (why set)? */
static int addr_bad(const char *a, size_t alen, int rcpt)
{
  int r = addr_env_check(a, alen, maxaddr);
  if (r == ADDR_ENV_TOOLONG) why = "an address over control/maxaddress";
  else if (r != ADDR_ENV_OK) why = "an address with a control byte";
  else if (rcpt && !alen) why = "an empty recipient";
  else return 0;
  return 1;
}

/* digits: a, alen is a decimal number (at most 19 digits): 1 */
static int digits(const char *a, size_t alen, unsigned long long *v)
{
  size_t i;
  *v = 0;
  if (!alen || alen > 19) return 0;
  for (i = 0; i < alen; ++i) {
    if (a[i] < '0' || a[i] > '9') return 0;
    *v = *v * 10 + (unsigned long long)(a[i] - '0');
  }
  return 1;
}

struct env {
  unsigned long long uid, pid;
  stralloc sender;
  stralloc rcpts[2];            /* local, remote (todo: [0] only): T items */
  unsigned long nrcpt, ndone;
  struct stat chst[2];          /* the channel files' stat (mtime) */
  int haschan[2];
};

/* parse_todo: qmail's envelope u p F T... [empty item]: 0, -1 damaged */
static int parse_todo(const stralloc *f, struct env *e)
{
  size_t pos = 0, alen;
  const char *a;
  char t;
  int r, stage = 0;  /* 0 u, 1 p, 2 F, 3 T, 4 after the empty item */
  while ((r = item(f, &pos, &t, &a, &alen)) == 1) {
    if (stage == 0 && t == 'u' && digits(a, alen, &e->uid)) { stage = 1; continue; }
    if (stage == 1 && t == 'p' && digits(a, alen, &e->pid)) { stage = 2; continue; }
    if (stage == 2 && t == 'F') {
      if (addr_bad(a, alen, 0)) return -1;
      if (!stralloc_copyb(&e->sender, a, alen)) fatal_nomem();
      stage = 3;
      continue;
    }
    if (stage == 3 && t == 'T') {
      if (addr_bad(a, alen, 1)) return -1;
      if (!stralloc_catb(&e->rcpts[0], a - 1, alen + 2)) fatal_nomem();
      ++e->nrcpt;
      continue;
    }
    if (stage == 3 && t == 0) { stage = 4; continue; }
    why = "a record out of place in the envelope";
    return -1;
  }
  if (r == -1) return -1;
  if (stage < 3) { why = "an envelope without u, p and F"; return -1; }
  return 0;
}

/* parse_chan: qmail's local or remote file, T and D records */
static int parse_chan(const stralloc *f, stralloc *out, struct env *e)
{
  size_t pos = 0, alen;
  const char *a;
  char t;
  int r;
  while ((r = item(f, &pos, &t, &a, &alen)) == 1) {
    if (t != 'T' && t != 'D') { why = "a channel record neither T nor D"; return -1; }
    if (addr_bad(a, alen, 1)) return -1;
    if (t == 'D') { ++e->ndone; continue; }
    if (!stralloc_catb(out, a - 1, alen + 2)) fatal_nomem();
    ++e->nrcpt;
  }
  return r;
}

/* parse_info: exactly F<sender>\0 */
static int parse_info(const stralloc *f, struct env *e)
{
  size_t pos = 0, alen;
  const char *a;
  char t;
  if (item(f, &pos, &t, &a, &alen) != 1 || t != 'F' || pos != f->len) {
    why = "an info file that is not one F record";
    return -1;
  }
  if (addr_bad(a, alen, 0)) return -1;
  return stralloc_copyb(&e->sender, a, alen) ? 0 : (fatal_nomem(), -1);
}

/* ---- writing into our queue (cwd: HOME/queue) ---- */

static int syncdir(const char *path)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;
  if (fd == -1) return -1;
  r = fsync(fd);
  close(fd);
  return r;
}

/* copy_mess: a new mess/S/N (w) holding a Received line and the bytes of
 * the source's mess/S/M, owned as qmail-queue's; fsynced with mess/S */
static int copy_mess(struct qw *w, const char *name, long s, const struct env *e)
{
  char rec[QW_RECEIVED_MAX], buf[65536], dir[QNAME_MAX];
  struct stat st, ds;
  time_t when;
  ssize_t r;
  int d = src_dir("mess", s), fd;
  if (d == -1) return -2;
  fd = openat(d, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd == -1 || fstat(fd, &st) == -1 || fstat(d, &ds) == -1) {
    int er = errno;
    if (fd != -1) close(fd);
    close(d);
    if (er == ENOENT) { why = "no message file"; return -1; }
    if (er == ELOOP) { why = "a symlink as message file"; return -1; }
    errno = er;
    return -2;
  }
  close(d);
  if (!S_ISREG(st.st_mode) || st.st_uid != ds.st_uid) {
    close(fd);
    why = "a message file of another owner or kind";
    return -1;
  }
  if (qw_create(w, (unsigned long)getpid(), time(0), &when)) { close(fd); return -2; }
  if (fchown(w->messfd, quid, qgid) == -1) { close(fd); return -2; }
  if (qw_writeall(w->messfd, rec, qw_received(w, rec, (unsigned long)e->pid, (uid_t)e->uid,
                                              0, when)) == -1) { close(fd); return -2; }
  for (;;) {
    r = read(fd, buf, sizeof buf);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) { close(fd); return -2; }
    if (!r) break;
    midscan_feed(&w->mids, buf, (size_t)r);
    if (qw_writeall(w->messfd, buf, (size_t)r) == -1) { close(fd); return -2; }
  }
  close(fd);
  if (fsync(w->messfd) == -1) return -2;
  if (!qname_dir(dir, QDIR_MESS, w->ino) || syncdir(dir) == -1) return -2;
  return 0;
}

/* put_file: our dir/S/N (or bounce/N) with bytes, owned by qmails, mode
 * 0600, mtime of st (when not 0); not flushed */
static int put_file(const char *dir, unsigned long long n, const char *b, size_t len,
                    const struct stat *st)
{
  char p[QNAME_MAX];
  int fd;
  if (!strcmp(dir, QDIR_BOUNCE)) snprintf(p, sizeof p, "%s/%llu", dir, n);
  else if (!qname_file(p, dir, n)) return -1;
  if (unlink(p) == -1 && errno != ENOENT) return -1;  /* a stale name */
  fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd == -1) return -1;
  if (fchown(fd, suid, sgid) == -1 || qw_writeall(fd, b, len) == -1) { close(fd); return -1; }
  if (st) {
    struct timespec ts[2] = { st->st_atim, st->st_mtim };
    if (futimens(fd, ts) == -1) { close(fd); return -1; }
  }
  return close(fd);
}

/* ---- one message ---- */

static void env_free(struct env *e)
{
  stralloc_free(&e->sender);
  stralloc_free(&e->rcpts[0]);
  stralloc_free(&e->rcpts[1]);
}

static void left_alone(const char *name, const char *what)
{
  ++n_bad;
  warn("msg ", name, ": ", what, ": ", why ? why : "damaged", ": left alone");
}

static void trouble(const char *name, const char *what) __attribute__((noreturn));
static void trouble(const char *name, const char *what)
{
  fatal_sys(111, "unable to convert msg ", name, " (", what, "); what is converted stays converted, run me again");
}

static void said(const char *verb, const char *name, const char *kind, unsigned long long n,
                 const struct env *e, int bounce)
{
  printf("%s msg %s (%s)", verb, name, kind);
  if (!dry) printf(" as %llu", n);
  printf(": %lu recipients pending, %lu done%s\n", e->nrcpt, e->ndone, bounce ? ", bounce pending" : "");
}

/* todo_msg: todo/M or todo/S/M */
static void todo_msg(const char *name, unsigned long long m)
{
  long s = (long)(m % split), ts = bigtodo ? s : -1;
  struct env e = {0};
  struct stat st;
  struct qw w;
  stralloc f = {0};
  char items[QW_ITEMS_MAX], dir[QNAME_MAX];
  int r = src_read("todo", ts, name, ENV_FILE_MAX, &f, &st);
  if (r == -2) trouble(name, "reading todo");
  if (r == 0) { stralloc_free(&f); return; }
  if (r == -1 || parse_todo(&f, &e) == -1) { left_alone(name, "todo"); goto out; }
  if (src_has("mess", s, name) != 1) { why = "no message file"; left_alone(name, "todo"); goto out; }
  ++n_todo; n_rcpt += e.nrcpt;
  if (dry) { said("would convert", name, "todo", 0, &e, 0); goto out; }
  qw_init(&w);
  r = copy_mess(&w, name, s, &e);
  if (r == -1) { qw_cleanup(&w); --n_todo; n_rcpt -= e.nrcpt; left_alone(name, "todo"); goto out; }
  if (r || qw_open_intd(&w) || fchown(w.intdfd, quid, qgid) == -1 ||
      qw_writeall(w.intdfd, items, qw_items(&w, items, (uid_t)e.uid, (unsigned long)e.pid)) == -1 ||
      qw_writeall(w.intdfd, "F", 1) == -1 ||
      qw_writeall(w.intdfd, e.sender.s ? e.sender.s : "", e.sender.len) == -1 ||
      qw_writeall(w.intdfd, "", 1) == -1 ||
      qw_writeall(w.intdfd, e.rcpts[0].s ? e.rcpts[0].s : "", e.rcpts[0].len) == -1 ||
      qw_writeall(w.intdfd, "", 1) == -1 || fsync(w.intdfd) == -1 || qw_link_todo(&w) ||
      !qname_dir(dir, QDIR_TODO, w.ino) || syncdir(dir) == -1) {
    int er = errno;
    qw_cleanup(&w);
    errno = er;
    trouble(name, "writing our queue");
  }
  qw_committed(&w);
  qw_close(&w);
  said("converted", name, "todo", w.ino, &e, 0);
  /* the source: todo first (then the message is no longer queued there) */
  if (src_unlink("todo", ts, name) == -1 || src_unlink("intd", bigintd ? s : -1, name) == -1 ||
      src_unlink("info", s, name) == -1 || src_unlink("local", s, name) == -1 ||
      src_unlink("remote", s, name) == -1 || src_unlink("mess", s, name) == -1)
    trouble(name, "removing it from the source after converting it");
out:
  env_free(&e);
  stralloc_free(&f);
}

/* pre_read: info, local, remote, bounce of a preprocessed message */
static int pre_read(const char *name, long s, struct env *e, stralloc *bounce,
                    struct stat *infost, int *hasbounce)
{
  static const char *chan[2] = { "local", "remote" };
  stralloc f = {0};
  struct stat st;
  int r, i, rc = -1;
  r = src_read("info", s, name, ENV_FILE_MAX, &f, infost);
  if (r == -2) trouble(name, "reading info");
  if (r == 0) { rc = 0; why = 0; goto out; }  /* gone meanwhile */
  if (r == -1 || parse_info(&f, e) == -1) goto out;
  for (i = 0; i < 2; ++i) {
    r = src_read(chan[i], s, name, ENV_FILE_MAX, &f, &e->chst[i]);
    if (r == -2) trouble(name, "reading a channel file");
    if (r == -1 || (r == 1 && parse_chan(&f, &e->rcpts[i], e) == -1)) goto out;
    e->haschan[i] = r == 1;
  }
  r = src_read("bounce", -1, name, BOUNCE_FILE_MAX, bounce, &st);
  if (r == -2) trouble(name, "reading bounce");
  if (r == -1) goto out;
  if (r == 1 && memchr(bounce->s, 0, bounce->len)) { why = "a NUL in the bounce file"; goto out; }
  *hasbounce = r == 1 && bounce->len;
  if (src_has("mess", s, name) != 1) { why = "no message file"; goto out; }
  rc = 1;
out:
  stralloc_free(&f);
  return rc;
}

/* pre_msg: info/S/M (+ local, remote, bounce) */
static void pre_msg(const char *name, unsigned long long m)
{
  static const char *dirs[2] = { QDIR_LOCAL, QDIR_REMOTE };
  long s = (long)(m % split);
  struct env e = {0};
  struct stat infost;
  struct qw w;
  stralloc bounce = {0}, info = {0};
  int r, i, hb = 0;
  if (src_has("todo", bigtodo ? s : -1, name) != 0) return;  /* a todo message, done or left */
  r = pre_read(name, s, &e, &bounce, &infost, &hb);
  if (r == 0) goto out;
  if (r == -1) { left_alone(name, "preprocessed"); goto out; }
  ++n_pre; n_rcpt += e.nrcpt; n_done += e.ndone; n_bounce += (unsigned long)hb;
  if (dry) { said("would convert", name, "preprocessed", 0, &e, hb); goto out; }
  qw_init(&w);
  e.uid = (unsigned long long)getuid(); e.pid = (unsigned long long)getpid();
  r = copy_mess(&w, name, s, &e);
  if (r == -1) {
    qw_cleanup(&w);
    --n_pre; n_rcpt -= e.nrcpt; n_done -= e.ndone; n_bounce -= (unsigned long)hb;
    left_alone(name, "preprocessed");
    goto out;
  }
  if (r) { int er = errno; qw_cleanup(&w); errno = er; trouble(name, "writing our message file"); }
  qw_committed(&w);
  qw_close(&w);
  for (i = 0; i < 2; ++i)
    if (e.rcpts[i].len && put_file(dirs[i], w.ino, e.rcpts[i].s, e.rcpts[i].len, &e.chst[i]) == -1)
      trouble(name, "writing a channel file");
  if (hb && put_file(QDIR_BOUNCE, w.ino, bounce.s, bounce.len, 0) == -1) trouble(name, "writing bounce");
  if (q_commit(&commit) == -1) trouble(name, "flushing our queue");
  if (!stralloc_copys(&info, "F") || !stralloc_cat(&info, &e.sender) || !stralloc_0(&info)) fatal_nomem();
  if (put_file(QDIR_INFO, w.ino, info.s, info.len, &infost) == -1) trouble(name, "writing info");
  if (q_commit(&commit) == -1) trouble(name, "flushing our queue");
  said("converted", name, "preprocessed", w.ino, &e, hb);
  if (src_unlink("info", s, name) == -1 || src_unlink("local", s, name) == -1 ||
      src_unlink("remote", s, name) == -1 || src_unlink("bounce", -1, name) == -1 ||
      src_unlink("intd", bigintd ? s : -1, name) == -1 || src_unlink("mess", s, name) == -1)
    trouble(name, "removing it from the source after converting it");
out:
  env_free(&e);
  stralloc_free(&bounce);
  stralloc_free(&info);
}

/* ---- walking the source ---- */

/* msgname: a message name (decimal, no leading zero, at most 20 digits)? */
static int msgname(const char *n, unsigned long long *m)
{
  char *end;
  size_t len = strlen(n);
  if (!len || len > ID_DIGITS || (n[0] == '0' && len > 1) || n[0] < '0' || n[0] > '9') return 0;
  errno = 0;
  *m = strtoull(n, &end, 10);
  return !*end && errno != ERANGE;
}

/* names: the entries of dir[/S] into out (NUL-separated); -1 error */
static int names(const char *dir, long s, stralloc *out)
{
  int d = src_dir(dir, s);
  DIR *dp;
  struct dirent *de;
  out->len = 0;
  if (d == -1) return -1;
  if (!(dp = fdopendir(d))) { close(d); return -1; }
  while ((de = readdir(dp))) {
    if (de->d_name[0] == '.') continue;
    if (!stralloc_cats(out, de->d_name) || !stralloc_0(out)) fatal_nomem();
  }
  closedir(dp);
  return 0;
}

/* walk: fn for every message name in dir (every split subdirectory when
 * split, else the flat dir); a name that is no message's is reported */
static void walk(const char *dir, int splitdir, void (*fn)(const char *, unsigned long long, long))
{
  stralloc ns = {0};
  long s;
  size_t i;
  unsigned long long m;
  for (s = splitdir ? 0 : -1; s < (splitdir ? (long)split : 0); ++s) {
    if (names(dir, s, &ns) == -1) fatal_sys(111, "unable to read the source's ", dir, "/");
    for (i = 0; i < ns.len; i += strlen(ns.s + i) + 1) {
      if (!msgname(ns.s + i, &m) || (s >= 0 && m % split != (unsigned long long)s)) {
        ++n_bad;
        warn(dir, "/", s >= 0 ? sub(s) : "", s >= 0 ? "/" : "", ns.s + i, ": not a message name here: left alone");
        continue;
      }
      fn(ns.s + i, m, s);
    }
  }
  stralloc_free(&ns);
}

static void do_todo(const char *n, unsigned long long m, long s) { (void)s; todo_msg(n, m); }
static void do_info(const char *n, unsigned long long m, long s) { (void)s; pre_msg(n, m); }

/* leftovers: names of no message still queued at the source */
static void half_mess(const char *n, unsigned long long m, long s)
{
  if (src_has("todo", bigtodo ? s : -1, n) || src_has("info", s, n)) return;
  if (src_has("intd", bigintd ? s : -1, n)) return;  /* half_intd reports it */
  ++n_half;
  warn("msg ", n, ": mess/", sub(s), "/", n, " without todo or info (half-written by a crash, or finished): left alone");
  (void)m;
}
static void half_intd(const char *n, unsigned long long m, long s)
{
  if (src_has("todo", bigtodo ? (long)(m % split) : -1, n)) return;
  ++n_half;
  warn("msg ", n, ": intd/", s >= 0 ? sub(s) : "", s >= 0 ? "/" : "", n, " (and its mess) without todo (half-written by a crash): left alone");
}

/* ---- our queue ---- */

static void owners(void)
{
  struct stat mq, sq;
  if (stat(QDIR_MESS, &mq) == -1 || stat(QDIR_INFO, &sq) == -1)
    fatal_sys(111, "unable to stat our queue's mess/ and info/");
  quid = mq.st_uid; qgid = mq.st_gid; suid = sq.st_uid; sgid = sq.st_gid;
  if (getuid() == 0) {
    struct passwd *pw = getpwnam(QUSER_QUEUE);
    uid_t q;
    if (!pw) fatal(100, "user " QUSER_QUEUE " must exist");
    q = pw->pw_uid;  /* getpwnam's buffer is reused by the next call */
    if (!(pw = getpwnam(QUSER_SEND))) fatal(100, "user " QUSER_SEND " must exist");
    if (q != quid || pw->pw_uid != suid)
      fatal(100, "our queue has the wrong owner: mess/ must be " QUSER_QUEUE "'s, info/ " QUSER_SEND "'s");
  } else if (quid != getuid() || suid != getuid()) {
    fatal(100, "must be run as root (or, in a single-user hub, as the queue's owner)");
  }
}

/* lock: flock the sendmutex at dirfd/lock/sendmutex, which a running
 * qmail-send (qmail's or ours) holds; kept until exit */
static int lock(int dirfd, const char *whose)
{
  int d = openat(dirfd, "lock", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), fd;
  if (d == -1) fatal_sys(100, "unable to open ", whose, " lock/");
  fd = openat(d, "sendmutex", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  close(d);
  if (fd == -1) fatal_sys(100, "unable to open ", whose, " lock/sendmutex");
  if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
    if (errno == EWOULDBLOCK) fatal(100, whose, " qmail-send is running (lock/sendmutex is locked): stop it first");
    fatal_sys(111, "unable to lock ", whose, " lock/sendmutex");
  }
  return fd;
}

int main(int argc, char **argv)
{
  static stralloc q;  /* static: lives until exit */
  int qfd;
  progname = "qmail-qconvert";
  setvbuf(stdout, 0, _IOLBF, 0);  /* each line out before a fatal _exit */
  if (argc == 3 && !strcmp(argv[1], "-n")) { dry = 1; ++argv; --argc; }
  if (argc != 2 || argv[1][0] == '-') fatal(100, "usage: qmail-qconvert [-n] QMAILQUEUEDIR");
  umask(QUEUE_UMASK);
  maxaddr = limit_get(LIM_ADDR);
  srcfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);  /* before the chdir */
  if (srcfd == -1) fatal_sys(100, "unable to open ", argv[1]);
  if (!home_path(&q, QUEUE_DIR)) fatal_nomem();
  if (getuid() != 0) {  /* before the chdir, which would fail with a vaguer reason */
    struct stat st;
    if (stat(q.s, &st) == -1 || st.st_uid != getuid())
      fatal(100, "must be run as root (or, in a single-user hub, as the queue's owner)");
  }
  if (chdir(q.s) == -1) fatal_sys(111, "unable to switch to ", q.s);
  owners();
  qfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (qfd == -1) fatal_sys(111, "unable to open ", q.s);
  q_commit_init(&commit, qfd, lock(qfd, "our"));  /* qmail-send's barrier too */
  lock(srcfd, "the source's");
  find_split();
  walk("todo", bigtodo, do_todo);
  walk("info", 1, do_info);
  walk("mess", 1, half_mess);
  walk("intd", bigintd, half_intd);
  if (!dry && syncfs(srcfd) == -1) fatal_sys(111, "unable to flush the source queue");
  printf("%s %lu messages (%lu todo, %lu preprocessed): %lu recipients pending, %lu done left out, "
         "%lu bounces pending; left alone: %lu damaged, %lu half-written; split %u%s\n",
         dry ? "would convert" : "converted", n_todo + n_pre, n_todo, n_pre, n_rcpt, n_done,
         n_bounce, n_bad, n_half, split, bigtodo ? ", big-todo" : "");
  if (fflush(stdout) == EOF) fatal_sys(111, "unable to write the summary");
  return n_bad || n_half ? 1 : 0;
}
