/* qmail-passwd: set a password in the hub's users/passwd and rebuild
 * users/passwd.cdb (qmail-passwd(8); formats in pwfile.h).
 *   qmail-passwd [--stdin] LOGIN [UID GID HOME]   set LOGIN's password
 *   qmail-passwd -d LOGIN                         remove LOGIN
 *   qmail-passwd -c                               compile only (qmailctl cdb)
 * The password is read twice from the terminal with echo off, or once
 * (one line) from stdin with --stdin; never from the command line. Under
 * an exclusive lock on users/passwd.lock the new text is compiled first
 * (a bad line anywhere changes nothing), then users/passwd (0600) and
 * users/passwd.cdb (0640; as root group qmaild's, for qmail-smtpd's AUTH)
 * are each written to a temporary file, fsynced and renamed, and users/
 * is fsynced. Exit: 0 done; 100 usage, a bad argument, passwords that
 * differ, no such LOGIN for -d; 111 a system error or a bad users/passwd
 * (the line number is named). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "pwcheck.h"
#include "pwfile.h"

#define USAGE "usage: qmail-passwd [--stdin] LOGIN [UID GID HOME] | -d LOGIN | -c"

static stralloc ptext, ptmp, pcdb, pctmp, plock, pdir;  /* paths */
static stralloc text, out, line, hash, repl;  /* static: live until exit */
static char pass[2][PW_PASS_MAX + 2];
static int ttyfd = -1;
static struct termios saved;

/* ---- the password -------------------------------------------------- */

static void restore(int sig)
{
  tcsetattr(ttyfd, TCSAFLUSH, &saved);
  (void)!write(ttyfd, "\n", 1);
  _exit(sig == SIGINT ? 1 : 111);
}

/* getline_fd: one line from fd into b (NUL-terminated, no newline).
 * 1 ok, 0 too long or holding a NUL, -1 read error or end of input. */
static int getline_fd(int fd, char *b, size_t cap)
{
  size_t n = 0;
  int bad = 0;
  char c;
  for (;;) {
    ssize_t r = read(fd, &c, 1);
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) return -1;
    if (!r) { if (!n && !bad) return -1; break; }
    if (c == '\n') break;
    if (n >= cap - 1 || !c) bad = 1; else b[n++] = c;
  }
  b[n] = 0;
  return !bad;
}

static int ask(const char *prompt, char *b)
{
  (void)!write(ttyfd, prompt, strlen(prompt));
  return getline_fd(ttyfd, b, PW_PASS_MAX + 1);
}

/* from_tty: the password twice with echo off; pass[0] holds it. */
static void from_tty(void)
{
  struct termios t;
  struct sigaction sa;
  int r0, r1;
  ttyfd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (ttyfd == -1) fatal(100, "no terminal to read the password from (--stdin reads it from stdin)");
  if (tcgetattr(ttyfd, &saved) == -1) fatal_sys(111, "unable to read the terminal settings");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = restore;
  sigaction(SIGINT, &sa, 0); sigaction(SIGTERM, &sa, 0);
  sigaction(SIGHUP, &sa, 0); sigaction(SIGQUIT, &sa, 0);
  signal(SIGTSTP, SIG_IGN);
  t = saved;
  t.c_lflag &= ~(tcflag_t)ECHO;
  t.c_lflag |= ECHONL;
  if (tcsetattr(ttyfd, TCSAFLUSH, &t) == -1) fatal_sys(111, "unable to turn off echo");
  r0 = ask("New password: ", pass[0]);
  r1 = r0 == 1 ? ask("Retype new password: ", pass[1]) : 0;
  tcsetattr(ttyfd, TCSAFLUSH, &saved);
  close(ttyfd);
  if (r0 == -1 || r1 == -1) fatal(100, "no password given");
  if (!r0 || !r1) fatal(100, "password longer than 256 bytes or holding a NUL");
  if (strcmp(pass[0], pass[1])) { explicit_bzero(pass, sizeof pass); fatal(100, "the passwords differ"); }
}

