/* pwfile.h: the hub's password file users/passwd, its cdb users/passwd.cdb,
 * and the checkpassword request on descriptor 3 (qmail-checkpassword(8),
 * qmail-passwd(8)). No crypt(3) here: that is pwcheck.h.
 *
 * users/passwd, one account per line; blank lines and '#' lines ignored:
 *   login:hash                     a system account: uid, gid, home and
 *                                  shell from the password database
 *   login:hash:uid:gid:home        a virtual user: these ids and this home
 *                                  (the directory holding its Maildir/)
 * login: 1..PW_LOGIN_MAX bytes of '!'..'~' but ':', compared without regard
 * to ASCII case (stored lower case); a login appears once. hash: a crypt(3)
 * string, 1..PW_HASH_MAX bytes of '!'..'~' but ':' ("!" or "*" locks).
 * uid and gid decimal, uid not 0; home absolute, bytes ' '..'~' but ':'.
 *
 * users/passwd.cdb (written only by pw_compile):
 *   key login (lower case)   data hash\0                     (system)
 *                            data hash\0uid\0gid\0home\0     (virtual) */
#ifndef PWFILE_H
#define PWFILE_H

#include <stddef.h>
#include "stralloc.h"

#define PW_REQUEST_MAX 512   /* bytes on descriptor 3 (the interface's cap) */
#define PW_LOGIN_MAX 256     /* longest login */
#define PW_PASS_MAX 256      /* longest password */
#define PW_HASH_MAX 512      /* longest stored hash */
#define PW_LINE_MAX 4096     /* longest users/passwd line */
#define PW_FILE_MAX (64UL * 1024 * 1024)  /* largest users/passwd */

/* One parsed line: offsets into the line; uid/gid/home only if virtual. */
struct pw_line {
  size_t login, loginlen, hash, hashlen, rest;  /* rest: just past the hash */
  int virtual;
  unsigned long uid, gid;
  size_t home, homelen;
};

/* One account from the cdb: pointers into the lookup's stralloc. */
struct pw_user {
  const char *hash;
  int virtual;
  unsigned long uid, gid;
  const char *home;
};

/* pw_login_ok: s[0..len) is a possible login (length and bytes). */
int pw_login_ok(const char *s, size_t len);
/* pw_lower: ASCII lower case in place. */
void pw_lower(char *s, size_t len);
/* pw_parse_line: one line (no newline). 1 an account (l filled), 0 blank
 * or comment, -1 bad syntax (*why says what). */
int pw_parse_line(const char *s, size_t len, struct pw_line *l, const char **why);
/* pw_compile: users/passwd text buf[0..len) into a cdb on fd out (not
 * fsynced, not closed). 1 ok; 0 bad text (*line 1-based, *why what);
 * -1 system error (errno set). */
int pw_compile(const char *buf, size_t len, int out, unsigned long *line, const char **why);
/* pw_lookup: login[0..len) (any case) in the cdb open on fd. 1 found (out
 * holds the data, u points into it), 0 no such login (or not a possible
 * one), -1 error (errno set; EINVAL: a malformed record). */
int pw_lookup(int fd, const char *login, size_t len, stralloc *out, struct pw_user *u);
/* pw_request: split a checkpassword request buf[0..len): login\0password\0
 * then an optional timestamp\0 and more, ignored. 1 ok (pointers into buf,
 * NUL-terminated), 0 malformed (no NUL after the login or the password).
 * Lengths are the caller's to check: an over-long field is a bad login. */
int pw_request(const char *buf, size_t len, const char **login, size_t *loginlen,
               const char **pass, size_t *passlen);
/* pw_eq: a[0..alen) equals b[0..blen), in time that depends on the
 * lengths only, never on where the bytes differ. */
int pw_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif
