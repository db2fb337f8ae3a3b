/* local.c: qmail-local's delivery of one message to one local address,
 * following the address's .qmail file, as a module (local.h): run by
 * bin/qmail-local's main and, in-process, by qmail-lspawn's delivery
 * child after it has become the recipient (dot-qmail(5); exit codes:
 * docs/protocols.md, the spawn protocol; docs/bad-input.md R16, F3).
 *   qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery
 * The message is on fd 0 and must be seekable (qmail-lspawn gives a file).
 * Instructions: |program (sh -c in the home, in its own process group,
 * with qmail's environment only and no descriptor above 2, killed with its
 * group after control/timeoutprogram seconds: see prog_wait), &address
 * or bare address (collected, one copy queued at the end with sender
 * $NEWSENDER: the sender, or the list owner's address when a
 * .qmail-ext-owner file exists, see dotqmail.h), /path or ./path mbox
 * (mboxrd, only a regular file of ours with one link and never through a
 * symlink, flock with a 30 s timeout, truncated back on error, and after a
 * crash by the next delivery: hub/local/mboxappend.h), path ending in / Maildir
 * (hub/maildir; the default delivery creates a missing one).
 * For the alias user, an alias of the aliases cdb (before -default
 * files), and for a user with no .qmail at all, ~/.forward, are turned
 * into such lines first (fwdfile.h, aliasdb.h, docs/aliases.md).
 * The environment is rebuilt at start: qmail-local's own settings
 * (QMAILHOME, QMAILQUEUE) are kept, PATH is fixed, nothing else of the
 * caller's survives; set_env adds qmail's variables for programs.
 * Exit: 0 delivered, 100 permanent (text on stderr), 111 temporary (text on
 * stderr). -n prints the instructions instead of delivering. Never runs as
 * root. Caps: .qmail file 1 MB, header fields as q_limits, hops LIM_HOPS.
 * Paths in messages are absolute (the home joined to a relative path).
 * State: file-scope statics, used once: one delivery per process (the
 * program, or one qmail-lspawn child per delivery). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "buffer.h"
#include "stralloc.h"
#include "aliasdb.h"
#include "dotqmail.h"
#include "fwdfile.h"
#include "local.h"
#include "maildir.h"
#include "mboxappend.h"
#include "q_control.h"
#include "q_addr.h"
#include "q_err.h"
#include "q_header.h"
#include "q_home.h"
#include "q_limits.h"
#include "q_mbox.h"
#include "q_qq.h"
#include "q_qqstatus.h"

#define DOTQMAIL_MAX (1024 * 1024)
#define LOCK_TIMEOUT 30
#define TIMEOUT_PROGRAM 3600     /* control/timeoutprogram's default, seconds */
#define TIMEOUT_PROGRAM_MAX 604800
#define PROGRAM_GRACE 5          /* seconds a program's output may stay open after it exits */
#define PATH_DEFAULT "/usr/local/bin:/usr/bin:/bin"  /* after HOME/bin */

static const char *a_user, *a_home, *a_local, *a_dash, *a_ext, *a_domain, *a_sender, *a_default;
static stralloc dtline, rpline, ufline, recipient, forwards;
static size_t nforwards;
static int listonly, execonly;
static int ndeliv, nprog, nfwd;
static int fromdefault;          /* the instructions are defaultdelivery */
static unsigned long nprograms;  /* program lines to run */
static unsigned long timeoutprogram = TIMEOUT_PROGRAM;

/* say: the human text for the report, on fd 2, then exit. */
static void say_exit(int code, const char *a, const char *b, const char *c) __attribute__((noreturn));
static void say_exit(int code, const char *a, const char *b, const char *c)
{
  stralloc s = {0};
  if (stralloc_copys(&s, a) && stralloc_cats(&s, b ? b : "") &&
      stralloc_cats(&s, c ? c : "") && stralloc_cats(&s, "\n"))
    if (write(2, s.s, s.len) < 0) {}
  _exit(code);
}
static void nomem(void) __attribute__((noreturn));
static void nomem(void) { say_exit(111, "Out of memory. (#4.3.0)", 0, 0); }
static void temp_sys(const char *what, const char *obj) __attribute__((noreturn));
static void temp_sys(const char *what, const char *obj)
{
  stralloc s = {0};
  const char *e = strerror(errno);
  if (!stralloc_copys(&s, what) || !stralloc_cats(&s, obj ? obj : "") ||
      !stralloc_cats(&s, ": ") || !stralloc_cats(&s, e) || !stralloc_0(&s)) nomem();
  say_exit(111, "Unable to ", s.s, ". (#4.3.0)");
}

/* abspath: out = path as an absolute name for messages (the home joined
 * to a relative path, its leading "./" dropped), NUL-terminated. */
static const char *abspath(stralloc *out, const char *path)
{
  int e = errno;  /* kept for the message being built */
  if (*path == '/') { if (!stralloc_copys(out, path)) nomem(); }
  else {
    if (path[0] == '.' && path[1] == '/') path += 2;
    if (!stralloc_copys(out, a_home) ||
        (out->len && out->s[out->len - 1] != '/' && !stralloc_cats(out, "/")) ||
        !stralloc_cats(out, path)) nomem();
  }
  if (!stralloc_0(out)) nomem();
  errno = e;
  return out->s;
}

/* ---- the envelope lines and the environment ---- */

/* catclean: append s with every control character (q_addr.h
 * addr_env_byte: a byte below 32 or DEL) as '?', so no raw control byte
 * ever reaches a header line, the environment or a forward's envelope. */
