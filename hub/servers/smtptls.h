/* smtptls.h: TLS for qmail-smtpd: STARTTLS (RFC 3207), implicit TLS on
 * the SMTPS port (RFC 8314), and the TLS part of the Received line
 * (RFC 3848, received.h). The TLS work is here; qmail-smtpd.c has small hooks:
 *   EHLO          advertises STARTTLS when smtptls_offer() says so
 *   STARTTLS      smtptls_prepare() (454 when it fails), "220 Ready",
 *                 then smtptls_handshake(), then the session state resets
 *   $SMTPS set    smtptls_implicit(): the handshake before the greeting
 *   I/O           the input buffer reads through smtptls_read, the output
 *                 buffer writes through smtptls_bwrite: plain until the
 *                 handshake, TLS after it
 *   Received      smtptls_describe() gives its TLS part
 * Failures are logged here (fd 2, refuselog's format, code "-"): a
 * certificate that cannot be read or used, a failed handshake. */
#ifndef SMTPTLS_H
#define SMTPTLS_H

#include <stddef.h>
#include <sys/types.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_io.h"

/* what smtptls_handshake returns, for qmail-smtpd's exit code */
#define SMTPTLS_OK 0
#define SMTPTLS_EOF 1       /* the client went away */
#define SMTPTLS_TIMEOUT 2   /* the handshake's deadline passed */
#define SMTPTLS_FAIL 3      /* no TLS from the client, or a failed handshake */

/* smtptls_implicit: is this the SMTPS service ($SMTPS non-empty)? */
int smtptls_implicit(void);
/* smtptls_active: is the session inside TLS? */
int smtptls_active(void);
/* smtptls_offer: may EHLO advertise STARTTLS: not in TLS yet and
 * control/servercert.pem readable (checked once; an unreadable one is
 * logged once). */
int smtptls_offer(void);
/* smtptls_preload: in the listener (srvfork.h), the context built once
 * for all sessions and rebuilt when the certificate changes (q_tls.h,
 * qtls_preload); smtptls_prepare then takes it. */
void smtptls_preload(void);
/* smtptls_prepare: load the certificate, key and ciphers. 0 ok; -1 logged
 * (the caller answers 454, or for SMTPS closes). */
int smtptls_prepare(void);
/* smtptls_handshake: the cleartext the client pipelined after STARTTLS is
 * dropped from in (CVE-2011-0411), then the handshake on fds 0 and 1 with
 * a deadline of one rlim timeout. Logs a failure. SMTPTLS_OK or why not. */
int smtptls_handshake(buffer *in, const struct io_limits *rlim, const struct io_limits *wlim);
/* smtptls_read: read(2) for the input buffer: TLS when active, else io_read. */
ssize_t smtptls_read(int fd, char *buf, size_t len, const struct io_limits *lim);
/* smtptls_bwrite: the output buffer's op (cookie: struct io_limits *). */
ssize_t smtptls_bwrite(int fd, const char *buf, size_t len, void *b);
/* smtptls_end: close_notify, if in TLS. */
void smtptls_end(void);
/* smtptls_describe: sa = the TLS description for the Received line
 * ("TLSv1.3 cipher TLS_AES_256_GCM_SHA384 bits 256", NUL-terminated), or
 * empty outside TLS (received.h makes the protocol ESMTPS, ESMTPSA).
 * 1 ok, 0 no memory. */
int smtptls_describe(stralloc *sa);

#endif
