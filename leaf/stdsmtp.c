/* stdsmtp.c: SMTP on standard input and output for `sendmail -bs` on a
 * leaf home (a hub runs its qmail-smtpd instead; see sendmail.c).
 *
 * The peer is the local user's mail program (alpine and others submit
 * with -bs), so no domain is refused: every recipient is taken. Commands:
 * HELO, EHLO (PIPELINING, 8BITMIME), MAIL FROM, RCPT TO, DATA, RSET, NOOP,
 * VRFY (252), HELP, QUIT; others get 502. Lines may end in CRLF or LF.
 * An address is taken from <...> (a source route dropped, parameters after
 * it ignored) and qualified as qmail-inject qualifies envelope addresses
 * (control/defaulthost, defaultdomain, plusdomain, each defaulting to me).
 * The message is passed on as sent, dot-stuffing removed and CRLF made LF;
 * no header is added or changed. Each message goes to the queue through
 * q_qq (on a leaf: qmqpc_send, in this process) and the reply is the
 * queue's answer: 250, 451 or 554 with its text.
 * Caps: a command line maxsmtpline bytes (longer: 500), an address
 * maxaddress bytes (501), maxrcpt recipients per message (452); DATA lines
 * have no cap (the message is streamed; the hub's databytes applies).
 * End of input between commands: exit 0; inside DATA the message is
 * dropped and the exit code is 111. */
#include <string.h>
#include <unistd.h>
#include "buffer.h"
#include "case.h"
#include "stralloc.h"
#include "q_addr.h"
#include "q_control.h"
#include "q_err.h"
#include "q_getln.h"
#include "q_limits.h"
#include "q_qq.h"
#include "q_qqstatus.h"
#include "stdsmtp.h"

static buffer in;
static char inbuf[8192];
static stralloc me, dhost, ddomain, pdomain;
static struct addr_qualify qual;
static stralloc sender, rcpts;   /* rcpts: NUL-terminated addresses */
static size_t nrcpts;
static int seenmail;

/* ---- output ---------------------------------------------------------------- */

static void outb(const char *s, size_t len)
{
  if (buffer_put(buffer_1, s, len) < 0) _exit(111);
}

static void out(const char *s) { outb(s, strlen(s)); }

/* reply: the last piece of a reply; sent at once (the client waits). */
static void reply(const char *s)
{
  out(s);
  if (buffer_flush(buffer_1) < 0) _exit(111);
}

/* ---- configuration ------------------------------------------------------- */

static void rldef(stralloc *sa, const char *file, const char *def)
{
  if (control_rldef(sa, file, def) < 0)
    fatal_sys(111, "unable to read control/", file, " (#4.3.0)");
}

static void read_config(void)
{
  rldef(&me, "me", "localhost");
  rldef(&dhost, "defaulthost", me.s);
  rldef(&ddomain, "defaultdomain", me.s);
  rldef(&pdomain, "plusdomain", me.s);
  qual.defaulthost = dhost.s;
  qual.defaultdomain = ddomain.s;
  qual.plusdomain = pdomain.s;
}

/* ---- commands -------------------------------------------------------------- */

static void reset(void)
{
  seenmail = 0;
  sender.len = 0;
  rcpts.len = 0;
  nrcpts = 0;
}

/* take_addr: the address at the start of arg[0..len) ("<a@b> SIZE=9" or
 * "a@b") into a, qualified. NULL ok, else the reply to give. */
static const char *take_addr(const char *arg, size_t len, stralloc *a)
{
  const char *p = arg, *e;
  size_t l, i;
  while (len && *p == ' ') { ++p; --len; }
  if (len && *p == '<') {
    if (!(e = memchr(p, '>', len))) return "501 no closing > (#5.5.4)\r\n";
    l = (size_t)(e - ++p);
  } else {
    for (l = 0; l < len && p[l] != ' '; ++l) ;
  }
  if (l && p[0] == '@' && (e = memchr(p, ':', l))) {  /* source route */
    l -= (size_t)(e + 1 - p);
    p = e + 1;
  }
  if (l > limit_get(LIM_ADDR)) return "501 address longer than maxaddress (#5.1.3)\r\n";
  for (i = 0; i < l; ++i)
    if ((unsigned char)p[i] <= 32 || p[i] == 127) return "501 bad address (#5.1.3)\r\n";
  if (!stralloc_copyb(a, p, l)) fatal_nomem();
  if (l && !addr_qualify(a, &qual)) fatal_nomem();
  return 0;
}

/* after: the argument of "VERB WORD:" in line[0..len), or NULL. */
static const char *after(const char *line, size_t len, const char *word, size_t *alen)
{
  size_t wl = strlen(word);
  const char *p = memchr(line, ' ', len);
  if (!p) return 0;
  while (p < line + len && *p == ' ') ++p;
  if ((size_t)(line + len - p) < wl || case_diffb(p, wl, word)) return 0;
  *alen = (size_t)(line + len - p - wl);
  return p + wl;
}

static void mail(const char *line, size_t len)
{
  size_t al;
  const char *arg = after(line, len, "from:", &al), *err;
  if (!arg) { reply("501 syntax: MAIL FROM:<address> (#5.5.4)\r\n"); return; }
  if (seenmail) { reply("503 one MAIL per message; RSET first (#5.5.1)\r\n"); return; }
  if ((err = take_addr(arg, al, &sender))) { reply(err); return; }
  seenmail = 1;
  reply("250 ok\r\n");
}

