/* tests/fuzz/fuzz_smtpcmd.c: libFuzzer harness for hub/servers/smtpcmd.c (the
 * qmail-smtpd command parser). The first input byte picks the address cap
 * (1..256, or 1000) and the keyword (FROM with SIZE/BODY/SMTPUTF8 allowed, or TO
 * with no parameters); the rest is a command line. Checks, beyond "no
 * crash, no leak, no undefined behaviour":
 *  - smtpcmd_split refuses exactly the lines holding a NUL; its verb and
 *    argument lie inside the line and the verb holds no space;
 *  - a parsed address is within the cap and free of NUL and control bytes;
 *    every error has a reply starting with a 4xx/5xx code;
 *  - re-encoding the address as <...> with every special byte escaped
 *    parses back to the same address (no route stripping, no unquoting
 *    surprises);
 *  - smtpcmd_utf8 takes with SMTPUTF8 exactly the valid UTF-8 addresses
 *    (q_utf8.h), without it exactly the ASCII ones (FROM also allows the
 *    SMTPUTF8 parameter).
 * Build: make fuzz-build (links hub/servers/smtpcmd.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "smtpcmd.h"
#include "q_utf8.h"

static void check_split(const uint8_t *d, size_t n)
{
  char *s = malloc(n + 1);
  struct smtp_line l;
  int r;
  if (!s) abort();
  memcpy(s, d, n);
  r = smtpcmd_split(s, n, &l);
  if (r == SMTPCMD_NUL) {
    if (!memchr(s, 0, n)) abort();
  } else {
    if (r != SMTPCMD_OK) abort();
    if (l.verb != s || l.verblen > n || memchr(l.verb, ' ', l.verblen)) abort();
    if (l.arg < s || l.arg + l.arglen > s + n || memchr(l.arg, 0, l.arglen)) abort();
  }
  free(s);
}

static int special(unsigned char c)
{
  return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 128);
}

/* roundtrip: <escaped addr> must parse to the same address. */
static void roundtrip(const stralloc *a, const char *kw, size_t cap)
{
  stralloc line = {0, 0, 0};
  struct smtp_path q = {{0, 0, 0}, 0, 0, SMTP_BODY_NONE};
  size_t i;
  if (!stralloc_copys(&line, kw) || !stralloc_cats(&line, ":<")) abort();
  for (i = 0; i < a->len; ++i) {
    if (special((unsigned char)a->s[i]) && !stralloc_cats(&line, "\\")) abort();
    if (!stralloc_catb(&line, a->s + i, 1)) abort();
  }
  if (!stralloc_cats(&line, ">")) abort();
  if (smtpcmd_path(line.s, line.len, kw, 0, cap, &q) != SMTPCMD_OK) abort();
  if (q.addr.len != a->len || (a->len && memcmp(q.addr.s, a->s, a->len))) abort();
  stralloc_free(&line);
  stralloc_free(&q.addr);
}

static void check_addr(const stralloc *a, size_t cap)
{
  size_t i;
  if (a->len > cap) abort();
  for (i = 0; i < a->len; ++i)
    if ((unsigned char)a->s[i] < 32 || a->s[i] == 127) abort();
}

/* check_utf8: smtpcmd_utf8 takes with SMTPUTF8 exactly the valid UTF-8,
 * without it exactly the ASCII, and has a 5xx reply for the rest. */
static void check_utf8(const stralloc *a)
{
  int with = smtpcmd_utf8(a->s, a->len, 1), without = smtpcmd_utf8(a->s, a->len, 0);
  if ((with == SMTPCMD_OK) != (utf8_valid(a->s, a->len) == a->len)) abort();
  if ((without == SMTPCMD_OK) != utf8_ascii(a->s, a->len)) abort();
  if (with != SMTPCMD_OK && smtpcmd_reply(with)[0] != '5') abort();
  if (without != SMTPCMD_OK && smtpcmd_reply(without)[0] != '5') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
  struct smtp_path p = {{0, 0, 0}, 0, 0, SMTP_BODY_NONE, 0};
  const char *kw, *rep;
  size_t cap;
  int r;
  if (n < 1) return 0;
  cap = (d[0] & 0x7f) == 0x7f ? 1000 : (size_t)(d[0] & 0x7f) * 2 + 1;
  kw = d[0] & 0x80 ? "TO" : "FROM";
  check_split(d + 1, n - 1);
  r = smtpcmd_path((const char *)d + 1, n - 1, kw,
                   d[0] & 0x80 ? 0 : SMTPCMD_P_SIZE | SMTPCMD_P_BODY | SMTPCMD_P_UTF8, cap, &p);
  rep = smtpcmd_reply(r);
  if (r == SMTPCMD_OK) {
    if (*rep) abort();
    check_addr(&p.addr, cap);
    roundtrip(&p.addr, kw, cap);
    check_utf8(&p.addr);
  } else if (!(rep[0] == '4' || rep[0] == '5') || strlen(rep) < 10) {
    abort();
  }
  stralloc_free(&p.addr);
  return 0;
}
