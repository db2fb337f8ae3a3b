/* maildir.h: delivering one message into a Maildir (maildir(5),
 * cr.yp.to/proto/maildir.html), for qmail-local.
 * Name: TIME.M<usec>P<pid>Q<count>R<random hex>.HOST, HOST from
 * gethostname with '/' written \057 and ':' written \072.
 * Steps: create tmp/NAME (O_EXCL), write prefix + message, fsync, close,
 * link to new/NAME (the moment of delivery), fsync new/, unlink tmp/NAME.
 * Each result is checked; on any error tmp/NAME is removed and the call
 * reports a temporary failure. The 24-hour bound is the caller's (alarm). */
#ifndef MAILDIR_H
#define MAILDIR_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "stralloc.h"

/* maildir_hostpart: append host with '/' as \057 and ':' as \072. 1 ok, 0 nomem. */
int maildir_hostpart(stralloc *sa, const char *host);
/* maildir_uniq: sa = TIME.M<usec>P<pid>Q<count>R<rnd>.HOST (replaces sa,
 * not NUL-terminated). rnd is the hex text of the random part. 1 ok, 0 nomem. */
int maildir_uniq(stralloc *sa, time_t t, unsigned long usec, unsigned long pid,
                 unsigned long count, const char *rnd, const char *host);
/* maildir_deliver: copy fd (from offset 0, so it must be seekable) after
 * pre[0..prelen) into dir/new/. 0 delivered (if name is not NULL it gets
 * the file name, NUL-terminated); -1 temporary failure with *why set to a
 * static text ("unable to ..."), errno kept for the reason. */
int maildir_deliver(const char *dir, int fd, const char *pre, size_t prelen,
                    stralloc *name, const char **why);

#endif
