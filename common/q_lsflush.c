/* q_lsflush.c: sending what waits in the leaf's spool (q_lspool.h; the
 * design and its reasons in docs/spool.md).
 *
 * One flush at a time per user: it holds flock on the user's directory.
 * Messages go oldest first, each with qmqpc_send_st as a fresh message
 * would. After each attempt:
 *   all accepted              the file is removed
 *   refused (none pending)    a bounce to the sender for the refused
 *                             recipients is kept first, then the file is
 *                             removed
 *   not accepted yet          recipients a hub took leave the file, which
 *                             is rewritten in place (a refused one stays:
 *                             its bounce comes with the attempt that ends
 *                             with none pending, whose text names it); the
 *                             flush stops: the next message would most
 *                             likely meet the same fate. A message older
 *                             than spoollifetime is bounced instead of
 *                             waiting more.
 * Once the hubs failed, what is older than spoollifetime is still bounced
 * (no further attempt), and the flush ends at the first younger message.
 * The order on the disk is what makes a crash harmless: a bounce is
 * durable before its original goes; a file is removed only after the hub
 * said K. A kill at any point leaves at worst a duplicate.
 *
 * A bounce is a new message in the same spool (it goes out like any other,
 * with the null sender, to the original sender), in QSBMF, carrying the
 * first BOUNCE_COPY bytes of the message. A message whose sender is null
 * (a bounce itself) is not bounced: it is dropped, with a warning. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "q_control.h"
#include "q_date.h"
#include "q_err.h"
#include "q_lspool.h"
#include "q_qmqpc.h"
#include "q_qqstatus.h"
#include "q_sa.h"

#define BOUNCE_COPY 65536UL   /* bytes of the original in a bounce */
#define ROUNDS 100            /* rescans for messages kept meanwhile */

enum { F_DONE, F_SKIP, F_STOP, F_FAIL };

struct flush {
  struct lspool_dir d;
  int vfd;
  int hubsdown;             /* a send failed for a temporary reason */
  unsigned long life;       /* spoollifetime */
  time_t now;
  stralloc me;
};

/* tell: "progname: NAME: a b" on fd (skipped when fd < 0). */
static void tell(int fd, const char *name, const char *a, const char *b, size_t blen)
{
  stralloc l = {0};
  if (fd < 0) return;
  if (stralloc_copys(&l, progname) && stralloc_cats(&l, ": ") && stralloc_cats(&l, name) &&
      stralloc_cats(&l, ": ") && stralloc_cats(&l, a) && stralloc_catb(&l, b, blen) &&
      stralloc_append(&l, "\n"))
    (void)!write(fd, l.s, l.len);
  stralloc_free(&l);
}

/* ---- bounces ---------------------------------------------------------- */

/* cat_line: s[0..len) with CR, LF and NUL as '_' (a header or report line). */
static int cat_line(stralloc *out, const char *s, size_t len)
{
  size_t i;
  if (!stralloc_readyplus(out, len)) return 0;
  for (i = 0; i < len; ++i) {
    char c = s[i];
    out->s[out->len++] = (c == '\r' || c == '\n' || c == '\0') ? '_' : c;
  }
  return 1;
}

/* bounce_head: header, intro, one paragraph per recipient i with st[i] ==
 * mark (all when st is NULL), and the break, into out. */
