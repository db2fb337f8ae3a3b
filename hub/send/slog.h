/* slog.h: qmail-send's log (descriptor 0, read by the log service;
 * the lines are listed in qmail-log(5)). A line is built in one buffer
 * with lg_s/lg_n/lg_safe/... and written whole by lg_flush, so lines of
 * one qmail-send never interleave. Text from outside (addresses, reports,
 * file names) goes through lg_safe, which escapes control bytes. Out of
 * memory is fatal (111). */
#ifndef SLOG_H
#define SLOG_H

#include <stddef.h>

/* lg_s: a constant string; lg_n: a decimal number; lg_safe: bytes from
 * outside, escaped (common/q_sa.h, sa_catsafe) */
void lg_s(const char *s);
void lg_n(unsigned long long n);
void lg_safe(const char *s, size_t len);
/* lg_report: a delivery report's text, its newlines as '/' (qmail's log) */
void lg_report(const char *s, size_t len);
/* lg_mid: the Message-ID record: as it is (qmail-queue escaped it
 * already) unless it holds a byte outside printable ASCII, then escaped */
void lg_mid(const char *s, size_t len);
/* lg_flush: end the line and write it */
void lg_flush(void);
/* lg_line: a whole line */
void lg_line(const char *s);
/* lg_sys: "s obj: strerror(errno)" (obj may be NULL) */
void lg_sys(const char *s, const char *obj);

#endif
