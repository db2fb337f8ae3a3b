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

static int failed(struct rjob *j, const char *what, const char *why)
{
  rjob_all(j, 's', 'Z', "Sorry, qmail-remote cannot sign the message: ", what, ": ", why,
           ". (#4.3.0)", (const char *)0);
  return -1;
}

/* wanted: the sender's domain has a key directory and the message may be
 * signed. 1 yes, 0 no, -1 the message cannot be read. */
static int wanted(const struct rjob *j, char dom[DKIM_DOMMAX + 1])
{
  stralloc p = {0};
  struct stat st;
  ssize_t n;
  int r;
  if (!dkim_domain(j->sender, dom)) return 0;
  if (!home_path(&p, "control/dkim/")) return -1;
  --p.len;
  r = stralloc_cats(&p, dom) && stralloc_0(&p) ? stat(p.s, &st) == 0 || errno != ENOENT : -1;
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
  static struct dkim_keys ks;
  struct dkimsign d;
  stralloc sig = {0};
  char dom[DKIM_DOMMAX + 1];
  const char *why = 0;
  int r = wanted(j, dom);
  if (r < 0) return failed(j, "unable to read it", strerror(errno));
  if (r == 0) return 0;
  r = dkim_loadkeys(&ks, dom);
  if (r < 0) return failed(j, ks.file.s, ks.why);
  if (r == 0) return 0;
  if (!dkimsign_start(&d)) { dkim_freekeys(&ks); return failed(j, "libcrypto", "out of memory"); }
  if (hash(j, &d) < 0) why = strerror(errno);
  else r = dkimsign_finish(&d, &ks, (long long)time(0), "\n", &sig, &why);
  dkimsign_free(&d);
  dkim_freekeys(&ks);
  if (!why && rewrite(j, &sig) < 0) why = strerror(errno);
  stralloc_free(&sig);
  if (r == 0) return 0;            /* no From, header too big: unsigned */
  if (why) return failed(j, "signing", why);
  return 0;
}
