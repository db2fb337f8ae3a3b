/* tests/unit/mboxappend.c: the unfinished-append record on an mbox
 * (hub/local/mboxappend.h): an entry cut short is taken back, a finished one is
 * kept, a file changed since (other data at start, grown beyond end) is
 * never cut; the record goes away in every case. A file with two links or
 * one that is not regular is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "tap.h"
#include "mboxappend.h"

static char path[256];
static const char from[] = "From a@b Mon Jan  1 00:00:00 2024\n";

static off_t size(void)
{
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : -1;
}

/* setup: a file of "old\n\n" plus what, appended through a write-only
 * O_APPEND descriptor that is returned, with the record (5, 5 + total). */
static int setup(const char *what, off_t total)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  if (write(fd, "old\n\n", 5) != 5) return -1;
  mboxappend_mark(fd, 5, 5 + total, from, sizeof from - 1);
  if (write(fd, what, strlen(what)) != (ssize_t)strlen(what)) return -1;
  return fd;
}

static int has_record(int fd)
{
  char b[8];
  return fgetxattr(fd, MBOXAPPEND_XATTR, b, sizeof b) != -1 || errno == ERANGE;
}

int main(void)
{
  int fd;
  char *d = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/mboxappend.%d", d ? d : "/tmp", (int)getpid());
  fd = setup("From a@b Mon Jan  1 00:00:00 2024\nhalf", 100);
  if (!has_record(fd) && errno == ENOTSUP) {
    printf("1..0 # skip no user extended attributes here\n");
    unlink(path);
    return 0;
  }
  is_int(mboxappend_recover(fd), 1, "cut short: taken back");
  is_int((int)size(), 5, "cut short: back to the old size");
  ok(!has_record(fd), "cut short: record gone");
  close(fd);

  fd = setup("From a@b Mon Jan  1 00:00:00 2024\nwhole\n\n", 41);
  is_int(mboxappend_recover(fd), 1, "written but not confirmed (size == end): taken back too");
  close(fd);

  fd = setup("From x@y Mon Jan  1 00:00:00 2024\nother\n\n", 100);
  is_int(mboxappend_recover(fd), 0, "another entry at start: nothing cut");
  is_int((int)size(), 5 + 41, "another entry at start: size kept");
  ok(!has_record(fd), "another entry at start: record gone");
  close(fd);

  fd = setup("From a@b Mon Jan  1 00:00:00 2024\nhalf", 10);
  is_int(mboxappend_recover(fd), 0, "grown beyond end (someone appended): nothing cut");
  close(fd);

  fd = open(path, O_WRONLY | O_APPEND);
  is_int(mboxappend_recover(fd), 0, "no record: nothing to do");
  mboxappend_mark(fd, 1, 2, from, sizeof from - 1);
  is_int(mboxappend_done(fd), 0, "done removes the record");
  ok(!has_record(fd), "done: record gone");
  is_int(mboxappend_done(fd), 0, "done without a record: ok");
  close(fd);

  {
    char other[300];
    off_t before;
    snprintf(other, sizeof other, "%s.link", path);
    fd = setup("From a@b Mon Jan  1 00:00:00 2024\nhalf", 100);
    before = size();
    ok(link(path, other) == 0, "a second link to the mbox");
    errno = 0;
    is_int(mboxappend_recover(fd), -1, "two links: refused");
    is_int(errno, EINVAL, "two links: EINVAL");
    is_int((int)size(), (int)before, "two links: nothing cut");
    unlink(other);
    close(fd);
  }
  fd = open(".", O_RDONLY | O_DIRECTORY);
  is_int(mboxappend_recover(fd), -1, "not a regular file: refused");
  close(fd);
  unlink(path);
  return done_testing();
}
