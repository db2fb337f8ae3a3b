/* q_sa.h: small stralloc helpers libowfat lacks or gets wrong.
 * libowfat's stralloc_catulong0 and the macros built on it are broken in
 * Debian's binary (docs/libowfat.md P2): use sa_catnum instead. */
#ifndef Q_SA_H
#define Q_SA_H

#include <stddef.h>
#include "stralloc.h"

/* sa_catnum: append the decimal form of n. 1 ok, 0 no memory. */
int sa_catnum(stralloc *sa, unsigned long long n);
/* sa_catsafe: append s[0..len) with bytes outside printable ASCII written as
 * \ooo octal (and backslash doubled): for logs and messages that quote
 * data from outside. 1 ok, 0 no memory. */
int sa_catsafe(stralloc *sa, const char *s, size_t len);
/* sa_has_byte: 1 if any of the bytes in set (NUL counts if setlen covers it)
 * occurs in s[0..len). */
int sa_has_any(const char *s, size_t len, const char *set, size_t setlen);

#endif
