/* tests/unit/crc32c.c: TAP tests for common/q_crc32c.c: the check value of
 * "123456789" (RFC 3720's test vector), 32 zero bytes and 32 0xFF bytes
 * (RFC 3720 B.4), the empty input, the same value fed in pieces, a one-bit
 * change seen, and the hex form written and scanned back (bad lengths and
 * digits refused). */
#include <string.h>
#include "tap.h"
#include "q_crc32c.h"

static uint32_t crc(const void *p, size_t n) { return crc32c_final(crc32c_update(crc32c_init(), p, n)); }

int main(void)
{
  unsigned char z[32], f[32], m[100];
  char hex[CRC32C_HEX];
  uint32_t c, v;
  size_t i;
  memset(z, 0, sizeof z); memset(f, 0xFF, sizeof f);
  is_int(crc("123456789", 9), 0xE3069283u, "check value of 123456789");
  is_int(crc(z, 32), 0x8A9136AAu, "32 zero bytes (RFC 3720)");
  is_int(crc(f, 32), 0x62A8AB43u, "32 0xFF bytes (RFC 3720)");
  is_int(crc("", 0), 0, "empty input");
  for (i = 0; i < sizeof m; i++) m[i] = (unsigned char)(i * 7 + 3);
  c = crc32c_init();
  for (i = 0; i < sizeof m; i += 13) c = crc32c_update(c, m + i, sizeof m - i < 13 ? sizeof m - i : 13);
  is_int(crc32c_final(c), crc(m, sizeof m), "fed in pieces: the same value");
  m[50] ^= 4;
  ok(crc(m, sizeof m) != crc32c_final(c), "one bit changed: another value");
  is_int(crc32c_fmt(hex, 0xE3069283u), CRC32C_HEX, "eight digits");
  is_mem(hex, CRC32C_HEX, "e3069283", "lowercase hex");
  ok(crc32c_scan(hex, CRC32C_HEX, &v) && v == 0xE3069283u, "scanned back");
  ok(crc32c_scan("E3069283", 8, &v) && v == 0xE3069283u, "uppercase accepted");
  crc32c_fmt(hex, 0x0000000Fu);
  is_mem(hex, CRC32C_HEX, "0000000f", "leading zeros kept");
  ok(!crc32c_scan("e306928", 7, &v), "seven digits refused");
  ok(!crc32c_scan("e30692830", 9, &v), "nine digits refused");
  ok(!crc32c_scan("e306928g", 8, &v), "a non-hex digit refused");
  ok(!crc32c_scan("-3069283", 8, &v), "a sign refused");
  done_testing();
}
