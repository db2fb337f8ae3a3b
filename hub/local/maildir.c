/* maildir.c: Maildir delivery; the contract is in maildir.h.
 * Why this order: the file is complete and on disk (fsync, close) before
 * link() makes it visible in new/, and new/ is fsynced before we report
 * success, so a crash at any point leaves either nothing in new/ or a
 * whole message there; a stray tmp/ file is cleaned by readers after 36 h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <unistd.h>
#include "maildir.h"
#include "q_sa.h"

static unsigned long deliveries;

int maildir_hostpart(stralloc *sa, const char *host)
{
  for (; *host; ++host) {
    const char *s = 0;
    if (*host == '/') s = "\\057";
    else if (*host == ':') s = "\\072";
    if (s ? !stralloc_cats(sa, s) : !stralloc_append(sa, host)) return 0;
  }
  return 1;
}

int maildir_uniq(stralloc *sa, time_t t, unsigned long usec, unsigned long pid,
                 unsigned long count, const char *rnd, const char *host)
{
  sa->len = 0;
  return sa_catnum(sa, (unsigned long long)t) && stralloc_cats(sa, ".M") &&
         sa_catnum(sa, usec) && stralloc_cats(sa, "P") && sa_catnum(sa, pid) &&
         stralloc_cats(sa, "Q") && sa_catnum(sa, count) &&
         stralloc_cats(sa, "R") && stralloc_cats(sa, rnd) &&
         stralloc_cats(sa, ".") && maildir_hostpart(sa, host);
}

/* randhex: 16 hex digits of kernel randomness (time-based fallback). */
static void randhex(char out[17], struct timeval *tv)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char r[8];
  int i;
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
    for (i = 0; i < 8; ++i) r[i] = (unsigned char)((tv->tv_usec >> (i * 3)) ^ (getpid() >> i) ^ i);
  for (i = 0; i < 8; ++i) {
    out[2 * i] = hex[r[i] >> 4];
    out[2 * i + 1] = hex[r[i] & 15];
  }
  out[16] = 0;
}

static int makename(stralloc *sa)
{
  struct timeval tv;
  char host[256], rnd[17];
  gettimeofday(&tv, 0);
  if (gethostname(host, sizeof host) < 0) strcpy(host, "localhost");
  host[sizeof host - 1] = 0;
  randhex(rnd, &tv);
  return maildir_uniq(sa, tv.tv_sec, (unsigned long)tv.tv_usec,
                      (unsigned long)getpid(), ++deliveries, rnd, host);
}

static int writeall(int fd, const char *buf, size_t len)
{
  while (len) {
    ssize_t w = write(fd, buf, len);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    buf += w; len -= (size_t)w;
  }
  return 0;
}

/* copy: pre, then fd from offset 0, to out. 0 ok, -1 read error (*why). */
static int copy(int out, int in, const char *pre, size_t prelen, const char **why)
{
  char buf[65536];
  ssize_t r;
  *why = "unable to write to maildir file";
  if (writeall(out, pre, prelen) < 0) return -1;
  *why = "unable to rewind message";
  if (lseek(in, 0, SEEK_SET) < 0) return -1;
  for (;;) {
    r = read(in, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR) continue; *why = "unable to read message"; return -1; }
    if (r == 0) return 0;
    *why = "unable to write to maildir file";
    if (writeall(out, buf, (size_t)r) < 0) return -1;
  }
}

static int fsyncdir(const char *path)
{
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r, e;
  if (fd < 0) return -1;
  r = fsync(fd);
  e = errno;
  close(fd);
  errno = e;
  return r;
}

/* paths: tmp = dir/tmp/NAME, nw = dir/new/NAME, nd = dir/new; all NUL-terminated. */
static int paths(const char *dir, const stralloc *n, stralloc *tmp, stralloc *nw, stralloc *nd)
{
  return stralloc_copys(tmp, dir) && stralloc_cats(tmp, "/tmp/") &&
         stralloc_cat(tmp, n) && stralloc_0(tmp) &&
         stralloc_copys(nd, dir) && stralloc_cats(nd, "/new") && stralloc_0(nd) &&
         stralloc_copyb(nw, nd->s, nd->len - 1) && stralloc_cats(nw, "/") &&
         stralloc_cat(nw, n) && stralloc_0(nw);
}

/* store: tmp file written and durable, then linked into new/. */
static int store(int in, const char *pre, size_t prelen, const stralloc *tmp,
                 const stralloc *nw, const stralloc *nd, const char **why, int *made)
{
  int fd, e;
  *why = "unable to create maildir file";
  fd = open(tmp->s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  *made = 1;
  if (copy(fd, in, pre, prelen, why) < 0) { e = errno; close(fd); errno = e; return -1; }
  *why = "unable to sync maildir file";
  if (fsync(fd) < 0) { e = errno; close(fd); errno = e; return -1; }
  *why = "unable to close maildir file";
  if (close(fd) < 0) return -1;
  *why = "unable to link maildir file into new";
  if (link(tmp->s, nw->s) < 0) return -1;
  *why = "unable to sync maildir new directory";
  if (fsyncdir(nd->s) < 0) { e = errno; unlink(nw->s); errno = e; return -1; }
  return 0;
}

int maildir_deliver(const char *dir, int fd, const char *pre, size_t prelen,
                    stralloc *name, const char **why)
{
  stralloc n = {0}, tmp = {0}, nw = {0}, nd = {0};
  int r = -1, e = ENOMEM, made = 0;
  *why = "out of memory";
  if (makename(&n) && paths(dir, &n, &tmp, &nw, &nd)) {
    r = store(fd, pre, prelen, &tmp, &nw, &nd, why, &made);
    e = errno;
    /* after success: the tmp name; after failure: the partial file. Never
     * a file we did not create (O_EXCL lost to a name clash). */
    if (made) unlink(tmp.s);
    if (r == 0 && name && !(stralloc_copy(name, &n) && stralloc_0(name))) {
      r = 0;  /* delivered; only the name report failed */
      name->len = 0;
    }
  }
  stralloc_free(&n); stralloc_free(&tmp); stralloc_free(&nw); stralloc_free(&nd);
  errno = e;
  return r;
}
