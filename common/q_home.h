/* q_home.h: where this program's qmail home is.
 * The home is compiled in (auto_home, written by make install for the DIR it
 * installs). A program that is not setuid/setgid (AT_SECURE is 0) also
 * honours $QMAILHOME as an override, for tests and relocated homes. */
#ifndef Q_HOME_H
#define Q_HOME_H

#include "stralloc.h"

extern const char auto_home[];

/* home_dir: the home directory in force (never NULL, never empty). */
const char *home_dir(void);
/* home_path: sa = home_dir() + "/" + rel, NUL-terminated. 1 ok, 0 no memory. */
int home_path(stralloc *sa, const char *rel);

#endif
