/* users.h: the users/assign -> users/cdb compiler and the lookups that
 * decide which user delivers a local address (qmail-users(5): qmail-newu,
 * qmail-getpw, qmail-lspawn, users/assign).
 *
 * An answer is always 6 NUL-terminated fields in one stralloc, the same
 * bytes qmail-getpw prints: user\0uid\0gid\0home\0dash\0ext\0.
 *
 * users/cdb (our own layout, written only by users_compile):
 *   key "=" local   data user\0uid\0gid\0home\0dash\0ext\0   (exact line)
 *   key "+" prefix  data user\0uid\0gid\0home\0dash\0pre\0   (wildcard line)
 * Keys are lowercased; lookups lowercase the address the same way. A
 * wildcard answer's ext is pre followed by what the address has after the
 * prefix. The first line for a key wins. */
#ifndef USERS_H
#define USERS_H

#include <stddef.h>
#include "stralloc.h"

#define USERS_LOCAL_MAX 1000   /* longest local part looked up */
#define USERS_LINE_MAX 4096    /* longest users/assign line */

/* users_compile: read users/assign text buf[0..len) and write the cdb on
 * fd out (not fsynced, not closed: the caller does tmp+fsync+rename).
 * Returns 1 ok; 0 syntax error, *line = the 1-based bad line (a missing
 * final "." line is reported as the line after the last); -1 system
 * error (errno set). */
int users_compile(const char *buf, size_t len, int out, unsigned long *line);

/* users_cdb_lookup: look local[0..len) up in the cdb open on fd: the exact
 * key, then the longest wildcard prefix (the empty prefix included).
 * 1 found (out = the 6 fields), 0 not found, -1 error (errno set). */
int users_cdb_lookup(int fd, const char *local, size_t len, stralloc *out);

/* users_getpw: qmail-getpw's rule on the password database: the longest
 * user name that equals local, or is a prefix of it followed by '-', whose
 * uid is not 0 and whose home directory exists and is owned by that uid;
 * dash "-" and ext the rest (dash "" and ext "" for the whole name).
 * Otherwise the user alias (QUSER_ALIAS) with dash "-" and ext = local.
 * 1 found, 0 no such user and no alias user, -1 temporary error. */
int users_getpw(const char *local, size_t len, stralloc *out);

/* users_fields: split a 6-field answer into f[0..5]. 1 ok, 0 malformed. */
int users_fields(const stralloc *sa, const char *f[6]);

#endif
