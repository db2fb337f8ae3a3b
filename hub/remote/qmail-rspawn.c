/* qmail-rspawn: run qmail-remote for each remote delivery qmail-send asks
 * for (docs/protocols.md, the spawn protocol and session mode; the loop is
 * hub/qspawn).
 *   qmail-rspawn
 * Job in on fd 0: <slot><S/N>\0<sender>\0<recipient>\0...\0, up to
 * SPAWN_RCPT_MAX recipients of one domain (qmail-send groups them); the
 * message is HOME/queue/mess/S/N. The child runs in HOME, as ourselves
 * (qmailr when started by qmail-start as root):
 *   HOME/bin/qmail-remote host sender recipient...
 * (or $QMAILREMOTE instead of HOME/bin/qmail-remote; with "-D lines"
 * first when the job carries DSN lines, qspawn.h), host = the part of
 * the first recipient after its last '@', with the message on fd 0 and
 * fd 1 captured (at most SPAWN_OUT_MAX bytes); fd 2 is ours (the log), so
 * stray error messages never mix with the reports.
 * qmail-remote reports, NUL-terminated: one r/h/s record per recipient in
 * order (accepted, permanent, temporary), then one K/Z/D record for the
 * message. Reports out on fd 1, one per recipient, <slot><K|Z|D><text>\0:
 *   exit 111 or a signal                   Z
 *   any other exit != 0                    D
 *   no message record                      Z
 *   s                                      Z, the recipient's text
 *   h                                      D, the recipient's text
 *   r, message record K                    K, the message record's text
 *                                          (after DSN_PASSED when the r
 *                                          text starts with it: the next
 *                                          hop took the DSN request)
 *   r, message record Z or D               Z or D, the message's text
 *   no record for the recipient            Z
 * That is the classic mode: one qmail-remote run per job, used when
 * $QMAILREMOTE is set or control/sessionsperhost is 0; qmail-send then
 * has at most control/concurrencyremote jobs out, so that many
 * qmail-remote processes (connections) at once. By default jobs go to
 * sessions instead (hub/remote/rpool.h): long-lived "qmail-remote -S host"
 * processes, at most control/sessionsperhost (default SESSIONS_DEFAULT)
 * per domain and at most control/concurrencyremote in all, each keeping
 * its connection for job after job; their records are mapped exactly as
 * above. In session mode qmail-send has up to SLOTS_MAX jobs out (both
 * programs decide the mode with hub/send/rconf.h), so a session's jobs
 * are pipelined while the connections stay at concurrencyremote.
 * A control/sessionsperhost or concurrencyremote that is present but
 * unreadable or not a number is never the default: one "alert: cannot
 * use control/NAME: REASON" line on fd 2, and every job gets Z with the
 * same reason (deferred, local deliveries go on) until the file is fixed
 * and qmail-rspawn restarted.
 * Exit: 0 when qmail-send closes fd 0 and all children are done, 111 on a
 * protocol or output failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "q_control.h"
#include "rpool.h"
#include "rconf.h"
#include "qspawn.h"
#include "dsnparam.h"

static stralloc qremote, messpath, host, badconf;

static int zresult(stralloc *r, const char *text)
{
  if (!stralloc_copys(r, "Z") || !stralloc_cats(r, text)) fatal_nomem();
  return -1;
}

static void child_die(const char *text) __attribute__((noreturn));
static void child_die(const char *text)
{
  if (write(1, text, strlen(text)) < 0) {}
  _exit(111);
}

static pid_t start(const struct spawn_job *j, int outfd, stralloc *r)
{
  const char *at = strrchr(j->rcpt, '@');
  static char *argv[SPAWN_RCPT_MAX + 6];
  size_t i, k = 1;
  int messfd;
  pid_t pid;
  if (!stralloc_copys(&host, at ? at + 1 : "") || !stralloc_0(&host)) fatal_nomem();
  argv[0] = (char *)"qmail-remote";
  if (j->dsn) { argv[k++] = (char *)"-D"; argv[k++] = (char *)j->dsn; }
  argv[k++] = host.s;
  argv[k++] = (char *)j->sender;
  for (i = 0; i < j->nrcpt; ++i) argv[k + i] = (char *)j->rcpts[i];
  argv[k + i] = 0;
  if (!stralloc_copys(&messpath, "queue/mess/") || !stralloc_cats(&messpath, j->id) ||
      !stralloc_0(&messpath)) fatal_nomem();
  messfd = open(messpath.s, O_RDONLY | O_CLOEXEC);
  if (messfd == -1) return zresult(r, "Unable to open the message file. (#4.3.0)");
  pid = fork();
  if (pid == 0) {
    if (dup2(outfd, 1) == -1 || dup2(messfd, 0) == -1)
      child_die("Unable to set up qmail-remote's descriptors. (#4.3.0)");
    execv(qremote.s, argv);
    child_die("Unable to run qmail-remote. (#4.3.0)");
  }
  close(messfd);
  if (pid == -1) return zresult(r, "Unable to fork. (#4.3.0)");
  return pid;
}

/* record: the NUL-terminated record at out[*pos..len): its letter and
 * text; *pos moves past it. 0 when there is none left. An unterminated
 * last record counts (its text ends at len). */
static int record(const char *out, size_t len, size_t *pos, char *letter,
                  const char **text, size_t *tlen)
{
  const char *nul;
  if (*pos >= len) return 0;
  *letter = out[*pos];
  *text = out + *pos + 1;
  nul = memchr(*text, '\0', len - *pos - 1);
  *tlen = nul ? (size_t)(nul - *text) : len - *pos - 1;
  *pos += 1 + *tlen + (nul != 0);
  return 1;
}

/* result: append one report: letter, text (or dflt when empty), NUL */
static void result(stralloc *r, char letter, const char *text, size_t tlen, const char *dflt)
{
  size_t at = r->len;
  if (!stralloc_append(r, &letter) || !spawn_text(r, text, tlen)) fatal_nomem();
  if (r->len == at + 1 && !stralloc_cats(r, dflt)) fatal_nomem();
  if (!stralloc_0(r)) fatal_nomem();
}

/* passed: the r text says the next hop took the recipient's DSN request */
static int passed(const char *t, size_t n)
{
  return n >= sizeof DSN_PASSED - 1 && !memcmp(t, DSN_PASSED, sizeof DSN_PASSED - 1);
}

static void finish(int wstat, const char *out, size_t len, size_t nrcpt, stralloc *r)
{
  int code = WIFEXITED(wstat) ? WEXITSTATUS(wstat) : -1;
  size_t pos = 0, nr = 0, i, mlen = 0, tl, rlen[SPAWN_RCPT_MAX];
  const char *mtext = 0, *t, *rtext[SPAWN_RCPT_MAX];
  char ml = 0, l, rl[SPAWN_RCPT_MAX];
  r->len = 0;
  for (i = 0; i < nrcpt; ++i)
    if (code != 0)
      result(r, code == -1 || code == 111 ? 'Z' : 'D', out, len,
             code == -1 ? "qmail-remote crashed. (#4.3.0)" : "qmail-remote failed. (#4.3.0)");
  if (code != 0) return;
  while (record(out, len, &pos, &l, &t, &tl)) {
    if (nr < nrcpt && (l == 'r' || l == 'h' || l == 's')) { rl[nr] = l; rtext[nr] = t; rlen[nr++] = tl; }
    else if (!ml && (l == 'K' || l == 'Z' || l == 'D')) { ml = l; mtext = t; mlen = tl; }
  }
  for (i = 0; i < nrcpt; ++i) {
    if (i < nr && rl[i] == 's') result(r, 'Z', rtext[i], rlen[i], "Temporary failure. (#4.3.0)");
    else if (i < nr && rl[i] == 'h') result(r, 'D', rtext[i], rlen[i], "Permanent failure. (#5.0.0)");
    else if (!ml) result(r, 'Z', out, 0, "qmail-remote gave no report. (#4.3.0)");
    else if (i >= nr) result(r, 'Z', out, 0, "qmail-remote gave no recipient report. (#4.3.0)");
    else if (ml == 'K' && passed(rtext[i], rlen[i])) {
      if (!stralloc_cats(r, "K" DSN_PASSED) || !spawn_text(r, mtext, mlen) || !stralloc_0(r))
        fatal_nomem();
    }
    else result(r, ml, mtext, mlen, ml == 'K' ? "Delivered." : "Remote delivery failed. (#4.3.0)");
  }
}

/* refuse: the start of every job while control/sessionsperhost is
 * unusable: a temporary failure that names the file, never a default */
static pid_t refuse(const struct spawn_job *j, int outfd, stralloc *r)
{
  (void)j; (void)outfd;
  return zresult(r, badconf.s);
}

/* bad: control/name is unusable (errno): say so once, defer every job */
static int bad(const char *name)
{
  static const struct spawn_ops refuse_ops = { refuse, finish, SPAWN_RCPT_MAX };
  const char *why = control_strerror(errno);
  err_print("alert", 0, "cannot use control/", name, ": ", why,
            ": every remote delivery is deferred until it is fixed and qmail-rspawn restarted",
            (const char *)0);
  if (!stralloc_copys(&badconf, "Sorry, qmail-rspawn cannot use control/") ||
      !stralloc_cats(&badconf, name) || !stralloc_cats(&badconf, ": ") ||
      !stralloc_cats(&badconf, why) || !stralloc_cats(&badconf, ". (#4.3.0)") ||
      !stralloc_0(&badconf)) fatal_nomem();
  return spawn_loop(&refuse_ops, 0, 1);
}

int main(int argc, char **argv)
{
  static const struct spawn_ops ops = { start, finish, SPAWN_RCPT_MAX };
  const char *alt = getenv("QMAILREMOTE");
  unsigned long perhost, conc;
  int mode;
  (void)argv;
  progname = "qmail-rspawn";
  if (argc != 1) fatal(111, "usage: qmail-rspawn");
  if (chdir(home_dir()) == -1) fatal_sys(111, "unable to switch to ", home_dir());
  if (alt && *alt) { if (!stralloc_copys(&qremote, alt) || !stralloc_0(&qremote)) fatal_nomem(); }
  else if (!home_path(&qremote, "bin/qmail-remote")) fatal_nomem();
  mode = rconf_sessions(&perhost);
  if (mode < 0) return bad("sessionsperhost");
  if (mode == 0) return spawn_loop(&ops, 0, 1);
  if (conc_read(&conc, "concurrencyremote", CONC_REMOTE_DEFAULT) < 0) return bad("concurrencyremote");
  return rpool_loop(qremote.s, (unsigned)perhost, (unsigned)conc, 0, 1, finish);
}
