/* spoolcmd.c: -flush and -list over the leaf's spool (see spoolcmd.h and
 * q_lspool.h). Output is written with write(2) as it is made, so that the
 * children root starts never share a buffer with it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_date.h"
#include "q_err.h"
#include "q_home.h"
#include "q_lspool.h"
#include "q_sa.h"
#include "spoolcmd.h"

static void out(const stralloc *sa)
{
  (void)!write(1, sa->s, sa->len);
}

/* ---- listing one user's spool ---------------------------------------- */

/* cat_addr: " <addr>" with bytes outside printable ASCII escaped. */
static int cat_addr(stralloc *l, const char *a)
{
  return stralloc_cats(l, " <") && sa_catsafe(l, a, strlen(a)) && stralloc_cats(l, ">");
}

/* show: one message, as a block of lines. */
static int show(const struct lspool_msg *m)
{
  char date[DATE822_MAX];
  stralloc l = {0};
  size_t pos;
  int ok;
  date_fmt822(date, m->when, 1);
  ok = stralloc_cats(&l, "  ") && stralloc_cats(&l, m->name) && stralloc_cats(&l, "  kept ") &&
       stralloc_cats(&l, date) && stralloc_cats(&l, ", ") && sa_catnum(&l, m->len) &&
       stralloc_cats(&l, " bytes\n    from") && cat_addr(&l, m->env.s + 1) &&
       stralloc_cats(&l, "\n    to");
  for (pos = strlen(m->env.s) + 1; ok && m->env.s[pos]; pos += strlen(m->env.s + pos) + 1)
    ok = cat_addr(&l, m->env.s + pos + 1);
  ok = ok && stralloc_cats(&l, "\n    why: ") && sa_catsafe(&l, m->why.s, m->why.len) &&
       stralloc_cats(&l, "\n");
  if (ok) out(&l);
  stralloc_free(&l);
  return ok ? 0 : -1;
}

/* list_own: this user's spool; the number of messages, or -1. */
static long list_own(void)
{
  struct lspool_dir d;
  struct lspool_msg m;
  stralloc why = {0}, names = {0}, l = {0};
  unsigned long long bytes;
  size_t n = 0, i;
  const char *p;
  long res = 0;
  int r = lspool_open(&d, 0, &why);
  if (r < 0 && stralloc_0(&why)) err_print("warning", 0, "unable to list the spool: ", why.s, (const char *)0);
  if (r > 0 && (lspool_usage(&d, &n, &bytes) < 0 || lspool_names(&d, &names, &n, 0) < 0)) {
    err_print("warning", errno, "unable to list ", d.path.s, (const char *)0);
    r = -1;
  }
  if (r > 0 && n) {
    if (stralloc_copys(&l, d.path.s) && stralloc_cats(&l, ": ") && sa_catnum(&l, n) &&
        stralloc_cats(&l, n == 1 ? " message, " : " messages, ") && sa_catnum(&l, bytes) &&
        stralloc_cats(&l, " bytes\n")) out(&l);
    for (i = 0, p = names.s; i < n; ++i, p += strlen(p) + 1) {
      if (lspool_read(&d, p, &m) == 0) { if (show(&m) == 0) ++res; }
      else if (errno != ENOENT)
        err_print("warning", errno == EPROTO ? 0 : errno, d.path.s, "/", p,
                  errno == EPROTO ? ": not a spool file" : "", (const char *)0);
      lspool_msgfree(&m);
    }
  }
  lspool_close(&d);
  stralloc_free(&why);
  stralloc_free(&names);
  stralloc_free(&l);
  return r < 0 ? -1 : res;
}

/* ---- every user, as root ---------------------------------------------- */

/* as_user: run fn in a child as uid:gid (no other group); its exit code. */
static int as_user(uid_t uid, gid_t gid, int (*fn)(int), int arg)
{
  int st;
  pid_t pid = fork();
  if (pid < 0) return 111;
  if (pid == 0) {
    if (setgroups(0, 0) < 0 || setgid(gid) < 0 || setuid(uid) < 0) _exit(111);
    _exit(fn(arg));
  }
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 111;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 111;
}

/* uid_name: a name of digits only, as a uid. */
static int uid_name(const char *n, unsigned long *uid)
{
  unsigned long u = 0;
  size_t i;
  for (i = 0; n[i]; ++i) {
    if (n[i] < '0' || n[i] > '9' || i > 9) return 0;
    u = u * 10 + (unsigned long)(n[i] - '0');
  }
  *uid = u;
  return i > 0;
}

/* each_user: fn as the owner of every user directory in HOME/spool. The
 * worst exit code, or -1 when HOME/spool cannot be read; *ran counts the
 * children whose fn returned 1 (for listing: something was listed). */
static int each_user(int (*fn)(int), int arg, int *ran)
{
  stralloc top = {0};
  struct dirent *de;
  struct stat st;
  unsigned long uid;
  int fd, worst = 0, c, e;
  DIR *dir;
  if (!home_path(&top, "spool")) return -1;
  fd = open(top.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || !(dir = fdopendir(fd))) {
    e = errno;
    if (e != ENOENT) err_print("warning", e, "unable to read ", top.s, (const char *)0);
    if (fd >= 0) close(fd);
    stralloc_free(&top);
    return e == ENOENT ? 0 : -1;
  }
  while ((de = readdir(dir))) {
    if (!uid_name(de->d_name, &uid)) continue;
    if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != uid) {
      err_print("warning", 0, top.s, "/", de->d_name, " is not a directory owned by uid ",
                de->d_name, ": left alone", (const char *)0);
      continue;
    }
    c = as_user(st.st_uid, st.st_gid, fn, arg);
    if (c == 1) { ++*ran; c = 0; }
    if (c > worst) worst = c;
  }
  closedir(dir);
  stralloc_free(&top);
  return worst;
}

/* ---- the commands ---------------------------------------------------- */

static int flush_one(int vfd)
{
  return lspool_flush(1, vfd) < 0 ? 111 : 0;
}

int spoolcmd_flush(int vfd)
{
  int ran = 0, r;
  if (geteuid() != 0) return flush_one(vfd);
  r = each_user(flush_one, vfd, &ran);
  return r < 0 ? 111 : r;
}

static int list_one(int unused)
{
  long n = list_own();
  (void)unused;
  return n < 0 ? 111 : n > 0;
}

long spoolcmd_list(void)
{
  int ran = 0, r;
  if (geteuid() != 0) return list_own();
  r = each_user(list_one, 0, &ran);
  return r < 0 || r == 111 ? -1 : ran;
}
