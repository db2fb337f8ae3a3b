/* q_perip.c: per-client-address connection limit (see q_perip.h).
 *
 * Table: slots records of PERIP_SLOTSIZE bytes, the client address as a
 * NUL-padded string; then one byte that serves as the table lock. A slot
 * is live while some process holds a write lock on its first byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "q_perip.h"

static int lockbyte(int fd, int cmd, short type, unsigned long slot)
{
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)slot * PERIP_SLOTSIZE;
  fl.l_len = 1;
  for (;;) {
    if (fcntl(fd, cmd, &fl) == 0) break;
    if (errno != EINTR) return -1;
  }
  if (cmd == F_GETLK) return fl.l_type != F_UNLCK;
  return 0;
}

/* live: 1 when another process holds slot i, 0 free, -1 error */
static int live(int fd, unsigned long i) { return lockbyte(fd, F_GETLK, F_WRLCK, i); }

/* scan: count the live slots of ip; *slot_free gets a free slot or slots.
 * The table is read in one pread: a short file reads as unused slots. */
static int scan(int fd, const char *rec, unsigned long slots,
                unsigned long *count, unsigned long *slot_free)
{
  size_t size = (size_t)slots * PERIP_SLOTSIZE;
  char *tab = calloc(slots, PERIP_SLOTSIZE);
  unsigned long i;
  ssize_t r;
  int l;
  *count = 0; *slot_free = slots;
  if (!tab) return -1;
  r = pread(fd, tab, size, 0);
  if (r < 0) { free(tab); return -1; }
  for (i = 0; i < slots; i++) {
    const char *slot = tab + i * PERIP_SLOTSIZE;
    int mine = memcmp(slot, rec, PERIP_SLOTSIZE) == 0;
    if (slot[0] == 0) {                   /* never used: nobody holds it */
      if (*slot_free == slots) *slot_free = i;
      continue;
    }
    if (!mine && *slot_free != slots) continue;
    if ((l = live(fd, i)) == -1) { free(tab); return -1; }
    if (!l) { if (*slot_free == slots) *slot_free = i; continue; }
    if (mine) ++*count;
  }
  free(tab);
  return 0;
}

int perip_take(const char *path, const char *ip, unsigned long max,
               unsigned long slots)
{
  char rec[PERIP_SLOTSIZE];
  unsigned long count, free;
  int fd, e;
  size_t n = strlen(ip);

  if (n == 0 || n >= sizeof rec || slots == 0 || slots > PERIP_MAXSLOTS) { errno = EINVAL; return -1; }
  memset(rec, 0, sizeof rec);
  memcpy(rec, ip, n);
  fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1) return -1;
  if (lockbyte(fd, F_SETLKW, F_WRLCK, slots) == -1) goto fail;
  if (scan(fd, rec, slots, &count, &free) == -1) goto fail;
  if (count >= max || free == slots) {    /* over the limit, or table full */
    close(fd);                            /* drops the table lock */
    return 0;
  }
  if (lockbyte(fd, F_SETLK, F_WRLCK, free) == -1) goto fail;
  if (pwrite(fd, rec, sizeof rec, (off_t)free * PERIP_SLOTSIZE) != (ssize_t)sizeof rec) {
    if (errno == 0) errno = EIO;
    goto fail;
  }
  if (lockbyte(fd, F_SETLK, F_UNLCK, slots) == -1) goto fail;
  return 1;                               /* fd stays open: the slot is ours */
fail:
  e = errno; close(fd); errno = e;
  return -1;
}

/* number: a decimal environment value; -1 when absent, -2 when bad */
static long number(const char *name, long dflt)
{
  const char *s = getenv(name);
  char *end;
  unsigned long v;
  if (!s) return dflt;
  if (*s < '0' || *s > '9') return -2;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno || *end || v > PERIP_MAXSLOTS) return -2;
  return (long)v;
}

static void say(int fd, const char *s) { if (s && write(fd, s, strlen(s)) < 0) return; }

/* refuse: the refusal line in the servers' format (hub/servers/refuselog.h:
 * "PROG: refused: IP connect CODE ENH reason=..."; the IP comes from
 * tcpserver), the reply if any, and exit */
static void refuse(const char *prog, const char *ip, const char *enh,
                   const char *why, const char *refusal)
{
  say(2, prog); say(2, ": refused: "); say(2, ip);
  say(2, refusal ? " connect 421 " : " connect - "); say(2, enh);
  say(2, " reason=\""); say(2, why); say(2, "\"\n");
  say(1, refusal);
  _exit(0);
}

void perip_gate(const char *prog, const char *refusal)
{
  const char *ip = getenv("TCPREMOTEIP");
  const char *path = getenv("PERIPTABLE");
  long max = number("PERIP", -1), slots = number("CONCURRENCY", 40);
  int r;

  if (max == -1 || !ip) return;           /* no limit configured */
  if (max == -2 || slots <= 0) refuse(prog, ip, "4.3.0", "bad PERIP or CONCURRENCY in env/", refusal);
  if (!path) refuse(prog, ip, "4.3.0", "PERIP set without PERIPTABLE", refusal);
  r = perip_take(path, ip, (unsigned long)max, (unsigned long)slots);
  if (r == 1) return;
  if (r == 0) refuse(prog, ip, "4.7.0", "too many connections from this address", refusal);
  refuse(prog, ip, "4.3.0", "cannot use the per-address table", refusal);
}
