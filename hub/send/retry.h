/* retry.h: qmail-send's retry schedule (docs/queue.md sec 6).
 *   next = birth + (isqrt(now - birth) + chanskip)^2
 * chanskip 10 for the local channel (0), 20 for the remote channel (1).
 * With on-time attempts this gives tries at (10k)^2 s (local) and (20k)^2 s
 * (remote) after birth: 39 remote tries (k = 0..38) in the default 7-day
 * queuelifetime. All arithmetic is 64-bit and saturates instead of
 * overflowing. DIFFERENT FROM QMAIL: a birth in the future (the clock was
 * set back, docs/bad-input.md F11) counts as age 0 *from now*: the next try is
 * now + chanskip^2, so no message waits for a birth that never comes. */
#ifndef RETRY_H
#define RETRY_H

#define RETRY_LOCAL 0
#define RETRY_REMOTE 1

/* retry_isqrt: the exact floor of the square root of n. */
unsigned long long retry_isqrt(unsigned long long n);
/* retry_next: the time of the next try (see above); an unknown chan counts
 * as remote. Never overflows: saturates at LLONG_MAX. */
long long retry_next(long long birth, long long now, int chan);
/* retry_expired: 1 if the message is older than lifetime seconds (age >
 * lifetime; a future birth is age 0, a negative lifetime counts as 0). */
int retry_expired(long long birth, long long now, long long lifetime);

#endif
