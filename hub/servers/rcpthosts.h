/* rcpthosts.h: may this server accept mail for that recipient?
 * control/rcpthosts lists domains (one per line, ".example.org" matches
 * every subdomain, "#" comments), control/morercpthosts.cdb holds more
 * (compiled by qmail-newmrh). A recipient without '@' is always allowed
 * (it is local). DIFFERENT FROM QMAIL: a missing rcpthosts file allows no
 * domain at all (qmail relayed everything): fail closed. Servers skip the
 * check when RELAYCLIENT is set. Matching ignores ASCII case and a domain
 * literal [ip] only matches an entry written the same way. */
#ifndef RCPTHOSTS_H
#define RCPTHOSTS_H

#include <stddef.h>

/* rcpthosts_init: read the control files. 0 ok, -1 error (errno). */
int rcpthosts_init(void);
/* rcpthosts_ok: 1 allowed, 0 not, -1 temporary error (cdb read). */
int rcpthosts_ok(const char *addr, size_t len);

#endif