static int catclean(stralloc *sa, const char *s)
{
  for (; *s; ++s) {
    char c = addr_env_byte((unsigned char)*s) ? *s : '?';
    if (!stralloc_append(sa, &c)) return 0;
  }
  return 1;
}

/* clean_envelope: the network entrances and qmail-queue refuse control
 * characters in addresses, but an older queue file may still hold one.
 * Such a sender is used with each control byte as '?' (Return-Path,
 * $SENDER, $NEWSENDER, a forward's sender); such a recipient cannot be
 * a mailbox here: a permanent failure. */
static void clean_envelope(void)
{
  static stralloc sender;
  const char *s;
  for (s = a_local; *s; ++s)
    if (!addr_env_byte((unsigned char)*s)) goto bad;
  for (s = a_domain; *s; ++s)
    if (!addr_env_byte((unsigned char)*s)) goto bad;
  if (!stralloc_copys(&sender, "") || !catclean(&sender, a_sender) || !stralloc_0(&sender)) nomem();
  a_sender = sender.s;
  return;
bad:
  say_exit(100, "Sorry, the recipient address holds a control character. (#5.1.3)", 0, 0);
}

static void make_lines(void)
{
  stralloc from = {0};
  time_t now = time(0);
  clean_envelope();
  if (!stralloc_copys(&recipient, a_local) || !stralloc_cats(&recipient, "@") ||
      !stralloc_cats(&recipient, a_domain) || !stralloc_0(&recipient)) nomem();
  if (!stralloc_copys(&dtline, "Delivered-To: ") || !catclean(&dtline, recipient.s) ||
      !stralloc_cats(&dtline, "\n") || !stralloc_0(&dtline)) nomem();
  if (!stralloc_copys(&rpline, "Return-Path: <") || !catclean(&rpline, a_sender) ||
      !stralloc_cats(&rpline, ">\n") || !stralloc_0(&rpline)) nomem();
  if (!mbox_fromline(&from, a_sender, strlen(a_sender), now)) nomem();
  if (!stralloc_copy(&ufline, &from) || !stralloc_0(&ufline)) nomem();
  stralloc_free(&from);
}

static void env1(const char *name, const char *value)
{
  if (setenv(name, value, 1) < 0) nomem();
}

/* host_n: HOST2..4: the domain before its last n-1 dots. */
static void env_hosts(void)
{
  char name[6] = "HOST2";
  char *h = strdup(a_domain), *dot;
  int n;
  if (!h) nomem();
  for (n = 2; n <= 4; ++n) {
    if ((dot = strrchr(h, '.'))) *dot = 0;
    name[4] = (char)('0' + n);
    env1(name, h);
  }
  free(h);
}

/* env_exts: EXT2..4: EXT after its first, second, third dash. */
static void env_exts(void)
{
  char name[5] = "EXT2";
  const char *e = a_ext;
  int n;
  for (n = 2; n <= 4; ++n) {
    const char *d = strchr(e, '-');
    e = d ? d + 1 : "";
    name[3] = (char)('0' + n);
    env1(name, e);
  }
}

/* exists: 1 the file is there, 0 not; trouble finding out is temporary. */
static int exists(const char *name)
{
  struct stat st;
  if (stat(name, &st) == 0) return 1;
  if (errno != ENOENT && errno != ENOTDIR) temp_sys("stat ", name);
  return 0;
}

/* newsender: $NEWSENDER, the -owner rule (dotqmail.h). */
static void newsender(stralloc *out)
{
  stralloc name = {0};
  int owner = DQ_OWNER_NONE;
  if (*a_sender && strcmp(a_sender, "#@[]")) {
    if (dotqmail_name(&name, a_dash, a_ext, "-owner") < 0) nomem();
    if (exists(name.s)) {
      owner = DQ_OWNER_PLAIN;
      if (dotqmail_name(&name, a_dash, a_ext, "-owner-default") < 0) nomem();
      if (exists(name.s)) owner = DQ_OWNER_VERP;
    }
  }
  if (dotqmail_newsender(out, a_sender, a_local, a_domain, owner) < 0) nomem();
  stralloc_free(&name);
}

static void set_env(void)
{
  static stralloc ns;
  newsender(&ns);
  env1("SENDER", a_sender);
  env1("NEWSENDER", ns.s);
  env1("RECIPIENT", recipient.s);
  env1("USER", a_user);
  env1("HOME", a_home);
  env1("HOST", a_domain);
  env1("LOCAL", a_local);
  env1("EXT", a_ext);
  env1("DTLINE", dtline.s);
  env1("RPLINE", rpline.s);
  env1("UFLINE", ufline.s);
  env_hosts();
  env_exts();
}

/* clean_env: the environment from scratch, before anything else. Kept:
 * what qmail-local itself obeys (QMAILHOME, the qmail home; QMAILQUEUE,
 * the queue program for forwards here and for forward or condredirect in a
 * .qmail line). PATH is fixed, HOME/bin first so that .qmail lines find
 * preline, condredirect and the like by name, as under qmail's rc. set_env
 * adds qmail's variables. Nothing else the hub's starter exported (a
 * password, LD_PRELOAD, RELAYCLIENT ...) reaches a program. */
static void clean_env(void)
{
  static const char *keep[] = { "QMAILHOME", "QMAILQUEUE" };
  char *val[2];
  stralloc path = {0};
  size_t i;
  for (i = 0; i < 2; ++i) {
    const char *v = getenv(keep[i]);
    val[i] = v ? strdup(v) : 0;
    if (v && !val[i]) nomem();
  }
  if (clearenv() != 0) nomem();
  for (i = 0; i < 2; ++i)
    if (val[i]) { env1(keep[i], val[i]); free(val[i]); }
  if (!home_path(&path, "bin")) nomem();
  --path.len;
  if (!stralloc_cats(&path, ":" PATH_DEFAULT) || !stralloc_0(&path)) nomem();
  env1("PATH", path.s);
  stralloc_free(&path);
}

