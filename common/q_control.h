/* q_control.h: qmail control files (DIR/control/<name>).
 * One setting per file. Single-value files: the first line, trailing spaces
 * and tabs stripped. List files: one item per line, blank lines and lines
 * starting with '#' ignored, trailing whitespace stripped. Files are capped
 * at CONTROL_MAX bytes: a bigger one is an error (compile big lists to cdb).
 * Return convention everywhere: 1 value read, 0 file missing (the caller's
 * default applies), -1 error with errno set (EINVAL: not a decimal number,
 * ERANGE: a number too large, EDOM: a number below the caller's minimum,
 * EFBIG: over the cap; or the errno of open/read: EACCES, EISDIR, ...).
 * A missing file is never an error here: callers that must fail closed
 * decide that themselves. A file that is present but unreadable or
 * invalid is never the default: the reader fails (control/README.md). */
#ifndef Q_CONTROL_H
#define Q_CONTROL_H

#include "stralloc.h"

#define CONTROL_MAX (16UL * 1024 * 1024)

/* control_path: sa = home/control/name, NUL-terminated. 1 ok, 0 no memory. */
int control_path(stralloc *sa, const char *name);
/* control_source: fn, when set, is asked first by control_readfile: it
 * answers as control_readfile would (1 with sa filled, 0 missing, -1 with
 * errno), or 2 for a file it does not keep (then the file is read). The
 * fork server's copy of the control files (hub/servers/ctlcache.h). */
void control_source(int (*fn)(stralloc *sa, const char *name));
/* control_readpath: the whole file at path into sa (not NUL-terminated),
 * at most CONTROL_MAX bytes (more: -1, EFBIG). 1 ok, 0 it does not
 * exist, -1 error (errno). */
int control_readpath(stralloc *sa, const char *path);
/* control_readfile: whole file into sa (not NUL-terminated). */
int control_readfile(stralloc *sa, const char *name);
/* control_readline: first line into sa (not NUL-terminated). An empty
 * first line counts as present-but-empty (returns 1, sa->len 0). */
int control_readline(stralloc *sa, const char *name);
/* control_rldef: first line, or def when the file is missing or empty;
 * sa is NUL-terminated on success. Returns 1 ok, -1 error. */
int control_rldef(stralloc *sa, const char *name, const char *def);
/* control_readulong: first line as an unsigned decimal; *v unchanged when
 * the file is missing. Leading/trailing blanks allowed; anything else
 * (an empty line too) is EINVAL, more than ULONG_MAX is ERANGE. */
int control_readulong(unsigned long *v, const char *name);
/* control_readnum: the same, and a value below min is EDOM. */
int control_readnum(unsigned long *v, const char *name, unsigned long min);
/* control_scanulong: s[0..len) as control_readulong reads a first line
 * (for the same syntax in an environment variable): 1, or -1 with errno. */
int control_scanulong(const char *s, size_t len, unsigned long *v);
/* control_strerror: the reason text for errno e after a failed read
 * ("not a decimal number", "number too large", ... or strerror(e)). */
const char *control_strerror(int e);
/* control_readlist: items into sa, each NUL-terminated. */
int control_readlist(stralloc *sa, const char *name);
/* list_readpath: the same for a list file at any path (e.g. $QMAILMFTFILE). */
int list_readpath(stralloc *sa, const char *path);
/* control_me: "me" or def if missing (used as default for many files). */
int control_me(stralloc *sa, const char *def);

#endif
