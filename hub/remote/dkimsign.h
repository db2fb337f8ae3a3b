/* dkimsign.h: DKIM signatures (RFC 6376) for outgoing mail, relaxed/relaxed
 * canonicalization, SHA-256 body hash, RSA-SHA256 and Ed25519-SHA256
 * (RFC 8463), through OpenSSL's libcrypto (docs/dkim.md).
 *
 * Keys: every control/dkim/DOMAIN/SELECTOR.key (PEM, RSA of 1024 bits or
 * more, or Ed25519), in name order: one signature per key, so a domain
 * with an RSA and an Ed25519 key gets two. DOMAIN is the sender's domain
 * in lower case.
 *
 * The message is fed in chunks (dkimsign_put) as it is stored: LF or CRLF
 * line ends. Its bytes are read as qmail-remote sends them (rblast.h): a
 * CR directly before an LF belongs to the line end, any other CR is a
 * space. The header block is kept (at most DKIM_HEADMAX bytes; a bigger
 * one is not signed); the body is canonicalized and hashed as it streams
 * through, in fixed memory whatever its size.
 *
 * Signed fields (h=): each instance of from, sender, reply-to, subject,
 * date, message-id, to, cc, in-reply-to, references, mime-version,
 * content-type, content-transfer-encoding, content-disposition,
 * list-id, list-unsubscribe present, and "from" once more (oversigned:
 * no From can be added without breaking the signature). A message without
 * a From field is not signed. */
#ifndef DKIMSIGN_H
#define DKIMSIGN_H

#include <stddef.h>
#include "stralloc.h"

#define DKIM_HEADMAX (256UL * 1024)  /* header block kept for signing */
#define DKIM_MAXKEYS 8               /* keys per domain */
#define DKIM_DOMMAX 253
#define DKIM_SELMAX 63
#define DKIM_WIDTH 78                /* the signature's lines, in columns */

struct dkim_key {
  char selector[DKIM_SELMAX + 1];
  int ed25519;          /* else RSA */
  void *pkey;           /* EVP_PKEY */
};

struct dkim_keys {
  char domain[DKIM_DOMMAX + 1];
  size_t n;
  struct dkim_key k[DKIM_MAXKEYS];
  stralloc file;        /* after a failure: the file (or directory), NUL-terminated */
  const char *why;      /* after a failure: what was wrong */
};

/* dkim_domain: the domain of a sender address (after its last '@'),
 * lower-cased into out: 1; 0 when there is none a key could be filed
 * under (empty sender, no '@', "#@[]", a byte other than a letter, digit,
 * '-' or '.', a label that is empty or starts with '.'). */
int dkim_domain(const char *sender, char out[DKIM_DOMMAX + 1]);

/* dkim_loadkeys: the keys of domain (dkim_domain's form), from
 * HOME/control/dkim/DOMAIN (q_home.h). Returns the
 * number loaded, 0 when the domain has none (no directory, or no SELECTOR.key in
 * it), -1 when one cannot be used (ks->file, ks->why; errno): unreadable,
 * not PEM, not RSA or Ed25519, RSA under 1024 bits, a selector name that
 * is not a DNS label, more than DKIM_MAXKEYS. Never half: on -1 none is
 * kept. */
int dkim_loadkeys(struct dkim_keys *ks, const char *domain);
void dkim_freekeys(struct dkim_keys *ks);

/* ---- which messages (qmail-remote; docs/dkim.md) -------------------------- */

/* The comment qmail-smtpd and the netstring servers put after the protocol
 * of their Received line for a relay client (RELAYCLIENT set) that did not
 * authenticate: "with ESMTP (relay client);". Only the servers write that
 * line (the client's bytes come after it, and the fields of the client in
 * it are cleaned of '(' and ' '), so it cannot be forged from outside. */
#define DKIM_RELAYMARK " (relay client)"
#define DKIM_PEEK 8192    /* bytes of the stored message dkim_eligible needs */

/* dkim_eligible: may the stored message that begins with s[0..n) (its
 * first DKIM_PEEK bytes, or all of it) be signed? Its first line is
 * qmail-queue's Received line; the field after it says where it came from:
 *  - a server's "Received: from ... with PROTO;": ESMTPA or ESMTPSA (an
 *    authenticated client), QMQP (a trusted leaf: its local injection), or
 *    DKIM_RELAYMARK after the protocol: yes; any other: no;
 *  - Delivered-To or Return-Path (qmail-local forwarding, or a program of
 *    a .qmail file injecting what it was given): no;
 *  - anything else: local injection: yes,
 * except that qmail-queue's "invoked for bounce", "invoked by alias" and
 * "invoked from network" (root installs) without a server's line are no.
 * 1 yes, 0 no. */
int dkim_eligible(const char *s, size_t n);

/* ---- canonicalization (exposed for the unit tests) ----------------------- */

typedef int (*dkim_out)(void *ctx, const char *s, size_t n);  /* 1 ok, 0 failed */

/* The body, relaxed (RFC 6376 sec 3.4.4), on LF-only input: WSP runs as
 * one SP, WSP at line ends dropped, line ends CRLF, empty lines at the
 * end dropped, a last line without line end given one; an empty body
 * stays empty. Output goes to out in pieces of at most DKIM_BODYBUF. */
#define DKIM_BODYBUF 4096
struct dkim_body {
  dkim_out out;
  void *ctx;
  unsigned long long crlfs;   /* line ends held back (maybe trailing) */
  int wsp;                    /* a WSP run held back */
  int any;                    /* some content was emitted */
  int failed;
  size_t n;
  char buf[DKIM_BODYBUF];
};
void dkim_body_start(struct dkim_body *b, dkim_out out, void *ctx);
void dkim_body_put(struct dkim_body *b, const char *s, size_t n);
/* dkim_body_end: 1 ok, 0 when out failed. */
int dkim_body_end(struct dkim_body *b);

/* dkim_relaxed_field: append the relaxed form of one header field
 * (RFC 6376 sec 3.4.2; f is "Name: value" with its folds, LF or CRLF,
 * without its final line end) and CRLF to out. 1 ok, 0 no memory or no
 * colon in f. */
int dkim_relaxed_field(stralloc *out, const char *f, size_t len);

/* ---- signing ------------------------------------------------------------- */

struct dkimsign {
  stralloc head;        /* the header block, LF line ends */
  int inbody;
  int bol;              /* at the start of a line */
  int cr;               /* a CR held back */
  int toobig;           /* the header block was over DKIM_HEADMAX */
  void *md;             /* EVP_MD_CTX of the body hash */
  struct dkim_body body;
};

/* dkimsign_start: 1 ok, 0 no memory. */
int dkimsign_start(struct dkimsign *d);
/* dkimsign_put: the next chunk of the message. */
void dkimsign_put(struct dkimsign *d, const char *s, size_t n);
/* dkimsign_finish: append one DKIM-Signature field per key of ks to out,
 * each line ended by eol ("\n" or "\r\n"), t= now. 1 signed; 0 not
 * signed, *why says why (no From field, header block too big); -1 failed
 * (no memory, libcrypto refused; *why). */
int dkimsign_finish(struct dkimsign *d, const struct dkim_keys *ks, long long now,
                    const char *eol, stralloc *out, const char **why);
void dkimsign_free(struct dkimsign *d);

#endif