/* ---- checks before delivery ---- */

static void check_home(void)
{
  struct stat st;
  if (chdir(a_home) < 0) temp_sys("switch to ", a_home);
  if (stat(".", &st) < 0) temp_sys("stat ", a_home);
  if (st.st_mode & (S_ISVTX | S_IWGRP | S_IWOTH))
    say_exit(111, "Uh-oh: home directory is sticky or group/world-writable. (#4.7.0)", 0, 0);
}

static void check_input(void)
{
  if (lseek(0, 0, SEEK_SET) < 0)
    say_exit(111, "Unable to rewind message: input is not seekable. (#4.3.0)", 0, 0);
}

static ssize_t read0(int fd, char *buf, size_t len)
{
  ssize_t r;
  do r = read(fd, buf, len); while (r < 0 && errno == EINTR);
  return r;
}

/* isdt: field is "Delivered-To:" with our recipient (blanks, case ignored). */
static int isdt(const stralloc *f)
{
  size_t v = hdr_value(f->s, f->len), end = f->len, rl = recipient.len - 1;
  while (v < end && (f->s[v] == ' ' || f->s[v] == '\t')) ++v;
  while (end > v && (f->s[end - 1] == '\n' || f->s[end - 1] == '\r' ||
                     f->s[end - 1] == ' ' || f->s[end - 1] == '\t')) --end;
  return end - v == rl && !strncasecmp(f->s + v, recipient.s, rl);
}

/* check_loop: our Delivered-To line already there, or too many hops. */
static void check_loop(void)
{
  char space[8192];
  buffer b;
  stralloc f = {0};
  unsigned long hops = 0, maxhops = limit_get(LIM_HOPS);
  size_t total = 0, cap = limit_get(LIM_HEADER);
  int r;
  buffer_init(&b, read0, 0, space, sizeof space);
  while ((r = hdr_read(&b, &f, limit_get(LIM_HEADERLINE))) == HDR_FIELD) {
    if ((total += f.len) > cap) break;
    if (hdr_is(f.s, f.len, "Delivered-To")) {
      ++hops;
      if (isdt(&f))
        say_exit(100, "This message is looping: it already has my Delivered-To line. (#5.4.6)", 0, 0);
    } else if (hdr_is(f.s, f.len, "Received")) ++hops;
    if (hops > maxhops)
      say_exit(100, "This message is looping: too many hops. (#5.4.6)", 0, 0);
  }
  if (r == HDR_ERR) temp_sys("read ", "message");
  if (r == HDR_NOMEM) nomem();
  stralloc_free(&f);
}

/* ---- finding and reading the .qmail file ---- */

/* open_dotqmail: fd of the first existing candidate, -1 none; *defpos for $DEFAULT. */
static int open_dotqmail(stralloc *name, size_t *defpos, int *isdefault)
{
  size_t i;
  int r, fd;
  for (i = 0; (r = dotqmail_candidate(name, a_dash, a_ext, i, defpos)) == 1; ++i) {
    fd = open(name->s, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) { *isdefault = i > 0; return fd; }
    if (errno != ENOENT && errno != ENOTDIR) temp_sys("open ", name->s);
  }
  if (r < 0) nomem();
  return -1;
}

static void read_dotqmail(int fd, const char *name, stralloc *text)
{
  struct stat st;
  char buf[4096];
  ssize_t r;
  if (fstat(fd, &st) < 0) temp_sys("stat ", name);
  if (st.st_mode & S_IWOTH)
    say_exit(111, "Uh-oh: ", name, " is world-writable. (#4.7.0)");
  execonly = (st.st_mode & S_IXUSR) != 0;
  while ((r = read0(fd, buf, sizeof buf)) > 0) {
    if (text->len + (size_t)r > DOTQMAIL_MAX) say_exit(111, "Uh-oh: ", name, " is too big. (#4.7.0)");
    if (!stralloc_catb(text, buf, (size_t)r)) nomem();
  }
  if (r < 0) temp_sys("read ", name);
  close(fd);
}

/* ---- /etc/aliases and ~/.forward (docs/aliases.md, fwdfile.h) ---- */

static stralloc fwdwhy;  /* a composed reason, for fwd_qmail */

/* read_fwd: the text of a .forward or :include: file, fd open on it:
 * a regular file of the recipient's (or root's, for an include), not
 * group- or world-writable, at most FWD_FILE_MAX bytes. 1 ok, 0 not
 * usable (fwdwhy). */
static int read_fwd(int fd, const char *path, int rootok, stralloc *text)
{
  struct stat st;
  char buf[4096];
  ssize_t r;
  const char *why = 0;
  if (fstat(fd, &st) < 0) why = strerror(errno);
  else if (!S_ISREG(st.st_mode)) why = "not a regular file";
  else if (st.st_uid != getuid() && !(rootok && st.st_uid == 0)) why = "it does not belong to the recipient";
  else if (st.st_mode & (S_IWGRP | S_IWOTH)) why = "it is group- or world-writable";
  while (!why && (r = read0(fd, buf, sizeof buf)) != 0) {
    if (r < 0) why = strerror(errno);
    else if (text->len + (size_t)r > FWD_FILE_MAX) why = "it is bigger than 1 MB";
    else if (!stralloc_catb(text, buf, (size_t)r)) nomem();
  }
  close(fd);
  if (!why) return 1;
  if (!stralloc_copys(&fwdwhy, path) || !stralloc_cats(&fwdwhy, ": ") ||
      !stralloc_cats(&fwdwhy, why) || !stralloc_0(&fwdwhy)) nomem();
  return 0;
}

