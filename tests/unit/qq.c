/* tests/unit/qq.c: TAP tests for the exec path of common/q_qq.c. The queue
 * program is a shell script written into a temporary directory at test time
 * and named by $QMAILQUEUE (or found as HOME/bin/qmail-queue): it copies its
 * fd 0 (message) and fd 1 (envelope) to files, may write a text to fd 6 and
 * exits with a code taken from the environment. Checked: message and
 * envelope bytes (F...\0T...\0\0, empty sender, NUL in the message, 1 MB),
 * exit codes 0/31/82 with the fd 6 text (and its 1000-byte cap), a program
 * that does not exist (QQ_EXECFAIL), one killed by a signal (QQ_CRASH), one
 * that exits without reading a 1 MB message (its exit code, no SIGPIPE
 * death of a caller whose SIGPIPE is at its default), qq_abort (no envelope, child reaped), and that no descriptor is
 * left open afterwards. The split of qq_finish (qq_send, qq_verdict): in
 * exec mode the verdict is had at qq_send; in socket mode three messages
 * are in flight at once to a fake qmail-queued (a child on HOME/qq/socket
 * that answers only after it has read all three), their verdicts (0, 82
 * with its text, none: QQ_CRASH) come in order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "stralloc.h"
#include "q_qq.h"
#include "q_qqstatus.h"

static char dir[] = "/tmp/qqtestXXXXXX";
static char script[64], msgfile[64], envfile[64], homebin[64], homeqq[80];

static const char script_text[] =
  "#!/bin/sh\n"
  "# test queue program: see tests/unit/qq.c\n"
  "if [ -n \"$QQ_NOREAD\" ]; then exit \"$QQ_EXIT\"; fi\n"
  "cat > \"$QQ_DIR/msg\" || exit 54\n"
  "cat 0<&1 > \"$QQ_DIR/env\" || exit 54\n"
  "if [ -n \"$QQ_FD6\" ]; then printf '%s' \"$QQ_FD6\" >&6; fi\n"
  "if [ -n \"$QQ_FD6BIG\" ]; then i=0; while [ $i -lt 30 ]; do\n"
  "  printf 'Z123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789' >&6 2>/dev/null; i=$((i+1)); done; fi\n"
  "if [ -n \"$QQ_KILL\" ]; then kill -9 $$; fi\n"
  "exit \"${QQ_EXIT:-0}\"\n";

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0) {
    perror(path);
    exit(2);
  }
}

static void read_file(const char *path, stralloc *sa)
{
  char buf[65536];
  int fd = open(path, O_RDONLY);
  ssize_t r;
  sa->len = 0;
  if (fd < 0) return;
  while ((r = read(fd, buf, sizeof buf)) > 0) stralloc_catb(sa, buf, (size_t)r);
  close(fd);
}

static int count_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d))) if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  /* the directory's own fd */
}

static void env_reset(void)
{
  unsetenv("QQ_NOREAD");
  unsetenv("QQ_FD6");
  unsetenv("QQ_FD6BIG");
  unsetenv("QQ_KILL");
  unsetenv("QQ_EXIT");
  unlink(msgfile);
  unlink(envfile);
}

static stralloc fd6, got;

/* run: one message with sender "a@b" and recipients "c@d", "e@f" */
static int run(const char *msg, size_t len)
{
  struct qq q;
  qq_start(&q);
  qq_put(&q, msg, len);
  qq_from(&q, "a@b", 3);
  qq_to(&q, "c@d", 3);
  qq_to(&q, "e@f", 3);
  return qq_finish(&q, &fd6);
}

