/* fwdfile.h: the sendmail/Postfix forwarding syntax of /etc/aliases,
 * ~/.forward and :include: lists (docs/aliases.md), parsed into entries
 * and turned into .qmail lines (dot-qmail(5)) for qmail-local's engine.
 * No I/O here (an :include: file is read through a callback), so tests
 * link it directly.
 *
 * Text: logical lines; a physical line starting with a blank continues the
 * line before it; a line starting with '#' and a blank line are ignored.
 * An aliases line is  name: entry, entry, ...  (name lowercased; quoted
 * "name" allowed); a .forward or :include: line is the entry list alone.
 * Entries, separated by commas outside double quotes:
 *   address      user@domain, "quoted local"@domain, <addr>, or a bare
 *                local name (the local domain is added at delivery)
 *   |command     run by sh -c ("|cmd, with commas" quoted as a whole)
 *   /path        mbox append (a path ending in '/' is a Maildir)
 *   :include:/path   the entries of that file, read at delivery time
 *   \user        that local user itself: in a .forward, the user's own
 *                name means the default delivery; elsewhere user@domain
 * A compiled entry is its kind byte ('&' '|' '/' ':' '\\') followed by
 * its text and a NUL; a compiled list is such entries back to back (the
 * aliases cdb holds one per name). */
#ifndef FWDFILE_H
#define FWDFILE_H

#include <stddef.h>
#include "stralloc.h"

#define FWD_LINE_MAX 65536      /* bytes in one logical line */
#define FWD_ENTRY_MAX 1000      /* bytes in one entry */
#define FWD_ENTRIES_MAX 1000    /* entries in one expansion, includes counted */
#define FWD_NAME_MAX 1000       /* bytes in an alias name */
#define FWD_DEPTH_MAX 5         /* nested :include: files */
#define FWD_FILE_MAX (1024 * 1024)  /* bytes in a .forward or :include: file */

/* fwd_reader: walks text[0..len) one logical line at a time. */
struct fwd_reader {
  const char *text;
  size_t len, pos;
  unsigned long line;     /* 1-based number of the logical line's first line */
  unsigned long next;     /* number of the next physical line */
};
void fwd_reader_init(struct fwd_reader *r, const char *text, size_t len);
/* fwd_logical: the next logical line into sa (continuations joined by a
 * space, no newline). 1 a line, 0 end of text, -1 no memory, -2 syntax
 * error (*why: a continuation with nothing before it, a line over
 * FWD_LINE_MAX, a NUL byte); r->line names the line. */
int fwd_logical(struct fwd_reader *r, stralloc *sa, const char **why);

/* fwd_entries: parse the entry list s[0..len) and append the compiled
 * entries to out; *count is raised by their number and may not pass
 * FWD_ENTRIES_MAX. 1 ok, 0 syntax error (*why), -1 no memory. */
int fwd_entries(const char *s, size_t len, stralloc *out, size_t *count, const char **why);

/* fwd_alias: split an aliases logical line into its name (lowercased,
 * NUL-terminated) and compiled entries. An alias with no entry, or one
 * whose entries name itself (a bare name, or \name), is refused.
 * 1 ok, 0 syntax error (*why), -1 no memory. */
int fwd_alias(const char *s, size_t len, stralloc *name, stralloc *entries, const char **why);

/* fwd_list: all the entries of a .forward or :include: text, compiled.
 * 1 ok, 0 syntax error (*why, *line), -1 no memory. */
int fwd_list(const char *text, size_t len, stralloc *out, unsigned long *line, const char **why);

/* How fwd_qmail turns entries into .qmail lines. */
struct fwd_expand {
  const char *domain;    /* added to bare names: "name@" domain */
  const char *self;      /* .forward: the user's name (\self, self = default); 0 for aliases */
  const char *self2;     /* .forward: the address's local part, the same meaning; or 0 */
  const char *deflt;     /* the default delivery's .qmail text, for self */
  /* readinc: the text of an :include: file (absolute path). 1 ok, 0 the
   * file cannot be used or read (*why: the whole reason, path included). */
  int (*readinc)(const char *path, stralloc *text, const char **why, void *arg);
  void *arg;
  int usedself;          /* set when the default delivery was put in */
};

/* fwd_qmail: append the .qmail lines for the compiled entries e[0..len)
 * to out ("&address", "|command", "/path"), includes expanded up to
 * FWD_DEPTH_MAX deep, at most FWD_ENTRIES_MAX entries in all (*count).
 * 1 ok, 0 refused (*why: an include unreadable or with bad syntax, too
 * deep, too many entries), -1 no memory. */
int fwd_qmail(const char *e, size_t len, struct fwd_expand *x, stralloc *out,
              size_t *count, int depth, const char **why);

#endif
