/* qsane.h: is a name in the queue what it claims to be? (hub/queue/QUEUE.md
 * sec 6a, "names that come back").
 *
 * On a filesystem without a journal an unlink that was not flushed can
 * come back after a power cut, while the inode it named was freed and
 * reused for another file since (another message's mess/ or todo/, a
 * Maildir file, a newer file whose data never reached the disk). e2fsck
 * keeps such a name and gives the inode as many links as it finds names.
 * The queue's invariants (QUEUE.md sec 1) tell most such names apart:
 *   mess/S/N   has inode N and one link (two while qmail-queue's pid/
 *              name is left: a crash between its link and unlink);
 *   todo/S/N   is the inode of intd/S/N when that exists (two links),
 *              else has one link; and is never a message file's inode;
 *   info/S/N, local/S/N, remote/S/N   have one link (qmail-send creates
 *              them with O_EXCL and never links them);
 *   each is a regular file owned by its directory's owner (qmailq for
 *              mess/ and todo/, qmails for info/, local/, remote/; a
 *              Maildir file is the recipient's: seen in the power-loss
 *              test as info/ and local/ names with one link).
 * Not detectable here: a reused inode whose own new name was lost too, so
 * that the stale name is its only one (one link); and blocks of a freed
 * file reused by another while the file came back (e2fsck: "multiply-
 * claimed blocks"; it gives each file a copy), which only the l/c check of
 * a group commit sees, at preprocessing (hub/send/todo.h).
 * Names are relative to the current directory (qmail-send runs in
 * HOME/queue). Each function: 1 sane, 0 stale (a name that points at
 * someone else's inode), -1 error or no such name (errno; ENOENT). */
#ifndef QSANE_H
#define QSANE_H

/* sane_mess: mess/S/N; a second link is sane only when pid/ holds it, or
 * when pid/ cannot be read (a root install: qmail-send is not qmailq) */
int sane_mess(unsigned long long id);
/* sane_todo: todo/S/N (intd/S/N unreadable, as in a root install: one or
 * two links) */
int sane_todo(unsigned long long id);
/* sane_own: dir/S/N (info, local, remote): 0 another owner or not a
 * regular file: someone else's; SANE_SHARED ours but with a second link:
 * this name or the other may be the stale one (e2fsck counts both), so
 * the file's content decides; 1 one link */
#define SANE_SHARED 2
int sane_own(const char *dir, unsigned long long id);

#endif
