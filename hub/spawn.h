/* spawn.h: the skeleton shared by qmail-lspawn and (later) qmail-rspawn
 * (DESIGN.md §5 spawn protocol; REFERENCE.md 1c wire format).
 *
 * Jobs arrive from qmail-send on infd, each
 *   <slot byte><split/id>\0<sender>\0<recipient>\0
 * and every job gets exactly one report on outfd, in completion order:
 *   <slot byte><K|Z|D><text>\0
 * The program-specific part is two callbacks: start runs one delivery with
 * its stdout+stderr on outfd (a pipe the skeleton reads), finish turns the
 * wait status and the captured output into the report. The skeleton owns
 * the slot table, the poll loop, output capture and report writing.
 * Caps: one job at most SPAWN_JOB_MAX bytes, captured output SPAWN_OUT_MAX
 * bytes per delivery (more is read and dropped), slots 0..255. */
#ifndef SPAWN_H
#define SPAWN_H

#include <stddef.h>
#include <sys/types.h>
#include "stralloc.h"

#define SPAWN_JOB_MAX 4096
#define SPAWN_OUT_MAX 4000

struct spawn_job {
  unsigned char slot;
  const char *id;       /* "S/N": validated digits '/' digits */
  const char *sender;
  const char *rcpt;
};

struct spawn_ops {
  /* start: begin the delivery; the child's stdout and stderr go to outfd
   * (the callee dup2s it in the child, and must not close it in the
   * parent). Returns the child's pid, or -1 after putting an immediate
   * report ("Z..." or "D...", first byte the letter) in result. */
  pid_t (*start)(const struct spawn_job *job, int outfd, stralloc *result);
  /* finish: the report for a child that exited with wstat and wrote
   * out[0..len) (at most SPAWN_OUT_MAX bytes). */
  void (*finish)(int wstat, const char *out, size_t len, stralloc *result);
};

/* spawn_loop: serve jobs from infd until it reaches end of file and every
 * child has finished. Returns 0 then; exits 111 itself on a protocol
 * error (bad id, busy slot, oversized job) or when outfd fails. */
int spawn_loop(const struct spawn_ops *ops, int infd, int outfd);

/* spawn_text: append out[0..len) to result as one report text: NUL bytes
 * become '_', inner newlines '/', trailing newlines and spaces dropped.
 * Returns 1, 0 on no memory. Empty when out is empty. */
int spawn_text(stralloc *result, const char *out, size_t len);

/* spawn_id_ok: 1 if id is digits '/' digits (no other bytes). */
int spawn_id_ok(const char *id);

#endif
