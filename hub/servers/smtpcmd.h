/* smtpcmd.h: parsing SMTP command lines (RFC 5321 sec 4.1) for qmail-smtpd.
 * Kept apart from the server so unit tests and the fuzzer call it directly.
 * Nothing here reads files or the environment; the caller passes the caps.
 *
 * What is accepted (lenient where qmail was, strict where it was unsafe):
 *  - a line ends in CRLF or a bare LF (both stripped); the verb is the text
 *    before the first space, the argument the rest with surrounding blanks
 *    removed; a NUL byte anywhere is an error (never truncated);
 *  - MAIL FROM:/RCPT TO: with the keyword in any case, optional spaces after
 *    the colon, the path in <...> or, for a simple address, bare (S10);
 *  - a source route "@a,@b:" at the start of the path is dropped (R6, R7);
 *  - quoted local parts and backslash escapes are unquoted, as qmail does
 *    ("x@y"@z gives the envelope address x@y@z);
 *  - after the path: ESMTP parameters SIZE=<digits>, BODY=7BIT|8BITMIME
 *    and SMTPUTF8 (RFC 6531 sec 3.4, no value), MAIL's RET= and ENVID=,
 *    RCPT's NOTIFY= and ORCPT= (RFC 3461, checked by dsnparam.h: a bad
 *    value or one given twice is SMTPCMD_PARAMSYN) where the caller allows
 *    them; anything else is "not implemented". One function per parameter
 *    (param_one's table in smtpcmd.c): a new one is one more row;
 *  - bytes >= 128 are kept by the parser; smtpcmd_utf8 then says whether
 *    the address may have them: only valid UTF-8 (q_utf8.h), and only in
 *    a transaction whose MAIL gave SMTPUTF8.
 * Caps: the address (after unquoting) may hold at most maxaddr bytes; a
 * SIZE beyond what fits in unsigned long long is kept as ULLONG_MAX (so it
 * is simply "too big", never wrapped). Memory is linear in the line. */
#ifndef SMTPCMD_H
#define SMTPCMD_H

#include <stddef.h>
#include "stralloc.h"
#include "dsnparam.h"

/* results (0 ok, negative error); smtpcmd_reply gives the SMTP reply */
enum smtpcmd_result {
  SMTPCMD_OK = 0,
  SMTPCMD_NUL = -1,       /* 501 5.5.4 NUL byte in the command */
  SMTPCMD_SYNTAX = -2,    /* 501 5.5.4 bad path: brackets, quotes, keyword */
  SMTPCMD_CTRL = -3,      /* 501 5.5.4 control character in the address */
  SMTPCMD_TOOLONG = -4,   /* 501 5.1.3 address longer than maxaddr */
  SMTPCMD_PARAMSYN = -5,  /* 501 5.5.4 bad value for SIZE=, BODY=, AUTH=, SMTPUTF8 */
  SMTPCMD_PARAM = -6,     /* 555 5.5.4 unknown or not allowed parameter */
  SMTPCMD_NOMEM = -7,     /* 421 4.3.0 out of memory */
  SMTPCMD_NEEDUTF8 = -8,  /* 553 5.6.7 8-bit address without SMTPUTF8 */
  SMTPCMD_BADUTF8 = -9    /* 553 5.6.7 address that is not valid UTF-8 */
};

/* which ESMTP parameters a command accepts */
#define SMTPCMD_P_SIZE 1
#define SMTPCMD_P_BODY 2
#define SMTPCMD_P_AUTH 4   /* MAIL's AUTH= (RFC 4954 sec 5): checked, then ignored */
#define SMTPCMD_P_UTF8 8   /* MAIL's SMTPUTF8 (RFC 6531 sec 3.4), no value */
#define SMTPCMD_P_DSNMAIL 16  /* MAIL's RET= and ENVID= (RFC 3461, dsnparam.h) */
#define SMTPCMD_P_DSNRCPT 32  /* RCPT's NOTIFY= and ORCPT= (RFC 3461) */

enum smtp_body { SMTP_BODY_NONE = 0, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };

struct smtp_line {
  char *verb;     /* points into the line; not NUL-terminated */
  size_t verblen;
  char *arg;      /* points into the line; arglen may be 0 */
  size_t arglen;
};

struct smtp_path {
  stralloc addr;               /* envelope address, no brackets, unquoted */
  int has_size;                /* SIZE= given */
  unsigned long long size;     /* its value, ULLONG_MAX when it overflowed */
  enum smtp_body body;
  int smtputf8;                /* SMTPUTF8 given */
  struct dsn_mail dsnm;        /* RET=, ENVID= (pointing into the line) */
  struct dsn_rcpt dsnr;        /* NOTIFY=, ORCPT= (pointing into the line) */
};

/* smtpcmd_split: cut s[0..len) (one line, with or without its CRLF/LF)
 * into verb and argument. SMTPCMD_OK, or SMTPCMD_NUL when a NUL occurs. */
int smtpcmd_split(char *s, size_t len, struct smtp_line *l);
/* smtpcmd_verbis: 1 if the line's verb is v (ASCII case ignored). */
int smtpcmd_verbis(const struct smtp_line *l, const char *v);
/* smtpcmd_path: parse the argument of MAIL (kw "FROM") or RCPT (kw "TO"):
 * "kw:" path [SP params]. params is a mask of SMTPCMD_P_*; maxaddr the cap
 * on the address. p->addr is replaced; the other fields are reset first.
 * Returns SMTPCMD_OK or an error; an empty path "<>" is OK (len 0). */
int smtpcmd_path(const char *arg, size_t len, const char *kw, unsigned params,
                 size_t maxaddr, struct smtp_path *p);
/* smtpcmd_utf8: may address a[0..len) stand in a transaction that gave
 * SMTPUTF8 (utf8 1) or not (utf8 0)? SMTPCMD_OK for ASCII; with a byte
 * >= 128: SMTPCMD_NEEDUTF8 without SMTPUTF8, SMTPCMD_BADUTF8 when it is
 * not valid UTF-8, else SMTPCMD_OK. */
int smtpcmd_utf8(const char *a, size_t len, int utf8);
/* smtpcmd_reply: the SMTP reply line (code, enhanced code, text; no CRLF)
 * for an error result; "" for SMTPCMD_OK. */
const char *smtpcmd_reply(int result);

#endif
