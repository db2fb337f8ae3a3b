/* rdkim.c: qmail-remote's DKIM step (rdkim.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dkimsign.h"
#include "q_home.h"
#include "q_io.h"
#include "rdkim.h"

#define COPYBUF 65536

static char buf[COPYBUF];

/* The keys last loaded are kept for the next job of the session (OpenSSL
 * takes milliseconds to decode a PEM key), as long as the directory and
 * each key file look the same: device, inode, size, mtime and ctime. */
struct stamp { dev_t dev; ino_t ino; off_t size; struct timespec m, c; };
static struct dkim_keys ks;
static struct stamp stamps[DKIM_MAXKEYS + 1];   /* [0]: the directory */
static int cached;

static void stamp(struct stamp *s, const struct stat *st)
{
  s->dev = st->st_dev;
  s->ino = st->st_ino;
  s->size = st->st_size;
  s->m = st->st_mtim;
  s->c = st->st_ctim;
}

static int same(const struct stamp *a, const struct stamp *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->m.tv_sec == b->m.tv_sec && a->m.tv_nsec == b->m.tv_nsec &&
         a->c.tv_sec == b->c.tv_sec && a->c.tv_nsec == b->c.tv_nsec;
}

/* keystamps: the stamps of ks's key files into s[1..]; 0 when one cannot
 * be read (no caching then). */
static int keystamps(struct stamp *s)
{
  stralloc p = {0};
  size_t i;
  int ok = 1;
  for (i = 0; ok && i < ks.n; ++i) {
    struct stat st;
    ok = home_path(&p, "control/dkim/") && (--p.len, stralloc_cats(&p, ks.domain)) &&
         stralloc_cats(&p, "/") && stralloc_cats(&p, ks.k[i].selector) &&
         stralloc_cats(&p, ".key") && stralloc_0(&p) && stat(p.s, &st) == 0;
    if (ok) stamp(&s[1 + i], &st);
  }
  stralloc_free(&p);
  return ok;
}

/* keys: the keys of dom (dir: its directory's stat), from the cache when
 * nothing changed. As dkim_loadkeys. */
static int keys(const char *dom, const struct stat *dir)
{
  struct stamp now[DKIM_MAXKEYS + 1];
  size_t i;
  int r;
  stamp(&now[0], dir);
  if (cached && !strcmp(ks.domain, dom) && same(&now[0], &stamps[0]) && keystamps(now)) {
    for (i = 1; i <= ks.n && same(&now[i], &stamps[i]); ++i) ;
    if (i > ks.n) return (int)ks.n;
  }
  cached = 0;
  dkim_freekeys(&ks);
  r = dkim_loadkeys(&ks, dom);
  if (r > 0 && keystamps(stamps)) {
    stamps[0] = now[0];
    cached = 1;
  }
  return r;
}

static int failed(struct rjob *j, const char *what, const char *why)
{
  rjob_all(j, 's', 'Z', "Sorry, qmail-remote cannot sign the message: ", what, ": ", why,
           ". (#4.3.0)", (const char *)0);
  return -1;
}

/* wanted: the sender's domain has a key directory and the message may be
 * signed. 1 yes, 0 no, -1 the message cannot be read. */
static int wanted(const struct rjob *j, char dom[DKIM_DOMMAX + 1], struct stat *st)
{
  stralloc p = {0};
  ssize_t n;
  int r;
  if (!dkim_domain(j->sender, dom)) return 0;
  if (!home_path(&p, "control/dkim/")) return -1;
  --p.len;
  r = stralloc_cats(&p, dom) && stralloc_0(&p) ? stat(p.s, st) == 0 || errno != ENOENT : -1;
  stralloc_free(&p);
  if (r != 1) return r;
  do n = pread(j->msgfd, buf, DKIM_PEEK, 0); while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  return dkim_eligible(buf, (size_t)n);
}

/* hash: the whole message through d. */
static int hash(struct rjob *j, struct dkimsign *d)
{
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(j->msgfd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 0;
    off += n;
    dkimsign_put(d, buf, (size_t)n);
  }
}

/* rewrite: sig and the message into an unlinked file: the new msgfd. */
static int rewrite(struct rjob *j, const stralloc *sig)
{
  const char *dir = getenv("TMPDIR");
  off_t off = 0;
  size_t i;
  int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (io_writeall(fd, sig->s, sig->len, 0) < 0) goto fail;
  for (;;) {
    ssize_t n = pread(j->msgfd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) goto fail;
    if (n == 0) break;
    off += n;
    if (io_writeall(fd, buf, (size_t)n, 0) < 0) goto fail;
  }
  if (lseek(fd, 0, SEEK_SET) < 0) goto fail;
  close(j->msgfd);
  j->msgfd = fd;
  j->msgsize += sig->len;
  for (i = 0; i < sig->len; ++i) j->msglfs += sig->s[i] == '\n';
  return 0;
fail:
  close(fd);
  return -1;
}

int rdkim_job(struct rjob *j)
{
  struct dkimsign d;
  struct stat dir;
  stralloc sig = {0};
  char dom[DKIM_DOMMAX + 1];
  const char *why = 0;
  int r = wanted(j, dom, &dir);
  if (r < 0) return failed(j, "unable to read it", strerror(errno));
  if (r == 0) return 0;
  r = keys(dom, &dir);
  if (r < 0) return failed(j, ks.file.s, ks.why);
  if (r == 0) return 0;
  if (!dkimsign_start(&d)) return failed(j, "libcrypto", "out of memory");
  if (hash(j, &d) < 0) why = strerror(errno);
  else r = dkimsign_finish(&d, &ks, (long long)time(0), "\n", &sig, &why);
  dkimsign_free(&d);
  if (!why && rewrite(j, &sig) < 0) why = strerror(errno);
  stralloc_free(&sig);
  if (r == 0) return 0;            /* no From, header too big: unsigned */
  if (why) return failed(j, "signing", why);
  return 0;
}
