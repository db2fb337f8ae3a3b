/* ctlcache.h: the fork server's copy of the control files a session reads
 * (issue 14: cut the servers' CPU per connection; docs/process.md).
 *
 * Under $SERVE=1 every child used to open and read the same control
 * files again for each connection (a dozen to two dozen open calls, most
 * of them for files that do not exist). Instead the listener keeps them:
 * ctlcache_load runs in the listener from srvfork's hook, after the ids
 * are dropped (so it reads with the session's rights) and before each
 * fork. The first call reads every listed file and watches the control
 * directory with inotify; later calls cost one non-blocking read of the
 * inotify descriptor, and any event in control/ (a write, chmod, create,
 * delete or rename of any file, the queue overflowing) reads the list
 * again before the fork, so the next connection sees the change (a
 * client connecting while a file is being written may see either
 * version, as before). The child's control_readfile then answers from
 * memory (q_control.h's control_source) what the file gave the listener:
 * its bytes, "missing", or the error (an unreadable or over-large file
 * still fails closed, with the same reason, in the child's own refusal).
 *
 * Kept out, read by the child as before: a file that is a symbolic link
 * or has more than one link (inotify on control/ would not see its target
 * change), a file not in the list, everything when $QMAILHOME differs
 * from the listener's or inotify cannot be had. The copy holds nothing of
 * any client: the fresh state of each session stays; the inotify
 * descriptor is closed in the child at fork (srvfork_atchild).
 * The listener also sets the time zone once (tzset), which the child's
 * first gmtime_r would otherwise read from /etc/localtime. */
#ifndef CTLCACHE_H
#define CTLCACHE_H

/* ctlcache_load: the above for names (NULL-terminated; static storage). */
void ctlcache_load(const char *const *names);

#endif
