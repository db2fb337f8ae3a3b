/* popriv.h: qmail-popup's two halves as root (qmail-popup.8, PRIVILEGES).
 *
 * At start qmail-popup forks. The child takes qmaild's ids before it reads
 * a byte from the client and does the whole dialogue (TLS included); the
 * parent stays root, never reads the client, and only runs the login: it
 * reads fixed-size messages from the child on a SOCK_SEQPACKET socketpair
 * ("try these credentials"), runs checkpassword (which becomes
 * qmail-pop3d as the user) and answers each in one byte, POPRUN_*.
 *
 * Outside TLS the checkpassword child gets the client's socket (the
 * parent's fds 0 and 1); inside TLS the message carries, by SCM_RIGHTS,
 * one end of a socketpair that the unprivileged child relays to TLS.
 *
 * The parent trusts the message for nothing but an attempt: a message of
 * another size, kind or shape (credentials not "login\0password\0\0",
 * a descriptor where none belongs or none where one does) ends it, with
 * no checkpassword run. It enforces the failure delay and the
 * control/authfailures cap itself too, so a subverted child can try no
 * faster and no more than the client could.
 *
 * Also here: running checkpassword (used by both halves, and by the
 * single process of a normal user's home). */
#ifndef POPRIV_H
#define POPRIV_H

#include <stddef.h>
#include <sys/types.h>

#define POPRUN_OK 0        /* the child answered: its session ran and ended */
#define POPRUN_REFUSED 1   /* checkpassword refused the login, nothing was sent */
#define POPRUN_TEMP 2      /* could not run it, it crashed, exited 2 or 111 */

#define POPRIV_CRED 512    /* checkpassword's block */
#define POPRIV_PLAIN 'P'   /* on the client's socket */
#define POPRIV_TLS 'T'     /* on the descriptor passed with the message */

struct popriv_msg {
  unsigned char kind;              /* POPRIV_PLAIN or POPRIV_TLS */
  unsigned char pad;
  unsigned short len;              /* bytes of cred used, at most POPRIV_CRED */
  char cred[POPRIV_CRED];
};

/* popriv_spawn: fork; the child has io (when >= 0) as fds 0 and 1, cred
 * (n bytes, at most 512) in a pipe on fd 3, and execs argv. Pid or -1. */
pid_t popriv_spawn(char **argv, const char *cred, size_t n, int io);

/* popriv_verdict: a wait status as POPRUN_* */
int popriv_verdict(int st);

/* poprun_io: popriv_spawn and wait; at deadline_ms (io_now_ms() clock;
 * 0 none) the child is killed. POPRUN_*. */
int poprun_io(char **argv, const char *cred, size_t n, int io, long long deadline_ms);

/* poprun_plain: poprun_io on the client's socket (our fds 0 and 1) */
int poprun_plain(char **argv, const char *cred, size_t n, long long deadline_ms);

/* popriv_drop: setgroups, setgid, setuid to uid and gid; 0, or -1 (and
 * nothing may go on) */
int popriv_drop(unsigned long uid, unsigned long gid);

/* popriv_ask: the child's half: cred to the parent over ctl, with fd (TLS)
 * or without (fd -1: outside TLS, where the answer is waited for and
 * returned). With fd: 0 sent (the answer comes later, popriv_answer), -1
 * not. */
int popriv_ask(int ctl, const char *cred, size_t n, int fd);
/* popriv_sendfd: one datagram of len bytes on s, with fd passed along
 * (SCM_RIGHTS) unless it is -1; sendmsg's result */
ssize_t popriv_sendfd(int s, const void *buf, size_t len, int fd);

/* popriv_answer: the parent's one byte, POPRUN_*; its end or a bad byte:
 * POPRUN_TEMP */
int popriv_answer(int ctl);

/* popriv_serve: the parent's loop: until the child closes ctl (0) or
 * sends a bad message (-1, logged). maxfail refused logins at most, each
 * answered after smtpauth_delay(basedelay, n). */
int popriv_serve(int ctl, char **argv, long long deadline_ms, unsigned long maxfail,
                 unsigned long basedelay);

#endif
