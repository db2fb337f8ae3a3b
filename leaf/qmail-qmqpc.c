/* qmail-qmqpc: the leaf's qmail-queue. Reads a message on fd 0 and a
 * qmail-queue envelope on fd 1 (F<sender>\0 T<rcpt>\0 ... \0), ships both
 * to a hub listed in control/qmqpservers over QMQP or QMTP (common/q_qmqpc.c
 * has the failover rules and the mapping of answers) and exits with
 * qmail-queue's status: 0 only after the hub said K for every recipient,
 * or, when no hub took it for a temporary reason, after the message was
 * kept in the leaf's spool (common/q_lspool.h, docs/spool.md): then one
 * line on stderr says so, and why. Exit 82 comes with "D<text>" or
 * "Z<text>" on fd 6 (when fd 6 is open).
 * Caps: the envelope is held in memory up to 64 MB (more: 91); the message
 * is spooled, at most 256 KB of it in memory (common/q_spool.c).
 * Own codes: 51 out of memory, 52 the 24-hour alarm, 53 no room for the
 * spool file, 54 read error. Prints nothing else, as qmail-queue.
 *
 *   qmail-qmqpc -flush [-v]   send what waits in the spool (root: everyone's)
 *   qmail-qmqpc -list         show what waits in the spool */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_lspool.h"
#include "q_spool.h"
#include "spoolcmd.h"

#define ENV_MAX (64UL * 1024 * 1024)
#define ALARM_SECONDS 86400
#define USAGE "usage: qmail-qmqpc [ -flush [ -v ] | -list ] (#5.3.5)"

/* read_envelope: all of fd into sa, at most ENV_MAX bytes. 0 ok, else the
 * exit code. */
static int read_envelope(int fd, stralloc *sa)
{
  for (;;) {
    ssize_t r;
    if (!stralloc_readyplus(sa, 65536)) return 51;
    r = read(fd, sa->s + sa->len, 65536);
    if (r < 0) { if (errno == EINTR) continue; return 54; }
    if (r == 0) return 0;
    if ((size_t)r > ENV_MAX - sa->len) return 91;
    sa->len += (size_t)r;
  }
}

/* read_message: fd 0 into the spool. 0 ok, else the exit code. */
static int read_message(struct spool *msg)
{
  if (spool_readfd(msg, 0) == 0) return 0;
  if (errno == ENOMEM) return 51;
  if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) return 53;
  return 54;
}

/* tell: the custom text on fd 6; a closed fd 6 is fine. */
static void tell(const stralloc *text)
{
  size_t done = 0;
  while (done < text->len) {
    ssize_t w = write(6, text->s + done, text->len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    done += (size_t)w;
  }
}

static void on_alarm(int sig)
{
  (void)sig;
  _exit(52);
}

/* command: -flush [-v], -list. */
static int command(int argc, char **argv)
{
  if (argc == 2 && !strcmp(argv[1], "-list")) return spoolcmd_list() < 0 ? 111 : 0;
  if (argc == 2 && !strcmp(argv[1], "-flush")) return spoolcmd_flush(-1);
  if (argc == 3 && !strcmp(argv[1], "-flush") && !strcmp(argv[2], "-v")) return spoolcmd_flush(2);
  fatal(100, USAGE);
}

int main(int argc, char **argv)
{
  struct spool msg;
  stralloc env = {0}, text = {0};
  int code;
  progname = "qmail-qmqpc";
  if (argc > 1) return command(argc, argv);
  signal(SIGALRM, on_alarm);
  alarm(ALARM_SECONDS);
  spool_init(&msg);
  code = read_message(&msg);  /* the message first: the caller writes it first */
  if (!code) code = read_envelope(1, &env);
  if (!code) code = lspool_send(&msg, env.s, env.len, &text);
  if (code == 82) tell(&text);
  spool_free(&msg);
  stralloc_free(&env);
  stralloc_free(&text);
  return code;
}