static void rcpt(const char *line, size_t len)
{
  static stralloc a;
  size_t al;
  const char *arg = after(line, len, "to:", &al), *err;
  if (!arg) { reply("501 syntax: RCPT TO:<address> (#5.5.4)\r\n"); return; }
  if (!seenmail) { reply("503 MAIL first (#5.5.1)\r\n"); return; }
  if ((err = take_addr(arg, al, &a))) { reply(err); return; }
  if (!a.len) { reply("501 empty recipient (#5.1.3)\r\n"); return; }
  if (nrcpts >= limit_get(LIM_RCPTS)) { reply("452 too many recipients (#4.5.3)\r\n"); return; }
  if (!stralloc_cat(&rcpts, &a) || !stralloc_0(&rcpts)) fatal_nomem();
  ++nrcpts;
  reply("250 ok\r\n");
}

/* ---- DATA ------------------------------------------------------------------ */

enum { BOL, DOT, DOTCR, MID, CR, END };

/* mid: byte c inside a line; the next state. */
static int mid(char c, char *o, size_t *n)
{
  if (c == '\r') return CR;
  o[(*n)++] = c;
  return c == '\n' ? BOL : MID;
}

/* step: one byte of DATA in state st; the next state. */
static int step(int st, char c, char *o, size_t *n)
{
  switch (st) {
  case BOL: return c == '.' ? DOT : mid(c, o, n);
  case DOT: return c == '\r' ? DOTCR : c == '\n' ? END : mid(c, o, n);
  case CR:
  case DOTCR:
    if (c == '\n') {
      if (st == DOTCR) return END;
      o[(*n)++] = '\n';
      return BOL;
    }
    o[(*n)++] = '\r';
    return mid(c, o, n);
  default: return mid(c, o, n);
  }
}

/* body: the DATA lines into q up to the lone dot. 1 done, 0 input ended. */
static int body(struct qq *q)
{
  char o[8192];
  size_t n = 0;
  int st = BOL;
  for (;;) {
    ssize_t got = buffer_feed(&in), i;
    const char *p;
    if (got <= 0) return 0;
    p = buffer_peek(&in);
    for (i = 0; i < got && st != END; ++i) {
      if (n + 2 > sizeof o) { qq_put(q, o, n); n = 0; }
      st = step(st, p[i], o, &n);
    }
    buffer_seek(&in, (size_t)i);
    if (st == END) { qq_put(q, o, n); return 1; }
  }
}

static void data(void)
{
  static struct qq q;
  stralloc fd6 = {0};
  struct qq_status st;
  size_t i;
  int code;
  if (!seenmail) { reply("503 MAIL first (#5.5.1)\r\n"); return; }
  if (!nrcpts) { reply("503 RCPT first (#5.5.1)\r\n"); return; }
  qq_start(&q);  /* a failure to start is reported by qq_finish */
  reply("354 go ahead; end with a line holding only a dot\r\n");
  if (!body(&q)) {
    qq_abort(&q);
    fatal(111, "input ended inside DATA: the message was not sent (#4.3.0)");
  }
  qq_from(&q, sender.s, sender.len);
  for (i = 0; i < rcpts.len; i += strlen(rcpts.s + i) + 1)
    qq_to(&q, rcpts.s + i, strlen(rcpts.s + i));
  code = qq_finish(&q, &fd6);
  qq_status(code, fd6.s, fd6.len, &st);
  out(st.smtp);
  out(" ");
  outb(st.text, st.textlen);
  reply("\r\n");
  stralloc_free(&fd6);
  reset();
}

/* ---- the session ----------------------------------------------------------- */

static int verb(const char *line, size_t len, const char *v)
{
  size_t vl = strlen(v);
  return len >= vl && !case_diffb(line, vl, v) && (len == vl || line[vl] == ' ');
}

static void command(const char *line, size_t len)
{
  if (verb(line, len, "helo")) { reset(); out("250 "); out(me.s); reply("\r\n"); }
  else if (verb(line, len, "ehlo")) {
    reset();
    out("250-"); out(me.s); reply("\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
  }
  else if (verb(line, len, "mail")) mail(line, len);
  else if (verb(line, len, "rcpt")) rcpt(line, len);
  else if (verb(line, len, "data")) data();
  else if (verb(line, len, "rset")) { reset(); reply("250 ok\r\n"); }
  else if (verb(line, len, "noop")) reply("250 ok\r\n");
  else if (verb(line, len, "vrfy")) reply("252 send some mail, I'll try my best\r\n");
  else if (verb(line, len, "help")) reply("214 this is sendmail -bs on a leaf; mail goes on to its hub\r\n");
  else if (verb(line, len, "quit")) { out("221 "); out(me.s); reply("\r\n"); _exit(0); }
  else reply("502 unimplemented (#5.5.1)\r\n");
}

/* skip_rest: drop the rest of a line that was too long. */
static void skip_rest(stralloc *line)
{
  int r;
  do r = getln(&in, line, 65536); while (r == GETLN_TOOLONG);
  if (r == GETLN_ERR || r == GETLN_EOF) _exit(0);
  if (r == GETLN_NOMEM) fatal_nomem();
}

void stdsmtp_main(void)
{
  stralloc line = {0};
  read_config();
  buffer_init(&in, (ssize_t (*)())read, 0, inbuf, sizeof inbuf);
  out("220 ");
  out(me.s);
  reply(" ESMTP sendmail -bs on a leaf: mail goes on to its hub\r\n");
  for (;;) {
    int r = getln(&in, &line, limit_get(LIM_SMTPLINE));
    if (r == GETLN_NOMEM) fatal_nomem();
    if (r == GETLN_ERR || r == GETLN_EOF) _exit(0);
    if (r == GETLN_TOOLONG) { skip_rest(&line); reply("500 line too long (#5.5.2)\r\n"); continue; }
    while (line.len && (line.s[line.len - 1] == '\n' || line.s[line.len - 1] == '\r')) --line.len;
    command(line.s, line.len);
  }
}
