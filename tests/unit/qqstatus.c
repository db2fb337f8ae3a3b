/* tests/unit/qqstatus.c: TAP tests for common/q_qqstatus.c, the mapping
 * from a qmail-queue exit status to K/Z/D, SMTP code and text
 * (docs/protocols.md, the queue status): every known code, exit 82 with
 * custom fd 6 text
 * (D and Z, cut at CR/LF/NUL, bad first byte, bare "D"), unknown codes in
 * and out of the permanent range 11..40, QQ_CRASH, QQ_EXECFAIL and
 * qq_permanent. */
#include <string.h>
#include "tap.h"
#include "q_qqstatus.h"

static const struct { int code; char kind; const char *smtp; const char *text; } rows[] = {
  { 0, 'K', "250", "ok" },
  { 11, 'D', "554", "envelope address too long or holding a control character (#5.1.3)" },
  { 31, 'D', "554", "mail server permanently rejected message (#5.3.0)" },
  { 51, 'Z', "451", "qq out of memory (#4.3.0)" },
  { 52, 'Z', "451", "qq timeout (#4.3.0)" },
  { 53, 'Z', "451", "qq write error or disk full (#4.3.0)" },
  { 54, 'Z', "451", "qq read error (#4.3.0)" },
  { 55, 'Z', "451", "qq unable to read configuration (#4.3.0)" },
  { 56, 'Z', "451", "qq trouble making network connection (#4.3.0)" },
  { 61, 'Z', "451", "qq trouble in home directory (#4.3.0)" },
  { 62, 'Z', "451", "qq trouble creating files in queue (#4.3.0)" },
  { 63, 'Z', "451", "qq trouble creating files in queue (#4.3.0)" },
  { 64, 'Z', "451", "qq trouble creating files in queue (#4.3.0)" },
  { 65, 'Z', "451", "qq trouble creating files in queue (#4.3.0)" },
  { 66, 'Z', "451", "qq trouble creating files in queue (#4.3.0)" },
  { 71, 'Z', "451", "mail server temporarily rejected message (#4.3.0)" },
  { 72, 'Z', "451", "connection to mail server timed out (#4.4.1)" },
  { 73, 'Z', "451", "connection to mail server rejected (#4.4.1)" },
  { 74, 'Z', "451", "communication with mail server failed (#4.4.2)" },
  { 81, 'Z', "451", "qq internal bug (#4.3.0)" },
  { 91, 'Z', "451", "qq internal bug (#4.3.0)" },
  { QQ_EXECFAIL, 'Z', "451", "unable to exec qq (#4.3.0)" },
  { QQ_CRASH, 'Z', "451", "qq crashed (#4.3.0)" },
  { 15, 'D', "554", "qq permanent problem (#5.3.0)" },
  { 40, 'D', "554", "qq permanent problem (#5.3.0)" },
  { 1, 'Z', "451", "qq temporary problem (#4.3.0)" },
  { 10, 'Z', "451", "qq temporary problem (#4.3.0)" },
  { 41, 'Z', "451", "qq temporary problem (#4.3.0)" },
  { 99, 'Z', "451", "qq temporary problem (#4.3.0)" },
  { 100, 'Z', "451", "qq temporary problem (#4.3.0)" },
  { 111, 'Z', "451", "qq temporary problem (#4.3.0)" },
  { 255, 'Z', "451", "qq temporary problem (#4.3.0)" },
};

static void check(int code, const char *fd6, size_t fd6len, char kind, const char *smtp,
                  const char *text, const char *name)
{
  struct qq_status st;
  char n[160];
  memset(&st, 0, sizeof st);
  qq_status(code, fd6, fd6len, &st);
  snprintf(n, sizeof n, "%s: kind %c", name, kind);
  is_int(st.kind, kind, n);
  snprintf(n, sizeof n, "%s: smtp %s", name, smtp);
  is_str(st.smtp, smtp, n);
  snprintf(n, sizeof n, "%s: text", name);
  is_mem(st.text, st.textlen, text, n);
}

