/* q_limits.h: the one table of caps on input from outside (docs/limits.md).
 * Each cap has a compiled default and may be overridden by a control file
 * of the same name holding a positive decimal number. A missing file means
 * the default; a file that is present but unreadable or holds anything
 * else (junk, 0, an empty line, a number too large) stops the program with
 * a temporary failure naming the file: never a silent default. Exceeding a
 * cap is always a clear error, never a silent truncation. */
#ifndef Q_LIMITS_H
#define Q_LIMITS_H

enum limit_id {
  LIM_SMTPLINE,     /* maxsmtpline: SMTP command/data line, bytes (2048) */
  LIM_ADDR,         /* maxaddress: one address, bytes (1000) */
  LIM_RCPTS,        /* maxrcpt: recipients per message (1000) */
  LIM_HEADER,       /* maxheader: header block, bytes (1 MB) */
  LIM_HEADERLINE,   /* maxheaderfield: one header field incl. folding (256 KB) */
  LIM_HOPS,         /* maxhops: Received/Delivered-To lines before looping (100) */
  LIM_NETSTRING,    /* maxnetstring: one QMQP/QMTP message netstring (1 GB) */
  LIM_QMTPPKGS,     /* maxqmtppackages: QMTP packages per connection (10000) */
  LIM_SESSION,      /* timeoutsession: total seconds for one session (1800) */
  LIM_INJECTRCPTS,  /* maxinjectrcpt: recipients qmail-inject takes (100000) */
  LIM_COUNT
};

/* limit_fail: what a program does when a cap's file is unusable: name is
 * the control file, why the reason (control_strerror). Must not return. */
typedef void (*limit_fail)(const char *name, const char *why) __attribute__((noreturn));

/* limit_get: the cap in force, its control file read once per process.
 * An unusable file calls the hook set by limit_onfail; the default hook
 * writes "progname: alert: cannot use control/NAME: WHY" to fd 2 and exits
 * 111. Out-of-range ids give 0. */
unsigned long limit_get(enum limit_id id);
/* limit_read: the same without the hook or the cache: 1 with *v the cap
 * (the default when the file is missing), -1 with errno when it is
 * unusable (EDOM for 0). */
int limit_read(enum limit_id id, unsigned long *v);
/* limit_onfail: set the hook (0: the default one). */
void limit_onfail(limit_fail fn);
/* limit_name: the control file name of a cap. */
const char *limit_name(enum limit_id id);
/* limit_default: the compiled default. */
unsigned long limit_default(enum limit_id id);

#endif
