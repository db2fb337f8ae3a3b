/* q_cdbmake.h: write a cdb atomically: the records go to PATH.tmp (created
 * anew, never through a symbolic link), which is then fsynced, closed,
 * renamed over PATH, and PATH's directory fsynced, so that readers see the
 * old table or the new one, whole, even after a crash. On any failure the
 * temporary file is removed and PATH is left as it was. Used by the
 * programs that compile a table (qmail-newaliases, qmail-newmrh,
 * qmail-newu). */
#ifndef Q_CDBMAKE_H
#define Q_CDBMAKE_H

#include <stddef.h>
#include <sys/types.h>
#include "cdb_make.h"
#include "stralloc.h"

struct cdbmake {
  struct cdb_make cm;  /* ~12 KB: keep the struct static */
  stralloc path, tmp, dir;
  int fd;
};

/* cdbmake_start: create path.tmp with mode (fchmod'ed, whatever the
 * umask) and start the cdb in it. 0 ok, -1 error (errno; c->tmp names
 * the file). */
int cdbmake_start(struct cdbmake *c, const char *path, mode_t mode);
/* cdbmake_open: only create path.tmp, for a caller that writes the cdb on
 * c->fd itself (users_compile) and then calls cdbmake_commit. */
int cdbmake_open(struct cdbmake *c, const char *path, mode_t mode);
/* cdbmake_add: one record. 0 ok, -1 error (errno). */
int cdbmake_add(struct cdbmake *c, const char *key, size_t klen, const char *data, size_t dlen);
/* cdbmake_finish: finish, fsync, close, rename over path, fsync the
 * directory. 0 ok, -1 error (errno; *what: "write", "rename" or "sync",
 * the step that failed). */
int cdbmake_finish(struct cdbmake *c, const char **what);
/* cdbmake_commit: the same steps after the cdb's own end, for
 * cdbmake_open's callers. */
int cdbmake_commit(struct cdbmake *c, const char **what);
/* cdbmake_abort: close and remove the temporary file (errno kept). */
void cdbmake_abort(struct cdbmake *c);

#endif
