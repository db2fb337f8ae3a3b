/* dotqmail.h: the pure parts of qmail-local's .qmail handling (dot-qmail(5)):
 * what one line means, and which file names
 * are tried for an extension. No I/O here, so tests link it directly. */
#ifndef DOTQMAIL_H
#define DOTQMAIL_H

#include <stddef.h>
#include "stralloc.h"

enum dq_type {
  DQ_COMMENT,  /* '#' line or blank line: ignored */
  DQ_PROGRAM,  /* '|cmd': arg = cmd (for sh -c) */
  DQ_FORWARD,  /* '&addr' or a bare address: arg = addr */
  DQ_MBOX,     /* '/path' or './path': arg = path */
  DQ_MAILDIR   /* '/path/' or './path/': arg = path, ending in '/' */
};

struct dq_line {
  enum dq_type type;
  const char *arg;  /* points into the line given */
  size_t len;
};

/* dotqmail_parse: classify line[0..len) (without its '\n'). Trailing blanks
 * and a CR are dropped except for programs, which keep their text as is.
 * A line whose argument ends up empty ("&", "|") is a comment. */
void dotqmail_parse(const char *line, size_t len, struct dq_line *out);
/* dotqmail_split: call fn for each line of text[0..len); a last line without
 * '\n' counts. Stops when fn returns nonzero and returns that value. */
int dotqmail_split(const char *text, size_t len,
                   int (*fn)(const struct dq_line *, void *), void *arg);
/* dotqmail_candidate: the i-th file name tried (i = 0, 1, ...) for the
 * address part dash/ext: 0 exact ".qmail" dash ext; then, from the right,
 * every "-"-separated prefix of ext followed by "-default"; then dash
 * "default". ext is lowercased and its dots become ':'. An empty ext has
 * only the exact name. Sets name (NUL-terminated) and *defpos (offset in ext
 * where the part replaced by "default" starts, for $DEFAULT; len for the
 * exact name). Returns 1 name set, 0 no more names, -1 no memory. */
int dotqmail_candidate(stralloc *name, const char *dash, const char *ext,
                       size_t i, size_t *defpos);

/* Mailing-list owners (qmail-local's -owner rule). An address whose
 * ".qmail" dash ext "-owner" file exists is a list: mail it forwards gets
 * the envelope sender local-owner@domain, or, when ".qmail" dash ext
 * "-owner-default" exists too, the VERP sender local-owner-@domain-@[]
 * (qmail-send then gives each recipient its own owner-box=host address).
 * An empty sender or "#@[]" (bounces) is never replaced. */
#define DQ_OWNER_NONE 0     /* no -owner file */
#define DQ_OWNER_PLAIN 1    /* -owner exists */
#define DQ_OWNER_VERP 2     /* -owner and -owner-default exist */
/* dotqmail_name: name = ".qmail" dash ext suffix, ext lowercased with dots
 * as ':', NUL-terminated. 0 ok, -1 no memory. */
int dotqmail_name(stralloc *name, const char *dash, const char *ext, const char *suffix);
/* dotqmail_newsender: out = $NEWSENDER (NUL-terminated) for sender when
 * delivering to local@domain, given owner (DQ_OWNER_*). 0 ok, -1 no memory. */
int dotqmail_newsender(stralloc *out, const char *sender, const char *local,
                       const char *domain, int owner);

#endif