static void get_password(int use_stdin)
{
  if (use_stdin) {
    int r = getline_fd(0, pass[0], PW_PASS_MAX + 1);
    if (r == -1) fatal(100, "no password on stdin");
    if (!r) fatal(100, "password longer than 256 bytes or holding a NUL");
  } else from_tty();
  if (!*pass[0]) fatal(100, "empty password");
  if (pw_hash(pass[0], &hash) != 1) fatal_sys(111, "unable to hash the password");
  explicit_bzero(pass, sizeof pass);
}

/* ---- the files ----------------------------------------------------- */

static void paths(void)
{
  if (!home_path(&ptext, "users/passwd") || !home_path(&ptmp, "users/passwd.tmp") ||
      !home_path(&pcdb, "users/passwd.cdb") || !home_path(&pctmp, "users/passwd.cdb.tmp") ||
      !home_path(&plock, "users/passwd.lock") || !home_path(&pdir, "users")) fatal_nomem();
}

static void lock(void)
{
  int fd = open(plock.s, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) fatal_sys(111, "unable to open ", plock.s);
  if (flock(fd, LOCK_EX) == -1) fatal_sys(111, "unable to lock ", plock.s);
}  /* held until exit */

/* read_text: users/passwd into text; a missing file is empty. */
static void read_text(void)
{
  char buf[8192];
  ssize_t r;
  int fd = open(ptext.s, O_RDONLY | O_CLOEXEC);
  if (!stralloc_copys(&text, "")) fatal_nomem();
  if (fd == -1 && errno == ENOENT) return;
  if (fd == -1) fatal_sys(111, "unable to open ", ptext.s);
  while ((r = read(fd, buf, sizeof buf))) {
    if (r == -1 && errno == EINTR) continue;
    if (r == -1) fatal_sys(111, "unable to read ", ptext.s);
    if (text.len + (size_t)r > PW_FILE_MAX) fatal(111, "unable to read ", ptext.s, ": file too big (#4.3.0)");
    if (!stralloc_catb(&text, buf, (size_t)r)) fatal_nomem();
  }
  close(fd);
}

/* create: a temporary file with exactly this mode (and, as root, group). */
static int create(const char *p, mode_t mode, gid_t gid)
{
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd == -1) fatal_sys(111, "unable to create ", p);
  if ((!geteuid() && fchown(fd, 0, gid) == -1) || fchmod(fd, mode) == -1) {
    unlink(p); fatal_sys(111, "unable to set the mode of ", p);
  }
  return fd;
}

/* finish: fsync, close and rename tmp over dst; unlink tmp on failure. */
static void finish(int fd, const char *tmp, const char *dst)
{
  if (fsync(fd) == -1 || close(fd) == -1) { unlink(tmp); fatal_sys(111, "unable to write ", tmp); }
  if (rename(tmp, dst) == -1) { unlink(tmp); fatal_sys(111, "unable to move ", tmp, " to ", dst); }
}

/* cdb_gid: as root, the group of qmaild (qmail-smtpd's AUTH reads the cdb
 * as qmaild); else root's group, and only root reads it. */
static gid_t cdb_gid(void)
{
  struct passwd *pw = geteuid() ? 0 : getpwnam(QUSER_DAEMON);
  return pw ? pw->pw_gid : 0;
}

/* compile: text into users/passwd.cdb.tmp; the open descriptor. */
static int compile(void)
{
  unsigned long ln;
  const char *why = "";
  char num[24];
  int fd = create(pctmp.s, 0640, cdb_gid()), r;
  r = pw_compile(text.s ? text.s : "", text.len, fd, &ln, &why);
  if (r == 1) return fd;
  if (r == -1) { r = errno; unlink(pctmp.s); errno = r; fatal_sys(111, "unable to write ", pctmp.s); }
  unlink(pctmp.s);
  snprintf(num, sizeof num, "%lu", ln);
  fatal(111, "unable to parse ", ptext.s, ": line ", num, ": ", why, " (#4.3.0)");
}

static void sync_dir(void)
{
  int fd = open(pdir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1 || fsync(fd) == -1) fatal_sys(111, "unable to sync ", pdir.s);
  close(fd);
}

/* ---- the edit ------------------------------------------------------ */

/* edit: out = text with LOGIN's line replaced by repl (dropped when repl
 * is NULL; with keep, what followed the old hash stays); repl is appended
 * when LOGIN has no line. 1 LOGIN was there. */