static void test_rows(void)
{
  size_t i;
  char name[64];
  for (i = 0; i < sizeof rows / sizeof rows[0]; ++i) {
    struct qq_status st;
    snprintf(name, sizeof name, "code %d", rows[i].code);
    check(rows[i].code, 0, 0, rows[i].kind, rows[i].smtp, rows[i].text, name);
    qq_status(rows[i].code, 0, 0, &st);
    snprintf(name, sizeof name, "code %d: (#x.y.z) matches kind", rows[i].code);
    if (st.kind == 'D') ok(strstr(st.text, "(#5.") != 0, name);
    else if (st.kind == 'Z') ok(strstr(st.text, "(#4.") != 0, name);
    else ok(strstr(st.text, "#") == 0, name);
    snprintf(name, sizeof name, "code %d: qq_permanent", rows[i].code);
    is_int(qq_permanent(rows[i].code, 0, 0), rows[i].kind == 'D', name);
  }
}

static void test_custom(void)
{
  struct qq_status st;
  static const char d[] = "Dno such user here (#5.1.1)";
  static const char z[] = "Zgreylisted, try later (#4.7.1)";
  qq_status(QQ_CUSTOM, d, sizeof d - 1, &st);
  is_int(st.kind, 'D', "82 D: kind");
  is_str(st.smtp, "554", "82 D: smtp");
  is_mem(st.text, st.textlen, "no such user here (#5.1.1)", "82 D: text without prefix");
  ok(st.text == d + 1, "82 D: text points into fd6");
  check(QQ_CUSTOM, z, sizeof z - 1, 'Z', "451", "greylisted, try later (#4.7.1)", "82 Z");

  check(QQ_CUSTOM, "Done\r\nInjected: x", 17, 'D', "554", "one", "82 cut at CR");
  check(QQ_CUSTOM, "Zline one\nline two", 18, 'Z', "451", "line one", "82 cut at LF");
  check(QQ_CUSTOM, "Dbefore\0after", 13, 'D', "554", "before", "82 cut at NUL");
  check(QQ_CUSTOM, "Dxy", 2, 'D', "554", "x", "82 uses only fd6len bytes");
  check(QQ_CUSTOM, "Dx", 2, 'D', "554", "x", "82 one text byte");

  check(QQ_CUSTOM, "Kok", 3, 'Z', "451", "qq temporary problem (#4.3.0)", "82 bad first byte K");
  check(QQ_CUSTOM, "dlower", 6, 'Z', "451", "qq temporary problem (#4.3.0)", "82 lowercase d");
  check(QQ_CUSTOM, " Dspace", 7, 'Z', "451", "qq temporary problem (#4.3.0)", "82 leading space");
  check(QQ_CUSTOM, "D", 1, 'Z', "451", "qq temporary problem (#4.3.0)", "82 just D");
  check(QQ_CUSTOM, "Z", 1, 'Z', "451", "qq temporary problem (#4.3.0)", "82 just Z");
  check(QQ_CUSTOM, "D\nrest", 6, 'Z', "451", "qq temporary problem (#4.3.0)", "82 D then newline");
  check(QQ_CUSTOM, "D\0x", 3, 'Z', "451", "qq temporary problem (#4.3.0)", "82 D then NUL");
  check(QQ_CUSTOM, "", 0, 'Z', "451", "qq temporary problem (#4.3.0)", "82 empty fd6");
  check(QQ_CUSTOM, 0, 0, 'Z', "451", "qq temporary problem (#4.3.0)", "82 NULL fd6");
  check(QQ_CUSTOM, 0, 5, 'Z', "451", "qq temporary problem (#4.3.0)", "82 NULL fd6 with length");

  check(31, "Dignored", 8, 'D', "554", "mail server permanently rejected message (#5.3.0)",
        "fd6 ignored unless code 82");
  check(0, "Zignored", 8, 'K', "250", "ok", "fd6 ignored for 0");

  is_int(qq_permanent(QQ_CUSTOM, "Dx", 2), 1, "qq_permanent 82 D");
  is_int(qq_permanent(QQ_CUSTOM, "Zx", 2), 0, "qq_permanent 82 Z");
  is_int(qq_permanent(QQ_CUSTOM, "D", 1), 0, "qq_permanent 82 bare D");
  is_int(qq_permanent(QQ_CUSTOM, 0, 0), 0, "qq_permanent 82 no text");
  is_int(qq_permanent(QQ_CRASH, 0, 0), 0, "qq_permanent crash");
  is_int(qq_permanent(QQ_EXECFAIL, 0, 0), 0, "qq_permanent execfail");
  is_int(qq_permanent(-1, 0, 0), 0, "qq_permanent -1");
}

int main(void)
{
  test_rows();
  test_custom();
  return done_testing();
}
