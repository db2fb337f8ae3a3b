/* preproc.c: preprocessing in batches with one flush (contract in
 * preproc.h). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "stralloc.h"
#include "q_err.h"
#include "qconf.h"
#include "qname.h"
#include "channel.h"
#include "dfree.h"
#include "load.h"
#include "sclean.h"
#include "sconf.h"
#include "slog.h"
#include "todo.h"
#include "todochk.h"
#include "trigger.h"
#include "preproc.h"

int want_scan = 1;
static long long next_scan;
static struct { int active; unsigned s; DIR *dir; } tscan;  /* todo/ scan in progress */

/* Preprocessed messages of the current batch, not yet durable: they are
 * flushed together by one todo_sync (hub/send/todo.h, TODO_NOSYNC), and only
 * then logged, cleaned from todo/ and scheduled. */
struct pend {
  int torn;            /* TODO_TORN: only withdrawn after the flush */
  int dsn;             /* info/S/N has DSN items */
  unsigned long long id, bytes, pid, uid;
  long long birth;
  stralloc sender;
  char qid[QID_MAX];   /* qmail-queue's queue id, "" if none */
  stralloc mid;        /* the Message-ID as qmail-queue escaped it */
};
static struct pend pend[2 * TODO_BATCH];  /* a step: named, then scanned */
static unsigned npend;
static struct todo_result tres;  /* preprocessing results, reused */

/* pend_add: keep the result r of message id for the batch's commit */
static void pend_add(unsigned long long id, const struct todo_result *r)
{
  struct pend *p = &pend[npend++];
  p->torn = r->status == TODO_TORN;
  p->dsn = r->dsn;
  p->id = id; p->bytes = r->bytes; p->pid = r->pid; p->uid = r->uid; p->birth = r->birth;
  if (!stralloc_copy(&p->sender, &r->sender) || !stralloc_copy(&p->mid, &r->mid)) fatal_nomem();
  memcpy(p->qid, r->qid, sizeof p->qid);
}

/* pending: is message id in the step's batch already (named and scanned)? */
static int pending(unsigned long long id)
{
  unsigned i;
  for (i = 0; i < npend; i++) if (pend[i].id == id) return 1;
  return 0;
}

/* preprocess_one: todo/S/<name> (a readdir entry of todo/S) */
static void preprocess_one(unsigned s, const char *name, struct todo_result *r)
{
  char sid[64];
  unsigned long long id;
  struct msg *m;
  if (name[0] == '.' || strlen(name) > 20) return;
  snprintf(sid, sizeof sid, "%u/%s", s, name);
  if (todo_parse_id(sid, &id) == -1 || pending(id)) return;
  m = msg_find(id);
  if (m && m->bad) return;
  if (!todo_check(id)) return;  /* a stale name: never read */
  if (todo_process_flags(".", sid, &rw, r, TODO_NOSYNC) == -1) {
    lg_sys("warning: trouble preprocessing ", sid);
    return;
  }
  if (r->status == TODO_NOMESS) {
    lg_s("warning: msg "); lg_n(id); lg_s(" has no message file: withdrawn"); lg_flush();
    if (clean_req('T', id) == -1) lg_sys("warning: unable to clean todo ", sid);
  } else if (r->status == TODO_BAD) {
    if (todo_damaged(id)) return;  /* preprocessed before: loaded from info */
    lg_s("warning: msg "); lg_n(id); lg_s(" has a damaged envelope: left alone"); lg_flush();
    if (!m) { m = msg_new(id); m->bad = 1; }
  } else if (r->status == TODO_DONE || r->status == TODO_TORN) {
    pend_add(id, r);
  }
}

/* withdraw_torn: the message file does not match the envelope's l and c
 * items: a crash cut it before the group commit's flush, so it was never
 * acknowledged (hub/queue/QUEUE.md sec 2); mess/S/N is left to the
 * stale-file cleanup */
static void withdraw_torn(const struct pend *p)
{
  lg_s("warning: msg "); lg_n(p->id); lg_s(" has an incomplete message file: withdrawn"); lg_flush();
  if (clean_req('T', p->id) == -1) { lg_s("warning: unable to clean todo of msg "); lg_n(p->id); lg_flush(); }
}