static int edit(const char *login, size_t len, const stralloc *repl, int keep)
{
  size_t pos = 0, ll;
  int found = 0;
  struct pw_line l;
  const char *why;
  if (!stralloc_copys(&out, "")) fatal_nomem();
  while (pos < text.len) {
    const char *s = text.s + pos, *nl = memchr(s, '\n', text.len - pos);
    ll = nl ? (size_t)(nl - s) : text.len - pos;
    pos += ll + 1;
    if (pw_parse_line(s, ll, &l, &why) == 1 && l.loginlen == len) {
      if (!stralloc_copyb(&line, s, len)) fatal_nomem();
      pw_lower(line.s, len);
      if (!memcmp(line.s, login, len)) {
        found = 1;
        if (repl && !stralloc_cat(&out, repl)) fatal_nomem();
        if (repl && keep && !stralloc_catb(&out, s + l.rest, ll - l.rest)) fatal_nomem();
        if (repl && !stralloc_append(&out, "\n")) fatal_nomem();
        continue;
      }
    }
    if (!stralloc_catb(&out, s, ll) || !stralloc_append(&out, "\n")) fatal_nomem();
  }
  if (!found && repl && (!stralloc_cat(&out, repl) || !stralloc_append(&out, "\n"))) fatal_nomem();
  return found;
}

/* new_line: repl = login:hash[:uid:gid:home], checked. */
static void new_line(stralloc *repl, const char *login, char **virt)
{
  struct pw_line l;
  const char *why;
  int i;
  if (!stralloc_copys(repl, login) || !stralloc_append(repl, ":") ||
      !stralloc_catb(repl, hash.s, hash.len - 1)) fatal_nomem();
  for (i = 0; virt && i < 3; ++i)
    if (!stralloc_append(repl, ":") || !stralloc_cats(repl, virt[i])) fatal_nomem();
  if (pw_parse_line(repl->s, repl->len, &l, &why) != 1) fatal(100, "bad UID GID HOME: ", why);
}

static void write_all(void)
{
  int cfd = compile(), tfd = create(ptmp.s, 0600, 0);
  size_t n = 0;
  ssize_t w;
  while (n < text.len) {
    w = write(tfd, text.s + n, text.len - n);
    if (w == -1 && errno == EINTR) continue;
    if (w == -1) { unlink(ptmp.s); unlink(pctmp.s); fatal_sys(111, "unable to write ", ptmp.s); }
    n += (size_t)w;
  }
  finish(tfd, ptmp.s, ptext.s);
  futimens(cfd, 0);   /* the cdb newer than its source (qmailctl, checkctl) */
  finish(cfd, pctmp.s, pcdb.s);
  sync_dir();
}

int main(int argc, char **argv)
{
  char lg[PW_LOGIN_MAX + 1];
  int use_stdin = 0, del = 0;
  size_t len;
  progname = "qmail-passwd";
  umask(077);
  if (argc == 2 && !strcmp(argv[1], "-c")) {
    paths(); lock(); read_text();
    finish(compile(), pctmp.s, pcdb.s);
    sync_dir();
    return 0;
  }
  if (argc > 1 && !strcmp(argv[1], "--stdin")) { use_stdin = 1; --argc; ++argv; }
  else if (argc > 1 && !strcmp(argv[1], "-d")) { del = 1; --argc; ++argv; }
  if ((argc != 2 && argc != 5) || (del && argc != 2) || argv[1][0] == '-') fatal(100, USAGE);
  len = strlen(argv[1]);
  if (!pw_login_ok(argv[1], len)) fatal(100, "bad LOGIN: 1 to 256 bytes, printable, no ':' or space");
  memcpy(lg, argv[1], len + 1);
  pw_lower(lg, len);
  paths();
  if (!del) { get_password(use_stdin); new_line(&repl, lg, argc == 5 ? argv + 2 : 0); }
  lock(); read_text();
  if (!edit(lg, len, del ? 0 : &repl, argc != 5) && del) fatal(100, "no such login in ", ptext.s);
  if (!stralloc_copy(&text, &out)) fatal_nomem();
  write_all();
  printf("%s: %s\n", lg, del ? "removed" : "password set");
  return 0;
}
