/* chanfile.h: qmail-send's channel files local/S/N and remote/S/N
 * (hub/queue/QUEUE.md sec 1, docs/queue.md sec 5, per-recipient
 * checkpointing): a sequence of NUL-terminated records "T<addr>\0"
 * (still to do) or "D<addr>\0" (done). A delivery result is checkpointed
 * by chanfile_markdone, which overwrites the one T byte with D: a single
 * pwrite, no fsync (a crash may repeat a delivery: duplicates allowed,
 * loss never).
 *
 * The reader is a generic streaming reader of NUL-terminated items, also
 * used by hub/send/todo.c for envelope files: memory is one fixed buffer
 * whatever the file size. Caps: one item (type byte + address + NUL) is
 * at most CHANFILE_ITEM_MAX bytes; a longer one is an error (ENAMETOOLONG),
 * as is a file that ends inside an item (EPROTO). */
#ifndef CHANFILE_H
#define CHANFILE_H

#include <stddef.h>
#include <sys/types.h>

#define CHANFILE_ITEM_MAX (4096 + 2)  /* REWRITE_ADDR_MAX + type + NUL */
#define CHANFILE_BUF 65536

struct chanfile {
  int fd;
  off_t base;        /* file offset of buf[0] */
  size_t pos, len;   /* unread bytes: buf[pos..len) */
  int eof;
  char *buf;         /* CHANFILE_BUF bytes */
};

/* One item. s points into the reader's buffer, valid until the next call;
 * s[0] is the type byte ('T', 'D', ...; '\0' for an empty item, len 0);
 * the address is s+1 .. s+len (not counting the NUL). */
struct chanrec {
  off_t offset;      /* file offset of the type byte: give it to markdone */
  char type;
  const char *addr;  /* after the type byte; "" for an empty item */
  size_t alen;
};

/* chanfile_open: open path for reading. 0 ok, -1 error (errno; ENOENT
 * when the file is missing). */
int chanfile_open(struct chanfile *c, const char *path);
/* chanfile_fdopen: the same on an open descriptor (taken over: closed by
 * chanfile_close). 0 ok, -1 out of memory. */
int chanfile_fdopen(struct chanfile *c, int fd);
/* chanfile_next: the next item. 1 got one, 0 clean end of file, -1 error
 * (errno: ENAMETOOLONG item over the cap, EPROTO file ends inside an
 * item, or a read error). An empty item (a lone NUL) is returned with
 * type '\0'. */
int chanfile_next(struct chanfile *c, struct chanrec *r);
/* chanfile_unread: push back r, the item chanfile_next just returned (no
 * call in between): the next call returns it again. */
void chanfile_unread(struct chanfile *c, const struct chanrec *r);
/* chanfile_close: close the descriptor and free the buffer. */
void chanfile_close(struct chanfile *c);

/* chanfile_markdone: overwrite the byte at offset of path with 'D' (one
 * pwrite; no fsync by design). 0 ok, -1 error (errno). */
int chanfile_markdone(const char *path, off_t offset);
/* chanfile_alldone: 1 if every record of path is 'D' (or the file holds
 * none), 0 if some record is 'T', -1 error (errno; a record of another
 * type, or an empty item, is EPROTO). */
int chanfile_alldone(const char *path);
/* chanfile_count: the numbers of T and D records of path (either pointer
 * may be NULL). 0 ok, -1 error as chanfile_alldone. */
int chanfile_count(const char *path, unsigned long *ntodo, unsigned long *ndone);

#endif
