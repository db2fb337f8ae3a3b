/* rcpthosts.c: recipient-domain check for SMTP and QMTP (see rcpthosts.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "case.h"
#include "cdb.h"
#include "stralloc.h"
#include "q_control.h"
#include "rcpthosts.h"

static stralloc list;   /* rcpthosts entries, NUL-terminated, lowercase */
static int have_mrh;
static int mrhfd = -1;

int rcpthosts_init(void)
{
  stralloc path = {0};
  int r = control_readlist(&list, "rcpthosts");
  if (r < 0) return -1;
  if (r == 0) list.len = 0;
  case_lowerb(list.s, list.len);
  if (!control_path(&path, "morercpthosts.cdb")) { errno = ENOMEM; return -1; }
  mrhfd = open(path.s, O_RDONLY | O_CLOEXEC);
  stralloc_free(&path);
  if (mrhfd < 0 && errno != ENOENT) return -1;
  have_mrh = mrhfd >= 0;
  return 0;
}

/* in_list: exact entry, or a ".suffix" entry that ends host. */
static int in_list(const char *host, size_t len)
{
  size_t i;
  for (i = 0; i < list.len; i += strlen(list.s + i) + 1) {
    const char *e = list.s + i;
    size_t elen = strlen(e);
    if (elen == len && memcmp(e, host, len) == 0) return 1;
    if (e[0] == '.' && elen < len && memcmp(e, host + len - elen, elen) == 0) return 1;
  }
  return 0;
}

/* in_cdb: the host or any parent ".suffix" as a key in morercpthosts.cdb. */
static int in_cdb(const char *host, size_t len)
{
  static struct cdb c;
  size_t i;
  int r = 0;
  if (!have_mrh) return 0;
  cdb_init(&c, mrhfd);
  for (i = 0; i < len && r == 0; ++i)
    if (i == 0 || host[i] == '.')
      r = cdb_find(&c, (const unsigned char *)host + i, len - i);
  cdb_free(&c);
  return r < 0 ? -1 : r;
}

int rcpthosts_ok(const char *addr, size_t len)
{
  char host[256];
  size_t at = len;
  while (at > 0 && addr[at - 1] != '@') --at;
  if (at == 0) return 1;
  len -= at;
  if (len == 0 || len >= sizeof host) return 0;
  memcpy(host, addr + at, len);
  case_lowerb(host, len);
  if (host[len - 1] == '.') return 0;  /* "x@evil.test." */
  if (in_list(host, len)) return 1;
  return in_cdb(host, len);
}
