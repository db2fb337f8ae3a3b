/* q_crc32c.h: CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected as
 * 0x82F63B78; RFC 3720 appendix B.4), the check value that ties a queued
 * message's envelope to the bytes of its mess/ file (hub/queue/QUEUE.md:
 * the `l` and `c` items a group commit writes). Table-driven, no state but
 * the running value (the SSE4.2 crc32 instruction when the CPU has it,
 * else a table: the same values):
 *   uint32_t c = crc32c_init();
 *   c = crc32c_update(c, buf, len);   ... as often as needed
 *   c = crc32c_final(c);
 * crc32c_final(crc32c_update(crc32c_init(), "123456789", 9)) == 0xE3069283. */
#ifndef Q_CRC32C_H
#define Q_CRC32C_H

#include <stddef.h>
#include <stdint.h>

#define CRC32C_HEX 8  /* crc32c_fmt: eight lowercase hex digits, no NUL */

uint32_t crc32c_init(void);
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_final(uint32_t crc);
/* the two ways crc32c_update chooses between, for the tests:
 * crc32c_update_sw the table (any CPU), crc32c_update_hw the instruction
 * (call it only when crc32c_hw() is 1; where it is left out at compile
 * time it is the table); crc32c_hw: 1 when crc32c_update uses it */
uint32_t crc32c_update_sw(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_update_hw(uint32_t crc, const void *buf, size_t len);
int crc32c_hw(void);
/* crc32c_fmt: the final value as eight lowercase hex digits into out
 * (CRC32C_HEX bytes, not terminated); returns CRC32C_HEX */
size_t crc32c_fmt(char *out, uint32_t crc);
/* crc32c_scan: eight hex digits (either case) exactly; 1 and *crc set, or 0 */
int crc32c_scan(const char *s, size_t len, uint32_t *crc);

#endif
