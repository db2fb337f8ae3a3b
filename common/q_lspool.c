/* q_lspool.c: the leaf's spool: its directories, its files, keeping a
 * message and starting a flush (see q_lspool.h; the flush itself is in
 * q_lsflush.c, the design in docs/spool.md).
 *
 * Every file operation is relative to a directory descriptor that was
 * checked once (a directory, ours, mode 0700), and every open of a name in
 * it refuses symbolic links: another user who can create names in
 * HOME/spool can deny a user the spool (by taking the uid's name first),
 * but never make a message go to or come from anywhere else. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "buffer.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "q_io.h"
#include "q_lspool.h"
#include "q_qmqpc.h"
#include "q_qqstatus.h"
#include "q_sa.h"

#define ENV_MAX (64UL * 1024 * 1024)  /* as qmail-qmqpc reads one */

/* ---- directories ------------------------------------------------------ */

/* why_sys: why = a + b + strerror(e); -1. */
static int why_sys(stralloc *why, const char *a, const char *b, int e)
{
  if (!stralloc_copys(why, a) || !stralloc_cats(why, b) || !stralloc_cats(why, strerror(e)))
    why->len = 0;
  return -1;
}

/* why_is: why = a + b; -1. */
static int why_is(stralloc *why, const char *a, const char *b)
{
  if (!stralloc_copys(why, a) || !stralloc_cats(why, b)) why->len = 0;
  return -1;
}

/* check_top: HOME/spool must not be open to everyone without the sticky
 * bit, or anybody could remove anybody's directory. */
static int check_top(int fd, const char *path, stralloc *why)
{
  struct stat st;
  if (fstat(fd, &st) < 0) return why_sys(why, path, ": ", errno);
  if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
    return why_is(why, path, " is writable by everyone but not sticky (chmod 1777)");
  return 0;
}

/* not_ours: why = "PATH belongs to uid N, not to this user"; -1. */
static int not_ours(const struct lspool_dir *d, unsigned long owner, stralloc *why)
{
  if (!stralloc_copys(why, d->path.s) || !stralloc_cats(why, " belongs to uid ") ||
      !sa_catnum(why, owner) || !stralloc_cats(why, ", not to this user"))
    why->len = 0;
  return -1;
}

/* check_own: the user's directory must be ours and closed to others. A
 * directory we have just made only gets its mode set (the umask). */
static int check_own(struct lspool_dir *d, int made, stralloc *why)
{
  struct stat st;
  if (fstat(d->fd, &st) < 0) return why_sys(why, d->path.s, ": ", errno);
  if (st.st_uid != geteuid()) return not_ours(d, st.st_uid, why);
  if ((st.st_mode & 07777) == 0700) return 0;
  if (made && fchmod(d->fd, 0700) == 0) return 0;
  return why_is(why, d->path.s, " is open to others or not writable (it must be mode 0700)");
}

