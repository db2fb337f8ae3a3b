/* qmail-checkpassword: the checkpassword interface over the hub's
 * users/passwd.cdb and, when control/checkpwshadow is 1, /etc/shadow
 * (qmail-checkpassword(8)).
 *   qmail-checkpassword prog [arg ...]
 * Reads login\0password\0[timestamp\0...] from descriptor 3 (at most 512
 * bytes, to end of file, within 60 seconds) and closes it. A good password:
 * becomes the account when run as root, sets USER, HOME and SHELL, changes
 * to the home directory and execs prog. Exit: 1 the login is refused (an
 * unknown login and a wrong password alike, in the same time and with
 * nothing printed); 2 misuse (no prog, descriptor 3 closed, over 512
 * bytes, a field without its NUL); 111 temporary (users/passwd.cdb missing
 * or unreadable, a control file unreadable or invalid, a failed uid
 * change). stdout is never written (qmail-popup's is the client); stderr
 * gets the reason for 2 and 111, never a login or a password. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "q_io.h"
#include "pwcheck.h"
#include "pwfile.h"

#define READ_SECONDS 60                    /* for descriptor 3's end of file */
#define VIRTUAL_SHELL "/usr/sbin/nologin"  /* SHELL of a virtual user */

struct account {
  int system;               /* uid, gid, home and shell from getpwnam */
  unsigned long uid, gid;
  const char *home, *shell;
};

static char req[PW_REQUEST_MAX + 1];
static char name[PW_LOGIN_MAX + 1];  /* the login, lower case */
static stralloc path, data;

/* read_request: descriptor 3 to end of file; the number of bytes. */
static size_t read_request(void)
{
  struct io_limits lim = { io_now_ms() + READ_SECONDS * 1000LL, READ_SECONDS * 1000 };
  size_t n = 0;
  ssize_t r;
  for (;;) {
    r = io_read(3, req + n, sizeof req - n, &lim);
    if (r == -1 && errno == EBADF) fatal(2, "descriptor 3 is not open");
    if (r == -1 && errno == ETIMEDOUT) fatal(2, "no end of file on descriptor 3 within 60 seconds");
    if (r == -1) fatal_sys(111, "unable to read descriptor 3");
    if (!r) break;
    n += (size_t)r;
    if (n > PW_REQUEST_MAX) fatal(2, "more than 512 bytes on descriptor 3");
  }
  close(3);
  return n;
}

/* shadow_on: control/checkpwshadow, 0 (or missing) or 1. With 1 the
 * shadow file must be readable now, for every login alike. */
static int shadow_on(void)
{
  unsigned long v = 0;
  int fd;
  if (control_readulong(&v, "checkpwshadow") == -1 || v > 1)
    fatal(111, "unable to read control/checkpwshadow: ",
          v > 1 ? "not 0 or 1" : control_strerror(errno), " (#4.3.0)");
  if (!v) return 0;
  fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
  if (fd == -1) fatal_sys(111, "control/checkpwshadow is 1 but /etc/shadow is unreadable (run as root)");
  close(fd);
  return 1;
}

/* from_cdb: the login's hash from users/passwd.cdb, or NULL. A missing
 * cdb is "no virtual users" only when shadow lookups are on. */
static const char *from_cdb(size_t len, int shadow, struct account *a)
{
  struct pw_user u;
  int fd, r;
  if (!home_path(&path, "users/passwd.cdb")) fatal_nomem();
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  if (fd == -1 && errno == ENOENT && shadow) return 0;
  if (fd == -1) fatal_sys(111, "unable to open ", path.s, " (#4.3.0)");
  r = pw_lookup(fd, name, len, &data, &u);
  if (r == -1) fatal_sys(111, "unable to read ", path.s, " (#4.3.0)");
  close(fd);
  if (!r) return 0;
  a->system = !u.virtual;
  a->uid = u.uid; a->gid = u.gid;
  a->home = u.home; a->shell = VIRTUAL_SHELL;
  return u.hash;
}

/* from_shadow: the login's hash from the shadow file, or NULL (no such
 * account, or one past its expiry date). */
static const char *from_shadow(struct account *a)
{
  struct spwd *sp;
  errno = 0;
  sp = getspnam(name);
  if (!sp && errno && errno != ENOENT && errno != ESRCH) fatal_sys(111, "unable to read the shadow file");
  if (!sp) return 0;
  a->system = 1;
  if (sp->sp_expire > 0 && time(0) / 86400 >= sp->sp_expire) return 0;
  return sp->sp_pwdp;
}

/* system_account: uid, gid, home and shell of a system login; a missing
 * account or root is a refusal (exit 1), as a wrong password. */
static void system_account(struct account *a)
{
  struct passwd *pw;
  errno = 0;
  pw = getpwnam(name);
  if (!pw && errno && errno != ENOENT && errno != ESRCH) fatal_sys(111, "unable to read the password database");
  if (!pw || !pw->pw_uid || !pw->pw_dir || pw->pw_dir[0] != '/') _exit(1);
  a->uid = pw->pw_uid; a->gid = pw->pw_gid;
  a->home = pw->pw_dir;
  a->shell = pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh";
}

/* become: as root, the account's groups, gid, uid and home directory.
 * Not root (qmail-smtpd as qmaild asking for AUTH), the ids stay; the
 * home is the working directory only for our own uid, else "/", so that
 * a program like qmail-pop3d finds no mailbox rather than a wrong one. */
static void become(const struct account *a)
{
  gid_t g = (gid_t)a->gid;
  if (geteuid()) {
    if (chdir(a->uid == getuid() ? a->home : "/") == -1) fatal_sys(111, "unable to switch to ", a->home);
    return;
  }
  if ((a->system ? initgroups(name, g) : setgroups(1, &g)) == -1) fatal_sys(111, "unable to set groups");
  if (setgid(g) == -1) fatal_sys(111, "unable to set gid");
  if (setuid((uid_t)a->uid) == -1) fatal_sys(111, "unable to set uid");
  if (getuid() != a->uid || geteuid() != a->uid || !getuid()) fatal(111, "uid change did not take");
  if (chdir(a->home) == -1) fatal_sys(111, "unable to switch to ", a->home);
}

int main(int argc, char **argv)
{
  struct account a = { 0, 0, 0, 0, 0 };
  const char *login, *pass, *stored = 0;
  size_t loginlen, passlen;
  int shadow, r;
  progname = "qmail-checkpassword";
  if (argc < 2) fatal(2, "usage: qmail-checkpassword prog [arg ...]");
  if (!pw_request(req, read_request(), &login, &loginlen, &pass, &passlen))
    fatal(2, "descriptor 3 lacks login\\0password\\0");
  shadow = shadow_on();
  if (pw_login_ok(login, loginlen)) {
    memcpy(name, login, loginlen);
    pw_lower(name, loginlen);
    stored = from_cdb(loginlen, shadow, &a);
    if (!stored && shadow) stored = from_shadow(&a);
  }
  if (!passlen || passlen > PW_PASS_MAX) stored = 0;
  r = pw_verify(pass, stored);   /* one hash, found or not */
  explicit_bzero(req, sizeof req);
  if (r == -1) fatal_sys(111, "unable to compute a password hash");
  if (!r) _exit(1);
  if (a.system) system_account(&a);
  become(&a);
  if (setenv("USER", name, 1) || setenv("HOME", a.home, 1) || setenv("SHELL", a.shell, 1)) fatal_nomem();
  execvp(argv[1], argv + 1);
  fatal_sys(111, "unable to run ", argv[1]);
}
