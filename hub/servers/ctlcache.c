/* ctlcache.c: the fork server's copy of the control files (see
 * ctlcache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_home.h"
#include "ctlcache.h"
#include "srvfork.h"

#define CTLCACHE_FILES 64
#define WATCH (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | \
               IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

struct entry {
  const char *name;
  int kept;       /* 0: not kept (the child reads the file) */
  int r, err;     /* control_readfile's answer and errno */
  stralloc data;
};

static struct entry files[CTLCACHE_FILES];
static size_t nfiles;
static stralloc home;   /* the home the copy was read from */
static int ifd = -1, loading, forkhook;

/* answer: control_source for the child (and the listener) */
static int answer(stralloc *sa, const char *name)
{
  size_t i;
  if (loading || !home.s || strcmp(home_dir(), home.s)) return 2;
  for (i = 0; i < nfiles; ++i) {
    if (strcmp(files[i].name, name)) continue;
    if (!files[i].kept) return 2;
    if (files[i].r < 0) { errno = files[i].err; return -1; }
    if (files[i].r > 0 && !stralloc_copy(sa, &files[i].data)) { errno = ENOMEM; return -1; }
    return files[i].r;
  }
  return 2;
}

/* single: control/name is no symbolic link and has one link (or none) */
static int single(const char *name)
{
  stralloc p = {0};
  struct stat st;
  int r;
  if (!control_path(&p, name)) return 0;
  r = lstat(p.s, &st);
  stralloc_free(&p);
  if (r < 0) return errno == ENOENT;
  return S_ISREG(st.st_mode) ? st.st_nlink == 1 : !S_ISLNK(st.st_mode);
}

/* readall: every listed file, as the child would read it */
static void readall(void)
{
  size_t i;
  loading = 1;
  for (i = 0; i < nfiles; ++i) {
    struct entry *e = &files[i];
    e->kept = 0;
    if (!single(e->name)) continue;
    e->r = control_readfile(&e->data, e->name);
    e->err = errno;
    if (e->r < 0 && e->err == ENOMEM) continue;
    e->kept = single(e->name);   /* made a link while we read: not kept */
  }
  loading = 0;
}

static void drop_all(void)
{
  size_t i;
  for (i = 0; i < nfiles; ++i) files[i].kept = 0;
}

/* in_child: the inotify descriptor is the listener's alone */
static void in_child(void)
{
  if (ifd >= 0) close(ifd);
  ifd = -1;
}

/* watch: start watching control/; 0 ok, -1 no copy this time */
static int watch(void)
{
  stralloc p = {0};
  int ok;
  if (!forkhook) { if (srvfork_atchild(in_child)) return -1; forkhook = 1; }
  ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) return -1;
  ok = stralloc_copys(&p, home_dir()) && stralloc_cats(&p, "/control") && stralloc_0(&p) &&
       stralloc_copys(&home, home_dir()) && stralloc_0(&home) &&
       inotify_add_watch(ifd, p.s, WATCH | IN_ONLYDIR) >= 0;
  stralloc_free(&p);
  if (!ok) { in_child(); return -1; }
  return 0;
}

/* changed: 1 when control/ saw an event (the events drained), 0 not, -1
 * the watch is gone (the directory removed or moved) or failed */
static int changed(void)
{
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  int any = 0;
  for (;;) {
    ssize_t n = read(ifd, buf, sizeof buf);
    size_t off = 0;
    if (n < 0) return errno == EAGAIN ? any : errno == EINTR ? any : -1;
    if (n == 0) return -1;
    while (off + sizeof(struct inotify_event) <= (size_t)n) {
      const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
      if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) return -1;
      off += sizeof *ev + ev->len;
    }
    any = 1;
  }
}

void ctlcache_load(const char *const *names)
{
  if (!nfiles) {   /* the first call */
    while (names[nfiles] && nfiles < CTLCACHE_FILES) { files[nfiles].name = names[nfiles]; ++nfiles; }
    tzset();
    control_source(answer);
  }
  if (ifd < 0) {
    if (watch() < 0) { drop_all(); return; }
    readall();
    return;
  }
  switch (changed()) {
    case 0: return;
    case 1: readall(); return;
    default: in_child(); drop_all();   /* a new watch at the next connection */
  }
}
