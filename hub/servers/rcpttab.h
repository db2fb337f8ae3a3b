/* rcpttab.h: the recipient table, control/recipients.cdb: which local
 * parts this hub can deliver, written by qmail-rcptcdb and read by the
 * servers at RCPT time (rcptcheck.h; docs/rcptcheck.md).
 *
 * The table answers for the local part L that qmail-send hands to
 * qmail-lspawn (after locals/virtualdomains, which the servers apply
 * themselves with rewrite.h), and it follows the delivery path step by
 * step, so that "deliverable" here is exactly "qmail-local finds
 * instructions" there:
 *  1. users/cdb: the exact key L, then the longest wildcard prefix of L
 *     (both ignoring case), as qmail-lspawn (users.h users_cdb_lookup);
 *  2. root mode only: the longest passwd user name u with L = u or
 *     L = u-ext, as qmail-getpw (users.h users_getpw: names in lower case,
 *     uid not 0, a home owned by the user), dash "-";
 *  3. the alias home with dash "-" and ext L.
 * The step that finds L gives a home, a dash and an ext; an empty ext is
 * always deliverable (.qmail or defaultdelivery), otherwise the home must
 * hold ".qmail" dash ext, or ".qmail" dash P "default" for P empty or a
 * prefix of ext ending in '-' (qmail-local's order, dotqmail.h; ext in
 * lower case with '.' as ':').
 *
 * Keys (one type byte first; "set" is a decimal id of a (home, dash)):
 *   "!v"             format version, "1"
 *   "!m"             "root" or "single" (qmail-lspawn's mode)
 *   "!s"             sources: path\0stamp\0 ... (rt_stamp)
 *   "!a" / "!r"      users/cdb / administrator prefix lengths in use,
 *                    decimal, each followed by ' ' (so a lookup tries only
 *                    those: a few cdb probes per address)
 *   "=" local        users/cdb exact entry: set\0ext      (key lower case;
 *                    set "-" when ext is empty: no home needed)
 *   "+" prefix       users/cdb wildcard entry: set\0pre   (key lower case)
 *   "u" name         passwd user (case kept): set
 *   "A"              the alias home's set
 *   "h" set          the home: path\0stamp\0flag; flag "*": every ext
 *                    (the home could not be listed or has too many files)
 *   "x" set ":" ext  ".qmail" dash ext exists
 *   "d" set ":" pre  ".qmail" dash pre "default" exists
 *   "r=" addr        administrator's list (control/recipients): address
 *   "r@" domain      ... every address in domain
 *   "r+" pre "@" dom ... every address in dom whose local part begins with pre
 * The administrator's keys are in lower case and match ignoring case. */
#ifndef RCPTTAB_H
#define RCPTTAB_H

#include <stddef.h>
#include "cdb.h"
#include "cdb_make.h"
#include "stralloc.h"

#define RT_VERSION "1"
#define RT_PREFIX_MAX 1000      /* longest prefix kept (USERS_LOCAL_MAX) */
#define RT_HOME_FILES 100000    /* .qmail names kept per home; more: "*" */

#define RT_NO 0
#define RT_YES 1
#define RT_NOSET (-1UL)         /* no home needed (rt_make_assign) */

/* ---- writing (qmail-rcptcdb) ---------------------------------------- */

struct rt_make {
  struct cdb_make cm;
  unsigned char alens[RT_PREFIX_MAX + 1], rlens[RT_PREFIX_MAX + 1];  /* lengths seen */
  stralloc key, data, stamps;
};

/* rt_make_start: begin a table on fd; single: qmail-lspawn's single-user
 * mode (no passwd step). 0 ok, -1 error (errno). */
int rt_make_start(struct rt_make *m, int fd, int single);
/* rt_make_stamp: one source and its stamp (rt_stamp); call them all
 * before rt_make_finish. 0 ok, -1 error. */
int rt_make_stamp(struct rt_make *m, const char *path, const char *stamp);
/* rt_make_home: set id is home (its stamp), every ext when all. */
int rt_make_home(struct rt_make *m, unsigned long set, const char *home,
                 const char *stamp, int all);
/* rt_make_file: in set, a file ".qmail" dash rest (rest: the name after
 * ".qmail" dash). A rest qmail-local can never open (upper case, '.',
 * '/') is skipped. 0 ok, -1 error. */
int rt_make_file(struct rt_make *m, unsigned long set, const char *rest);
/* rt_make_assign: a users/cdb record: type '=' or '+', the key after the
 * type (lower case already), its set and ext (for '+': pre); RT_NOSET
 * for an exact record with an empty ext, which needs no home. Duplicate
 * keys: the first one added wins, as in users/cdb. 0 ok, -1 error. */
int rt_make_assign(struct rt_make *m, char type, const char *key, size_t klen,
                   unsigned long set, const char *ext);
/* rt_make_user: a passwd user that qmail-getpw would pick. */
int rt_make_user(struct rt_make *m, const char *name, unsigned long set);
/* rt_make_alias: the alias home's set. */
int rt_make_alias(struct rt_make *m, unsigned long set);
/* rt_make_admin: one line of control/recipients: "local@domain",
 * "@domain" or "prefix*@domain". 1 ok, 0 bad syntax, -1 error. */
int rt_make_admin(struct rt_make *m, const char *line, size_t len);
/* rt_make_finish: write the index. 0 ok, -1 error. Frees memory either way. */
int rt_make_finish(struct rt_make *m);
/* rt_make_free: give up (after an error). */
void rt_make_free(struct rt_make *m);

/* rt_stamp: out = a fingerprint of path that changes whenever the file or
 * directory changes (device, inode, size, ctime in ns), "-" when it does
 * not exist. NUL-terminated. 0 ok, -1 error (errno). */
int rt_stamp(stralloc *out, const char *path);

/* ---- reading (the servers) ------------------------------------------ */

struct rt {
  struct cdb c;
  int single;
  unsigned char alens[RT_PREFIX_MAX + 1], rlens[RT_PREFIX_MAX + 1];  /* 1: in use */
  unsigned long alias;
  stralloc key, val;
};

/* rt_open: use the table open on fd (kept open by the caller). 1 ok,
 * 0 not a table of this version, -1 error (errno). */
int rt_open(struct rt *t, int fd);
/* rt_local: RT_YES when local[0..len) is deliverable; RT_NO otherwise,
 * with *set the home whose files decided (-1UL: no home). -1 error. */
int rt_local(struct rt *t, const char *local, size_t len, unsigned long *set);
/* rt_admin: 1 when addr[0..len) is in the administrator's list, 0 not,
 * -1 error. */
int rt_admin(struct rt *t, const char *addr, size_t len);
/* rt_home: path and stamp of set (NUL-terminated). 1 found, 0 not, -1 error. */
int rt_home(struct rt *t, unsigned long set, stralloc *path, stralloc *stamp);
/* rt_sources: the "!s" record (path\0stamp\0 ...) into out. 1, 0, -1. */
int rt_sources(struct rt *t, stralloc *out);
/* rt_close: unmap (the caller closes fd). */
void rt_close(struct rt *t);

#endif