/* readinc: fwd_expand's reader for :include: files. */
static int readinc(const char *path, stralloc *text, const char **why, void *arg)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  (void)arg;
  if (fd < 0) {
    const char *e = strerror(errno);
    if (!stralloc_copys(&fwdwhy, path) || !stralloc_cats(&fwdwhy, ": ") ||
        !stralloc_cats(&fwdwhy, e) || !stralloc_0(&fwdwhy)) nomem();
  } else if (read_fwd(fd, path, 1, text)) return 1;
  *why = fwdwhy.s;
  return 0;
}

/* expand: the .qmail lines for compiled entries e[0..len), or exit 111
 * naming what (the aliases cdb or .forward) and why. */
static void expand(const char *e, size_t len, int forward, const char *what, stralloc *text)
{
  stralloc deflt = {0};
  struct fwd_expand x = { .domain = a_domain, .readinc = readinc };
  size_t count = 0;
  const char *why = "";
  int r;
  if (!stralloc_copys(&deflt, a_default) || !stralloc_cats(&deflt, "\n") || !stralloc_0(&deflt)) nomem();
  x.deflt = deflt.s;
  if (forward) { x.self = a_user; x.self2 = a_local; }
  r = fwd_qmail(e, len, &x, text, &count, 0, &why);
  if (r < 0) nomem();
  if (r == 0) say_exit(111, what, why, ". (#4.7.0)");
  if (x.usedself) fromdefault = 1;
  stralloc_free(&deflt);
}

/* alias_home: the delivery is the alias user's (HOME/alias). */
static int alias_home(void)
{
  stralloc h = {0};
  int r;
  if (!home_path(&h, "alias")) nomem();
  r = !strcmp(h.s, a_home);
  stralloc_free(&h);
  return r;
}

/* from_aliases: text = the .qmail lines of the alias a_ext in the aliases
 * cdb. 1 found, 0 not an alias. */
static int from_aliases(stralloc *text)
{
  stralloc src = {0}, cdb = {0}, e = {0}, what = {0};
  const char *why = "";
  int r = aliasdb_paths(&src, &cdb, &why);
  if (r < 0) temp_sys("read ", "control/aliases");
  if (r == 0) say_exit(111, "Unable to use control/aliases: ", why, ". (#4.3.0)");
  r = aliasdb_lookup(cdb.s, a_ext, strlen(a_ext), &e);
  if (r < 0) temp_sys("read ", cdb.s);
  if (r == 1) {
    if (!stralloc_copys(&what, "Unable to follow the alias in ") ||
        !stralloc_catb(&what, cdb.s, cdb.len - 1) ||
        !stralloc_cats(&what, ": ") || !stralloc_0(&what)) nomem();
    expand(e.s, e.len, 0, what.s, text);
  }
  stralloc_free(&src); stralloc_free(&cdb); stralloc_free(&e); stralloc_free(&what);
  return r;
}

/* from_forward: text = the .qmail lines of ~/.forward. 1 used, 0 there
 * is none (or it has no entry). */
static int from_forward(stralloc *text)
{
  stralloc f = {0}, e = {0};
  unsigned long line = 0;
  const char *why = "";
  char num[24];
  int r, fd = open(".forward", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) return 0;
  if (fd < 0) temp_sys("open ", ".forward");
  if (!read_fwd(fd, ".forward", 0, &f)) say_exit(111, "Uh-oh: ", fwdwhy.s, ". (#4.7.0)");
  r = fwd_list(f.s, f.len, &e, &line, &why);
  if (r < 0) nomem();
  if (r == 0) {
    snprintf(num, sizeof num, "%lu", line);
    if (!stralloc_copys(&fwdwhy, num) || !stralloc_cats(&fwdwhy, ": ") ||
        !stralloc_cats(&fwdwhy, why) || !stralloc_0(&fwdwhy)) nomem();
    say_exit(111, "Uh-oh: .forward line ", fwdwhy.s, ". (#4.7.0)");
  }
  if (e.len) expand(e.s, e.len, 1, "Unable to follow .forward: ", text);
  stralloc_free(&f);
  stralloc_free(&e);
  return text->len > 0;
}

/* load: the instructions to follow: the .qmail file; for the alias user,
 * an alias of the aliases cdb before a -default file; for a user with no
 * .qmail at all, ~/.forward; else defaultdelivery. */
static void load(stralloc *text)
{
  stralloc name = {0};
  size_t defpos = 0;
  int isdefault = 0, fd = open_dotqmail(&name, &defpos, &isdefault);
  if ((fd < 0 || isdefault) && *a_ext && alias_home() && from_aliases(text)) {
    if (fd >= 0) close(fd);
    stralloc_free(&name);
    return;
  }
  if (fd < 0 && *a_ext)
    say_exit(100, "Sorry, no mailbox here by that name. (#5.1.1)", 0, 0);
  if (fd < 0 && from_forward(text)) { stralloc_free(&name); return; }
  if (fd >= 0) read_dotqmail(fd, name.s, text);
  if (isdefault) env1("DEFAULT", a_ext + defpos);
  if (!text->len) {
    execonly = 0;
    fromdefault = 1;
    if (!stralloc_copys(text, a_default) || !stralloc_cats(text, "\n")) nomem();
  }
  stralloc_free(&name);
}

/* ---- deliveries ---- */