static void test_ok(void)
{
  struct qq q;
  static const char env[] = "Fa@b\0Tc@d\0Te@f\0";  /* plus the final NUL */
  env_reset();
  is_int(qq_start(&q), 0, "qq_start with $QMAILQUEUE");
  qq_puts(&q, "Subject: hi\n\n");
  qq_put(&q, "body\0with NUL\n", 14);
  qq_from(&q, "a@b", 3);
  qq_to(&q, "c@d", 3);
  qq_to(&q, "e@f", 3);
  stralloc_copys(&fd6, "stale");
  is_int(qq_finish(&q, &fd6), 0, "exit 0 -> 0");
  is_int(fd6.len, 0, "exit 0: no fd6 text");
  read_file(msgfile, &got);
  ok(got.len == 27 && memcmp(got.s, "Subject: hi\n\nbody\0with NUL\n", 27) == 0,
     "message bytes on fd 0");
  read_file(envfile, &got);
  ok(got.len == sizeof env && memcmp(got.s, env, sizeof env) == 0, "envelope F..\\0T..\\0T..\\0\\0 on fd 1");

  env_reset();
  qq_start(&q);
  qq_puts(&q, "x\n");
  qq_from(&q, "", 0);
  qq_to(&q, "r@s", 3);
  is_int(qq_finish(&q, &fd6), 0, "empty sender -> 0");
  read_file(envfile, &got);
  ok(got.len == 8 && memcmp(got.s, "F\0Tr@s\0\0", 8) == 0, "envelope with empty sender");

  env_reset();
  qq_start(&q);
  qq_from(&q, "a@b", 3);
  qq_to(&q, "c@d", 3);
  is_int(qq_finish(&q, &fd6), 0, "empty message -> 0");
  read_file(msgfile, &got);
  is_int(got.len, 0, "empty message: nothing on fd 0");
}

/* no_sigpipe_death: run the message in a child whose SIGPIPE is back at
 * its default (the earlier runs have left it ignored in this process), to
 * a queue that exits 31 without reading; true when the child was not
 * killed and returned the queue's 31. */
static int no_sigpipe_death(const char *msg, size_t len)
{
  int st;
  pid_t pid;
  fflush(stdout);
  pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    _exit(run(msg, len));
  }
  if (waitpid(pid, &st, 0) != pid) return 0;
  if (WIFSIGNALED(st)) printf("# the child died of signal %d\n", WTERMSIG(st));
  return WIFEXITED(st) && WEXITSTATUS(st) == 31;
}

static void test_big(void)
{
  size_t n = 1024 * 1024, i;
  char *big = malloc(n);
  if (!big) exit(2);
  for (i = 0; i < n; ++i) big[i] = (char)(i % 251);
  env_reset();
  is_int(run(big, n), 0, "1 MB message -> 0");
  read_file(msgfile, &got);
  ok(got.len == n && memcmp(got.s, big, n) == 0, "1 MB message intact");

  env_reset();
  setenv("QQ_NOREAD", "1", 1);
  setenv("QQ_EXIT", "31", 1);
  is_int(run(big, n), 31, "queue exits without reading 1 MB -> its exit code");
  ok(no_sigpipe_death(big, n), "no SIGPIPE death, even with SIGPIPE at its default");
  env_reset();
  setenv("QQ_NOREAD", "1", 1);
  setenv("QQ_EXIT", "0", 1);
  is_int(run(big, n), 0, "queue exits 0 without reading: its verdict wins");
  free(big);
}

static void test_codes(void)
{
  struct qq_status st;
  env_reset();
  setenv("QQ_EXIT", "31", 1);
  is_int(run("x\n", 2), 31, "exit 31 -> 31");
  is_int(qq_permanent(31, fd6.s, fd6.len), 1, "31 is permanent");

  env_reset();
  setenv("QQ_EXIT", "82", 1);
  setenv("QQ_FD6", "Dgo away (#5.7.1)", 1);
  is_int(run("x\n", 2), 82, "exit 82 -> 82");
  is_sa(fd6, "Dgo away (#5.7.1)", "exit 82: fd 6 text");
  qq_status(82, fd6.s, fd6.len, &st);
  is_int(st.kind, 'D', "exit 82 D: permanent");
  is_mem(st.text, st.textlen, "go away (#5.7.1)", "exit 82 D: text");

  env_reset();
  setenv("QQ_EXIT", "82", 1);
  setenv("QQ_FD6", "Ztry later (#4.3.0)\n", 1);
  is_int(run("x\n", 2), 82, "exit 82 Z -> 82");
  qq_status(82, fd6.s, fd6.len, &st);
  is_int(st.kind, 'Z', "exit 82 Z: temporary");
  is_mem(st.text, st.textlen, "try later (#4.3.0)", "exit 82 Z: text cut at LF");

  env_reset();
  setenv("QQ_EXIT", "82", 1);
  setenv("QQ_FD6BIG", "1", 1);
  is_int(run("x\n", 2), 82, "exit 82 with 3000 bytes on fd 6");
  is_int(fd6.len, 1000, "fd 6 text capped at 1000 bytes");

  env_reset();
  setenv("QQ_KILL", "1", 1);
  is_int(run("x\n", 2), QQ_CRASH, "killed by a signal -> QQ_CRASH");
  env_reset();
  setenv("QQ_EXIT", "111", 1);
  is_int(run("x\n", 2), 111, "exit 111 -> 111");
}

