/* maildirmake.c: create an empty Maildir.
 *
 *   maildirmake dir
 *
 * Makes dir, then dir/tmp, dir/new, dir/cur, each with mkdir mode 0700
 * (the umask can only take bits away). Layout: maildir(5).
 * An existing dir is an error, as in qmail: maildirmake never adopts or
 * repairs a directory someone else made. A failure part way leaves what was
 * made so far in place (nothing is removed).
 * Exit codes: 0 made; 100 usage; 111 any failure (including dir exists). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_err.h"

/* die_mkdir: report a failed mkdir of dir (sub NULL) or dir/sub. */
static void die_mkdir(const char *dir, const char *sub)
{
  fatal(111, "unable to mkdir ", dir, sub ? "/" : "", sub ? sub : "", ": ",
        strerror(errno), " (#4.3.0)");
}

int main(int argc, char **argv)
{
  static const char *const subs[] = { "tmp", "new", "cur" };
  const char *dir;
  size_t i;
  int fd;
  progname = "maildirmake";
  if (argc != 2 || !argv[1][0]) fatal(100, "usage: maildirmake dir (#5.3.5)");
  dir = argv[1];
  if (mkdir(dir, 0700) < 0) die_mkdir(dir, NULL);
  /* work relative to the new directory so a rename of a parent cannot
   * redirect the subdirectories elsewhere */
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fatal(111, "unable to open ", dir, ": ", strerror(errno), " (#4.3.0)");
  for (i = 0; i < sizeof subs / sizeof subs[0]; ++i) {
    if (mkdirat(fd, subs[i], 0700) < 0) die_mkdir(dir, subs[i]);
  }
  close(fd);
  return 0;
}
