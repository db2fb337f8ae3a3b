/* smtptls.c: STARTTLS, SMTPS and the TLS part of the Received line for
 * qmail-smtpd (see smtptls.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "q_control.h"
#include "q_err.h"
#include "q_tls.h"
#include "refuselog.h"
#include "smtptls.h"

static struct qtls tls;
static int active;     /* the session is inside TLS */
static int prepared;   /* tls.srv is loaded */
static int certok = -1;

int smtptls_implicit(void)
{
  const char *s = getenv("SMTPS");
  return s && *s;
}

int smtptls_active(void) { return active; }

int smtptls_offer(void)
{
  if (active) return 0;
  if (certok < 0) {
    int r = qtls_havecert();
    certok = r > 0;
    if (r < 0)
      err_print("warning", 0, "STARTTLS not offered: cannot read control/" QTLS_CERT ": ",
                control_strerror(errno), (const char *)0);
  }
  return certok;
}

int smtptls_prepare(void)
{
  stralloc why = {0};
  struct tls_config *cfg;
  if (prepared) return 0;
  if (qtls_preloaded(&tls)) { prepared = 1; return 0; }   /* the listener's */
  if (qtls_config(&cfg, &why) < 0 || qtls_server(&tls, cfg, &why) < 0) {
    err_print("alert", 0, "TLS not available: ", why.len ? why.s : "out of memory", (const char *)0);
    stralloc_free(&why);
    return -1;
  }
  stralloc_free(&why);
  prepared = 1;
  return 0;
}

void smtptls_preload(void) { qtls_preload(0); }

/* log_fail: one refusal line: no reply was sent ("-"), the reason */
static void log_fail(const stralloc *why)
{
  struct refusal r;
  r.stage = smtptls_implicit() ? "smtps" : "starttls";
  r.code = "-";
  r.enh = 0;
  r.reason = why->len ? why->s : "TLS handshake failed";
  r.reasonlen = why->len ? why->len - 1 : strlen(r.reason);
  r.input = 0;
  r.inputlen = 0;
  refuselog(&r);
}

int smtptls_handshake(buffer *in, const struct io_limits *rlim, const struct io_limits *wlim)
{
  stralloc why = {0};
  int r = SMTPTLS_OK;
  in->p = in->n = 0;   /* what came in the clear after STARTTLS: dropped */
  if (qtls_accept(&tls, 0, 1, rlim, wlim, &why) < 0) {
    r = errno == ETIMEDOUT ? SMTPTLS_TIMEOUT : tls.eof ? SMTPTLS_EOF : SMTPTLS_FAIL;
    log_fail(&why);
  } else {
    active = 1;
  }
  stralloc_free(&why);
  return r;
}

ssize_t smtptls_read(int fd, char *buf, size_t len, const struct io_limits *lim)
{
  return active ? qtls_read(&tls, buf, len) : io_read(fd, buf, len, lim);
}

ssize_t smtptls_bwrite(int fd, const char *buf, size_t len, void *b)
{
  return active ? qtls_write(&tls, buf, len) : io_bwrite(fd, buf, len, b);
}

void smtptls_end(void)
{
  if (active) qtls_close(&tls);
}

int smtptls_describe(stralloc *sa)
{
  sa->len = 0;
  return !active || (qtls_describe(&tls, sa) && stralloc_0(sa));
}
