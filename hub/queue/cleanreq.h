/* cleanreq.h: qmail-clean's request syntax (hub/queue/QUEUE.md, qmail-clean(8)).
 * A request is one kind byte and a message name S/N, ended by a NUL byte:
 *   T<S/N>  the message was preprocessed: unlink intd/S/N, then todo/S/N
 *   M<S/N>  the message is gone: unlink intd/S/N, then mess/S/N
 * S and N are decimal digits without leading zeros (a lone 0 is allowed),
 * S < 23 (QUEUE_SPLIT), N at most 20 digits; nothing else may appear, so a
 * valid request can only name a file in the split directories. */
#ifndef CLEANREQ_H
#define CLEANREQ_H

#include <stddef.h>

/* longest valid request without its NUL: kind + "22/" + 20 digits */
#define CLEANREQ_MAX 24

/* cleanreq_parse: check req[0..len) (the request without its NUL).
 * Returns 'T' or 'M' for a valid request, 0 for anything else. On success
 * the name S/N is req + 1, length len - 1. */
int cleanreq_parse(const char *req, size_t len);

#endif
