/* rewrite.h: qmail-send's recipient rewriting at preprocessing time
 * (qmail-control(5): locals, virtualdomains, percenthack, envnoathost;
 * docs/queue.md sec 4). Rules, in qmail's order, for one envelope recipient:
 *  1. no '@' at all: append "@" envnoathost (default: me);
 *  2. percenthack, repeated: "u%h@dom" with dom listed becomes "u@h" (the
 *     last '%' of the local part turns into the '@');
 *  3. domain (after the last '@') listed in locals (default: me) -> LOCAL,
 *     delivered address = the address itself;
 *  4. virtualdomains ("key:prepend", split at the first ':'): the whole
 *     address "user@dom", then "dom", then ".suffix" keys, longest suffix
 *     first, then the catch-all ":prepend". The first key found decides:
 *     an empty prepend is an exception (-> REMOTE), otherwise -> LOCAL as
 *     "prepend-user@dom";
 *  5. otherwise REMOTE, delivered address = the address.
 * Keys (domains, list entries) compare ignoring ASCII case; prepends and
 * the address keep their case. A duplicate key: the first line wins.
 * Caps: an address longer than REWRITE_ADDR_MAX is refused (-1, errno
 * ENAMETOOLONG: the caller bounces it); each control file obeys CONTROL_MAX.
 * Pure: rewrite() does no I/O; only rewrite_load() reads control files. */
#ifndef REWRITE_H
#define REWRITE_H

#include <stddef.h>
#include "stralloc.h"

#define REWRITE_ADDR_MAX 4096
#define REWRITE_REMOTE 0
#define REWRITE_LOCAL 1

struct rw_entry { size_t key, klen, val, vlen, line; };

/* A sorted table of keys (lowercase) with optional values, in data. */
struct rw_set {
  stralloc data;
  struct rw_entry *e;
  size_t n;
};

struct rewrite {
  struct rw_set locals, vdoms, percent;
  stralloc envnoathost;
};

/* A struct rewrite starts zeroed ({0}). To reload on SIGHUP, load into a
 * second zeroed struct and swap on success: a failed load empties rw. */
/* rewrite_load: read control/me, locals, virtualdomains, percenthack,
 * envnoathost. 0 ok, -1 error (errno; ENOENT when neither locals nor me
 * exists: qmail-send must refuse to run). On error rw is left empty. */
int rewrite_load(struct rewrite *rw);
/* rewrite_load_text: the same from file texts (for tests and reloads);
 * NULL stands for a missing file. me may be NULL (no control/me). */
int rewrite_load_text(struct rewrite *rw, const char *me, const char *locals,
                      const char *vdoms, const char *percent, const char *envnoathost);
/* rewrite_free: release everything; rw may be loaded again afterwards. */
void rewrite_free(struct rewrite *rw);
/* rewrite: rewrite addr[0..len) into out (replaced, not appended, not
 * NUL-terminated). REWRITE_LOCAL or REWRITE_REMOTE; -1 with errno ENOMEM or
 * ENAMETOOLONG. */
int rewrite(const struct rewrite *rw, const char *addr, size_t len, stralloc *out);

#endif
