/* q_spool.h: a message held in memory up to SPOOL_MEM bytes and in an
 * unlinked temporary file beyond that, so a 100 MB message costs at most
 * SPOOL_MEM of RAM. The temporary file is made with O_TMPFILE (or mkstemp +
 * unlink) in $TMPDIR, else /tmp. A seekable regular file can be adopted
 * as is (no copy). Lengths are 64-bit. */
#ifndef Q_SPOOL_H
#define Q_SPOOL_H

#include <stddef.h>
#include "stralloc.h"
#include "q_io.h"

#define SPOOL_MEM (256UL * 1024)

struct spool {
  stralloc mem;             /* content while it fits in memory */
  int fd;                   /* -1, or the temporary or adopted file */
  unsigned long long off;   /* where the content starts in fd */
  unsigned long long len;   /* bytes of content */
  int owned;                /* fd is ours to close */
};

/* spool_init: an empty spool. */
void spool_init(struct spool *s);
/* spool_put: append buf[0..len). 0 ok, -1 error (errno; ENOMEM, ENOSPC...). */
int spool_put(struct spool *s, const char *buf, size_t len);
/* spool_readfd: append everything readable from fd until EOF. If fd is a
 * regular file and the spool is empty, adopt it from its current offset
 * instead of copying (fd stays the caller's). 0 ok, -1 error. */
int spool_readfd(struct spool *s, int fd);
/* spool_len: bytes held. */
unsigned long long spool_len(const struct spool *s);
/* spool_write: write the whole content to fd within lim (NULL: no limit).
 * 0 ok, -1 error (errno). Can be called more than once. */
int spool_write(struct spool *s, int fd, const struct io_limits *lim);
/* spool_free: release memory and close an owned file. */
void spool_free(struct spool *s);

#endif
