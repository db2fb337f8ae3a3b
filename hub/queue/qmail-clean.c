/* qmail-clean: remove queue files on qmail-send's behalf (docs/protocols.md;
 * hub/queue/QUEUE.md section 2). Started by qmail-start as qmailq (the owner of
 * pid/ mess/ intd/ todo/), or as the single user; works in HOME/queue.
 * Requests on fd 0, each ended by a NUL byte (syntax: hub/queue/cleanreq.h):
 *   T<S/N>  unlink intd/S/N, then todo/S/N (after preprocessing)
 *   M<S/N>  unlink intd/S/N, then mess/S/N (message done, or garbage)
 * One answer byte per request on fd 1: '+' done (ENOENT counts as done),
 * '!' not done (bad request, or an unlink failed; the file is kept).
 * At start and then once a day, files in pid/ older than 36 hours
 * (QUEUE_STALE: qmail-queue's own are younger) are removed.
 * Exit: 0 at end of input, 111 on a failure to read, answer or chdir. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "cleanreq.h"

#define CLEAN_EVERY 86400

/* cleanpid: unlink pid/ entries (not directories) older than QUEUE_STALE. */
static void cleanpid(void)
{
  DIR *d = opendir(QDIR_PID);
  struct dirent *e;
  time_t now = time(0);
  char path[sizeof QDIR_PID + 256 + 1];
  struct stat st;
  if (!d) { warn_sys("unable to open ", QDIR_PID, "/"); return; }
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (strlen(e->d_name) > 255) continue;
    strcpy(path, QDIR_PID "/");
    strcat(path, e->d_name);
    if (lstat(path, &st) == -1) continue;
    if (S_ISDIR(st.st_mode)) continue;
    if (st.st_mtime > now - QUEUE_STALE) continue;
    if (unlink(path) == -1 && errno != ENOENT) warn_sys("unable to unlink ", path);
  }
  closedir(d);
}

/* gone: unlink dir/name; 1 if it no longer exists. */
static int gone(const char *dir, const char *name, size_t len)
{
  char path[16 + CLEANREQ_MAX];
  size_t dl = strlen(dir);
  memcpy(path, dir, dl);
  path[dl] = '/';
  memcpy(path + dl + 1, name, len);
  path[dl + 1 + len] = 0;
  if (unlink(path) == 0 || errno == ENOENT) return 1;
  warn_sys("unable to unlink ", path);
  return 0;
}

/* handle: act on one request (without its NUL); the answer byte. */
static char handle(const char *req, size_t len)
{
  int kind = cleanreq_parse(req, len);
  if (!kind) return '!';
  if (!gone(QDIR_INTD, req + 1, len - 1)) return '!';
  if (!gone(kind == 'T' ? QDIR_TODO : QDIR_MESS, req + 1, len - 1)) return '!';
  return '+';
}

int main(int argc, char **argv)
{
  stralloc q = {0};
  char buf[1024], req[CLEANREQ_MAX + 1];
  size_t rl = 0;
  int toolong = 0;
  time_t next;
  (void)argc; (void)argv;
  progname = "qmail-clean";
  signal(SIGPIPE, SIG_IGN);
  if (!home_path(&q, QUEUE_DIR)) fatal_nomem();
  if (chdir(q.s) == -1) fatal_sys(111, "unable to switch to ", q.s);
  stralloc_free(&q);
  cleanpid();
  next = time(0) + CLEAN_EVERY;
  for (;;) {
    struct pollfd pfd = { 0, POLLIN, 0 };
    time_t now = time(0);
    ssize_t r, i;
    int t;
    if (now >= next) { cleanpid(); next = now + CLEAN_EVERY; continue; }
    t = (int)(next - now) * 1000;
    t = poll(&pfd, 1, t);
    if (t == -1) { if (errno == EINTR) continue; fatal_sys(111, "unable to poll input"); }
    if (t == 0) continue;
    r = read(0, buf, sizeof buf);
    if (r == -1) { if (errno == EINTR || errno == EAGAIN) continue; fatal_sys(111, "unable to read requests"); }
    if (r == 0) return 0; /* a request cut short at EOF is dropped */
    for (i = 0; i < r; ++i) {
      char a;
      if (buf[i]) {
        if (rl < sizeof req) req[rl++] = buf[i]; else toolong = 1;
        continue;
      }
      a = toolong ? '!' : handle(req, rl);
      rl = 0; toolong = 0;
      for (;;) {
        ssize_t w = write(1, &a, 1);
        if (w == 1) break;
        if (w == -1 && errno == EINTR) continue;
        fatal_sys(111, "unable to write answer");
      }
    }
  }
}
