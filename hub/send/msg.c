/* msg.c: qmail-send's message table (contract in msg.h): chained hash on
 * the message number, doubled when it holds as many entries as buckets. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "q_err.h"
#include "qname.h"
#include "msg.h"

static struct msg **htab;
static size_t hsize, hcount;

static size_t hslot(unsigned long long id, size_t size)
{
  return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 17) & (size - 1);
}

struct msg *msg_find(unsigned long long id)
{
  struct msg *m;
  if (!hsize) return 0;
  for (m = htab[hslot(id, hsize)]; m; m = m->hnext)
    if (m->id == id) return m;
  return 0;
}

static void hgrow(void)
{
  size_t ns = hsize ? hsize * 2 : 1024, i;
  struct msg **nt = calloc(ns, sizeof *nt), *m, *n;
  if (!nt) fatal_nomem();
  for (i = 0; i < hsize; i++)
    for (m = htab[i]; m; m = n) {
      n = m->hnext;
      m->hnext = nt[hslot(m->id, ns)];
      nt[hslot(m->id, ns)] = m;
    }
  free(htab);
  htab = nt;
  hsize = ns;
}

struct msg *msg_new(unsigned long long id)
{
  struct msg *m = calloc(1, sizeof *m);
  size_t h;
  if (!m) fatal_nomem();
  if (hcount >= hsize) hgrow();
  m->id = id;
  h = hslot(id, hsize);
  m->hnext = htab[h];
  htab[h] = m;
  hcount++;
  return m;
}

void msg_del(struct msg *m)
{
  struct msg **p = &htab[hslot(m->id, hsize)];
  while (*p && *p != m) p = &(*p)->hnext;
  if (*p) *p = m->hnext;
  hcount--;
  stralloc_free(&m->sender);
  free(m);
}

size_t msg_count(void) { return hcount; }

long long now(void) { return (long long)time(0); }

void fname(char *buf, const char *dir, unsigned long long id)
{
  qname_file(buf, dir, id);
}

void splitid(char *buf, unsigned long long id)
{
  snprintf(buf, 32, "%u/%llu", qname_split(id), id);
}