static int bounce_head(stralloc *out, const struct flush *f, const struct lspool_msg *m,
                       const char *st, char mark, const char *report, size_t rlen)
{
  char date[DATE822_MAX];
  const char *sender = m->env.s + 1, *a;
  size_t slen = strlen(sender), pos = slen + 2, i = 0;
  date_fmt822(date, f->now, 0);
  if (!stralloc_cats(out, "From: MAILER-DAEMON@") || !cat_line(out, f->me.s, f->me.len) ||
      !stralloc_cats(out, "\nTo: ") || !cat_line(out, sender, slen) ||
      !stralloc_cats(out, "\nSubject: failure notice\nDate: ") || !stralloc_cats(out, date) ||
      !stralloc_cats(out, "\n\nHi. This is the qmail-qmqpc program at ") ||
      !cat_line(out, f->me.s, f->me.len) ||
      !stralloc_cats(out, ".\nYour message could not be delivered to the addresses listed below.\n"
                          "The failure is permanent, so no further attempts will be made. Sorry.\n\n"))
    return 0;
  for (; pos < m->env.len && m->env.s[pos]; pos += strlen(a) + 2, ++i) {
    a = m->env.s + pos + 1;
    if (st && st[i] != mark) continue;
    if (!stralloc_append(out, "<") || !cat_line(out, a, strlen(a)) ||
        !stralloc_cats(out, ">:\n") || !cat_line(out, report, rlen) || !stralloc_cats(out, "\n\n"))
      return 0;
  }
  return stralloc_cats(out, "--- Below this line is a copy of the message.\n\nReturn-Path: <") &&
         cat_line(out, sender, slen) && stralloc_cats(out, ">\n");
}

