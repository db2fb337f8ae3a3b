/* rcptcheck.c: the servers' recipient check (contract in rcptcheck.h):
 * rewriting as qmail-send does, then the table (rcpttab.h), with the
 * freshness rules that keep a stale table from refusing anything. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "rcptcheck.h"
#include "rcpttab.h"
#include "rewrite.h"

#define TABLE "recipients.cdb"

static int on;
static struct rewrite rw;
static struct rt tab;
static int state;            /* 1 usable, 0 missing, -1 unreadable, -2 damaged or another version */
static int err;              /* errno when state is -1 */
static int fresh = -1;       /* sources unchanged since the build: 1, 0; -1 not checked */
static int told_table, told_stale;
static stralloc addr, path, was, now;

int rcptcheck_on(void) { return on; }

static void open_table(void)
{
  int fd;
  if (!control_path(&path, TABLE)) { state = -1; err = ENOMEM; return; }
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  if (fd == -1) { state = errno == ENOENT ? 0 : -1; err = errno; return; }
  state = rt_open(&tab, fd);
  if (state == 0 || (state == -1 && errno == EPROTO)) state = -2;   /* EPROTO: short file */
  if (state == -1) err = errno;
  /* fd stays open: the cdb is mapped (or read) for the whole connection */
}

int rcptcheck_init(const char **name)
{
  unsigned long v = 0;
  if (control_readulong(&v, "rcptcheck") < 0) { *name = "rcptcheck"; return -1; }
  if (v > 1) { *name = "rcptcheck"; errno = ERANGE; return -1; }
  on = v == 1;
  if (!on) return 0;
  if (rewrite_load(&rw) < 0) {
    *name = "locals (or me, virtualdomains, percenthack, envnoathost)";
    return -1;
  }
  open_table();
  return 0;
}

#define TEMP "local recipients get a temporary error"

/* temp_table: RCPT_TEMP, saying why once per connection. */
static int temp_table(void)
{
  if (told_table++) return RCPT_TEMP;
  if (state == 0) warn("control/" TABLE " is missing: run qmailctl cdb (" TEMP ")");
  else if (state == -2) warn("control/" TABLE " is damaged or of another version: run qmailctl cdb (" TEMP ")");
  else { errno = err; warn_sys("unable to read control/" TABLE " (" TEMP ")"); }
  return RCPT_TEMP;
}

/* temp_read: a read of the table failed now (errno). */
static int temp_read(void)
{
  err = errno ? errno : EINVAL;
  if (state == 1) state = -1;
  return temp_table();
}

static int temp_stale(const char *source)
{
  if (!told_stale++)
    warn("control/" TABLE " is older than ", source, ": run qmailctl cdb (unknown " TEMP ")");
  return RCPT_TEMP;
}

/* sources_fresh: 1 when every source of the table is as it was built,
 * else 0 (the changed one in `was`); -1 error. */
static int sources_fresh(void)
{
  size_t i;
  int r = rt_sources(&tab, &was);
  if (r <= 0) return r == 0 ? 0 : -1;
  for (i = 0; i < was.len;) {
    const char *p = was.s + i, *st = p + strlen(p) + 1;
    if (st >= was.s + was.len) return -1;
    if (rt_stamp(&now, p) == -1) return -1;
    if (strcmp(now.s, st)) {
      if (!stralloc_copys(&was, p) || !stralloc_0(&was)) return -1;
      return 0;
    }
    i = (size_t)(st - was.s) + strlen(st) + 1;
  }
  return 1;
}

/* refusal: the table says nobody takes the address; set is the home
 * that decided (-1UL: none). RCPT_NOUSER only when nothing it depends on
 * changed since the build. */
static int refusal(unsigned long set)
{
  int r;
  if (fresh == -1) fresh = sources_fresh();
  if (fresh == -1) return temp_read();
  if (fresh == 0) return temp_stale(was.s);
  if (set == -1UL) return RCPT_NOUSER;
  r = rt_home(&tab, set, &path, &was);
  if (r <= 0) return temp_read();
  if (rt_stamp(&now, path.s) == -1) return temp_stale(path.s);
  return strcmp(now.s, was.s) ? temp_stale(path.s) : RCPT_NOUSER;
}

int rcptcheck(const char *a, size_t len)
{
  unsigned long set;
  size_t at;
  int r;
  if (!on) return RCPT_OK;
  r = rewrite(&rw, a, len, &addr);
  if (r == REWRITE_REMOTE) return RCPT_OK;
  if (r == -1) return errno == ENAMETOOLONG ? RCPT_NOUSER : RCPT_TEMP;
  if (state != 1) return temp_table();
  at = addr.len;
  while (at > 0 && addr.s[at - 1] != '@') --at;
  r = rt_local(&tab, addr.s, at ? at - 1 : addr.len, &set);
  if (r == RT_YES) return RCPT_OK;
  if (r == -1) return temp_read();
  r = rt_admin(&tab, a, len);
  if (r == 1) return RCPT_OK;
  if (r == -1) return temp_read();
  return refusal(set);
}