static char *argdup(const struct dq_line *l)
{
  char *s = malloc(l->len + 1);
  if (!s) nomem();
  memcpy(s, l->arg, l->len);
  s[l->len] = 0;
  return s;
}

/* mkdir1: mkdir base[0..len) sub, mode 0700; one that exists is fine. */
static void mkdir1(const char *base, size_t len, const char *sub)
{
  stralloc p = {0}, a = {0};
  if (!stralloc_copyb(&p, base, len) || !stralloc_cats(&p, sub) || !stralloc_0(&p)) nomem();
  if (mkdir(p.s, 0700) < 0 && errno != EEXIST) temp_sys("create ", abspath(&a, p.s));
  stralloc_free(&p);
  stralloc_free(&a);
}

/* sync_parent: flush the directory holding path[0..len), so that a name
 * just created there survives a power cut (the root filesystem may have no
 * journal: a file's fsync does not carry its directory entry). */
static void sync_parent(const char *path, size_t len)
{
  stralloc d = {0}, a = {0};
  int fd;
  while (len > 1 && path[len - 1] != '/') --len;
  if (len == 0 || path[len - 1] != '/') { if (!stralloc_copys(&d, ".")) nomem(); }
  else if (!stralloc_copyb(&d, path, len)) nomem();
  if (!stralloc_0(&d)) nomem();
  fd = open(d.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0) temp_sys("flush the directory ", abspath(&a, d.s));
  close(fd);
  stralloc_free(&d);
  stralloc_free(&a);
}

/* make_maildir: the default delivery to a Maildir that is not there yet
 * (a new user with no .qmail): create it, as the user, mode 0700, with
 * tmp/ new/ cur/ (only the last component: its parent must exist). An
 * explicit .qmail line never creates anything: a typo there is deferred. */
static void make_maildir(const char *dir)
{
  stralloc a = {0};
  struct stat st;
  size_t len = strlen(dir);
  if (!fromdefault) return;
  if (stat(dir, &st) == 0) return;
  if (errno != ENOENT) temp_sys("stat ", abspath(&a, dir));
  while (len > 1 && dir[len - 1] == '/') --len;
  mkdir1(dir, len, "");
  mkdir1(dir, len, "/tmp");
  mkdir1(dir, len, "/new");
  mkdir1(dir, len, "/cur");
  sync_parent(dir, len);  /* the home's entry for the Maildir */
  { stralloc sub = {0};   /* the Maildir's entries for tmp/ new/ cur/ */
    if (!stralloc_copyb(&sub, dir, len) || !stralloc_cats(&sub, "/x")) nomem();
    sync_parent(sub.s, sub.len);
    stralloc_free(&sub); }
}

static void do_maildir(const char *dir)
{
  stralloc pre = {0};
  const char *why;
  int r;
  make_maildir(dir);
  if (!stralloc_copyb(&pre, rpline.s, rpline.len - 1) ||
      !stralloc_catb(&pre, dtline.s, dtline.len - 1)) nomem();
  /* Maildir's 24-hour bound: a delivery stuck that long is killed (the
   * crash is a temporary failure for qmail-lspawn; the tmp/ file is left
   * for readers to clean, never a partial file in new/). */
  signal(SIGALRM, SIG_DFL);
  alarm(24 * 3600);
  r = maildir_deliver(dir, 0, pre.s, pre.len, 0, &why);
  alarm(0);
  if (r < 0) {
    stralloc s = {0}, a = {0};
    const char *e = strerror(errno);
    if (!stralloc_copys(&s, why) || !stralloc_cats(&s, " in ") ||
        !stralloc_cats(&s, abspath(&a, dir)) ||
        !stralloc_cats(&s, ": ") || !stralloc_cats(&s, e) || !stralloc_0(&s)) nomem();
    say_exit(111, "Temporary error: ", s.s, ". (#4.2.1)");
  }
  stralloc_free(&pre);
}

static void on_alarm(int sig) { (void)sig; }

/* lock_file: flock fd within LOCK_TIMEOUT s. 0 ok, -1 error (errno). */
static int lock_file(int fd)
{
  struct sigaction sa;
  int r, e;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;  /* no SA_RESTART: flock returns EINTR */
  sigaction(SIGALRM, &sa, 0);
  alarm(LOCK_TIMEOUT);
  r = flock(fd, LOCK_EX);
  e = errno;
  alarm(0);
  if (r < 0 && e == EINTR) e = ETIMEDOUT;
  errno = e;
  return r;
}

/* mbox_refuse: exit unless st is a file we may append to: a regular file
 * of the delivering user with one link (never a device or a FIFO, and
 * never someone else's file reached through a hard link). */
static void mbox_refuse(const struct stat *st, const char *apath)
{
  const char *why = 0;
  if (!S_ISREG(st->st_mode)) why = ": it is not a regular file. (#4.7.0)";
  else if (st->st_uid != geteuid()) why = ": it does not belong to the recipient. (#4.7.0)";
  else if (st->st_nlink != 1) why = ": it has more than one link. (#4.7.0)";
  if (why) say_exit(111, "Refusing to deliver to ", apath, why);
}

/* open_mbox: path opened for append, never through a symbolic link
 * (O_NOFOLLOW) and never blocking on a FIFO; read-write so that
 * mboxappend_recover can read it, write-only for a mode 0200 mbox. */
