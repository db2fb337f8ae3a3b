/* poprelay.h: qmail-popup's login attempt: the checkpassword program,
 * which becomes qmail-pop3d as the user, run in a child with the
 * credentials on its descriptor 3 (qmail-checkpassword.8, "HOW A CALLER
 * USES IT").
 *
 * Outside TLS the child gets the client's socket as fds 0 and 1, as in
 * qmail, and qmail-popup only waits for it (nothing is copied). Inside TLS
 * the TLS session lives in qmail-popup's process: the child gets one end
 * of a socketpair as fds 0 and 1, and qmail-popup relays plaintext both
 * ways between it and the TLS connection.
 *
 * As root the relay runs in qmail-popup's unprivileged half (popriv.h):
 * the privileged half runs the child on the socketpair end it is sent.
 *
 * The contract with qmail-pop3d (qmail's): after a good password it
 * prints the "+OK" that answers PASS itself; when the password is refused
 * checkpassword exits 1 having printed nothing; qmail-pop3d never exits 1.
 * So: the child's exit status 1 (and, inside TLS, no byte from it) is a
 * refused login and the dialogue goes on in qmail-popup; 0 is a session
 * that ran; anything else is temporary trouble. */
#ifndef POPRELAY_H
#define POPRELAY_H

#include <stddef.h>
#include "buffer.h"
#include "q_io.h"
#include "q_tls.h"
#include "popriv.h"   /* POPRUN_*, poprun_plain */


#define POPRELAY_BUF 16384 /* one TLS record's plaintext at most */
#define POPRELAY_REAP_MS 5000   /* after the end: how long the child may take to exit */
#define POPRELAY_GRACE_MS 5000  /* the relay's idle timeout is the child's and this */

/* poprun_tls: the child on a socketpair, relayed through t. Before the
 * child's first byte nothing is read from the client (a refused login
 * leaves the client's pipelined bytes in `in` for qmail-popup); once it
 * has written, started() is called (to log the login), what is left in
 * `in` goes to the child first and the relay runs until either side ends,
 * nothing moves for lim->timeout_ms and POPRELAY_GRACE_MS (so that the
 * child's own timeout, the same, comes first and is told), or lim's
 * deadline. Then close_notify,
 * and the child gets end of file. POPRUN_*. */
int poprun_tls(char **argv, const char *cred, size_t n, struct qtls *t, buffer *in,
               const struct io_limits *lim, void (*started)(void));

/* poprun_split: as root qmail-popup is split (popriv.h): from now on
 * poprun_tls asks the privileged half over ctl to run the child on its
 * socketpair end, and its answer is the verdict. */
void poprun_split(int ctl);

#endif
