/* tests/unit/maildir.c: Maildir delivery (hub/local/maildir.h).
 * Checks: unique-name shape and host escaping, exact content with the
 * prefix and NUL bytes, one file in new/ and none left in tmp/ after a
 * success and after forced failures (new/ replaced by a plain file, which
 * fails even as root; a maildir that does not exist; new/ of mode 0500,
 * checked as an ordinary user: as nobody when the test runs as root,
 * asnobody.h). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "asnobody.h"
#include "maildir.h"

static char base[] = "/tmp/maildirtestXXXXXX";
static int msg_in;  /* the message for unwritable(), in the child */

static int count(const char *dir, char *first, size_t cap)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      if (!n && first) { strncpy(first, e->d_name, cap - 1); first[cap - 1] = 0; }
      ++n;
    }
  closedir(d);
  return n;
}

static void mk(const char *md)
{
  char p[512];
  mkdir(md, 0700);
  snprintf(p, sizeof p, "%s/tmp", md); mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/new", md); mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/cur", md); mkdir(p, 0700);
}

static int msgfd(const char *data, size_t len)
{
  char p[512];
  int fd;
  snprintf(p, sizeof p, "%s/msg", base);
  fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len) exit(2);
  lseek(fd, 5, SEEK_SET);  /* delivery must rewind to offset 0 */
  return fd;
}

static void test_names(void)
{
  stralloc sa = {0};
  ok(maildir_uniq(&sa, 1700000000, 123456, 4242, 3, "00ff", "mx.example.org"), "uniq");
  is_sa(sa, "1700000000.M123456P4242Q3R00ff.mx.example.org", "name shape");
  ok(maildir_uniq(&sa, 1, 0, 1, 1, "a", "h/o:st"), "uniq escape");
  is_sa(sa, "1.M0P1Q1Ra.h\\057o\\072st", "/ and : escaped");
  stralloc_free(&sa);
}

static void test_deliver(void)
{
  char md[512], p[1200], first[512], got[256];
  static const char msg[] = "Subject: x\n\nbody\0with NUL\n";
  static const char pre[] = "Return-Path: <a@b>\nDelivered-To: c@d\n";
  stralloc name = {0};
  const char *why = 0;
  int fd, in, n;
  snprintf(md, sizeof md, "%s/Maildir", base);
  mk(md);
  in = msgfd(msg, sizeof msg - 1);
  is_int(maildir_deliver(md, in, pre, sizeof pre - 1, &name, &why), 0, "delivered");
  snprintf(p, sizeof p, "%s/new", md);
  is_int(count(p, first, sizeof first), 1, "one file in new/");
  ok(name.len && !strcmp(name.s, first), "reported name is the file's");
  ok(strchr(first, ':') == 0 && first[0] != '.', "no colon, no leading dot");
  snprintf(p, sizeof p, "%s/tmp", md);
  is_int(count(p, 0, 0), 0, "tmp/ empty after success");
  snprintf(p, sizeof p, "%s/new/%s", md, first);
  fd = open(p, O_RDONLY);
  n = (int)read(fd, got, sizeof got);
  close(fd);
  ok(n == (int)(sizeof pre - 1 + sizeof msg - 1) && !memcmp(got, pre, sizeof pre - 1) &&
     !memcmp(got + sizeof pre - 1, msg, sizeof msg - 1), "content exact, NUL kept");
  stralloc_free(&name);
  close(in);
}

/* own: give the maildir md to nobody when we are root (asnobody.h) */
static void own(const char *md)
{
  static const char *sub[] = { "", "/tmp", "/new", "/cur", 0 };
  char p[600];
  int i;
  if (geteuid() != 0) return;
  for (i = 0; sub[i]; ++i) {
    snprintf(p, sizeof p, "%s%s", md, sub[i]);
    if (chown(p, NOBODY_ID, NOBODY_ID) < 0) { perror(p); exit(2); }
  }
}

/* unwritable: run as an ordinary user (root writes into a 0500 new/):
 * delivery into Rw works, so the maildirs are reachable and tmp/ writable;
 * Ro, whose new/ is 0500, fails and leaves tmp/ empty */
static void unwritable(void)
{
  char md[512], p[600];
  const char *why = 0;
  snprintf(md, sizeof md, "%s/Rw", base);
  is_int(maildir_deliver(md, msg_in, "", 0, 0, &why), 0, "as an ordinary user: a writable maildir works");
  snprintf(md, sizeof md, "%s/Ro", base);
  is_int(maildir_deliver(md, msg_in, "", 0, 0, &why), -1, "unwritable new/: failure");
  snprintf(p, sizeof p, "%s/tmp", md);
  is_int(count(p, 0, 0), 0, "tmp/ empty after unwritable new/");
}

static void test_fail(void)
{
  char md[512], p[600];
  const char *why = 0;
  int in = msgfd("x\n", 2);
  snprintf(md, sizeof md, "%s/Broken", base);
  mk(md);
  snprintf(p, sizeof p, "%s/new", md);
  rmdir(p);
  close(open(p, O_WRONLY | O_CREAT, 0600));  /* new is a file: link fails, even as root */
  is_int(maildir_deliver(md, in, "", 0, 0, &why), -1, "new/ not a directory: failure");
  ok(why && !strncmp(why, "unable to", 9), "reason given");
  snprintf(p, sizeof p, "%s/tmp", md);
  is_int(count(p, 0, 0), 0, "tmp/ empty after failure");
  snprintf(md, sizeof md, "%s/Missing", base);
  is_int(maildir_deliver(md, in, "", 0, 0, &why), -1, "missing maildir: failure");
  snprintf(md, sizeof md, "%s/Rw", base);
  mk(md);
  own(md);
  snprintf(md, sizeof md, "%s/Ro", base);
  mk(md);
  own(md);
  snprintf(p, sizeof p, "%s/new", md);
  chmod(p, 0500);
  msg_in = in;
  tap_as_nobody(unwritable, 3);
  close(in);
}

int main(void)
{
  if (!mkdtemp(base) || chmod(base, 0711) < 0) return 2;
  test_names();
  test_deliver();
  test_fail();
  { char c[600]; snprintf(c, sizeof c, "chmod -R u+w %s; rm -rf %s", base, base); if (system(c)) return 2; }
  return done_testing();
}