static int open_mbox(const char *path, const char *apath)
{
  int flags = O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  struct stat st;
  int fd = open(path, O_RDWR | flags, 0600);
  if (fd < 0 && errno == EACCES) fd = open(path, O_WRONLY | flags, 0600);
  if (fd < 0 && errno == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
    say_exit(111, "Refusing to deliver to ", apath, ": it is a symbolic link. (#4.7.0)");
  if (fd < 0) temp_sys("open ", apath);
  if (fstat(fd, &st) < 0) temp_sys("stat ", apath);
  mbox_refuse(&st, apath);
  if (fcntl(fd, F_SETFL, O_APPEND) < 0) temp_sys("set up ", apath);  /* blocking again */
  return fd;
}

/* open_locked: the mbox opened for append and locked, and still the file at
 * path after the lock (someone may have renamed, replaced or linked it
 * meanwhile). */
static int open_locked(const char *path, const char *apath)
{
  int tries, fd;
  struct stat a, b;
  for (tries = 0; tries < 5; ++tries) {
    fd = open_mbox(path, apath);
    if (lock_file(fd) < 0) temp_sys("lock ", apath);
    if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      mbox_refuse(&a, apath);
      return fd;
    }
    close(fd);
  }
  errno = EAGAIN;
  temp_sys("lock a stable ", apath);
}

static int flush_out(int fd, stralloc *out)
{
  size_t i = 0;
  while (i < out->len) {
    ssize_t w = write(fd, out->s + i, out->len - i);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    i += (size_t)w;
  }
  out->len = 0;
  return 0;
}

/* flush_marked: flush_out, with the unfinished-append record (hub/local/mboxappend.h)
 * saying how far the file will reach; *end = its size after this write. */
static int flush_marked(int fd, off_t start, off_t *end, stralloc *out)
{
  *end += (off_t)out->len;
  mboxappend_mark(fd, start, *end, ufline.s, ufline.len - 1);  /* best effort */
  return flush_out(fd, out);
}

/* mbox_write: the whole entry to fd, which ends at pos. 0 ok, -1 error (errno). */
static int mbox_write(int fd, off_t pos)
{
  off_t end = pos;
  struct mbox_quote q;
  stralloc out = {0};
  char buf[65536];
  ssize_t r;
  int ok = -1;
  mbox_quote_init(&q);
  if (lseek(0, 0, SEEK_SET) < 0) return -1;
  if (!stralloc_copyb(&out, ufline.s, ufline.len - 1) ||
      !mbox_quote_feed(&q, &out, rpline.s, rpline.len - 1) ||
      !mbox_quote_feed(&q, &out, dtline.s, dtline.len - 1)) { errno = ENOMEM; goto done; }
  while ((r = read0(0, buf, sizeof buf)) > 0)
    if (!mbox_quote_feed(&q, &out, buf, (size_t)r)) { errno = ENOMEM; goto done; }
    else if (out.len >= sizeof buf && flush_marked(fd, pos, &end, &out) < 0) goto done;
  if (r < 0) goto done;
  if (!mbox_quote_end(&q, &out)) { errno = ENOMEM; goto done; }
  if (flush_marked(fd, pos, &end, &out) < 0 || fsync(fd) < 0) goto done;
  if (mboxappend_done(fd) < 0) goto done;  /* else a retry would cut this entry */
  ok = 0;
done:
  stralloc_free(&out);
  return ok;
}

static void do_mbox(const char *path)
{
  stralloc a = {0};
  const char *apath = abspath(&a, path);
  int fd = open_locked(path, apath), e;
  off_t pos;
  /* an entry left unfinished by a crashed delivery is taken back first */
  if (mboxappend_recover(fd) < 0) temp_sys("take back an unfinished entry in ", apath);
  pos = lseek(fd, 0, SEEK_END);
  if (pos < 0) temp_sys("seek in ", apath);
  if (mbox_write(fd, pos) < 0) {
    e = errno;
    /* take back the partial entry so the mailbox stays well formed */
    if (ftruncate(fd, pos) < 0) {}
    mboxappend_done(fd);
    errno = e;
    temp_sys("write to ", apath);
  }
  if (pos == 0) sync_parent(path, strlen(path));  /* perhaps created just now */
  if (close(fd) < 0) temp_sys("close ", apath);
  stralloc_free(&a);
}

/* prog_status: map a program's wait status to 0 ok, 99 stop, 100, 111. */
static int prog_status(int st)
{
  if (!WIFEXITED(st)) return 111;
  switch (WEXITSTATUS(st)) {
  case 0: return 0;
  case 99: return 99;
  case 64: case 65: case 70: case 76: case 77: case 78: case 100: case 112: return 100;
  default: return 111;
  }
}

/* prog_fail: exit when the program failed. The text names the exit code,
 * not the command line: it goes into bounces to whoever sent the message,
 * and a .qmail line is the user's own business (qmail says nothing more
 * than what the program printed). */
static void prog_fail(int wstat)
{
  char why[64];
  int st = prog_status(wstat);
  if (st != 100 && st != 111) return;
  if (WIFEXITED(wstat)) snprintf(why, sizeof why, "exit code %d", WEXITSTATUS(wstat));
  else snprintf(why, sizeof why, "killed by signal %d", WIFSIGNALED(wstat) ? WTERMSIG(wstat) : 0);
  if (st == 100) say_exit(100, "The .qmail program failed permanently (", why, "). (#5.2.0)");
  say_exit(111, "The .qmail program failed temporarily (", why, "). (#4.2.0)");
}

/* read_timeout: control/timeoutprogram, seconds (missing: the default),
 * from 1 to TIMEOUT_PROGRAM_MAX. Read before any delivery when the
 * instructions run a program, so a bad file defers the whole delivery;
 * anything else in it is a temporary failure naming the file. */
