/* q_limits.h: the one table of caps on input from outside (DESIGN.md sec 6).
 * Each cap has a compiled default and may be overridden by a control file
 * of the same name holding a decimal number. Exceeding a cap is always a
 * clear error, never a silent truncation. */
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
  LIM_SESSION,      /* timeoutsession: total seconds for one session (3600) */
  LIM_INJECTRCPTS,  /* maxinjectrcpt: recipients qmail-inject takes (100000) */
  LIM_COUNT
};

/* limit_get: the cap in force (control file read once per process; a
 * missing or unreadable file keeps the default). */
unsigned long limit_get(enum limit_id id);
/* limit_name: the control file name of a cap. */
const char *limit_name(enum limit_id id);
/* limit_default: the compiled default. */
unsigned long limit_default(enum limit_id id);

#endif
