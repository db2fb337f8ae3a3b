/* report.h: delivery reports from the spawners and their checkpoints
 * (docs/queue.md sec 5; wire format hub/send/qspawn.h: one report per
 * recipient, "<slot><K|Z|D><text>\0", in the job's order). Each report is
 * logged ("delivery N: success|failure|deferral: ..."), then:
 *   K  the recipient's record in local/S/N or remote/S/N becomes D
 *      (chanfile_markdone: one pwrite, not flushed: a crash may repeat
 *      the delivery, never lose it);
 *   D  a failure paragraph is appended to bounce/N (not flushed); the
 *      record becomes D only after report_flush has made the paragraphs
 *      of every failure of the read durable with one todo_sync (a D mark
 *      that reached the disk before its paragraph would lose the failure
 *      notice); if the append fails, the record stays T (tried again);
 *   Z  nothing is written: the recipient is tried again; a Z for a message
 *      older than queuelifetime becomes a D.
 * When the job's last recipient has its report the slot is free, and when
 * the message's pass is over too, the channel settles (channel.h). */
#ifndef REPORT_H
#define REPORT_H

/* read_reports: read what channel c's spawner wrote and act on each whole
 * report; a spawner that exits, cannot be read or sends a report over
 * 64 KB is dead (chan_dead) */
void read_reports(int c);
/* report_flush: make the pending bounce paragraphs durable (one syncfs and
 * one barrier: hub/send/todo.h, todo_sync), then mark their recipients
 * done; when the flush fails they stay T and are tried again (a paragraph
 * may then come twice). Called at the end of each read_reports and by
 * settle(), which must see every mark of the message. */
void report_flush(void);

#endif
