/* q_utf8.h: the UTF-8 rule of SMTPUTF8 (RFC 6531, RFC 6532 sec 3.1, which
 * takes UTF-8 as RFC 3629 defines it). One validator for every program
 * that takes an internationalized address: qmail-smtpd, qmail-inject,
 * qmail-remote.
 *
 * Valid: the shortest form of a code point from U+0000 to U+10FFFF that is
 * not a surrogate (U+D800..U+DFFF). Refused: a stray continuation byte
 * (80..BF) or one missing, an overlong form (C0, C1, E0 80..9F, F0 80..8F),
 * an encoded surrogate (ED A0..BF), a code point past U+10FFFF (F4 90..,
 * F5..FF), a sequence cut by the end of the input. Nothing else is judged
 * here (control characters are the caller's rule, q_addr.h). Time linear
 * in len, no memory. */
#ifndef Q_UTF8_H
#define Q_UTF8_H

#include <stddef.h>

/* utf8_valid: the length of the longest valid prefix of s[0..len): len
 * when all of it is valid UTF-8, else the offset of the first bad
 * sequence. */
size_t utf8_valid(const char *s, size_t len);
/* utf8_ascii: 1 when s[0..len) has no byte >= 128. */
int utf8_ascii(const char *s, size_t len);

#endif
