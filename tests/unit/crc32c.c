/* tests/unit/crc32c.c: TAP tests for common/q_crc32c.c: the check value of
 * "123456789" (RFC 3720's test vector), 32 zero bytes and 32 0xFF bytes
 * (RFC 3720 B.4), the empty input, the same value fed in pieces, a one-bit
 * change seen, and the hex form written and scanned back (bad lengths and
 * digits refused). The SSE4.2 path and the table path each give RFC 3720's
 * values, and the same value as each other on pseudo-random inputs of
 * every length 0..300 at every alignment 0..7, fed whole and in pieces. */
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "q_crc32c.h"

static uint32_t crc(const void *p, size_t n) { return crc32c_final(crc32c_update(crc32c_init(), p, n)); }

typedef uint32_t (*updfn)(uint32_t, const void *, size_t);
static uint32_t crcf(updfn f, const void *p, size_t n) { return crc32c_final(f(crc32c_init(), p, n)); }

/* the known values through one path */
static void vectors(updfn f, const char *name)
{
  unsigned char b[32];
  size_t i;
  char d[80];
  memset(b, 0, sizeof b);
  snprintf(d, sizeof d, "%s: 123456789", name);
  is_int(crcf(f, "123456789", 9), 0xE3069283u, d);
  snprintf(d, sizeof d, "%s: 32 zero bytes", name);
  is_int(crcf(f, b, 32), 0x8A9136AAu, d);
  for (i = 0; i < 32; i++) b[i] = (unsigned char)i;
  snprintf(d, sizeof d, "%s: 32 ascending bytes (RFC 3720)", name);
  is_int(crcf(f, b, 32), 0x46DD794Eu, d);
  for (i = 0; i < 32; i++) b[i] = (unsigned char)(31 - i);
  snprintf(d, sizeof d, "%s: 32 descending bytes (RFC 3720)", name);
  is_int(crcf(f, b, 32), 0x113FDB5Cu, d);
}

/* hw against sw: every length 0..300 at every alignment, whole and in
 * pieces of 1..17 bytes; returns the number of differences */
static int compare(void)
{
  static unsigned char r[300 + 8 + 65536];
  unsigned long x = 12345;
  size_t i, len, off;
  int bad = 0;
  for (i = 0; i < sizeof r; i++) { x = x * 1103515245UL + 12345UL; r[i] = (unsigned char)(x >> 16); }
  for (off = 0; off < 8; off++)
    for (len = 0; len <= 300; len++) {
      uint32_t a = crcf(crc32c_update_sw, r + off, len), b = crcf(crc32c_update_hw, r + off, len), c;
      size_t p = 0, k = 1;
      c = crc32c_init();
      while (p < len) { size_t n = len - p < k ? len - p : k; c = crc32c_update_hw(c, r + off + p, n); p += n; k = k % 17 + 1; }
      if (a != b || a != crc32c_final(c)) bad++;
    }
  if (crcf(crc32c_update_sw, r + 3, 65536) != crcf(crc32c_update_hw, r + 3, 65536)) bad++;
  return bad;
}

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
  vectors(crc32c_update_sw, "table");
  if (crc32c_hw()) {
    vectors(crc32c_update_hw, "sse4.2");
    is_int(compare(), 0, "sse4.2 and table agree: lengths 0..300, alignments 0..7, whole and in pieces, and 64 KB");
  } else {
    ok(1, "# SKIP no SSE4.2 on this CPU: crc32c_update is the table");
    ok(1, "# SKIP no SSE4.2 on this CPU");
    ok(1, "# SKIP no SSE4.2 on this CPU");
    ok(1, "# SKIP no SSE4.2 on this CPU");
    ok(1, "# SKIP no SSE4.2 on this CPU");
  }
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
