/* rdkim.h: qmail-remote's DKIM step (docs/dkim.md): sign a job's message
 * with the keys of its sender's domain before it is sent.
 *
 * A job is signed when its sender has a domain with keys in
 * control/dkim/DOMAIN/ and the stored message may be signed
 * (dkim_eligible: it came from an authenticated or relay client, a
 * trusted leaf or local injection, and is no bounce or forward). The
 * DKIM-Signature fields and the message are then written to an unlinked
 * file in $TMPDIR (or /tmp), which becomes the job's message (msgfd,
 * msgsize, msglfs; the old descriptor is closed): nothing else in
 * qmail-remote changes. A message with no From field, or a header over
 * 256 KB, goes out unsigned. Memory is fixed whatever the message's size.
 * A sender domain without a directory costs one stat(2). The keys loaded
 * are kept for the session's next job while the directory and every key
 * file keep their device, inode, size, mtime and ctime (a stat of each per
 * job instead of decoding the PEM keys again). */
#ifndef RDKIM_H
#define RDKIM_H

#include "rjob.h"

/* rdkim_job: 0 go on (signed or not); -1 j is reported (every recipient
 * s, message Z: a key that cannot be used, the temporary file, memory:
 * fail closed rather than send unsigned). */
int rdkim_job(struct rjob *j);

#endif