/* bounce_copy: the first BOUNCE_COPY bytes of the message into b. */
static int bounce_copy(struct spool *b, const struct lspool_msg *m)
{
  char buf[8192];
  unsigned long long done = 0, want = m->len < BOUNCE_COPY ? m->len : BOUNCE_COPY;
  while (done < want) {
    size_t n = want - done < sizeof buf ? (size_t)(want - done) : sizeof buf;
    ssize_t r = pread(m->fd, buf, n, (off_t)(m->off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) { if (r == 0) errno = EIO; return -1; }
    if (spool_put(b, buf, (size_t)r) < 0) return -1;
    done += (unsigned long long)r;
  }
  if (want < m->len) {
    static const char cut[] = "\n[The rest of the message was cut: a bounce carries its first 65536 bytes.]\n";
    return spool_put(b, cut, sizeof cut - 1);
  }
  return 0;
}

/* bounce: keep a bounce of m for the recipients i with st[i] == mark (all
 * when st is NULL) saying report. 0 kept, or not needed (null sender:
 * dropped, with a warning); -1 error (errno). */
static int bounce(struct flush *f, const struct lspool_msg *m, const char *st, char mark,
                  const char *report, size_t rlen)
{
  static const char env_head[] = "F\0T";
  const char *sender = m->env.s + 1;
  stralloc h = {0}, env = {0}, why = {0};
  struct spool b;
  int r = -1, e = ENOMEM;
  if (!*sender || !strcmp(sender, "#@[]")) {
    tell(2, m->name, "dropped: a message with the null sender is not bounced: ", report, rlen);
    return 0;
  }
  spool_init(&b);
  if (bounce_head(&h, f, m, st, mark, report, rlen) &&
      stralloc_copyb(&env, env_head, 3) && stralloc_catb(&env, sender, strlen(sender) + 1) &&
      stralloc_append(&env, "") && stralloc_copys(&why, "a bounce of ") &&
      stralloc_cats(&why, m->name) && stralloc_cats(&why, ": ") && stralloc_catb(&why, report, rlen)) {
    if (spool_put(&b, h.s, h.len) == 0 && bounce_copy(&b, m) == 0)
      r = lspool_write(&f->d, why.s, why.len, env.s, env.len, 0, &b, 0, 0);
    e = errno;
  }
  if (r == 0) tell(f->vfd, m->name, "bounced to ", sender, strlen(sender));
  spool_free(&b);
  stralloc_free(&h);
  stralloc_free(&env);
  stralloc_free(&why);
  errno = e;
  return r;
}

/* expire_text: the report for a message older than spoollifetime. */
static int expire_text(stralloc *r, const struct flush *f, const struct lspool_msg *m,
                       const stralloc *last)
{
  char date[DATE822_MAX];
  date_fmt822(date, m->when, 0);
  return stralloc_copys(r, "No hub took this message in the ") && sa_catnum(r, f->life) &&
         stralloc_cats(r, " seconds control/spoollifetime allows (it waited in the spool of ") &&
         stralloc_catb(r, f->me.s, f->me.len) && stralloc_cats(r, " since ") &&
         stralloc_cats(r, date) && stralloc_cats(r, "); the last attempt: ") &&
         stralloc_catb(r, last->s, last->len);
}

/* ---- one message -------------------------------------------------------- */

/* remove_msg: the message is done with. */
static int remove_msg(struct flush *f, const struct lspool_msg *m)
{
  if (unlinkat(f->d.fd, m->name, 0) < 0 && errno != ENOENT) {
    tell(2, m->name, "unable to remove: ", strerror(errno), strlen(strerror(errno)));
    return F_FAIL;
  }
  return F_DONE;
}

/* expire: bounce m for good, for every recipient not accepted (st[i] !=
 * 'K'; all when st is NULL); last is what the last attempt met. */
static int expire(struct flush *f, const struct lspool_msg *m, char *st, const stralloc *last)
{
  stralloc r = {0};
  size_t i;
  int res = F_FAIL;
  for (i = 0; st && i < m->nrcpt; ++i)
    if (st[i] != 'K') st[i] = 'E';
  tell(f->vfd, m->name, "too old: ", last->s, last->len);
  if (expire_text(&r, f, m, last) && bounce(f, m, st, 'E', r.s, r.len) == 0) res = remove_msg(f, m);
  else tell(2, m->name, "unable to keep a bounce: ", strerror(errno), strlen(strerror(errno)));
  stralloc_free(&r);
  return res;
}

/* count: how many recipients are in state c. */
static size_t count(const char *st, size_t n, char c)
{
  size_t i, k = 0;
  for (i = 0; i < n; ++i) k += st[i] == c;
  return k;
}

/* deferred: a temporary failure: keep what was not accepted (the file is
 * rewritten when a hub took part of it), or bounce it when it is too old.
 * A recipient refused meanwhile stays: the text that names it comes with
 * the attempt that ends with no recipient pending, and its bounce then. */
static int deferred(struct flush *f, const struct lspool_msg *m, char *st,
                    struct spool *msg, const struct qq_status *q)
{
  stralloc last = {0};
  int r = F_STOP;
  f->hubsdown = 1;
  tell(f->vfd, m->name, "deferred: ", q->text, q->textlen);
  if (f->now - m->when > (time_t)f->life) {
    if (!stralloc_copyb(&last, q->text, q->textlen)) return F_FAIL;
    r = expire(f, m, st, &last);
    stralloc_free(&last);
    return r == F_DONE ? F_STOP : r;
  }
  if (count(st, m->nrcpt, 'K') &&
      lspool_write(&f->d, q->text, q->textlen, m->env.s, m->env.len, st, msg, m->name, 0) < 0)
    r = F_FAIL;
  if (r == F_FAIL) tell(2, m->name, "unable to update: ", strerror(errno), strlen(strerror(errno)));
  return r;
}

/* attempt: send m to the hubs and act on the answer. */
static int attempt(struct flush *f, const struct lspool_msg *m)
{
  stralloc text = {0};
  struct qq_status q;
  struct spool msg;
  char *st = malloc(m->nrcpt);
  int code, r;
  if (!st) return F_FAIL;
  memset(st, 'Z', m->nrcpt);
  spool_init(&msg);
  if (lseek(m->fd, (off_t)m->off, SEEK_SET) < 0 || spool_readfd(&msg, m->fd) < 0) {
    free(st);
    return F_FAIL;
  }
  code = qmqpc_send_st(&msg, m->env.s, m->env.len, &text, st);
  qq_status(code, text.s, text.len, &q);
  if (code == 0) {
    tell(f->vfd, m->name, "sent", "", 0);
    r = remove_msg(f, m);
  } else if (qq_permanent(code, text.s, text.len)) {
    size_t i;   /* refused: every recipient not accepted (a refusal of the
                 * whole envelope, 11 or 91, leaves st as it was) */
    for (i = 0; i < m->nrcpt; ++i)
      if (st[i] != 'K') st[i] = 'D';
    tell(f->vfd, m->name, "refused: ", q.text, q.textlen);
    r = bounce(f, m, st, 'D', q.text, q.textlen) == 0 ? remove_msg(f, m) : F_FAIL;
  } else if (code == 51 || code == 54) {
    r = F_FAIL;
  } else {
    r = deferred(f, m, st, &msg, &q);
  }
  spool_free(&msg);
  stralloc_free(&text);
  free(st);
  return r;
}

static int one(struct flush *f, const char *name)
{
  struct lspool_msg m;
  stralloc last = {0};
  int r;
  if (lspool_read(&f->d, name, &m) < 0) {
    r = errno == ENOENT ? F_SKIP : errno == ENOMEM ? F_FAIL : F_SKIP;
    if (errno != ENOENT) tell(2, name, "unreadable, left where it is: ",
                              errno == EPROTO ? "not a spool file" : strerror(errno),
                              strlen(errno == EPROTO ? "not a spool file" : strerror(errno)));
    lspool_msgfree(&m);
    return r;
  }
  if (!f->hubsdown) r = attempt(f, &m);
  else if (f->now - m.when > (time_t)f->life) {
    r = stralloc_copys(&last, "the hubs failed on an earlier message of this flush") ?
        expire(f, &m, 0, &last) : F_FAIL;
  } else r = F_STOP;
  stralloc_free(&last);
  lspool_msgfree(&m);
  return r;
}

/* ---- the flush ------------------------------------------------------------ */

/* setup: spoollifetime and me. 0, or -1 (said). */
static int setup(struct flush *f)
{
  f->life = LSPOOL_LIFE_DEFAULT;
  f->now = time(0);
  if (control_readulong(&f->life, "spoollifetime") < 0) {
    err_print("warning", 0, "control/spoollifetime: ", control_strerror(errno),
              ": nothing is sent from the spool (#4.3.0)", (const char *)0);
    return -1;
  }
  if (control_me(&f->me, "localhost") < 0) {
    err_print("warning", errno, "unable to read control/me", (const char *)0);
    return -1;
  }
  return 0;
}

/* rounds: go through the spool until it is empty, a send fails, or a
 * round removes nothing. 0, or -1 (a problem, said). */
static int rounds(struct flush *f)
{
  stralloc names = {0};
  size_t n, i, done;
  const char *p;
  int round, r = F_DONE;
  for (round = 0; round < ROUNDS && r != F_STOP && r != F_FAIL; ++round) {
    if (lspool_names(&f->d, &names, &n, round == 0) < 0) {
      err_print("warning", errno, "unable to list ", f->d.path.s, (const char *)0);
      r = F_FAIL;
      break;
    }
    for (i = done = 0, p = names.s; i < n; ++i, p += strlen(p) + 1) {
      r = one(f, p);
      if (r == F_DONE) ++done;
      if (r == F_STOP || r == F_FAIL) break;
    }
    if (!done) break;
  }
  stralloc_free(&names);
  return r == F_FAIL ? -1 : 0;
}

int lspool_flush(int wait, int vfd)
{
  struct flush f;
  stralloc why = {0};
  int r;
  memset(&f, 0, sizeof f);
  f.vfd = vfd;
  r = lspool_open(&f.d, 0, &why);
  if (r < 0 && stralloc_0(&why)) err_print("warning", 0, "spool not flushed: ", why.s, (const char *)0);
  stralloc_free(&why);
  if (r <= 0) { lspool_close(&f.d); return r; }
  if (flock(f.d.fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
    lspool_close(&f.d);
    return errno == EWOULDBLOCK ? 0 : -1;
  }
  qmqpc_verbose(vfd);
  r = setup(&f) < 0 ? -1 : rounds(&f);
  fsync(f.d.fd);    /* the removals too, so a crash makes fewer duplicates */
  unlinkat(f.d.top, f.d.uid, AT_REMOVEDIR);  /* when empty: nothing waits */
  lspool_close(&f.d);
  stralloc_free(&f.me);
  return r;
}
