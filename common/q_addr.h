/* q_addr.h: parse and rewrite RFC 5322 address lists (sec 3.4: mailbox,
 * name-addr, angle-addr with obsolete route, group, addr-spec) as found in
 * To, Cc, Bcc, From, Sender, Reply-To, Resent-* and Mail-Followup-To.
 * qmail-inject uses it to qualify every address of a header field in place
 * and to collect the envelope recipients.
 * Caps: comment nesting depth 100 (COMMENT_DEPTH_MAX in q_addr.c); no
 * recursion; time and memory linear in the field length. A NUL byte
 * anywhere in the field is an error. Bytes >= 128 are atom and quoted-
 * string text (RFC 6532 sec 3.2: UTF-8 in addresses and phrases); whether
 * they are valid UTF-8 is the caller's rule (q_utf8.h; qmail-inject).
 * It also holds the one rule every envelope entrance applies to the
 * addresses it takes (qmail-smtpd, qmail-qmtpd, qmail-qmqpd, qmail-queue):
 * addr_env_check. */
#ifndef Q_ADDR_H
#define Q_ADDR_H

#include <stddef.h>
#include "stralloc.h"

struct addr_qualify {
  const char *defaulthost;   /* appended to addresses with no @ ("bob" -> bob@defaulthost) */
  const char *defaultdomain; /* appended after a dot to hosts with no dot (bob@x -> bob@x.defaultdomain) */
  const char *plusdomain;    /* a host ending in '+' gets the '+' replaced by "." plusdomain */
};

/* addr_qualify: qualify an envelope-form address in place (qmail-inject's rules):
   no '@' -> append "@" defaulthost; then if the host ends in '+', replace it by "." plusdomain;
   else if the host has no dot and is not a [literal], append "." defaultdomain.
   The host is what follows the last '@'; an empty host is left alone.
   When plusdomain is NULL a trailing '+' is an ordinary host byte (the dot
   rule may then apply).
   The empty address stays empty. A NULL member of q means "do not apply that rule";
   q NULL changes nothing.
   Returns 1 ok, 0 out of memory. */
int addr_qualify(stralloc *addr, const struct addr_qualify *q);

/* addrlist_rewrite: parse the body of an address-list header field (in[0..len),
   the text after "Name:" including folded continuation lines, may end in "\n") and
   append to *out the same text with each addr-spec replaced by its qualified form
   (addr_qualify, when q is non-NULL; q NULL = no qualification, just parse).
   Everything else (display names, comments, whitespace, folding, group syntax) is kept
   byte for byte; whitespace inside an addr-spec is dropped and a comment inside one
   is moved after it (" (comment)"). Quoted local parts stay quoted here.
   For each address found, in order, call cb(ctx, addr, addrlen) with the
   envelope form: qualified, local part unquoted (quotes and backslash escapes removed,
   CR and LF dropped), source route dropped, comments and whitespace removed.
   "<>" gives the empty address (len 0, never qualified). cb may be NULL.
   cb returns 0 to abort (no memory) -> addrlist_rewrite returns -1 with
   *err = "out of memory".
   Returns 0 on success, -1 on a syntax error with *err set to a static English message
   (e.g. "unterminated quoted string", "unterminated comment", "unbalanced <", "nested <",
   "unterminated domain literal", "address with empty domain", "NUL in address",
   "bad address", "bad domain literal" for a literal holding '@', '\\', '[' or
   bytes outside printable ASCII); on -1, *out is restored to its length on entry.
   0 addresses is fine (e.g. "undisclosed-recipients:;").
   Time and memory are linear in len; comments nest (RFC 5322 ccontent) up to
   depth 100 (deeper -> "comments nested too deeply"). */
int addrlist_rewrite(const char *in, size_t len, const struct addr_qualify *q,
                     stralloc *out, int (*cb)(void *ctx, const char *addr, size_t len),
                     void *ctx, const char **err);

/* Envelope addresses. Every entrance takes them by SMTP's byte rules
   (RFC 5321 sec 4.1.2: no control character, quoted or not): a byte below
   32 (NUL, TAB, CR, LF, ESC, ...) or DEL (127) is refused; space, the
   printable ASCII bytes and bytes >= 128 are kept as they are. The length
   is capped by the caller (control/maxaddress, LIM_ADDR). The empty
   address (a bounce's sender) is fine. */
enum addr_env { ADDR_ENV_OK = 0, ADDR_ENV_CTRL = -1, ADDR_ENV_TOOLONG = -2 };

/* addr_env_byte: 1 if byte c may appear in an envelope address. */
static inline int addr_env_byte(unsigned char c) { return c >= 32 && c != 127; }

/* addr_env_check: ADDR_ENV_OK, ADDR_ENV_TOOLONG when len > maxaddr (the
   bytes are not looked at then), else ADDR_ENV_CTRL at the first
   forbidden byte. */
int addr_env_check(const char *a, size_t len, size_t maxaddr);

#endif
