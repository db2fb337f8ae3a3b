/* dsninfo.h: qmail-send's access to the DSN items that preprocessing
 * keeps in info/S/N after F (hub/send/todo.h, hub/queue/QUEUE.md "DSN
 * items"). m->dsn says whether a message has any (0 not known yet: the
 * file is read once, 1 none, 2 some), so a message without them costs no
 * read after the first. */
#ifndef DSNINFO_H
#define DSNINFO_H

#include <stddef.h>
#include "stralloc.h"
#include "msg.h"

/* dsninfo_read: the items after F of m's info/S/N into items (replaced;
 * empty when there are none); sets m->dsn. 0 ok, -1 error (logged; items
 * empty). */
int dsninfo_read(struct msg *m, stralloc *items);
/* dsninfo_notify: the NOTIFY flags (DSN_NOTIFY_*, hub/servers/dsnparam.h)
 * of channel address addr of m; 0 when it gave none, or on an error
 * (logged): then qmail's behaviour, a bounce on failure. */
int dsninfo_notify(struct msg *m, const char *addr, size_t alen);

#endif
