/* q_getln.h: read one line with a cap. libowfat's buffer_getline splits long
 * lines silently and buffer_getline_sa grows without bound (docs/libowfat.md P5),
 * so protocol and header readers use this instead. */
#ifndef Q_GETLN_H
#define Q_GETLN_H

#include <stddef.h>
#include "buffer.h"
#include "stralloc.h"

enum getln_status {
  GETLN_LINE = 1,     /* sa holds a line ending in '\n' */
  GETLN_EOF = 0,      /* end of input; sa holds a last partial line (maybe empty) */
  GETLN_TOOLONG = -1, /* cap bytes read without '\n'; sa holds cap bytes, rest unread */
  GETLN_ERR = -2,     /* read error (errno) */
  GETLN_NOMEM = -3
};

/* getln: replace sa with the next line (including its '\n'), reading at
 * most cap bytes. */
int getln(buffer *b, stralloc *sa, size_t cap);
/* getln_peek: the next byte without consuming it: 1 and *c set, 0 at EOF,
 * -1 on error. */
int getln_peek(buffer *b, char *c);

#endif
