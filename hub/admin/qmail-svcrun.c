/* qmail-svcrun: run a service's program from a clean slate.
 *
 *   qmail-svcrun DIR|- [NAME=VALUE ...] PROGRAM [ARG ...]
 *
 * Every service run script ends in this, so that nothing of the caller's
 * environment (an exported RELAYCLIENT, DATABYTES, QMAILQUEUE ...) and no
 * inherited descriptor above 2 reaches a daemon: the environment is
 * emptied, PATH set to a fixed default, the variables of the env
 * directory DIR added (daemontools envdir rules: a file's first line is
 * the value, an empty file unsets the name; "-" for none), then the
 * NAME=VALUE arguments; descriptors from 3 up are closed; PROGRAM is
 * executed (searched in the new PATH). A DIR that cannot be read, a bad
 * variable name or an over-long value fails closed: exit 111, a line on
 * stderr. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define VALUE_MAX 4096

static void die(const char *what, const char *name, const char *why)
{
  fprintf(stderr, "qmail-svcrun: fatal: %s%s%s: %s\n", what, name ? " " : "",
          name ? name : "", why);
  exit(111);
}

static int goodname(const char *s)
{
  if (!*s || (*s >= '0' && *s <= '9')) return 0;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
          (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

/* envfile: the variable NAME from DIR/NAME (envdir rules) */
static void envfile(int dirfd, const char *name)
{
  char buf[VALUE_MAX + 1];
  ssize_t n;
  size_t i, len;
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1) die("cannot open env file", name, strerror(errno));
  n = read(fd, buf, sizeof buf);
  if (n < 0) die("cannot read env file", name, strerror(errno));
  close(fd);
  if (n == 0) { unsetenv(name); return; }
  for (len = 0; len < (size_t)n && buf[len] != '\n'; len++) {}
  if (len > VALUE_MAX) die("value too long in env file", name, "over 4096 bytes");
  while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t')) len--;
  for (i = 0; i < len; i++) if (buf[i] == 0) buf[i] = '\n';
  buf[len] = 0;
  if (setenv(name, buf, 1) == -1) die("cannot set", name, strerror(errno));
}

static void envdir(const char *dir)
{
  DIR *d;
  struct dirent *e;
  if (!strcmp(dir, "-")) return;
  if (!(d = opendir(dir))) die("cannot open env directory", dir, strerror(errno));
  while ((errno = 0, e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (!goodname(e->d_name)) die("bad variable name in", dir, e->d_name);
    envfile(dirfd(d), e->d_name);
  }
  if (errno) die("cannot read env directory", dir, strerror(errno));
  closedir(d);
}

static void closefds(void)
{
  int fd;
  if (close_range(3, ~0U, 0) == 0) return;
  for (fd = 3; fd < 65536; fd++) close(fd);
}

int main(int argc, char **argv)
{
  int i;
  if (argc < 3) {
    fprintf(stderr, "usage: qmail-svcrun DIR|- [NAME=VALUE ...] PROGRAM [ARG ...]\n");
    return 100;
  }
  if (clearenv() != 0) die("cannot clear the environment", 0, "clearenv");
  if (setenv("PATH", DEFAULT_PATH, 1) == -1) die("cannot set", "PATH", strerror(errno));
  envdir(argv[1]);
  for (i = 2; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) break;
    *eq = 0;
    if (!goodname(argv[i])) die("bad variable name", argv[i], "in NAME=VALUE");
    if (setenv(argv[i], eq + 1, 1) == -1) die("cannot set", argv[i], strerror(errno));
  }
  if (i >= argc) die("no program to run", 0, "usage: qmail-svcrun DIR|- [NAME=VALUE ...] PROGRAM [ARG ...]");
  closefds();
  execvp(argv[i], argv + i);
  die("cannot run", argv[i], strerror(errno));
  return 111;
}
