/* maildir2mbox.c: move the mail in a Maildir into an mbox.
 *
 *   MAILDIR=dir MAIL=mbox MAILTMP=tmpfile maildir2mbox
 *
 * Reads every message in $MAILDIR/new and $MAILDIR/cur (names starting with
 * '.' are skipped), in time order by file name (the leading seconds of a
 * Maildir name; the name breaks ties; a name without digits sorts by its
 * mtime). Builds the new mbox in $MAILTMP: a copy of $MAIL (a missing
 * $MAIL counts as empty; a last line without newline is completed), then
 * one mboxrd entry per message (common/q_mbox.h: From_ line with the
 * Return-Path address of the first line or MAILER-DAEMON, UTC asctime date
 * from the name, >From quoting, blank line). Then fsync($MAILTMP),
 * rename($MAILTMP, $MAIL), fsync of $MAIL's directory, and only then the
 * moved Maildir files are unlinked.
 *
 * Crash and error safety: until the rename, $MAIL is untouched and no
 * Maildir file is removed ($MAILTMP is removed again on errors). The rename
 * is the commit point and is made durable before the first unlink, so a
 * crash can at worst leave a message both in the mbox and in the Maildir
 * (a duplicate on the next run), never lose one.
 * Concurrency: $MAILTMP is flock()ed first (serialises maildir2mbox runs;
 * a lock is checked to still belong to the file at that name), then $MAIL
 * when it exists (flock-using deliverers wait; they must check after
 * locking that the file they hold is still the one named $MAIL, since it
 * is replaced by rename). A message that disappears before it is copied
 * (moved by a mail reader, or by another run) is skipped.
 * The new mbox keeps $MAIL's permission bits (0600 when $MAIL is new).
 * Caps: fixed memory per message (64 KB chunks); the Return-Path address
 * is looked for in the first 2048 bytes.
 * Exit codes: 0 done (also: nothing to move); 111 any failure, including a
 * missing MAILDIR, MAIL or MAILTMP variable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>
#include "q_err.h"
#include "q_mbox.h"

#define FIRSTLINE 2048

struct entry {
  char *path;               /* $MAILDIR/new/NAME or $MAILDIR/cur/NAME */
  const char *name;         /* inside path */
  unsigned long long t;     /* seconds: sort key and From_ date */
  int moved;                /* copied into MAILTMP */
};

static const char *maildir, *mail, *mailtmp;
static struct entry *ents;
static size_t nents, aents;
static int tmpmade;         /* MAILTMP is ours to remove on failure */

/* die: a failure before the commit: drop MAILTMP, report, exit 111. */
static void die(const char *verb, const char *obj)
{
  int e = errno;
  if (tmpmade) unlink(mailtmp);
  fatal(111, "unable to ", verb, " ", obj, ": ", strerror(e), " (#4.3.0)");
}

static void die_nomem(void)
{
  if (tmpmade) unlink(mailtmp);
  fatal_nomem();
}

/* need: the value of environment variable var, or exit 111. */
static const char *need(const char *var)
{
  const char *v = getenv(var);
  if (!v || !*v)
    fatal(111, "$", var, " is not set: maildir2mbox needs MAILDIR, MAIL and MAILTMP (#4.3.0)");
  return v;
}

/* name_time: the leading decimal seconds of a Maildir name, or -1 if none. */
static long long name_time(const char *name)
{
  unsigned long long t = 0;
  size_t i;
  for (i = 0; name[i] >= '0' && name[i] <= '9' && i < 18; ++i)
    t = t * 10 + (unsigned long long)(name[i] - '0');
  return i ? (long long)t : -1;
}

/* next_slot: room for one more entry. */
static struct entry *next_slot(void)
{
  if (nents == aents) {
    size_t na = aents ? aents * 2 : 64;
    struct entry *ne;
    if (na < aents || na > ((size_t)-1) / sizeof *ents) die_nomem();
    ne = realloc(ents, na * sizeof *ents);
    if (!ne) die_nomem();
    ents = ne;
    aents = na;
  }
  return &ents[nents];
}

/* add_entry: remember dir/name; dfd is dir, for the mtime fallback. */
static void add_entry(int dfd, const char *dir, const char *name)
{
  struct entry *e = next_slot();
  size_t dl = strlen(dir), nl = strlen(name);
  long long t = name_time(name);
  e->path = malloc(dl + nl + 2);
  if (!e->path) die_nomem();
  memcpy(e->path, dir, dl);
  e->path[dl] = '/';
  memcpy(e->path + dl + 1, name, nl + 1);
  e->name = e->path + dl + 1;
  e->moved = 0;
  if (t < 0) {
    struct stat st;
    t = fstatat(dfd, name, &st, 0) == 0 && st.st_mtime > 0 ? (long long)st.st_mtime : 0;
  }
  e->t = (unsigned long long)t;
  ++nents;
}

/* scan: add every message in $MAILDIR/sub. */
static void scan(const char *sub)
{
  size_t ml = strlen(maildir);
  char *dir = malloc(ml + strlen(sub) + 2);
  struct dirent *d;
  DIR *dp;
  if (!dir) die_nomem();
  memcpy(dir, maildir, ml);
  dir[ml] = '/';
  strcpy(dir + ml + 1, sub);
  dp = opendir(dir);
  if (!dp) die("open", dir);
  for (errno = 0; (d = readdir(dp)); errno = 0)
    if (d->d_name[0] != '.') add_entry(dirfd(dp), dir, d->d_name);
  if (errno) die("read", dir);
  closedir(dp);
  free(dir);
}

