/* q_header.h: RFC 5322 header fields (sec 2.2): reading them one at a time
 * with their folded continuation lines, and looking at their names.
 * A field is kept exactly as read ("Name: value\n\tmore\n"), CRs included.
 * Caps: one field at most fieldcap bytes; the caller caps the whole block. */
#ifndef Q_HEADER_H
#define Q_HEADER_H

#include <stddef.h>
#include "buffer.h"
#include "stralloc.h"

enum hdr_status {
  HDR_FIELD = 1,    /* field holds one header field */
  HDR_END = 0,      /* the empty line ending the header was read, or EOF */
  HDR_BODY = 2,     /* the next line is not a field: field holds that line,
                       which belongs to the body (no empty line came first) */
  HDR_TOOLONG = -1, /* a field longer than fieldcap */
  HDR_ERR = -2,     /* read error (errno) */
  HDR_NOMEM = -3
};

/* hdr_read: read the next field from b into field (replacing it). */
int hdr_read(buffer *b, stralloc *field, size_t fieldcap);
/* hdr_namelen: length of the field name if s[0..len) starts with a valid
 * field name (printable ASCII but ':'), optional blanks, then ':'; else 0. */
size_t hdr_namelen(const char *s, size_t len);
/* hdr_is: 1 if the field's name equals name (ASCII case-insensitive). */
int hdr_is(const char *field, size_t len, const char *name);
/* hdr_value: offset of the value (just after the ':'), 0 if no name. */
size_t hdr_value(const char *field, size_t len);

#endif
