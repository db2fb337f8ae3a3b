/* q_err.c: tool diagnostics to fd 2 (see q_err.h). */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include "q_err.h"

const char *progname = "qmail";

static void vprint(const char *kind, int errnum, const char *s0, va_list ap)
{
  char out[4096];
  size_t len = 0;
  const char *s;

#define ADD(x) do { size_t l_ = strlen(x); if (l_ > sizeof out - 1 - len) l_ = sizeof out - 1 - len; \
                    memcpy(out + len, (x), l_); len += l_; } while (0)
  ADD(progname);
  ADD(": ");
  ADD(kind);
  ADD(": ");
  for (s = s0; s; s = va_arg(ap, const char *))
    ADD(s);
  if (errnum) {
    ADD(": ");
    ADD(strerror(errnum));
  }
#undef ADD
  out[len++] = '\n';
  (void)!write(2, out, len);
}

void err_print(const char *kind, int errnum, const char *s0, ...)
{
  va_list ap;
  int saved = errno;
  va_start(ap, s0);
  vprint(kind, errnum, s0, ap);
  va_end(ap);
  errno = saved;
}

void err_exit(int code, int errnum, const char *s0, ...)
{
  va_list ap;
  va_start(ap, s0);
  vprint("fatal", errnum, s0, ap);
  va_end(ap);
  _exit(code);
}
