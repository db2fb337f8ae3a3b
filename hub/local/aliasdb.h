/* aliasdb.h: where the aliases file and its cdb are, and the lookup in
 * the cdb (docs/aliases.md; the syntax is fwdfile.h's).
 * control/aliases, a list file: first item the aliases file (default
 * /etc/aliases), second item the cdb (default: the first with ".cdb"
 * added). Both must be absolute paths.
 * The cdb, written only by qmail-newaliases: key the alias name
 * (lowercased), data its compiled entries (fwdfile.h). */
#ifndef ALIASDB_H
#define ALIASDB_H

#include <stddef.h>
#include "stralloc.h"

#define ALIASES_DEFAULT "/etc/aliases"
#define ALIASES_DATA_MAX (1024 * 1024)  /* bytes of one alias's entries in the cdb */

/* aliasdb_paths: src and cdb (NUL-terminated) from control/aliases.
 * 1 ok; 0 the setting is bad (*why); -1 it cannot be read (errno). */
int aliasdb_paths(stralloc *src, stralloc *cdb, const char **why);

/* aliasdb_lookup: the compiled entries of name[0..len) (looked up
 * lowercased) from the cdb at path. 1 found, 0 not found or no cdb at
 * all, -1 error (errno). */
int aliasdb_lookup(const char *path, const char *name, size_t len, stralloc *out);

#endif