static void read_timeout(void)
{
  stralloc p = {0};
  unsigned long t = TIMEOUT_PROGRAM;
  int r = control_readulong(&t, "timeoutprogram"), e = errno;
  if (r >= 0 && t >= 1 && t <= TIMEOUT_PROGRAM_MAX) { timeoutprogram = t; return; }
  if (!control_path(&p, "timeoutprogram")) nomem();
  if (r >= 0 || e == EINVAL || e == ERANGE)
    say_exit(111, "Unable to use ", p.s, ": not a number of seconds from 1 to 604800. (#4.3.0)");
  errno = e;
  temp_sys("read ", p.s);
}

static long long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The program's process group, while it runs. Being a group of its own,
 * it would not get the SIGTERM that qmailctl stop sends to the service's
 * group: on_stop passes the end on (SIGKILL to the group), then lets the
 * signal kill qmail-local as before (qmail-lspawn: a crash, deferred). */
static volatile pid_t progpgid;
static const int stopsigs[] = { SIGTERM, SIGHUP, SIGINT };

static void on_stop(int sig)
{
  if (progpgid > 0) kill(-progpgid, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);  /* blocked until we return, then fatal */
}

/* stop_handlers: on_stop for stopsigs (h), or the defaults (SIG_DFL). */
static void stop_handlers(void (*h)(int))
{
  struct sigaction sa;
  size_t i;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sigemptyset(&sa.sa_mask);
  for (i = 0; i < sizeof stopsigs / sizeof *stopsigs; ++i) sigaction(stopsigs[i], &sa, 0);
}

/* prog_child: in the child: a process group of its own (so the timeout
 * kills everything it started), stdout and stderr into out, no descriptor
 * above 2, qmail-local's signal settings undone (old: the signal mask),
 * then sh -c cmd with the environment clean_env and set_env built. */
