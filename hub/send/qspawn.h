/* qspawn.h: the skeleton shared by qmail-lspawn and qmail-rspawn
 * (docs/protocols.md, the spawn protocol: qmail 1.03's wire format, extended).
 *
 * Jobs arrive from qmail-send on infd, each
 *   <slot byte><split/id>\0<sender>\0<recipient>\0[<recipient>\0...]\0
 * (one or more recipients, then an empty item; qmail 1.03 had exactly one
 * recipient and no empty item). Every recipient gets exactly one report on
 * outfd; the reports of one job are written together, in the job's
 * recipient order, when the job ends (jobs end in any order):
 *   <slot byte><K|Z|D><text>\0
 * The program-specific part is two callbacks: start runs one delivery with
 * its stdout+stderr on outfd (a pipe the skeleton reads), finish turns the
 * wait status and the captured output into the reports. The skeleton owns
 * the slot table, the poll loop, output capture and report writing.
 * DSN (RFC 3461) words ride in the id item: "S/N\n<mail words>\n<words
 * of recipient 1>\n..." (hub/servers/dsnparam.h's item forms, one line
 * for MAIL and one per recipient, possibly empty); qmail-send adds them
 * only to remote jobs of messages that have DSN items, and a spawner
 * that does not use them ignores them (job.dsn).
 * Caps: one job at most SPAWN_JOB_MAX bytes and SPAWN_RCPT_MAX recipients,
 * captured output SPAWN_OUT_MAX bytes per delivery (more is read and
 * dropped), slots 0..255. */
#ifndef QSPAWN_H
#define QSPAWN_H

#include <stddef.h>
#include <sys/types.h>
#include "stralloc.h"

#define SPAWN_JOB_MAX (128 * 1024)
#define SPAWN_RCPT_MAX 100
#define SPAWN_OUT_MAX (SPAWN_RCPT_MAX * 1100 + 1100)
#define SPAWN_TEXT_MAX 4000  /* bytes of one report's text */

struct spawn_job {
  unsigned char slot;
  const char *id;       /* "S/N": validated digits '/' digits */
  const char *dsn;      /* the DSN lines after the id item's first '\n', or 0 */
  char idbuf[64];
  const char *sender;
  const char *rcpt;     /* the first recipient (= rcpts[0]) */
  const char *rcpts[SPAWN_RCPT_MAX];
  size_t nrcpt;         /* 1 .. SPAWN_RCPT_MAX */
};

struct spawn_ops {
  /* start: begin the delivery; the child's stdout and stderr go to outfd
   * (the callee dup2s it in the child, and must not close it in the
   * parent). Returns the child's pid, or -1 after putting an immediate
   * report ("Z..." or "D...", first byte the letter, no NUL) in result:
   * it is given to every recipient of the job. */
  pid_t (*start)(const struct spawn_job *job, int outfd, stralloc *result);
  /* finish: the reports for a child that exited with wstat and wrote
   * out[0..len) (at most SPAWN_OUT_MAX bytes): nrcpt reports in result,
   * each "<K|Z|D><text>\0", in the job's recipient order. */
  void (*finish)(int wstat, const char *out, size_t len, size_t nrcpt, stralloc *result);
  /* maxrcpt: the most recipients one job may carry (1 for qmail-lspawn);
   * a job with more is a protocol error. */
  size_t maxrcpt;
};

/* spawn_loop: serve jobs from infd until it reaches end of file and every
 * child has finished. Returns 0 then; exits 111 itself on a protocol
 * error (bad id, busy slot, oversized job, too many recipients) or when
 * outfd fails. */
int spawn_loop(const struct spawn_ops *ops, int infd, int outfd);

/* The job reader, for a program that serves jobs its own way (qmail-rspawn's
 * sessions): spawn_feed takes bytes of the job stream and calls onjob for
 * each complete job, with the parsed job and its raw bytes (valid during
 * the call only). Protocol errors (oversized job, no recipient, more than
 * maxrcpt recipients, bad id) exit 111 as spawn_loop does. */
struct spawn_reader {
  size_t maxrcpt;
  void (*onjob)(const struct spawn_job *j, const char *raw, size_t rawlen, void *arg);
  void *arg;
  stralloc job;       /* bytes of the job being read */
  unsigned nuls;
  struct spawn_job j;
};
void spawn_feed(struct spawn_reader *r, const char *b, size_t n);

/* spawn_put: write the reports in r (nrcpt of them, each ending in NUL;
 * with one=1, r is one report without its NUL, given to every recipient),
 * each after the slot byte, in one write so qmail-send never sees a torn
 * set. Exits 111 when outfd fails. */
void spawn_put(int outfd, unsigned char slot, const stralloc *r, size_t nrcpt, int one);

/* spawn_text: append out[0..len) to result as one report text: NUL bytes
 * become '_', inner newlines stay (qmail-send logs them as '/' and puts
 * them as they are in bounces: a '/' of the text itself, as in a path or a
 * URL, must never turn into a line break), trailing newlines and spaces
 * dropped, at most SPAWN_TEXT_MAX bytes kept.
 * Returns 1, 0 on no memory. Empty when out is empty. */
int spawn_text(stralloc *result, const char *out, size_t len);

/* spawn_id_ok: 1 if id is digits '/' digits (no other bytes). */
int spawn_id_ok(const char *id);

#endif
