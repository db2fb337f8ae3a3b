/* q_qqstatus.c: qmail-queue exit status -> K/Z/D text and SMTP code. */
#include <string.h>
#include "q_qqstatus.h"

static const struct { int code; char kind; const char *text; } table[] = {
  { 0, 'K', "ok" },
  { 11, 'D', "envelope address too long or holding a control character (#5.1.3)" },
  { 31, 'D', "mail server permanently rejected message (#5.3.0)" },
  { 51, 'Z', "qq out of memory (#4.3.0)" },
  { 52, 'Z', "qq timeout (#4.3.0)" },
  { 53, 'Z', "qq write error or disk full (#4.3.0)" },
  { 54, 'Z', "qq read error (#4.3.0)" },
  { 55, 'Z', "qq unable to read configuration (#4.3.0)" },
  { 56, 'Z', "qq trouble making network connection (#4.3.0)" },
  { 61, 'Z', "qq trouble in home directory (#4.3.0)" },
  { 62, 'Z', "qq trouble creating files in queue (#4.3.0)" },
  { 63, 'Z', "qq trouble creating files in queue (#4.3.0)" },
  { 64, 'Z', "qq trouble creating files in queue (#4.3.0)" },
  { 65, 'Z', "qq trouble creating files in queue (#4.3.0)" },
  { 66, 'Z', "qq trouble creating files in queue (#4.3.0)" },
  { 71, 'Z', "mail server temporarily rejected message (#4.3.0)" },
  { 72, 'Z', "connection to mail server timed out (#4.4.1)" },
  { 73, 'Z', "connection to mail server rejected (#4.4.1)" },
  { 74, 'Z', "communication with mail server failed (#4.4.2)" },
  { 81, 'Z', "qq internal bug (#4.3.0)" },
  { 91, 'Z', "qq internal bug (#4.3.0)" },
  { QQ_EXECFAIL, 'Z', "unable to exec qq (#4.3.0)" },
  { QQ_CRASH, 'Z', "qq crashed (#4.3.0)" },
};

static void set(struct qq_status *st, char kind, const char *text)
{
  st->kind = kind;
  st->smtp = kind == 'K' ? "250" : kind == 'D' ? "554" : "451";
  st->text = text;
  st->textlen = strlen(text);
}

/* custom: exit 82 with "D..." or "Z..." on fd 6. */
static int custom(const char *fd6, size_t len, struct qq_status *st)
{
  size_t i;
  if (!fd6 || len < 2 || (fd6[0] != 'D' && fd6[0] != 'Z')) return 0;
  for (i = 1; i < len && fd6[i] != '\r' && fd6[i] != '\n' && fd6[i] != '\0'; ++i) ;
  if (i == 1) return 0;
  set(st, fd6[0], "");
  st->text = fd6 + 1;
  st->textlen = i - 1;
  return 1;
}

void qq_status(int code, const char *fd6, size_t fd6len, struct qq_status *st)
{
  size_t i;
  if (code == QQ_CUSTOM && custom(fd6, fd6len, st)) return;
  for (i = 0; i < sizeof table / sizeof table[0]; ++i)
    if (table[i].code == code) { set(st, table[i].kind, table[i].text); return; }
  if (code >= 11 && code <= 40)
    set(st, 'D', "qq permanent problem (#5.3.0)");
  else
    set(st, 'Z', "qq temporary problem (#4.3.0)");
}

int qq_permanent(int code, const char *fd6, size_t fd6len)
{
  struct qq_status st;
  qq_status(code, fd6, fd6len, &st);
  return st.kind == 'D';
}
