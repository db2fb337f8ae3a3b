/* pwcheck.h: passwords against crypt(3) hashes, through libxcrypt
 * (qmail-checkpassword, qmail-passwd; only the programs that link this
 * module link -lcrypt).
 *
 * Every check costs one hash computation whatever the outcome: a login
 * that does not exist, or whose stored hash is locked or not a valid
 * crypt(3) string, is hashed with a dummy yescrypt setting of the default
 * cost, so the time does not tell an unknown login from a wrong password
 * (unless the account's own hash has another cost). */
#ifndef PWCHECK_H
#define PWCHECK_H

#include "stralloc.h"

#define PW_METHOD "$y$"   /* yescrypt, libxcrypt's default cost */

/* pw_verify: pass (NUL-terminated) against stored, a crypt(3) string, or
 * NULL for no such login. 1 it matches, 0 it does not (or stored is NULL,
 * empty, locked, invalid), -1 the hash could not be computed (errno). */
int pw_verify(const char *pass, const char *stored);
/* pw_hash: out = a new PW_METHOD hash of pass with a random salt,
 * NUL-terminated. 1 ok, -1 error (errno). */
int pw_hash(const char *pass, stralloc *out);

#endif