static void test_exec(void)
{
  struct qq q;
  int before;
  char missing[80];
  snprintf(missing, sizeof missing, "%s/no-such-program", dir);
  env_reset();
  setenv("QMAILQUEUE", missing, 1);
  before = count_fds();
  is_int(qq_start(&q), -1, "missing program: qq_start -> -1");
  qq_puts(&q, "x\n");
  qq_from(&q, "a@b", 3);
  qq_to(&q, "c@d", 3);
  is_int(qq_finish(&q, &fd6), QQ_EXECFAIL, "missing program -> QQ_EXECFAIL");
  is_int(count_fds(), before, "missing program: no descriptor left open");

  setenv("QMAILQUEUE", msgfile, 1);  /* exists after write_file, mode 0644 */
  write_file(msgfile, "x", 1, 0644);
  is_int(run("x\n", 2), QQ_EXECFAIL, "program not executable -> QQ_EXECFAIL");

  /* $QMAILQUEUE unset or empty: HOME/bin/qmail-queue */
  unlink(msgfile);
  setenv("QMAILHOME", dir, 1);
  unsetenv("QMAILQUEUE");
  is_int(run("home\n", 5), 0, "HOME/bin/qmail-queue when $QMAILQUEUE is unset");
  read_file(msgfile, &got);
  is_sa(got, "home\n", "HOME/bin/qmail-queue got the message");
  env_reset();
  setenv("QMAILQUEUE", "", 1);
  setenv("QQ_EXIT", "31", 1);
  is_int(run("x\n", 2), 31, "empty $QMAILQUEUE counts as unset");
  setenv("QMAILHOME", missing, 1);
  unsetenv("QMAILQUEUE");
  is_int(run("x\n", 2), QQ_EXECFAIL, "no HOME/bin/qmail-queue -> QQ_EXECFAIL");
  setenv("QMAILQUEUE", script, 1);
}

static void test_abort(void)
{
  struct qq q;
  int before = count_fds();
  char missing[80];
  env_reset();
  is_int(qq_start(&q), 0, "qq_abort: started");
  qq_puts(&q, "partial message\n");
  qq_from(&q, "a@b", 3);
  qq_abort(&q);
  is_int(count_fds(), before, "qq_abort: no descriptor left open");
  errno = 0;
  ok(waitpid(-1, 0, WNOHANG) < 0 && errno == ECHILD, "qq_abort: child reaped");
  read_file(envfile, &got);
  is_int(got.len, 0, "qq_abort: no envelope reached the queue program");
  snprintf(missing, sizeof missing, "%s/no-such-program", dir);
  setenv("QMAILQUEUE", missing, 1);
  qq_start(&q);
  qq_abort(&q);
  is_int(count_fds(), before, "qq_abort after a failed start: no descriptor left open");
  setenv("QMAILQUEUE", script, 1);
}

/* fake_daemon: on listener l, accept n clients, read each to its EOF
 * (the client's shutdown after the envelope), and only then answer them:
 * "0", "82 Dtext", nothing; at most 10 s in all (alarm) */
static void fake_daemon(int l, int n)
{
  static const char *const replies[] = { "1:0,", "13:82 Dno thanks,", "" };
  int fds[8], i;
  char buf[4096];
  alarm(10);
  for (i = 0; i < n; ++i) {
    fds[i] = accept(l, 0, 0);
    if (fds[i] < 0) _exit(2);
    while (read(fds[i], buf, sizeof buf) > 0) ;
  }
  for (i = 0; i < n; ++i) {
    if (write(fds[i], replies[i % 3], strlen(replies[i % 3])) < 0) _exit(2);
    close(fds[i]);
  }
  _exit(0);
}

