/* rjobq.h: the job protocol of qmail-remote's session mode (qmail-remote
 * -S host, rsession.h), between qmail-rspawn and qmail-remote.
 *
 * A job on fd 0:
 *   <tag byte><S/N>\0<sender>\0<rcpt>\0[<rcpt>\0...]\0
 * The S/N item may go on with DSN lines: "S/N\n<mail words>\n<words of
 * recipient 1>..." (hub/send/qspawn.h; rjob.dsn).
 * The tag is one opaque byte (NUL too); S/N names the message under
 * queue/mess/ (digits '/' digits, at most RJOBQ_IDMAX bytes); the sender
 * may be empty; 1..RJOBQ_MAXRCPT recipients; an empty item ends the job.
 * A whole job is at most RJOBQ_MAXJOB bytes: more is a protocol error.
 * A job that parses but has a bad S/N, no recipient or too many is "bad":
 * it is answered (every recipient s, the message Z) and the session goes on.
 *
 * Reports on fd 1: the records of rjob_output (r/h/s per recipient, then
 * K/Z/D, each "<letter><text>\0"), each record prefixed with the job's
 * tag byte. */
#ifndef RJOBQ_H
#define RJOBQ_H

#include <stddef.h>
#include "stralloc.h"
#include "rjob.h"

#define RJOBQ_MAXJOB (128 * 1024)
#define RJOBQ_MAXRCPT 100
#define RJOBQ_IDMAX 40

struct rjobq_job {
  char tag;
  size_t len;        /* bytes of the whole job, tag and end included */
  size_t idoff;      /* offsets in the buffer of the S/N, the sender and */
  size_t senderoff;  /* the first recipient (each NUL-terminated there) */
  size_t rcptoff;
  size_t nrcpt;
  int bad;           /* 0 ok; else why: RJOBQ_BADID, RJOBQ_NORCPT, RJOBQ_MANYRCPT */
};

enum { RJOBQ_BADID = 1, RJOBQ_NORCPT = 2, RJOBQ_MANYRCPT = 3 };

/* rjobq_parse: the job at the start of buf[0..len). 1 complete (*jb set;
 * jb->len bytes belong to it), 0 incomplete (read more), -1 protocol
 * error (a job over RJOBQ_MAXJOB bytes). */
int rjobq_parse(const char *buf, size_t len, struct rjobq_job *jb);
/* rjobq_idok: id is digits '/' digits, at most RJOBQ_IDMAX bytes, ended
 * by its NUL or by the '\n' that starts its DSN lines (qspawn.h). */
int rjobq_idok(const char *id);
/* rjobq_why: a short text for jb->bad. */
const char *rjobq_why(int bad);
/* rjobq_output: append j's report block to out, each record prefixed
 * with tag. 1 ok, 0 no memory. */
int rjobq_output(char tag, struct rjob *j, stralloc *out);

#endif
