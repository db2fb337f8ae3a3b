/* pop3box.h: the Maildir a qmail-pop3d session works on, listed once at
 * the start (maildir(5)); the current directory is the Maildir.
 *
 * pop3box_scan, in this order:
 * 1. tmp/: regular files not changed for 36 hours are removed (leftovers
 *    of deliveries that died), as qmail's pop3d did.
 * 2. (nothing moves: new/ goes to cur/ at QUIT, pop3box_tocur, as
 *    qmail's pop3d did, so a session without QUIT changes nothing)
 * 3. cur/ and new/ are listed: names starting with "." are left out
 *    silently; anything that is not a regular file (a directory, a
 *    symlink, which is not followed, a fifo, a device) or cannot be
 *    opened and read is left out with a warning (the session goes on
 *    without it). Each message's size is counted as POP3 sends it
 *    (pop3msg.h), reading the file once.
 * 4. Messages are numbered oldest first (modification time, then name).
 * 5. Of files sharing a unique part (before ':': the same message in
 *    new/ and cur/, or twice in cur/ with other flags) only the first
 *    is listed, the others left out with a warning: each unique id
 *    (pop3cmd.h) is listed once. Their pool names stay (not reused).
 *
 * Memory: one struct and one name per message (about 100 bytes: 10 MB
 * for 100,000 messages); one read buffer. */
#ifndef POP3BOX_H
#define POP3BOX_H

#include <stddef.h>
#include <time.h>
#include "stralloc.h"

#define POP3BOX_TMPAGE (36 * 3600)

struct pop3box_msg {
  size_t name;              /* offset in pool: "cur/NAME" or "new/NAME", NUL-terminated */
  unsigned long long size;  /* octets as sent */
  time_t mtime;
  int deleted;
};

struct pop3box {
  struct pop3box_msg *m;
  size_t n, cap;
  stralloc pool;
  size_t skipped;           /* entries left out with a warning */
  /* warn: called for each entry left out (what: the reason text, name:
   * "cur/NAME", e: errno or 0); may be 0 */
  void (*warn)(const char *what, const char *name, int e);
};

/* pop3box_scan: steps 1-4 above into b (b->warn set by the caller, the
 * rest zero). 0 ok; -1 with errno when cur/ or new/ cannot be listed or
 * memory runs out. */
int pop3box_scan(struct pop3box *b, time_t now);
/* pop3box_tocur: if message i is in new/, move it to cur/ with ":2,"
 * appended (a name that already has a ':' keeps it), never over an
 * existing name (renameat2 RENAME_NOREPLACE, else link and unlink):
 * 0 done or nothing to do, -1 with errno (the message stays in new/). */
int pop3box_tocur(const struct pop3box *b, size_t i);
/* pop3box_free: release b's memory (b is then empty). */
void pop3box_free(struct pop3box *b);
/* pop3box_path: the path of message i (relative to the Maildir). */
const char *pop3box_path(const struct pop3box *b, size_t i);
/* pop3box_file: the base name of message i (without cur/ or new/). */
const char *pop3box_file(const struct pop3box *b, size_t i);
/* pop3box_open: open message i for reading, a regular file only,
 * symlinks not followed: the fd, or -1 with errno (ENOENT: it vanished). */
int pop3box_open(const struct pop3box *b, size_t i);

#endif
