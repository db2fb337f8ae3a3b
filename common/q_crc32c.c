/* q_crc32c.c: CRC-32C (q_crc32c.h). Two ways to the same value:
 *  - the SSE4.2 crc32 instruction, eight bytes a step, where the CPU has
 *    it (checked once at run time: the binaries run on any x86-64, and
 *    everywhere else the code is left out at compile time);
 *  - a bytewise table, built on first use, everywhere else.
 * A 2 KB message costs some 300 instructions the first way and some 14000
 * the second; the queue writer and qmail-send each run it once over a
 * message. tests/unit/crc32c.c checks both against known values and each
 * other. */
#include <string.h>
#include "q_crc32c.h"

static uint32_t table[256];
static int ready;

static void build(void)
{
  uint32_t i, j, c;
  for (i = 0; i < 256; i++) {
    c = i;
    for (j = 0; j < 8; j++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  ready = 1;
}

uint32_t crc32c_init(void) { return 0xFFFFFFFFu; }

uint32_t crc32c_update_sw(uint32_t crc, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  if (!ready) build();
  while (len--) crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_HW 1

__attribute__((target("sse4.2")))
uint32_t crc32c_update_hw(uint32_t crc, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  unsigned long long c = crc;
  for (; len && ((uintptr_t)p & 7); --len) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
  for (; len >= 8; len -= 8, p += 8) {
    unsigned long long w;
    memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
  }
  for (; len; --len) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
  return (uint32_t)c;
}

int crc32c_hw(void)
{
  static int have = -1;
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("sse4.2") ? 1 : 0;
  }
  return have;
}
#else
uint32_t crc32c_update_hw(uint32_t crc, const void *buf, size_t len) { return crc32c_update_sw(crc, buf, len); }
int crc32c_hw(void) { return 0; }
#endif

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
  return crc32c_hw() ? crc32c_update_hw(crc, buf, len) : crc32c_update_sw(crc, buf, len);
}

uint32_t crc32c_final(uint32_t crc) { return crc ^ 0xFFFFFFFFu; }

size_t crc32c_fmt(char *out, uint32_t crc)
{
  static const char hex[] = "0123456789abcdef";
  int i;
  for (i = 7; i >= 0; i--) { out[i] = hex[crc & 15]; crc >>= 4; }
  return CRC32C_HEX;
}

int crc32c_scan(const char *s, size_t len, uint32_t *crc)
{
  uint32_t v = 0;
  size_t i;
  if (len != CRC32C_HEX) return 0;
  for (i = 0; i < len; i++) {
    char ch = s[i];
    unsigned d;
    if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
    else if (ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
    else return 0;
    v = (v << 4) | d;
  }
  *crc = v;
  return 1;
}