static int by_time(const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* same_file: fd is still the file named path (not replaced by a rename). */
static int same_file(int fd, const char *path)
{
  struct stat a, b;
  if (fstat(fd, &a) < 0) return -1;
  if (stat(path, &b) < 0) return errno == ENOENT ? 0 : -1;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* lock_at: open path with flags, flock it, and retry until the locked file
 * is the one at path. Returns the fd, or -1 with errno (ENOENT: no file
 * and flags do not create one). */
static int lock_at(const char *path, int flags)
{
  for (;;) {
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600), s;
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX) < 0) { close(fd); return -1; }
    s = same_file(fd, path);
    if (s > 0) return fd;
    close(fd);
    if (s < 0) return -1;
  }
}

/* open_tmp: MAILTMP, locked (this serialises maildir2mbox runs, so it is
 * taken before MAIL's lock) and empty. */
static int open_tmp(void)
{
  int fd = lock_at(mailtmp, O_RDWR | O_CREAT);
  if (fd < 0) die("create", mailtmp);
  tmpmade = 1;
  if (ftruncate(fd, 0) < 0) die("truncate", mailtmp);
  return fd;
}

/* open_old: MAIL, locked, or -1 when there is none; MAILTMP gets its
 * permission bits (0600 for a new mbox). */
static int open_old(int out)
{
  struct stat st;
  mode_t mode = 0600;
  int fd = lock_at(mail, O_RDONLY);
  if (fd < 0 && errno != ENOENT) die("lock", mail);
  if (fd >= 0 && fstat(fd, &st) == 0) mode = st.st_mode & 0777;
  if (fchmod(out, mode) < 0) die("chmod", mailtmp);
  return fd;
}

/* putall: write buf[0..len) to fd or die. */
static void putall(int fd, const char *buf, size_t len)
{
  while (len) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      die("write", mailtmp);
    }
    buf += w;
    len -= (size_t)w;
  }
}

/* copy_old: the old mbox into out, its last line completed if needed. */
static void copy_old(int in, int out)
{
  char buf[65536];
  char last = '\n';
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read", mail);
    if (n == 0) break;
    putall(out, buf, (size_t)n);
    last = buf[n - 1];
  }
  if (last != '\n') putall(out, "\n", 1);
}

/* sender_of: the Return-Path address in buf's first line; *len 0 if none. */
static const char *sender_of(const char *buf, size_t n, size_t *len)
{
  static const char rp[] = "return-path:";
  const char *nl = memchr(buf, '\n', n), *lt, *gt;
  size_t i;
  *len = 0;
  if (nl) n = (size_t)(nl - buf);
  if (n < sizeof rp - 1 || strncasecmp(buf, rp, sizeof rp - 1)) return "";
  for (i = sizeof rp - 1; i < n && (buf[i] == ' ' || buf[i] == '\t'); ++i) ;
  if (i >= n || buf[i] != '<') return "";
  lt = buf + i + 1;
  gt = memchr(lt, '>', n - i - 1);
  if (!gt) return "";
  *len = (size_t)(gt - lt);
  return lt;
}

/* append: one message as an mboxrd entry; a message already gone is skipped. */
static void append(int out, struct entry *e)
{
  char first[FIRSTLINE];
  const char *s;
  size_t slen;
  ssize_t n;
  int r, fd = open(e->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return;
  if (fd < 0) die("open", e->path);
  n = pread(fd, first, sizeof first, 0);
  if (n < 0) die("read", e->path);
  s = sender_of(first, (size_t)n, &slen);
  r = mbox_copyfd(out, fd, s, slen, (time_t)e->t);
  if (r == MBOX_EREAD) die("read", e->path);
  if (r != 0) die("write", mailtmp);
  close(fd);
  e->moved = 1;
}

/* sync_dir: fsync the directory holding path, making a rename there durable. */
static int sync_dir(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  int fd, r;
  if (!dir) return -1;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (fd < 0) return -1;
  r = fsync(fd);
  close(fd);
  return r;
}

/* commit: make MAILTMP durable and put it in place of MAIL. */
static void commit(int out)
{
  if (fsync(out) < 0) die("fsync", mailtmp);
  if (rename(mailtmp, mail) < 0) die("rename MAILTMP to", mail);
  tmpmade = 0;
  /* the rename must be on disk before any message leaves the Maildir */
  if (sync_dir(mail) < 0)
    fatal(111, "unable to fsync the directory of ", mail, ": ", strerror(errno),
          "; Maildir left as it was, messages may appear twice (#4.3.0)");
}

/* remove_moved: unlink the copied messages. 0 ok, -1 some failed. */
static int remove_moved(void)
{
  size_t i;
  int r = 0;
  for (i = 0; i < nents; ++i) {
    if (!ents[i].moved || unlink(ents[i].path) == 0 || errno == ENOENT) continue;
    warn("unable to unlink ", ents[i].path, ": ", strerror(errno),
         "; it is already in the mbox (#4.3.0)");
    r = -1;
  }
  return r;
}

int main(void)
{
  int oldfd, out;
  size_t i;
  progname = "maildir2mbox";
  maildir = need("MAILDIR");
  mail = need("MAIL");
  mailtmp = need("MAILTMP");
  scan("new");
  scan("cur");
  if (nents == 0) return 0;
  qsort(ents, nents, sizeof *ents, by_time);
  out = open_tmp();
  oldfd = open_old(out);
  if (oldfd >= 0) copy_old(oldfd, out);
  for (i = 0; i < nents; ++i) append(out, &ents[i]);
  commit(out);
  close(out);
  return remove_moved() < 0 ? 111 : 0;
}
