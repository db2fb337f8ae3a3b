/* q_date.h: RFC 5322 date-time text (sec 3.3), e.g.
 *   "Mon, 23 Nov 2026 20:40:05 +0000"
 * libowfat's fmt_httpdate prints the obsolete "GMT" zone, so this is ours. */
#ifndef Q_DATE_H
#define Q_DATE_H

#include <stddef.h>
#include <time.h>

#define DATE822_MAX 40

/* date_fmt822: write the date for t into buf (DATE822_MAX bytes, NUL-terminated);
 * local != 0 uses the local zone and its offset, else UTC as +0000.
 * Returns the length. */
size_t date_fmt822(char *buf, time_t t, int local);

#endif
