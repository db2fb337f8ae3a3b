/* q_netstring.h: netstrings ("<len>:<bytes>,", cr.yp.to/proto/netstrings.txt)
 * for QMQP and QMTP. Readers take an explicit cap and are strict: no leading
 * zeros (except "0:"), digits only, at most 20 digits, ':' right after the
 * digits, ',' right after the data. libowfat's fmt_netstring is broken in
 * Debian's build (docs/libowfat.md P2), so writers are here too. */
#ifndef Q_NETSTRING_H
#define Q_NETSTRING_H

#include <stddef.h>
#include "buffer.h"
#include "stralloc.h"

#define NS_HEAD 24  /* room for "<20 digits>:" */

enum ns_status {
  NS_OK = 0,
  NS_EOF = -1,     /* clean end of input before the first digit */
  NS_BAD = -2,     /* malformed: non-digit, leading zero, missing ':' or ',' */
  NS_TOOBIG = -3,  /* length above the caller's cap */
  NS_IOERR = -4,   /* read error or timeout (errno set) or EOF inside */
  NS_NOMEM = -5
};

/* ns_head: write "<len>:" into buf (NS_HEAD bytes), return its length. */
size_t ns_head(char *buf, size_t len);
/* ns_size: bytes of the netstring holding len bytes of data (head + data + ','). */
size_t ns_size(size_t len);
/* ns_cat: append the netstring of s[0..len) to out. 1 ok, 0 no memory. */
int ns_cat(stralloc *out, const char *s, size_t len);
/* ns_cats: ns_cat of a C string. */
int ns_cats(stralloc *out, const char *s);

/* ns_parse: parse one whole netstring at the start of in[0..n).
 * On NS_OK: *data and *dlen give the content, *used the bytes consumed.
 * Returns NS_OK, NS_BAD (malformed or incomplete), NS_TOOBIG (len > cap). */
int ns_parse(const char *in, size_t n, size_t cap,
             const char **data, size_t *dlen, size_t *used);

/* ns_getlen: read "<digits>:" from b; *len gets the value. NS_EOF only when
 * the stream ends before any byte. */
int ns_getlen(buffer *b, size_t cap, size_t *len);
/* ns_getcomma: read the ',' that ends a netstring. NS_OK or NS_BAD/NS_IOERR. */
int ns_getcomma(buffer *b);
/* ns_get: read a whole netstring of at most cap bytes into out (replacing it). */
int ns_get(buffer *b, size_t cap, stralloc *out);

#endif
