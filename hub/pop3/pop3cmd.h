/* pop3cmd.h: reading POP3 command lines for qmail-pop3d (RFC 1939,
 * RFC 2449), and the unique-id listing of a Maildir name.
 *
 * A command line (its CRLF or LF already removed) is a keyword, matched
 * without regard to case, then arguments separated by spaces; trailing
 * spaces are allowed, at most two arguments are taken. Message numbers
 * and TOP's line count are decimal digits only: no sign, no spaces, no
 * trailing garbage; a message number is 1 to the message count. */
#ifndef POP3CMD_H
#define POP3CMD_H

#include <stddef.h>
#include "stralloc.h"

enum pop3_verb {
  POP3_UNKNOWN, POP3_STAT, POP3_LIST, POP3_RETR, POP3_DELE, POP3_NOOP,
  POP3_RSET, POP3_QUIT, POP3_TOP, POP3_UIDL, POP3_LAST, POP3_CAPA,
  POP3_AUTHSTATE  /* USER, PASS, APOP, AUTH, STLS: not after login */
};

#define POP3_MAXARGS 2

struct pop3_cmd {
  enum pop3_verb verb;
  size_t nargs;
  const char *arg[POP3_MAXARGS];
  size_t arglen[POP3_MAXARGS];
};

enum pop3_parse {
  POP3_OK = 0,
  POP3_EMPTY = -1,    /* nothing but spaces */
  POP3_NUL = -2,      /* a NUL byte in the line */
  POP3_TOOMANY = -3   /* more than POP3_MAXARGS arguments */
};

/* pop3_parse: split line[0..len) into c (args point into line). */
enum pop3_parse pop3_parse(const char *line, size_t len, struct pop3_cmd *c);
/* pop3_number: s[0..len) as a decimal number: 1 ok, 0 not one (empty,
 * a non-digit, more than ULLONG_MAX). */
int pop3_number(const char *s, size_t len, unsigned long long *v);
/* pop3_msgnum: a message number 1..count: 1 ok with *i = number - 1;
 * 0 not a number; -1 a number out of range. */
int pop3_msgnum(const char *s, size_t len, size_t count, size_t *i);

/* POP3_UIDMAX: RFC 1939 section 7: 1 to 70 characters 0x21 to 0x7e. */
#define POP3_UIDMAX 70
/* pop3_uid: append the unique id of Maildir file name (without cur/ or
 * new/): its unique part, before the first ':', when that is 1 to 70
 * printable characters; else "~" and 32 hex digits of a hash of it.
 * The same message keeps its id when it moves from new/ to cur/ or its
 * flags change. 1 ok, 0 no memory. */
int pop3_uid(stralloc *sa, const char *name);

#endif
