/* sclean.c: qmail-send's requests to qmail-clean (contract in sclean.h). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "qconf.h"
#include "qname.h"
#include "msg.h"
#include "todo.h"
#include "dfree.h"
#include "sclean.h"

static int cleanfd = -1, cleanans = -1;

void clean_init(int reqfd, int ansfd)
{
  cleanfd = reqfd;
  cleanans = ansfd;
}

/* clean_self: no qmail-clean: unlink in qmail-clean's order */
static int clean_self(char kind, unsigned long long id, const char *sid)
{
  char p[QNAME_MAX];
  if (kind == 'T') return todo_clean(".", sid);
  fname(p, QDIR_INTD, id);
  if (unlink(p) == -1 && errno != ENOENT) return -1;
  fname(p, QDIR_MESS, id);
  if (unlink(p) == -1 && errno != ENOENT) return -1;
  return 0;
}

/* hold: the files the request removes stay allocated until the removal
 * is durable (dfree.h): todo/S/N ('T') or mess/S/N ('M'), and intd/S/N
 * where qmail-send may search intd/ (a single-user home; in a root
 * install it is todo/S/N's inode, or S3 garbage). 0 ok, -1 not held. */
static int hold(char kind, unsigned long long id)
{
  char p[QNAME_MAX];
  fname(p, kind == 'T' ? QDIR_TODO : QDIR_MESS, id);
  if (dfree_hold(p) == -1) return -1;
  fname(p, QDIR_INTD, id);
  return dfree_hold(p) == -1 && errno != EACCES ? -1 : 0;
}

int clean_req(char kind, unsigned long long id)
{
  char sid[32], req[40], c;
  size_t len, off = 0;
  splitid(sid, id);
  if (hold(kind, id) == -1) return -1;
  if (cleanfd < 0) return clean_self(kind, id, sid);
  len = (size_t)snprintf(req, sizeof req, "%c%s", kind, sid) + 1;
  while (off < len) {
    ssize_t w = write(cleanfd, req + off, len - off);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    off += (size_t)w;
  }
  for (;;) {
    ssize_t r = read(cleanans, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r != 1) { errno = EPIPE; return -1; }
    break;
  }
  if (c != '+') { errno = EIO; return -1; }
  return 0;
}
