/* q_err.h: diagnostics for tools, in qmail's shape:
 *   prog: fatal: unable to <verb> <object>: <reason> (#x.y.z)
 * Strings are passed as a NULL-terminated list by the macros below; output
 * goes to fd 2 in one write so concurrent writers do not interleave.
 * progname is set by each main() before the first message. */
#ifndef Q_ERR_H
#define Q_ERR_H

#include <errno.h>

extern const char *progname;

/* err_print: write "progname: <kind>: s0 s1 ... [: strerror(errnum)]\n" to fd 2.
 * errnum 0 means no reason is appended. Long messages are cut at 4 KB. */
void err_print(const char *kind, int errnum, const char *s0, ...);
/* err_exit: err_print with kind "fatal", then _exit(code) after flushing nothing. */
void err_exit(int code, int errnum, const char *s0, ...) __attribute__((noreturn));

#define warn(...) err_print("warning", 0, __VA_ARGS__, (const char *)0)
#define warn_sys(...) err_print("warning", errno, __VA_ARGS__, (const char *)0)
#define fatal(code, ...) err_exit((code), 0, __VA_ARGS__, (const char *)0)
#define fatal_sys(code, ...) err_exit((code), errno, __VA_ARGS__, (const char *)0)
#define fatal_nomem() fatal(111, "out of memory (#4.3.0)")

#endif
