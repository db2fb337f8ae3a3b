/* sclean.h: qmail-send's requests to qmail-clean (hub/queue/cleanreq.h,
 * qmail-clean(8)): in a root install todo/, intd/ and mess/ belong to
 * qmailq and only qmail-clean may unlink there. One request at a time,
 * answered by one byte ('+' done). Without qmail-clean's descriptors
 * (a single-user home, some tests) qmail-send unlinks itself, in the
 * same order. Before either, the files a request removes are held open
 * until the removal is durable (hub/send/dfree.h). */
#ifndef SCLEAN_H
#define SCLEAN_H

/* clean_init: requests go to reqfd, answers come from ansfd */
void clean_init(int reqfd, int ansfd);
/* clean_req: kind 'T' (intd/S/N, then todo/S/N: preprocessed) or 'M'
 * (intd/S/N, then mess/S/N: the message is gone) for message id.
 * 0 done, -1 error (errno; EPIPE: qmail-clean is gone, EIO: it failed;
 * or the files could not be held: nothing was asked). */
int clean_req(char kind, unsigned long long id);

#endif