/* open_own: openat the uid's name, no symbolic link, directories only. */
static int open_own(const struct lspool_dir *d)
{
  return openat(d->top, d->uid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* make_own: mkdir the user's directory and make its name durable. */
static int make_own(struct lspool_dir *d, stralloc *why)
{
  if (mkdirat(d->top, d->uid, 0700) < 0 && errno != EEXIST)
    return why_sys(why, d->path.s, ": unable to create: ", errno);
  if (fsync(d->top) < 0) return why_sys(why, d->path.s, ": unable to sync its parent: ", errno);
  d->fd = open_own(d);
  return 0;
}

int lspool_open(struct lspool_dir *d, int create, stralloc *why)
{
  int made = 0;
  d->top = d->fd = -1;
  d->path.s = 0; d->path.len = d->path.a = 0;
  snprintf(d->uid, sizeof d->uid, "%lu", (unsigned long)geteuid());
  if (!home_path(&d->path, "spool")) return why_sys(why, "", "", ENOMEM);
  d->top = open(d->path.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d->top < 0 && errno == ENOENT) {
    why_is(why, d->path.s, " does not exist (make install-leaf makes it)");
    return 0;
  }
  if (d->top < 0) return why_sys(why, d->path.s, ": ", errno);
  if (check_top(d->top, d->path.s, why) < 0) return -1;
  --d->path.len;
  if (!stralloc_cats(&d->path, "/") || !stralloc_cats(&d->path, d->uid) || !stralloc_0(&d->path))
    return why_sys(why, "", "", ENOMEM);
  d->fd = open_own(d);
  if (d->fd < 0 && errno == ENOENT && create) {
    if (make_own(d, why) < 0) return -1;
    made = 1;
  }
  if (d->fd < 0) {
    struct stat st;
    int e = errno;
    if (e == ENOENT) return 0;
    if (e == EACCES && fstatat(d->top, d->uid, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        st.st_uid != geteuid())
      return not_ours(d, st.st_uid, why);   /* another user took the name */
    if (e == ELOOP || e == ENOTDIR) return why_is(why, d->path.s, " is not a directory");
    return why_sys(why, d->path.s, ": ", e);
  }
  return check_own(d, made, why) < 0 ? -1 : 1;
}

void lspool_close(struct lspool_dir *d)
{
  if (d->fd >= 0) close(d->fd);
  if (d->top >= 0) close(d->top);
  d->fd = d->top = -1;
  stralloc_free(&d->path);
}

/* ---- names -------------------------------------------------------------- */

/* is_msg: a message name: digits and dots, starting with a digit. */
static int is_msg(const char *n)
{
  size_t i;
  if (n[0] < '0' || n[0] > '9') return 0;
  for (i = 0; n[i]; ++i)
    if ((n[i] < '0' || n[i] > '9') && n[i] != '.') return 0;
  return i < LSPOOL_NAME;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* stale_tmp: remove a tmp.* file nobody has written for LSPOOL_STALE s. */
static void stale_tmp(const struct lspool_dir *d, const char *n)
{
  struct stat st;
  if (strncmp(n, "tmp.", 4) != 0) return;
  if (fstatat(d->fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) return;
  if (time(0) - st.st_mtime > LSPOOL_STALE) unlinkat(d->fd, n, 0);
}

/* sorted: sa holds n NUL-terminated names: sort them in place. */
static int sorted(stralloc *sa, size_t n)
{
  char **v = malloc((n ? n : 1) * sizeof *v), *p;
  stralloc out = {0};
  size_t i;
  if (!v) return -1;
  for (i = 0, p = sa->s; i < n; ++i, p += strlen(p) + 1) v[i] = p;
  qsort(v, n, sizeof *v, by_name);
  for (i = 0; i < n; ++i)
    if (!stralloc_catb(&out, v[i], strlen(v[i]) + 1)) { free(v); stralloc_free(&out); return -1; }
  free(v);
  stralloc_free(sa);
  *sa = out;
  return 0;
}

int lspool_names(const struct lspool_dir *d, stralloc *sa, size_t *n, int stale)
{
  int fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;
  struct dirent *de;
  DIR *dir;
  sa->len = 0;
  *n = 0;
  if (fd < 0) return -1;
  if (!(dir = fdopendir(fd))) { e = errno; close(fd); errno = e; return -1; }
  errno = 0;
  while ((de = readdir(dir))) {
    if (!is_msg(de->d_name)) { if (stale) stale_tmp(d, de->d_name); continue; }
    if (!stralloc_catb(sa, de->d_name, strlen(de->d_name) + 1)) { closedir(dir); errno = ENOMEM; return -1; }
    ++*n;
    errno = 0;
  }
  e = errno;
  closedir(dir);
  if (e) { errno = e; return -1; }
  if (sorted(sa, *n) < 0) { errno = ENOMEM; return -1; }
  return 0;
}

int lspool_usage(const struct lspool_dir *d, size_t *n, unsigned long long *bytes)
{
  stralloc names = {0};
  struct stat st;
  size_t i;
  const char *p;
  *bytes = 0;
  if (lspool_names(d, &names, n, 0) < 0) { stralloc_free(&names); return -1; }
  for (i = 0, p = names.s; i < *n; ++i, p += strlen(p) + 1)
    if (fstatat(d->fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0) *bytes += (unsigned long long)st.st_size;
  stralloc_free(&names);
  return 0;
}

/* ---- reading a message file ------------------------------------------- */

size_t lspool_rcpts(const char *env, size_t envlen)
{
  size_t pos = 0, items = 0;
  const char *z;
  while (pos < envlen && env[pos]) {
    if (env[pos] != (items ? 'T' : 'F')) return 0;
    if (!(z = memchr(env + pos, 0, envlen - pos))) return 0;
    pos = (size_t)(z - env) + 1;
    ++items;
  }
  if (pos + 1 != envlen || items < 2) return 0;
  return items - 1;
}

/* getc: one byte of the head: 1, or -1 with errno (EPROTO at the end). */
static int getc_head(buffer *b, char *c, unsigned long long *used)
{
  int r = buffer_getc(b, c);
  if (r == 0) errno = EPROTO;
  if (r != 1) return -1;
  ++*used;
  return 1;
}

/* head: the why line and the envelope through b; *used the bytes read.
 * 0 ok, -1 errno (EPROTO: not a spool file's head). */
static int head(buffer *b, struct lspool_msg *m, unsigned long long *used)
{
  char c;
  int item = 0, start = 1;
  for (;;) {      /* the why line */
    if (getc_head(b, &c, used) < 0) return -1;
    if (c == '\n') break;
    if (m->why.len >= LSPOOL_WHY) { errno = EPROTO; return -1; }
    if (!stralloc_append(&m->why, &c)) { errno = ENOMEM; return -1; }
  }
  for (;;) {      /* the envelope, to its empty item */
    if (getc_head(b, &c, used) < 0) return -1;
    if (m->env.len >= ENV_MAX || (start && c && c != (item ? 'T' : 'F'))) { errno = EPROTO; return -1; }
    if (!stralloc_append(&m->env, &c)) { errno = ENOMEM; return -1; }
    if (start && c == 0) break;
    if (start) ++item;
    start = c == 0;
  }
  m->nrcpt = lspool_rcpts(m->env.s, m->env.len);
  if (!m->nrcpt) { errno = EPROTO; return -1; }
  return 0;
}

/* when_of: the time in a message name. */
static time_t when_of(const char *n)
{
  unsigned long long t = 0;
  for (; *n >= '0' && *n <= '9'; ++n) t = t * 10 + (unsigned)(*n - '0');
  return (time_t)t;
}

int lspool_read(const struct lspool_dir *d, const char *name, struct lspool_msg *m)
{
  char space[4096];
  unsigned long long used = 0;
  struct stat st;
  buffer b;
  memset(m, 0, sizeof *m);
  m->fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (m->fd < 0) return -1;
  snprintf(m->name, sizeof m->name, "%s", name);
  m->when = when_of(name);
  if (fstat(m->fd, &st) < 0) return -1;
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) { errno = EPROTO; return -1; }
  buffer_init(&b, (ssize_t (*)())read, m->fd, space, sizeof space);
  if (head(&b, m, &used) < 0) return -1;
  m->off = used;
  m->len = (unsigned long long)st.st_size - used;
  return 0;
}

void lspool_msgfree(struct lspool_msg *m)
{
  if (m->fd >= 0) close(m->fd);
  m->fd = -1;
  stralloc_free(&m->why);
  stralloc_free(&m->env);
}

/* ---- writing a message file ------------------------------------------- */

/* head_text: the why line, cleaned, and the envelope of the recipients not
 * accepted, into h. */
static int head_text(stralloc *h, const char *why, size_t whylen,
                     const char *env, size_t envlen, const char *st)
{
  size_t i, pos, k = 0;
  if (whylen > LSPOOL_WHY) whylen = LSPOOL_WHY;
  for (i = 0; i < whylen; ++i) {
    char c = (why[i] >= 32 && why[i] < 127) ? why[i] : '?';
    if (!stralloc_append(h, &c)) return -1;
  }
  if (!stralloc_append(h, "\n")) return -1;
  for (pos = 0; pos < envlen && env[pos]; ) {
    size_t l = strlen(env + pos) + 1;
    if (env[pos] == 'F' || !st || st[k++] != 'K')
      if (!stralloc_catb(h, env + pos, l)) return -1;
    pos += l;
  }
  return stralloc_append(h, "") ? 0 : -1;
}

/* fill: the whole file content into fd, then to the disk. */
static int fill(int fd, const stralloc *h, struct spool *msg)
{
  if (io_writeall(fd, h->s, h->len, 0) < 0) return -1;
  if (msg && spool_write(msg, fd, 0) < 0) return -1;
  return fsync(fd);
}

/* tmp_create: a new tmp.NAME in d, NAME from the clock; *fd open. */
static int tmp_create(struct lspool_dir *d, char *base, char *tmp, int *fd)
{
  struct timespec ts;
  int i;
  for (i = 0; i < 5; ++i) {
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(base, LSPOOL_NAME, "%010llu.%09ld.%lu", (unsigned long long)ts.tv_sec,
             ts.tv_nsec, (unsigned long)getpid());
    snprintf(tmp, LSPOOL_NAME + 4, "tmp.%s", base);
    *fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd >= 0 || errno != EEXIST) return *fd;
  }
  return -1;
}

int lspool_write(struct lspool_dir *d, const char *why, size_t whylen,
                 const char *env, size_t envlen, const char *st,
                 struct spool *msg, const char *replace, char *name)
{
  char base[LSPOOL_NAME], tmp[LSPOOL_NAME + 4];
  stralloc h = {0};
  int fd, e;
  if (head_text(&h, why, whylen, env, envlen, st) < 0) { stralloc_free(&h); errno = ENOMEM; return -1; }
  if (tmp_create(d, base, tmp, &fd) < 0) { e = errno; stralloc_free(&h); errno = e; return -1; }
  if (fill(fd, &h, msg) < 0) {
    e = errno;
    close(fd);
    goto fail;
  }
  stralloc_free(&h);
  if (close(fd) < 0 || renameat(d->fd, tmp, d->fd, replace ? replace : base) < 0) { e = errno; goto fail; }
  if (name) snprintf(name, LSPOOL_NAME, "%s", replace ? replace : base);
  return fsync(d->fd);  /* the new name is on the disk too */
fail:
  stralloc_free(&h);
  unlinkat(d->fd, tmp, 0);
  errno = e;
  return -1;
}

/* ---- keeping a message ------------------------------------------------- */

/* setting: control/spool: 1 on (missing or empty), 0 off ("none"), -1
 * error (cause in why). */
static int setting(stralloc *why)
{
  stralloc v = {0};
  int r = control_readline(&v, "spool");
  if (r < 0) { why_sys(why, "", "unable to read control/spool: ", errno); r = -1; }
  else if (r == 0 || v.len == 0) r = 1;
  else if (v.len == 4 && memcmp(v.s, "none", 4) == 0) r = 0;
  else {
    if (!stralloc_copys(why, "control/spool is neither empty nor \"none\": \"") ||
        !sa_catsafe(why, v.s, v.len > 100 ? 100 : v.len) || !stralloc_cats(why, "\""))
      why->len = 0;
    r = -1;
  }
  stralloc_free(&v);
  return r;
}

/* room: may d take a message of len more bytes? 0 yes; -1 no (why). */
static int room(const struct lspool_dir *d, unsigned long long len, size_t *n, stralloc *why)
{
  unsigned long max = LSPOOL_MAX_DEFAULT;
  unsigned long long bytes;
  if (control_readulong(&max, "spoolmax") < 0)
    return why_sys(why, "", "control/spoolmax: ", errno);
  if (lspool_usage(d, n, &bytes) < 0) return why_sys(why, d->path.s, ": ", errno);
  if (*n < LSPOOL_MAXMSGS && (max == 0 || (bytes < max && len <= max - bytes))) return 0;
  if (!stralloc_copys(why, "the spool is full: ") || !sa_catnum(why, *n) ||
      !stralloc_cats(why, " messages, ") || !sa_catnum(why, bytes) ||
      !stralloc_cats(why, " bytes; this message has ") || !sa_catnum(why, len) ||
      !stralloc_cats(why, " (control/spoolmax ") || !sa_catnum(why, max) ||
      !stralloc_cats(why, " bytes, at most ") || !sa_catnum(why, LSPOOL_MAXMSGS) ||
      !stralloc_cats(why, " messages)"))
    why->len = 0;
  return -1;
}

/* say: "progname: " + a + b + "\n" on stderr in one write. */
static void say(const char *a, const char *b, size_t blen)
{
  stralloc l = {0};
  if (stralloc_copys(&l, progname) && stralloc_cats(&l, ": ") && stralloc_cats(&l, a) &&
      stralloc_catb(&l, b, blen) && stralloc_append(&l, "\n"))
    (void)!write(2, l.s, l.len);
  stralloc_free(&l);
}

/* keep_once: open (make) the user's directory and write the message. 1
 * kept, 0 the directory went away meanwhile (try again), -1 not (why). */
static int keep_once(struct spool *msg, const char *env, size_t envlen, const char *st,
                     const struct qq_status *q, size_t *n, stralloc *why)
{
  struct lspool_dir d;
  int r = lspool_open(&d, 1, why);
  if (r == 0) r = -1;   /* no spool/ at all: why says so */
  if (r > 0 && room(&d, spool_len(msg), n, why) < 0) r = -1;
  if (r > 0 && lspool_write(&d, q->text, q->textlen, env, envlen, st, msg, 0, 0) < 0)
    r = errno == ENOENT ? 0 : why_sys(why, d.path.s, ": unable to write a message: ", errno);
  lspool_close(&d);
  return r;
}

/* keep: keep the message after a temporary failure (code, text). 0 kept
 * (said on stderr), -1 not (a warning said why, unless the spool is off). */
static int keep(struct spool *msg, const char *env, size_t envlen, const char *st,
                int code, const stralloc *text)
{
  stralloc why = {0}, l = {0};
  struct qq_status q;
  size_t n = 0;
  int r = setting(&why), i;
  qq_status(code, text->s, text->len, &q);
  if (r > 0) {
    for (i = 0; i < 3; ++i)  /* again while a flush removes the directory */
      if ((r = keep_once(msg, env, envlen, st, &q, &n, &why)) != 0) break;
    if (r == 0) {
      r = -1;
      stralloc_copys(&why, "the spool directory was removed three times while writing");
    }
  }
  if (r > 0) {
    if (stralloc_copys(&l, "kept in the spool (") && sa_catnum(&l, n + 1) &&
        stralloc_cats(&l, " waiting) until a hub takes it: ") && stralloc_0(&l))
      say(l.s, q.text, q.textlen);
    else
      say("kept in the spool until a hub takes it: ", q.text, q.textlen);
  } else if (r < 0 && why.len) {
    say("warning: not kept in the spool: ", why.s, why.len);
  }
  stralloc_free(&why);
  stralloc_free(&l);
  return r > 0 ? 0 : -1;
}

/* keepable: a temporary failure about reaching the hubs or the leaf's
 * configuration (not one of the message itself: 51-54, 91). */
static int keepable(int code, const stralloc *text)
{
  if (code == 82) return text->len > 0 && text->s[0] == 'Z';
  return code == 55 || (code >= 71 && code <= 74);
}

int lspool_send(struct spool *msg, const char *env, size_t envlen, stralloc *text)
{
  size_t n = lspool_rcpts(env, envlen);
  char *st = malloc(n ? n : 1);
  int code;
  if (!st) return 51;
  memset(st, 'Z', n ? n : 1);
  code = qmqpc_send_st(msg, env, envlen, text, st);
  if (code == 0) lspool_kick();
  else if (n && keepable(code, text) && keep(msg, env, envlen, st, code, text) == 0) code = 0;
  free(st);
  return code;
}

/* ---- starting a flush ------------------------------------------------- */

/* detach: the flusher's own session, nothing of the caller's open. */
static void detach(void)
{
  int fd = open("/dev/null", O_RDWR);
  setsid();
  if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); }
  close_range(3, ~0U, 0);
  signal(SIGPIPE, SIG_IGN);
}

void lspool_kick(void)
{
  stralloc p = {0};
  struct stat st;
  char uid[24];
  pid_t pid;
  int waits;
  if (!home_path(&p, "spool")) return;
  waits = stat(p.s, &st) == 0 && st.st_nlink != 2;  /* 2: no directory in it */
  if (waits) {
    snprintf(uid, sizeof uid, "/%lu", (unsigned long)geteuid());
    --p.len;
    waits = stralloc_cats(&p, uid) && stralloc_0(&p) && stat(p.s, &st) == 0;
  }
  stralloc_free(&p);
  if (!waits) return;
  pid = fork();
  if (pid == 0) {
    if (fork() == 0) {
      detach();
      lspool_flush(0, -1);
    }
    _exit(0);
  }
  if (pid > 0) while (waitpid(pid, 0, 0) < 0 && errno == EINTR) ;
}