/* accept_one: a preprocessed message is durable: log, clean todo, load */
static void accept_one(const struct pend *p)
{
  struct msg *m = msg_find(p->id);
  lg_s("new msg "); lg_n(p->id);
  if (p->qid[0]) { lg_s(" id "); lg_s(p->qid); }
  if (p->mid.len) { lg_s(" mid "); lg_mid(p->mid.s, p->mid.len); }
  lg_flush();
  lg_s("info msg "); lg_n(p->id); lg_s(": bytes "); lg_n(p->bytes); lg_s(" from <");
  lg_safe(p->sender.s, p->sender.len); lg_s("> qp "); lg_n(p->pid); lg_s(" uid ");
  lg_n(p->uid); lg_flush();
  if (clean_req('T', p->id) == -1) { lg_s("warning: unable to clean todo of msg "); lg_n(p->id); lg_flush(); }
  if (m) { /* stale entry of an earlier run: replace it */
    int c, busy = m->finishing;
    for (c = 0; c < NCHAN; c++) if (m->cs[c] == CS_PASS) busy = 1;
    if (busy) return;  /* picked up again by the next scan of info */
    msg_del(m);
  }
  load(p->id, p->birth, &p->sender, 1);
  if ((m = msg_find(p->id))) m->dsn = p->dsn ? 2 : 1;  /* no read of info to know */
}

/* commit_batch: one flush for the step's batch (todo_sync: syncfs and a
 * barrier; through dfree_sync, so it also frees the files removed before
 * it, hub/send/dfree.h), then accept each message; if the flush fails they stay in
 * todo/ and the next scan (in a minute) redoes them */
static void commit_batch(void)
{
  unsigned i;
  if (!npend) return;
  if (dfree_sync() == -1) {
    lg_sys("warning: unable to flush preprocessed messages, trying again later", 0);
    if (next_scan > now() + 60) next_scan = now() + 60;
  } else {
    for (i = 0; i < npend; i++)
      if (pend[i].torn) withdraw_torn(&pend[i]);
      else accept_one(&pend[i]);
  }
  npend = 0;
}

/* scan_next: the next entry of the todo/ scan into s and name; 0 when
 * the scan is over */
static int scan_next(unsigned *s, const char **name)
{
  for (;;) {
    struct dirent *de;
    if (!tscan.dir) {
      char d[QNAME_MAX];
      if (tscan.s >= QUEUE_SPLIT) { tscan.active = 0; return 0; }
      snprintf(d, sizeof d, "%s/%u", QDIR_TODO, tscan.s);
      tscan.dir = opendir(d);
      if (!tscan.dir) { lg_sys("warning: unable to opendir ", d); tscan.s++; continue; }
    }
    de = readdir(tscan.dir);
    if (!de) { closedir(tscan.dir); tscan.dir = 0; tscan.s++; continue; }
    if (de->d_name[0] == '.') continue;
    *s = tscan.s;
    *name = de->d_name;
    return 1;
  }
}

/* todo_step: go on with the scan of todo/, at most TODO_BATCH entries */
static void todo_step(void)
{
  unsigned n, s;
  const char *name;
  for (n = 0; n < TODO_BATCH && scan_next(&s, &name); n++)
    preprocess_one(s, name, &tres);
}

/* named_step: preprocess up to TODO_BATCH of the messages qmail-queue
 * named in the trigger, without reading any directory */
static void named_step(void)
{
  unsigned long long ids[TODO_BATCH];
  size_t i, n = trig_named(ids, TODO_BATCH);
  for (i = 0; i < n; i++) {
    char name[24];
    snprintf(name, sizeof name, "%llu", ids[i]);
    preprocess_one((unsigned)(ids[i] % QUEUE_SPLIT), name, &tres);
  }
}

void pre_step(long long t)
{
  if ((want_scan || t >= next_scan) && !tscan.active) {
    want_scan = 0;
    next_scan = t + SCAN_INTERVAL;
    tscan.active = 1;
    tscan.s = 0;
  }
  if (trig_pending()) named_step();
  if (tscan.active) todo_step();
  commit_batch();  /* one flush for the step */
}

long long pre_wake(long long t)
{
  return tscan.active || want_scan || trig_pending() ? t : next_scan;
}