static void prog_child(const char *cmd, int out, const sigset_t *old) __attribute__((noreturn));
static void prog_child(const char *cmd, int out, const sigset_t *old)
{
  long fd, max;
  setpgid(0, 0);
  signal(SIGALRM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  stop_handlers(SIG_DFL);
  sigprocmask(SIG_SETMASK, old, 0);
  if (dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(111);
  if (close_range(3, ~0U, 0) < 0)  /* kernels before 5.9 */
    for (fd = 3, max = sysconf(_SC_OPEN_MAX); fd < max; ++fd) close((int)fd);
  execl("/bin/sh", "sh", "-c", cmd, (char *)0);
  _exit(111);
}

/* relay: pass what the program wrote (fd out) on to our fd 1, where
 * qmail-lspawn reads the report. 1 more may come, 0 end of output. */
static int relay(int out)
{
  char buf[4096];
  ssize_t r = read(out, buf, sizeof buf), i = 0, w;
  if (r < 0) return errno == EINTR || errno == EAGAIN;
  while (i < r) {
    w = write(1, buf + i, (size_t)(r - i));
    if (w < 0) { if (errno == EINTR) continue; break; }  /* output lost: keep draining */
    i += w;
  }
  return r > 0;
}

/* prog_wait: wait for the program pid while passing its output on, at
 * most timeoutprogram seconds in all; once it has exited, its output may
 * stay open PROGRAM_GRACE seconds more (a background child holding it),
 * then whatever still holds it is killed with the process group. A program
 * over time is killed with its group and the delivery deferred. Returns
 * the program's wait status. */
static int prog_wait(pid_t pid, int out)
{
  long long end = now_ms() + (long long)timeoutprogram * 1000, left;
  int pidfd = (int)pidfd_open(pid, 0), st = 0, exited = 0, live = 1;
  struct pollfd p[2];
  char num[32];
  for (;;) {
    nfds_t n = 0;
    if (!exited && waitpid(pid, &st, WNOHANG) == pid) {
      exited = 1;
      if (now_ms() + PROGRAM_GRACE * 1000 < end) end = now_ms() + PROGRAM_GRACE * 1000;
    }
    if (exited && !live) break;
    if ((left = end - now_ms()) <= 0) break;
    if (live) { p[n].fd = out; p[n++].events = POLLIN; }
    if (!exited && pidfd >= 0) { p[n].fd = pidfd; p[n++].events = POLLIN; }
    if (!exited && pidfd < 0 && left > 100) left = 100;  /* no pidfd: look every 0.1 s */
    if (poll(p, n, (int)left) < 0 && errno != EINTR) temp_sys("wait for ", "the program");
    if (live && p[0].revents) live = relay(out);
  }
  if (pidfd >= 0) close(pidfd);
  if (exited) {
    if (live) kill(-pid, SIGKILL);  /* leftovers holding the output */
    return st;
  }
  kill(-pid, SIGKILL);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  snprintf(num, sizeof num, "%lu", timeoutprogram);
  say_exit(111, "The .qmail program timed out after ", num, " s. (#4.2.0)");
}

static int do_program(const char *cmd)
{
  sigset_t stop, old;
  pid_t pid;
  int st, p[2];
  size_t i;
  if (lseek(0, 0, SEEK_SET) < 0) temp_sys("rewind ", "message");
  if (pipe2(p, O_CLOEXEC) < 0) temp_sys("create a pipe", 0);
  sigemptyset(&stop);
  for (i = 0; i < sizeof stopsigs / sizeof *stopsigs; ++i) sigaddset(&stop, stopsigs[i]);
  stop_handlers(on_stop);
  sigprocmask(SIG_BLOCK, &stop, &old);  /* until progpgid is known */
  pid = fork();
  if (pid < 0) temp_sys("fork", 0);
  if (pid == 0) prog_child(cmd, p[1], &old);
  setpgid(pid, pid);  /* as the child does: whichever runs first */
  progpgid = pid;
  sigprocmask(SIG_SETMASK, &old, 0);
  close(p[1]);
  st = prog_wait(pid, p[0]);
  progpgid = 0;
  close(p[0]);
  prog_fail(st);
  return prog_status(st);
}

static void add_forward(const struct dq_line *l)
{
  if (!stralloc_catb(&forwards, l->arg, l->len) || !stralloc_0(&forwards)) nomem();
  ++nforwards;
}

/* copy0: the message (fd 0 from offset 0) into the queue. */
static void copy0(struct qq *q)
{
  char buf[65536];
  ssize_t r;
  if (lseek(0, 0, SEEK_SET) < 0) temp_sys("rewind ", "message");
  while ((r = read0(0, buf, sizeof buf)) > 0) qq_put(q, buf, (size_t)r);
  if (r < 0) temp_sys("read ", "message");
}

static void send_forwards(void)
{
  struct qq q;
  struct qq_status st;
  stralloc fd6 = {0};
  const char *ns = getenv("NEWSENDER");
  size_t i;
  int code;
  if (!nforwards) return;
  if (!ns) ns = a_sender;
  qq_start(&q);
  qq_put(&q, dtline.s, dtline.len - 1);
  copy0(&q);
  qq_from(&q, ns, strlen(ns));
  for (i = 0; i < forwards.len; i += strlen(forwards.s + i) + 1)
    qq_to(&q, forwards.s + i, strlen(forwards.s + i));
  code = qq_finish(&q, &fd6);
  if (code == 0) { stralloc_free(&fd6); return; }
  qq_status(code, fd6.s, fd6.len, &st);
  {
    stralloc t = {0};
    if (!stralloc_copyb(&t, st.text, st.textlen) || !stralloc_0(&t)) nomem();
    say_exit(qq_permanent(code, fd6.s, fd6.len) ? 100 : 111, "Unable to forward message: ", t.s, 0);
  }
}

/* ---- following the instructions ---- */

static int check_line(const struct dq_line *l, void *arg)
{
  (void)arg;
  if (l->type == DQ_PROGRAM) ++nprograms;
  if (execonly && l->type != DQ_COMMENT && l->type != DQ_FORWARD)
    say_exit(111, "Uh-oh: .qmail file is executable, so it may only forward. (#4.7.0)", 0, 0);
  return 0;
}

static int list_line(const struct dq_line *l, void *arg)
{
  static const char *kind[] = { 0, "program", "forward", "mbox", "maildir" };
  (void)arg;
  if (l->type == DQ_COMMENT) return 0;
  if (!stralloc_cats(&forwards, kind[l->type]) || !stralloc_cats(&forwards, ": ") ||
      !stralloc_catb(&forwards, l->arg, l->len) || !stralloc_cats(&forwards, "\n")) nomem();
  return 0;
}

static int do_line(const struct dq_line *l, void *arg)
{
  char *s;
  (void)arg;
  if (l->type == DQ_COMMENT) return 0;
  if (l->type == DQ_FORWARD) { add_forward(l); ++nfwd; return 0; }
  s = argdup(l);
  if (l->type == DQ_MAILDIR) { do_maildir(s); ++ndeliv; }
  else if (l->type == DQ_MBOX) { do_mbox(s); ++ndeliv; }
  else if (do_program(s) == 99) { free(s); ++nprog; return 99; }
  else ++nprog;
  free(s);
  return 0;
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
  say_exit(111, "usage: qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery", 0, 0);
}

/* std_fds: a closed fd 1 or 2 reopened on /dev/null, so that no pipe or
 * file of ours ever lands there. */
static void std_fds(void)
{
  int fd, n;
  for (fd = 1; fd <= 2; ++fd)
    if (fcntl(fd, F_GETFD) < 0 && (n = open("/dev/null", O_WRONLY)) >= 0 && n != fd) {
      if (dup2(n, fd) < 0) {}
      close(n);
    }
}

static stralloc text;  /* the instructions; static, so never counted as leaked */

int local_main(int argc, char **argv)
{
  int i = 1;
  progname = "qmail-local";
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; ++i) {
    if (!strcmp(argv[i], "-n")) listonly = 1;
    else if (!strcmp(argv[i], "-N")) listonly = 0;
    else if (!strcmp(argv[i], "--")) { ++i; break; }
    else usage();
  }
  if (argc - i != 8) usage();
  a_user = argv[i]; a_home = argv[i + 1]; a_local = argv[i + 2]; a_dash = argv[i + 3];
  a_ext = argv[i + 4]; a_domain = argv[i + 5]; a_sender = argv[i + 6]; a_default = argv[i + 7];
  if (getuid() == 0 || geteuid() == 0) say_exit(111, "Refusing to deliver as root. (#4.3.0)", 0, 0);
  std_fds();
  clean_env();
  signal(SIGPIPE, SIG_IGN);
  make_lines();
  check_home();
  load(&text);
  dotqmail_split(text.s, text.len, check_line, 0);
  if (listonly) {
    dotqmail_split(text.s, text.len, list_line, 0);
    if (write(1, forwards.s, forwards.len) < 0) _exit(111);
    _exit(0);
  }
  check_input();
  check_loop();
  if (nprograms) read_timeout();
  set_env();
  dotqmail_split(text.s, text.len, do_line, 0);
  send_forwards();
  {
    char b[80];
    int n = snprintf(b, sizeof b, "did %d+%d+%d\n", ndeliv, nfwd, nprog);
    if (write(1, b, (size_t)n) < 0) {}
  }
  return 0;
}
