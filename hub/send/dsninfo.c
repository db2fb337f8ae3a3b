/* dsninfo.c: the DSN items of info/S/N (see dsninfo.h). */
#include <errno.h>
#include "stralloc.h"
#include "q_err.h"
#include "chanfile.h"
#include "qconf.h"
#include "qname.h"
#include "dsnbounce.h"
#include "slog.h"
#include "dsninfo.h"

int dsninfo_read(struct msg *m, stralloc *items)
{
  char p[QNAME_MAX];
  struct chanfile cf;
  struct chanrec r;
  int rc;
  items->len = 0;
  fname(p, QDIR_INFO, m->id);
  if (chanfile_open(&cf, p) == -1) { lg_sys("warning: unable to open ", p); return -1; }
  rc = chanfile_next(&cf, &r);  /* F */
  if (rc == 1 && r.type == 'F')
    while ((rc = chanfile_next(&cf, &r)) == 1)
      if (!stralloc_append(items, &r.type) || !stralloc_catb(items, r.addr, r.alen) ||
          !stralloc_0(items))
        fatal_nomem();
  chanfile_close(&cf);
  if (rc == -1) { lg_sys("warning: unable to read ", p); items->len = 0; return -1; }
  m->dsn = items->len ? 2 : 1;
  return 0;
}

int dsninfo_notify(struct msg *m, const char *addr, size_t alen)
{
  static stralloc items;
  struct dsn_rcpt d;
  if (m->dsn == 1 || dsninfo_read(m, &items) == -1) return 0;
  return dsn_items_rcpt(items.s, items.len, addr, alen, &d) ? d.notify : 0;
}
