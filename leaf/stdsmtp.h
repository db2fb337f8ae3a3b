/* stdsmtp.h: `sendmail -bs` on a leaf: a small SMTP server on standard
 * input and output for the local user's mail program, handing each message
 * to the queue (on a leaf: qmail-qmqpc's code, in this process). */
#ifndef STDSMTP_H
#define STDSMTP_H

/* stdsmtp_main: speak SMTP on fds 0 and 1 until QUIT or end of input.
 * Never returns: exits 0 after QUIT or at end of input between commands,
 * 111 when input ends inside DATA or output cannot be written. */
void stdsmtp_main(void) __attribute__((noreturn));

#endif