/* send_one: a message to the queue, ended but not waited for */
static void send_one(struct qq_pending *p, const char *to)
{
  struct qq q;
  qq_start(&q);
  qq_puts(&q, "Subject: split\n\nbody\n");
  qq_from(&q, "a@b", 3);
  qq_to(&q, to, strlen(to));
  qq_send(&q, p);
}

static void test_split(void)
{
  struct qq_pending p[3];
  struct sockaddr_un sun;
  char qqdir[80];
  int l, before, st;
  pid_t pid;
  /* exec mode: qq_send has the verdict at once */
  env_reset();
  setenv("QQ_EXIT", "82", 1);
  setenv("QQ_FD6", "Dsplit (#5.7.1)", 1);
  send_one(&p[0], "c@d");
  read_file(envfile, &got);
  is_int(got.len, 11, "exec mode: qq_send ran the queue program to its end");
  is_int(qq_verdict(&p[0], &fd6), 82, "exec mode: qq_verdict gives its exit code");
  is_sa(fd6, "Dsplit (#5.7.1)", "exec mode: and its fd 6 text");
  env_reset();
  /* socket mode: three in flight to a daemon that answers after all three */
  unsetenv("QMAILQUEUE");
  setenv("QMAILHOME", dir, 1);
  snprintf(qqdir, sizeof qqdir, "%s/qq", dir);
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s/socket", qqdir);
  before = count_fds();
  l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (mkdir(qqdir, 0755) < 0 || l < 0 || bind(l, (struct sockaddr *)&sun, sizeof sun) < 0 || listen(l, 8) < 0) {
    perror("fake daemon");
    exit(2);
  }
  fflush(stdout);
  pid = fork();
  if (pid == 0) fake_daemon(l, 3);
  close(l);
  send_one(&p[0], "one@d");
  send_one(&p[1], "two@d");
  send_one(&p[2], "three@d");
  is_int(qq_verdict(&p[0], &fd6), 0, "socket mode: three in flight, the first's verdict 0");
  is_int(qq_verdict(&p[1], &fd6), 82, "socket mode: the second's 82");
  is_sa(fd6, "Dno thanks", "socket mode: with the daemon's text");
  is_int(qq_verdict(&p[2], &fd6), QQ_CRASH, "socket mode: no reply for the third: QQ_CRASH");
  ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
     "the fake daemon read all three messages before it answered one");
  is_int(count_fds(), before, "socket mode: no descriptor left open");
  read_file(msgfile, &got);
  is_int(got.len, 0, "socket mode: the queue program was not run");
  unlink(sun.sun_path);
  rmdir(qqdir);
  setenv("QMAILQUEUE", script, 1);
}

static void cleanup(void)
{
  env_reset();
  unlink(script);
  unlink(homeqq);
  rmdir(homebin);
  rmdir(dir);
}

int main(void)
{
  int fds;
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
  snprintf(script, sizeof script, "%s/qq.sh", dir);
  snprintf(msgfile, sizeof msgfile, "%s/msg", dir);
  snprintf(envfile, sizeof envfile, "%s/env", dir);
  snprintf(homebin, sizeof homebin, "%s/bin", dir);
  snprintf(homeqq, sizeof homeqq, "%s/qmail-queue", homebin);
  write_file(script, script_text, sizeof script_text - 1, 0755);
  if (mkdir(homebin, 0755) < 0) { perror("mkdir"); return 2; }
  write_file(homeqq, script_text, sizeof script_text - 1, 0755);
  setenv("QMAILQUEUE", script, 1);
  setenv("QQ_DIR", dir, 1);
  fds = count_fds();
  test_ok();
  test_big();
  test_codes();
  test_exec();
  test_abort();
  test_split();
  is_int(count_fds(), fds, "no descriptor left open after all runs");
  cleanup();
  stralloc_free(&fd6);
  stralloc_free(&got);
  return done_testing();
}
