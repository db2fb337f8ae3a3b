/* spool.c: unit test of common/q_spool.c. Content goes in through a pipe
 * (spool_readfd) and comes out through a pipe (spool_write) for sizes on
 * both sides of SPOOL_MEM and for 5 MB; an adopted regular file is used in
 * place and never modified; spool_write runs twice; a length overflow is
 * refused with EFBIG. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "q_spool.h"

static unsigned char pat(unsigned long long i)
{
  return (unsigned char)(i * 31 + i / 251 + 7);
}

static void fill(char *buf, size_t n, unsigned long long start)
{
  size_t i;
  for (i = 0; i < n; ++i) buf[i] = (char)pat(start + i);
}

/* feed: a child writes n pattern bytes into a pipe; spool_readfd reads it. */
static int feed(struct spool *s, unsigned long long n)
{
  int p[2], st, r;
  pid_t pid;
  if (pipe(p) < 0) return -1;
  pid = fork();
  if (pid == 0) {
    char buf[8192];
    unsigned long long done = 0;
    close(p[0]);
    while (done < n) {
      size_t k = n - done > sizeof buf ? sizeof buf : (size_t)(n - done);
      fill(buf, k, done);
      if (write(p[1], buf, k) != (ssize_t)k) _exit(1);
      done += k;
    }
    _exit(0);
  }
  close(p[1]);
  r = spool_readfd(s, p[0]);
  close(p[0]);
  waitpid(pid, &st, 0);
  return r == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* drain: a child runs spool_write into a pipe; we check every byte. */
static int drain(struct spool *s, unsigned long long n)
{
  int p[2], st, good = 1;
  unsigned long long got = 0;
  pid_t pid;
  char buf[8192];
  if (pipe(p) < 0) return 0;
  pid = fork();
  if (pid == 0) { close(p[0]); _exit(spool_write(s, p[1], NULL) == 0 ? 0 : 1); }
  close(p[1]);
  for (;;) {
    ssize_t r = read(p[0], buf, sizeof buf), i;
    if (r <= 0) break;
    for (i = 0; i < r; ++i) if ((unsigned char)buf[i] != pat(got + (unsigned long long)i)) good = 0;
    got += (unsigned long long)r;
  }
  close(p[0]);
  waitpid(pid, &st, 0);
  return good && got == n && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void roundtrip(unsigned long long n, int in_file, const char *name)
{
  struct spool s;
  char label[128];
  spool_init(&s);
  snprintf(label, sizeof label, "%s: read from pipe", name);
  ok(feed(&s, n) == 0, label);
  snprintf(label, sizeof label, "%s: length", name);
  is_int(spool_len(&s), n, label);
  snprintf(label, sizeof label, "%s: %s", name, in_file ? "in a file" : "in memory");
  ok(in_file ? (s.fd >= 0 && s.owned && s.mem.len == 0) : s.fd < 0, label);
  snprintf(label, sizeof label, "%s: content through a pipe", name);
  ok(drain(&s, n), label);
  spool_free(&s);
}

/* adopted: a regular file read from offset 5 is used as is. */
static void adopted(void)
{
  char tmpl[] = "/tmp/spooltestXXXXXX", buf[64];
  int fd = mkstemp(tmpl);
  struct spool s;
  struct stat st;
  ok(fd >= 0, "adopt: temp file");
  unlink(tmpl);
  fill(buf, 40, 0);
  ok(write(fd, "HEAD:", 5) == 5 && write(fd, buf, 40) == 40, "adopt: file written");
  lseek(fd, 5, SEEK_SET);
  spool_init(&s);
  ok(spool_readfd(&s, fd) == 0, "adopt: spool_readfd");
  ok(s.fd == fd && !s.owned && s.off == 5, "adopt: the caller's fd is used in place");
  is_int(spool_len(&s), 40, "adopt: length from the offset");
  ok(drain(&s, 40), "adopt: content");
  ok(spool_put(&s, "x", 1) == 0 && s.fd != fd && s.owned, "adopt: appending copies first");
  ok(fstat(fd, &st) == 0 && st.st_size == 45, "adopt: the caller's file is unchanged");
  spool_free(&s);
  ok(fcntl(fd, F_GETFD) >= 0, "adopt: spool_free leaves the caller's fd open");
  close(fd);
}

/* twice: spool_write into a regular file twice gives the content twice. */
static void twice(unsigned long long n, const char *name)
{
  char tmpl[] = "/tmp/spooltestXXXXXX";
  int fd = mkstemp(tmpl), good = 1;
  struct spool s;
  char *a = malloc(n * 2), label[128];
  unsigned long long i;
  unlink(tmpl);
  spool_init(&s);
  feed(&s, n);
  snprintf(label, sizeof label, "twice %s: both writes", name);
  ok(spool_write(&s, fd, NULL) == 0 && spool_write(&s, fd, NULL) == 0, label);
  lseek(fd, 0, SEEK_SET);
  snprintf(label, sizeof label, "twice %s: content twice", name);
  if (read(fd, a, n * 2) != (ssize_t)(n * 2)) good = 0;
  for (i = 0; good && i < n * 2; ++i) if ((unsigned char)a[i] != pat(i % n)) good = 0;
  ok(good, label);
  free(a);
  close(fd);
  spool_free(&s);
}

static void overflow(void)
{
  struct spool s;
  spool_init(&s);
  s.len = UINT64_MAX - 5;
  errno = 0;
  ok(spool_put(&s, "0123456789", 10) < 0 && errno == EFBIG, "overflow: EFBIG");
  s.len = 0;
  spool_free(&s);
}

static void bad_tmpdir(void)
{
  struct spool s;
  setenv("TMPDIR", "/nonexistent/dir", 1);
  spool_init(&s);
  ok(feed(&s, SPOOL_MEM + 10) == 0 && s.fd >= 0, "unusable TMPDIR falls back to /tmp");
  ok(drain(&s, SPOOL_MEM + 10), "fallback content");
  spool_free(&s);
  unsetenv("TMPDIR");
}

int main(void)
{
  roundtrip(0, 0, "empty");
  roundtrip(100, 0, "small");
  roundtrip(SPOOL_MEM, 0, "exactly SPOOL_MEM");
  roundtrip(SPOOL_MEM + 1, 1, "SPOOL_MEM+1");
  roundtrip(5UL * 1024 * 1024, 1, "5 MB");
  adopted();
  twice(1000, "memory");
  twice(SPOOL_MEM * 2 + 3, "file");
  overflow();
  bad_tmpdir();
  return done_testing();
}
