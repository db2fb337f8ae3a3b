/* authguard.c: the failed-AUTH count per client address (see authguard.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "authguard.h"

void authguard_key(char *key, const char *ip)
{
  unsigned char a[16];
  char s[INET6_ADDRSTRLEN];
  strcpy(key, "?");
  if (!ip) return;
  if (inet_pton(AF_INET, ip, a) == 1) { inet_ntop(AF_INET, a, key, AUTHGUARD_KEYMAX + 1); return; }
  if (inet_pton(AF_INET6, ip, a) != 1) return;
  if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a)) {
    inet_ntop(AF_INET, a + 12, key, AUTHGUARD_KEYMAX + 1);
    return;
  }
  memset(a + 8, 0, 8);
  if (!inet_ntop(AF_INET6, a, s, sizeof s) || strlen(s) + 3 > AUTHGUARD_KEYMAX) return;
  strcpy(key, s);
  strcat(key, "/64");
}

/* blank: the table's bytes from off on as empty records (blanks, a newline) */
static void blank(char *tab, size_t off)
{
  for (; off < AUTHGUARD_SLOTS * AUTHGUARD_RECSIZE; ++off)
    tab[off] = off % AUTHGUARD_RECSIZE == AUTHGUARD_RECSIZE - 1 ? '\n' : ' ';
}

static unsigned long hash(const char *s)
{
  unsigned long h = 5381;
  while (*s) h = (h * 33) ^ (unsigned char)*s++;
  return h;
}

static int lockall(int fd, short type)
{
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  while (fcntl(fd, F_SETLKW, &fl) == -1)
    if (errno != EINTR) return -1;
  return 0;
}

/* parse: record r into key, count and start; 0 for an empty or damaged
 * one (it is then free) */
static int parse(const char *r, char *key, unsigned long *count, unsigned long *start)
{
  char rec[AUTHGUARD_RECSIZE + 1];
  memcpy(rec, r, AUTHGUARD_RECSIZE);
  rec[AUTHGUARD_RECSIZE] = 0;
  if (sscanf(rec, "%45s %lu %lu", key, count, start) != 3) return 0;
  return 1;
}

/* pick: the slot for key among the probed ones, and whether it is key's */
static unsigned long pick(const char *tab, const char *key, unsigned long window, time_t now, int *mine)
{
  unsigned long h = hash(key) % AUTHGUARD_SLOTS, i, best = h, beststart = (unsigned long)-1;
  int found_free = 0;
  *mine = 0;
  for (i = 0; i < AUTHGUARD_PROBE; ++i) {
    unsigned long s = (h + i) % AUTHGUARD_SLOTS, c, st;
    char k[AUTHGUARD_RECSIZE + 1];
    if (!parse(tab + s * AUTHGUARD_RECSIZE, k, &c, &st) || (unsigned long)now - st >= window) {
      if (!found_free) { found_free = 1; best = s; beststart = 0; }
      continue;
    }
    if (!strcmp(k, key)) { *mine = 1; return s; }
    if (!found_free && st < beststart) { best = s; beststart = st; }
  }
  return best;
}

long authguard_count(const char *path, const char *ip, unsigned long window, time_t now, int add)
{
  static char tab[AUTHGUARD_SLOTS * AUTHGUARD_RECSIZE];
  char key[AUTHGUARD_KEYMAX + 1], k[AUTHGUARD_RECSIZE + 1], rec[128];
  unsigned long s, count = 0, start = (unsigned long)now;
  ssize_t r;
  int fd, mine, e;
  authguard_key(key, ip);
  fd = open(path, (add ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1) return -1;
  if (lockall(fd, add ? F_WRLCK : F_RDLCK) == -1) goto fail;
  r = pread(fd, tab, sizeof tab, 0);
  if (r < 0) goto fail;
  blank(tab, (size_t)r);   /* a short file (a new one) reads as empty slots */
  s = pick(tab, key, window, now, &mine);
  if (mine) parse(tab + s * AUTHGUARD_RECSIZE, k, &count, &start);
  if (add) {
    if (count < AUTHGUARD_COUNTMAX) ++count;
    if (snprintf(rec, sizeof rec, "%-45s %6lu %10lu", key, count, start) >= AUTHGUARD_RECSIZE) {
      errno = ERANGE;   /* a start time past 2286 */
      goto fail;
    }
    memset(rec + strlen(rec), ' ', AUTHGUARD_RECSIZE - strlen(rec));
    rec[AUTHGUARD_RECSIZE - 1] = '\n';
    memcpy(tab + s * AUTHGUARD_RECSIZE, rec, AUTHGUARD_RECSIZE);
    /* the record; the whole table while the file is short, so that it
     * never has holes: every slot a line */
    if ((size_t)r < sizeof tab ? pwrite(fd, tab, sizeof tab, 0) != (ssize_t)sizeof tab
                               : pwrite(fd, rec, AUTHGUARD_RECSIZE, (off_t)(s * AUTHGUARD_RECSIZE)) != AUTHGUARD_RECSIZE) {
      if (errno == 0) errno = EIO;
      goto fail;
    }
  }
  close(fd);   /* drops the lock */
  return (long)count;
fail:
  e = errno;
  close(fd);
  errno = e;
  return -1;
}
