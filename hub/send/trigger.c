/* trigger.c: reading lock/trigger (contract in trigger.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "qconf.h"
#include "preproc.h"
#include "slog.h"
#include "trigger.h"

static int trigfd = -1;
static unsigned long long named[NAMED_MAX];  /* ids from the trigger, to preprocess */
static size_t nnamed;

void trig_open(void)
{
  trigfd = open(QFILE_TRIGGER, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (trigfd == -1) lg_sys("warning: unable to open ", QFILE_TRIGGER);
}

int trig_fd(void) { return trigfd; }

/* trig_take: bytes from the trigger, parsed across reads */
static void trig_take(const char *b, size_t n)
{
  static unsigned long long id;
  static unsigned digits;
  static int junk;
  size_t i;
  for (i = 0; i < n; i++) {
    if (b[i] >= '0' && b[i] <= '9' && digits < 20) { id = id * 10 + (unsigned)(b[i] - '0'); digits++; continue; }
    if (b[i] == '\n' && digits && !junk) {
      if (nnamed < NAMED_MAX) named[nnamed++] = id;
      else want_scan = 1;
    } else if (b[i] != '\n') { junk = 1; want_scan = 1; continue; }
    id = 0; digits = 0; junk = 0;
  }
}

void trig_read(void)
{
  char buf[4096];
  size_t total = 0;
  for (;;) {
    ssize_t n = read(trigfd, buf, sizeof buf);
    if (n > 0) { trig_take(buf, (size_t)n); total += (size_t)n; continue; }
    if (n == 0) break;  /* cannot happen: we hold the FIFO open for writing too */
    if (errno == EINTR) continue;
    break;  /* EAGAIN */
  }
  if (total >= TRIGGER_FULL) want_scan = 1;
}

size_t trig_pending(void) { return nnamed; }

size_t trig_named(unsigned long long *ids, size_t max)
{
  size_t n = nnamed < max ? nnamed : max;
  memcpy(ids, named, n * sizeof *named);
  memmove(named, named + n, (nnamed - n) * sizeof *named);
  nnamed -= n;
  return n;
}
