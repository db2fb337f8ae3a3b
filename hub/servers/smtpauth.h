/* smtpauth.h: SMTP AUTH (RFC 4954) for qmail-smtpd: the PLAIN (RFC 4616)
 * and LOGIN mechanisms, checked by a checkpassword program (the login and
 * password on its fd 3; qmail-checkpassword.8, "HOW A CALLER USES IT").
 * The dialogue and the policy are here; qmail-smtpd.c has small hooks:
 *   start     smtpauth_init(argv): the checkpassword command from the
 *             arguments (or $CHECKPASSWORD), control/authfailures,
 *             control/authdelay, control/authsenders
 *   EHLO      "250-AUTH PLAIN LOGIN" when smtpauth_offer() says so
 *   AUTH      smtpauth_cmd() (after EHLO, outside a mail transaction)
 *   MAIL      smtpauth_mail(): 530 on the submission port before AUTH,
 *             553 for a sender control/authsenders does not give the login
 *   RCPT      an authenticated client relays (smtpauth_user())
 *   STARTTLS  smtpauth_reset(): what the client said before is forgotten
 *   Received  with ESMTPA / ESMTPSA (received.h)
 * Policy: AUTH in the clear only from a loopback address, unless
 * $AUTH_CLEARTEXT_LOOPBACK is 0 (then never); elsewhere TLS first (538).
 * With $SUBMISSION set (the submission service, RFC 6409) MAIL needs AUTH.
 * A failed AUTH costs a delay that doubles each time; the Nth is answered
 * with 421 and the connection ends. Across connections, an address with
 * control/authguard refused attempts in control/authguardtime seconds
 * gets 421 at AUTH without checkpassword being run (authguard.h; the table
 * is $AUTHGUARDTABLE, no guard without it). Passwords are never logged. */
#ifndef SMTPAUTH_H
#define SMTPAUTH_H

#include <stddef.h>
#include "stralloc.h"

#define SMTPAUTH_MAXCRED 512        /* login\0password\0\0, as checkpassword takes */
#define SMTPAUTH_FAILURES 3         /* default control/authfailures */
#define SMTPAUTH_DELAY 1000         /* default control/authdelay, ms */
#define SMTPAUTH_MAXDELAY 30000     /* one failure's delay at most, ms */
#define SMTPAUTH_CHECKTIME 300      /* default checkpassword time limit, s */
#define SMTPAUTH_GUARD 30           /* default control/authguard: refused
                                       attempts of one address per window */
#define SMTPAUTH_GUARDTIME 3600     /* default control/authguardtime, s */

/* what qmail-smtpd lends the dialogue */
struct smtpauth_io {
  void (*reply)(const char *line);   /* one reply line; 4xx/5xx logged */
  void (*getline)(stralloc *sa);     /* the client's next line, CR LF cut;
                                        does not return on EOF, error, a line
                                        over the cap */
  void (*drop)(const char *line);    /* last reply, then exit */
  void (*nomem)(void);               /* does not return */
};

/* smtpauth_init: AUTH is on when args (argv after the program name) name
 * a checkpassword program, [checkpassword [prog [arg...]]] (prog defaults to
 * /bin/true), or else $CHECKPASSWORD does. One that runs longer than
 * timeout_ms (<= 0: SMTPAUTH_CHECKTIME s) is killed: a temporary failure.
 * Reads the controls. 0 ok; -1 with *name the control file that could not
 * be used (errno set). */
int smtpauth_init(char **args, int timeout_ms, const char **name);
/* smtpauth_enabled: is there a checkpassword program? */
int smtpauth_enabled(void);
/* smtpauth_offer: may EHLO advertise AUTH now (tls: inside TLS)? */
int smtpauth_offer(int tls);
/* smtpauth_user: the login once authenticated, NUL-terminated, else 0 */
const char *smtpauth_user(void);
/* smtpauth_reset: forget an authentication (after STARTTLS) */
void smtpauth_reset(void);
/* smtpauth_cmd: the AUTH command with its argument, to the end of its
 * dialogue. tls: inside TLS. */
void smtpauth_cmd(const struct smtpauth_io *io, const char *arg, size_t len, int tls);
/* smtpauth_mail: may this sender (len bytes, "" for <>) start a
 * transaction? 1 yes; 0 no, and the refusal was replied. */
int smtpauth_mail(const struct smtpauth_io *io, const char *addr, size_t len);

/* the pieces, for tests/unit/smtpauth.c */
/* smtpauth_b64: decode s[0..n) strictly (RFC 4648 alphabet, length a
 * multiple of 4, '=' only as the last one or two, unused bits zero) into
 * out (replaced). 1 ok, 0 invalid, -1 no memory. */
int smtpauth_b64(stralloc *out, const char *s, size_t n);
/* smtpauth_plain: split a decoded PLAIN message authzid\0authcid\0passwd:
 * 1 and the offsets and lengths of authcid and passwd when there are
 * exactly two NULs, the authcid is not empty and the authzid is empty or
 * the authcid; else 0. */
int smtpauth_plain(const char *m, size_t n, size_t *user, size_t *ulen, size_t *pass, size_t *plen);
/* smtpauth_loopback: is ip (TCPREMOTEIP) 127.0.0.0/8, ::1 or
 * ::ffff:127.x.y.z? */
int smtpauth_loopback(const char *ip);
/* smtpauth_sender: does the authsenders list (control_readlist items,
 * "login: addr @domain ...") give login the sender addr? <> always. */
int smtpauth_sender(const stralloc *list, const char *login, const char *addr, size_t len);
/* smtpauth_delay: the delay in ms of failure number k (1, 2, ...):
 * base doubled k-1 times, at most SMTPAUTH_MAXDELAY. */
unsigned long smtpauth_delay(unsigned long base, unsigned long k);

#endif
