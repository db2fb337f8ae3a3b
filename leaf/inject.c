/* inject.c: qmail-inject's logic (qmail-inject(8), qmail-header(5)).
 *
 * Reads a message on stdin, rewrites the header (qualifies every address in
 * address fields, drops Bcc, Resent-Bcc, Return-Path and Content-Length,
 * adds From, Date and Message-ID, or their Resent- forms, when missing, and
 * Mail-Followup-To on request), picks the envelope sender and recipients and
 * hands message and envelope to the queue (q_qq: qmail-queue, $QMAILQUEUE,
 * or QMQP from this process on a leaf).
 *
 * Caps: one header field LIM_HEADERLINE bytes, the header LIM_HEADER bytes,
 * LIM_INJECTRCPTS recipients, LIM_ADDR bytes per address; the body is not
 * capped here (the hub's databytes applies). Over a cap: exit 100.
 * UTF-8 (RFC 6532): an address, in the header or on the command line,
 * may hold UTF-8 and is taken as it is (no IDNA); one with 8-bit bytes
 * that are not valid UTF-8 (q_utf8.h) is refused, exit 100 (#5.6.7).
 * Other header text is not looked at: UTF-8 there passes byte for byte.
 * Exit codes: 0 queued; 100 usage error, bad message, queue said D;
 * 111 temporary failure. Messages go to stderr with (#x.y.z) codes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pwd.h>
#include <unistd.h>
#include <sys/random.h>
#include "buffer.h"
#include "case.h"
#include "stralloc.h"
#include "q_addr.h"
#include "q_control.h"
#include "q_date.h"
#include "q_err.h"
#include "q_header.h"
#include "q_limits.h"
#include "q_qq.h"
#include "q_qqstatus.h"
#include "q_sa.h"
#include "q_utf8.h"
#include "inject.h"

/* ---- settings -------------------------------------------------------- */

static char rcptmode = 'A';     /* -a -h -A -H */
static int printonly;           /* -n */
static const char *fsender;     /* -f */
static const char *flags = "";  /* $QMAILINJECT letters */
static stralloc defaulthost, defaultdomain, plusdomain, idhost;
static stralloc mailuser, mailhost, mailname;
static struct addr_qualify qual;
int inject_verbose;

/* ---- what the header told us ------------------------------------------ */

static stralloc hdr;            /* rewritten header fields, in order */
static stralloc firstbody;      /* a body line met while reading the header */
static stralloc hrcpt, hresent; /* recipients from To/Cc/Bcc and Resent-* */
static stralloc tocc;           /* To and Cc addresses, for Mail-Followup-To */
static stralloc returnpath;
static int seen_from, seen_date, seen_msgid, seen_resent, seen_mft, seen_rp;
static int seen_rfrom, seen_rdate, seen_rmsgid;

/* ---- envelope ---------------------------------------------------------- */

static stralloc sender, rcpts;  /* rcpts: NUL-terminated addresses */
static size_t nrcpts;

static void nomem(void) { fatal_nomem(); }

static void die_bad(const char *what, const char *detail)
{
  fatal(100, what, detail, " (#5.6.0)");
}

/* flag: 1 if letter c is in $QMAILINJECT. */
static int flag(char c) { return strchr(flags, c) != 0; }

/* ---- configuration --------------------------------------------------- */

static const char *env_first(const char *a, const char *b, const char *c, const char *d)
{
  const char *names[4] = { a, b, c, d };
  int i;
  for (i = 0; i < 4; ++i) {
    const char *v = names[i] ? getenv(names[i]) : 0;
    if (v && *v) return v;
  }
  return 0;
}

/* no_breaks: refuse CR, LF (header injection) in a value from outside. */
static void no_breaks(const char *what, const char *v)
{
  if (strpbrk(v, "\r\n")) die_bad(what, " contains a line break");
}

/* setting: env var, else control file, else me, else literal. */
static void setting(stralloc *sa, const char *env, const char *file, const char *me)
{
  const char *v = getenv(env);
  if (v && *v) {
    no_breaks(env, v);
    if (!stralloc_copys(sa, v) || !stralloc_0(sa)) nomem();
    return;
  }
  if (control_rldef(sa, file, me) < 0)
    fatal_sys(111, "unable to read control/", file, " (#4.3.0)");
}

static void read_config(void)
{
  stralloc me = {0};
  const char *v;
  if (control_me(&me, "") < 0) fatal_sys(111, "unable to read control/me (#4.3.0)");
  setting(&defaulthost, "QMAILDEFAULTHOST", "defaulthost", me.len ? me.s : "defaulthost");
  setting(&defaultdomain, "QMAILDEFAULTDOMAIN", "defaultdomain", me.len ? me.s : "defaultdomain");
  setting(&plusdomain, "QMAILPLUSDOMAIN", "plusdomain", me.len ? me.s : "plusdomain");
  setting(&idhost, "QMAILIDHOST", "idhost", me.len ? me.s : "idhost");
  stralloc_free(&me);
  qual.defaulthost = defaulthost.s;
  qual.defaultdomain = defaultdomain.s;
  qual.plusdomain = plusdomain.s;
  v = env_first("QMAILUSER", "MAILUSER", "USER", "LOGNAME");
  if (!v) { struct passwd *pw = getpwuid(getuid()); v = pw ? pw->pw_name : "anonymous"; }
  if (!stralloc_copys(&mailuser, v) || !stralloc_0(&mailuser)) nomem();
  --mailuser.len;  /* kept NUL-terminated for use as a C string */
  v = env_first("QMAILHOST", "MAILHOST", 0, 0);
  if (!stralloc_copys(&mailhost, v ? v : defaulthost.s) || !stralloc_0(&mailhost)) nomem();
  --mailhost.len;
  v = env_first("QMAILNAME", "MAILNAME", "NAME", 0);
  if (v && !stralloc_copys(&mailname, v)) nomem();
  if (mailname.len && sa_has_any(mailname.s, mailname.len, "\r\n", 2))
    die_bad("personal name", " contains a line break");
  if (sa_has_any(mailuser.s, mailuser.len, "\r\n", 2) || sa_has_any(mailhost.s, mailhost.len, "\r\n", 2))
    die_bad("user or host name", " contains a line break");
  v = getenv("QMAILINJECT");
  if (v) flags = v;
}

/* ---- recipients --------------------------------------------------------- */

/* rcpt_add: collect an envelope address into list (NUL-terminated items);
 * every address of the header and the command line comes here. */
static int rcpt_add(void *ctx, const char *addr, size_t len)
{
  stralloc *list = ctx;
  if (len == 0) return 1;  /* <> is no recipient */
  if (len > limit_get(LIM_ADDR))
    fatal(100, "address longer than ", "the cap in control/maxaddress (#5.1.3)");
  if (utf8_valid(addr, len) != len)
    fatal(100, "bad address: ", "8-bit bytes that are not valid UTF-8 (#5.6.7)");
  return stralloc_catb(list, addr, len) && stralloc_append(list, "");
}

/* seen_before: a small open-addressing set so duplicates are sent once
 * and 100,000 recipients stay linear. */
static size_t *slots;
static size_t nslots;

static unsigned long hash(const char *s, size_t len)
{
  unsigned long h = 5381;
  while (len--) h = (h * 33) ^ (unsigned char)*s++;
  return h;
}

static int seen_before(size_t off, size_t len)
{
  size_t i;
  if (!nslots) {
    nslots = 2 * limit_get(LIM_INJECTRCPTS) + 1;
    slots = calloc(nslots, sizeof *slots);
    if (!slots) nomem();
  }
  for (i = hash(rcpts.s + off, len) % nslots; slots[i]; i = (i + 1) % nslots) {
    const char *o = rcpts.s + slots[i] - 1;
    if (strlen(o) == len && memcmp(o, rcpts.s + off, len) == 0) return 1;
  }
  slots[i] = off + 1;
  return 0;
}

/* take_rcpts: move the items of list into the envelope recipients. */
static void take_rcpts(const stralloc *list)
{
  size_t i = 0;
  while (i < list->len) {
    size_t len = strlen(list->s + i), off = rcpts.len;
    if (!stralloc_catb(&rcpts, list->s + i, len + 1)) nomem();
    if (seen_before(off, len)) rcpts.len = off;
    else if (++nrcpts > limit_get(LIM_INJECTRCPTS))
      fatal(100, "too many recipients (#5.5.3)");
    i += len + 1;
  }
}

/* ---- header fields ---------------------------------------------------- */

static const char *const addrfields[] = {
  "from", "sender", "reply-to", "to", "cc", "bcc", "apparently-to",
  "return-receipt-to", "errors-to", "mail-followup-to", "mail-reply-to",
  "notice-requested-upon-delivery-to", "resent-from", "resent-sender",
  "resent-reply-to", "resent-to", "resent-cc", "resent-bcc", 0
};

static int name_in(const stralloc *f, const char *const *names)
{
  for (; *names; ++names)
    if (hdr_is(f->s, f->len, *names)) return 1;
  return 0;
}

static int is(const stralloc *f, const char *name) { return hdr_is(f->s, f->len, name); }

/* rewrite_addrs: qualify the addresses in field f, collecting them into
 * list (may be NULL); append the rewritten field to hdr unless dropped. */
static void rewrite_addrs(const stralloc *f, stralloc *list, int drop)
{
  static stralloc out, scratch;
  size_t v = hdr_value(f->s, f->len);
  const char *err = 0;
  if (!stralloc_copyb(&out, f->s, v)) nomem();
  if (!list) { scratch.len = 0; list = &scratch; }
  if (addrlist_rewrite(f->s + v, f->len - v, &qual, &out, rcpt_add, list, &err) < 0) {
    if (err && strcmp(err, "out of memory") == 0) nomem();
    fatal(100, "bad address in ", "header field: ", err ? err : "syntax error", " (#5.1.3)");
  }
  if (!drop && !stralloc_cat(&hdr, &out)) nomem();
}

/* take_returnpath: the sender a Return-Path field names. */
static void take_returnpath(const stralloc *f)
{
  stralloc list = {0}, out = {0};
  size_t v = hdr_value(f->s, f->len);
  const char *err = 0;
  seen_rp = 1;
  if (addrlist_rewrite(f->s + v, f->len - v, &qual, &out, rcpt_add, &list, &err) < 0)
    fatal(100, "bad address in Return-Path: ", err ? err : "syntax error", " (#5.1.7)");
  if (!stralloc_copyb(&returnpath, list.s, list.len ? strlen(list.s) : 0)) nomem();
  stralloc_free(&list);
  stralloc_free(&out);
}

/* note: remember which fields exist, for header completion. */
static void note(const stralloc *f)
{
  if (is(f, "from")) seen_from = 1;
  if (is(f, "date")) seen_date = 1;
  if (is(f, "message-id")) seen_msgid = 1;
  if (is(f, "mail-followup-to")) seen_mft = 1;
  if (is(f, "resent-from")) seen_rfrom = 1;
  if (is(f, "resent-date")) seen_rdate = 1;
  if (is(f, "resent-message-id")) seen_rmsgid = 1;
  if (hdr_namelen(f->s, f->len) > 7 && case_diffb(f->s, 7, "resent-") == 0) seen_resent = 1;
}

/* field: decide the fate of one header field. */
static void field(const stralloc *f)
{
  note(f);
  if (is(f, "return-path")) { if (!flag('s')) take_returnpath(f); return; }
  if (is(f, "content-length")) return;
  if (is(f, "from") && flag('f')) { seen_from = 0; return; }
  if (is(f, "message-id") && flag('i')) { seen_msgid = 0; return; }
  if (is(f, "to") || is(f, "cc")) {
    size_t before = hrcpt.len;
    rewrite_addrs(f, &hrcpt, 0);
    if (!stralloc_catb(&tocc, hrcpt.s + before, hrcpt.len - before)) nomem();
    return;
  }
  if (is(f, "bcc") || is(f, "apparently-to")) { rewrite_addrs(f, &hrcpt, is(f, "bcc")); return; }
  if (is(f, "resent-to") || is(f, "resent-cc")) { rewrite_addrs(f, &hresent, 0); return; }
  if (is(f, "resent-bcc")) { rewrite_addrs(f, &hresent, 1); return; }
  if (name_in(f, addrfields)) { rewrite_addrs(f, 0, 0); return; }
  if (!stralloc_cat(&hdr, f)) nomem();
}

static buffer in;
static char inbuf[65536];

/* read_header: read and rewrite the header; stop at the empty line. */
static void read_header(void)
{
  stralloc f = {0};
  size_t total = 0;
  int first = 1;
  for (;;) {
    int r = hdr_read(&in, &f, limit_get(LIM_HEADERLINE));
    if (r == HDR_ERR) fatal_sys(111, "unable to read message (#4.3.0)");
    if (r == HDR_NOMEM) nomem();
    if (r == HDR_TOOLONG) fatal(100, "header field longer than control/maxheaderfield allows (#5.6.0)");
    if (r == HDR_END) break;
    if (r == HDR_BODY) {
      /* an mbox "From " line at the very top is an envelope, not header */
      if (first && f.len >= 5 && memcmp(f.s, "From ", 5) == 0) { first = 0; continue; }
      if (!stralloc_copy(&firstbody, &f)) nomem();
      break;
    }
    first = 0;
    total += f.len;
    if (total > limit_get(LIM_HEADER)) fatal(100, "header longer than control/maxheader allows (#5.6.0)");
    field(&f);
  }
  stralloc_free(&f);
}

/* ---- completing the header ------------------------------------------- */

static void cat(stralloc *sa, const char *s) { if (!stralloc_cats(sa, s)) nomem(); }
static void catb(stralloc *sa, const char *s, size_t n) { if (!stralloc_catb(sa, s, n)) nomem(); }

/* cat_phrase: the personal name, as an atom phrase or a quoted string. */
static void cat_phrase(stralloc *sa, const stralloc *name)
{
  size_t i;
  if (!sa_has_any(name->s, name->len, "()<>[]:;@\\,.\"", 13)) { catb(sa, name->s, name->len); return; }
  cat(sa, "\"");
  for (i = 0; i < name->len; ++i) {
    if (name->s[i] == '"' || name->s[i] == '\\') cat(sa, "\\");
    catb(sa, name->s + i, 1);
  }
  cat(sa, "\"");
}

/* cat_comment: the personal name inside ( ), parentheses escaped. */
static void cat_comment(stralloc *sa, const stralloc *name)
{
  size_t i;
  cat(sa, " (");
  for (i = 0; i < name->len; ++i) {
    if (strchr("()\\", name->s[i])) cat(sa, "\\");
    catb(sa, name->s + i, 1);
  }
  cat(sa, ")");
}

static void add_from(const char *fieldname)
{
  cat(&hdr, fieldname);
  if (mailname.len && !flag('c')) { cat_phrase(&hdr, &mailname); cat(&hdr, " <"); }
  catb(&hdr, mailuser.s, mailuser.len);
  cat(&hdr, "@");
  catb(&hdr, mailhost.s, mailhost.len);
  if (mailname.len && !flag('c')) cat(&hdr, ">");
  else if (mailname.len) cat_comment(&hdr, &mailname);
  cat(&hdr, "\n");
}

static void add_date(const char *fieldname)
{
  char d[DATE822_MAX];
  cat(&hdr, fieldname);
  catb(&hdr, d, date_fmt822(d, time(0), 0));
  cat(&hdr, "\n");
}

static void add_msgid(const char *fieldname)
{
  unsigned int r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) < 0) r = (unsigned int)clock();
  cat(&hdr, fieldname);
  cat(&hdr, "<");
  if (!sa_catnum(&hdr, (unsigned long long)time(0))) nomem();
  cat(&hdr, ".");
  if (!sa_catnum(&hdr, (unsigned long long)getpid())) nomem();
  cat(&hdr, ".");
  if (!sa_catnum(&hdr, r)) nomem();
  cat(&hdr, ".qmail@");
  cat(&hdr, idhost.s);
  cat(&hdr, ">\n");
}

/* mft_wanted: does To+Cc name one of the lists in $QMAILMFTFILE? */
static int mft_wanted(void)
{
  const char *fn = getenv("QMAILMFTFILE");
  stralloc lists = {0};
  size_t i, j;
  int yes = 0;
  if (!fn || seen_mft || !tocc.len) return 0;
  if (list_readpath(&lists, fn) < 0) fatal_sys(111, "unable to read ", fn, " (#4.3.0)");
  for (i = 0; i < lists.len && !yes; i += strlen(lists.s + i) + 1)
    for (j = 0; j < tocc.len && !yes; j += strlen(tocc.s + j) + 1)
      yes = strlen(lists.s + i) == strlen(tocc.s + j) && !case_diffs(lists.s + i, tocc.s + j);
  stralloc_free(&lists);
  return yes;
}

static void add_mft(void)
{
  size_t j;
  cat(&hdr, "Mail-Followup-To: ");
  for (j = 0; j < tocc.len; j += strlen(tocc.s + j) + 1) {
    if (j) cat(&hdr, ",\n  ");
    cat(&hdr, tocc.s + j);
  }
  cat(&hdr, "\n");
}

static void complete_header(void)
{
  if (seen_resent) {
    if (!seen_rdate) add_date("Resent-Date: ");
    if (!seen_rmsgid) add_msgid("Resent-Message-ID: ");
    if (!seen_rfrom) add_from("Resent-From: ");
  } else {
    if (!seen_date) add_date("Date: ");
    if (!seen_msgid) add_msgid("Message-ID: ");
  }
  if (!seen_from) add_from("From: ");
  if (mft_wanted()) add_mft();
}

/* ---- envelope ------------------------------------------------------------ */

/* one_address: parse a single address given on the command line or in -f. */
static void one_address(const char *what, const char *s, stralloc *list)
{
  static stralloc out;
  const char *err = 0;
  size_t len = strlen(s);
  if (strpbrk(s, "\r\n")) die_bad(what, " contains a line break");
  out.len = 0;
  if (addrlist_rewrite(s, len, &qual, &out, rcpt_add, list, &err) < 0)
    fatal(100, "bad ", what, " address: ", err ? err : "syntax error", " (#5.1.3)");
}

static void choose_sender(void)
{
  const char *su = getenv("QMAILSUSER"), *sh = getenv("QMAILSHOST");
  stralloc list = {0};
  if (fsender) {
    one_address("sender", fsender, &list);
    if (!stralloc_copyb(&sender, list.s, list.len ? strlen(list.s) : 0)) nomem();
  } else if ((su && *su) || (sh && *sh)) {
    if (!stralloc_copys(&sender, su && *su ? su : mailuser.s) || !stralloc_cats(&sender, "@") ||
        !stralloc_cats(&sender, sh && *sh ? sh : mailhost.s)) nomem();
  } else if (seen_rp) {
    if (!stralloc_copy(&sender, &returnpath)) nomem();
  } else if (!stralloc_copy(&sender, &mailuser) || !stralloc_cats(&sender, "@") ||
             !stralloc_cat(&sender, &mailhost)) nomem();
  stralloc_free(&list);
  if (sa_has_any(sender.s, sender.len, "\r\n\0", 3)) die_bad("sender", " contains a line break or NUL");
}

/* verp: QMAILINJECT m (per-message) and r (per-recipient) senders. */
static void verp(void)
{
  stralloc v = {0};
  size_t at;
  if (!sender.len || (!flag('m') && !flag('r'))) return;
  for (at = sender.len; at > 0 && sender.s[at - 1] != '@'; --at) ;
  at = at ? at - 1 : sender.len;
  catb(&v, sender.s, at);
  if (flag('m')) {
    cat(&v, "-");
    if (!sa_catnum(&v, (unsigned long long)time(0)) || !stralloc_cats(&v, ".") ||
        !sa_catnum(&v, (unsigned long long)getpid())) nomem();
  }
  if (flag('r')) cat(&v, "-");
  catb(&v, sender.s + at, sender.len - at);
  if (flag('r')) cat(&v, "-@[]");
  if (!stralloc_copy(&sender, &v)) nomem();
  stralloc_free(&v);
}

static void choose_rcpts(int argc, char **argv)
{
  stralloc args = {0};
  int i;
  const stralloc *fromhdr = seen_resent ? &hresent : &hrcpt;
  for (i = 0; i < argc; ++i) one_address("recipient", argv[i], &args);
  if (rcptmode == 'a' || rcptmode == 'H' || (rcptmode == 'A' && argc)) take_rcpts(&args);
  if (rcptmode == 'h' || rcptmode == 'H' || (rcptmode == 'A' && !argc)) take_rcpts(fromhdr);
  stralloc_free(&args);
  if (!nrcpts) fatal(100, "no recipients (#5.1.3)");
}

/* ---- sending ----------------------------------------------------------------- */

static void put_body(void (*put)(void *, const char *, size_t), void *ctx)
{
  if (firstbody.len) { put(ctx, "\n", 1); put(ctx, firstbody.s, firstbody.len); }
  for (;;) {
    ssize_t n = buffer_feed(&in);
    if (n < 0) fatal_sys(111, "unable to read message (#4.3.0)");
    if (n == 0) return;
    put(ctx, buffer_peek(&in), (size_t)n);
    buffer_seek(&in, (size_t)n);
  }
}

static void put_stdout(void *ctx, const char *s, size_t n)
{
  (void)ctx;
  if (buffer_put(buffer_1, s, n) < 0) fatal_sys(111, "unable to write output (#4.3.0)");
}

static void put_qq(void *ctx, const char *s, size_t n) { qq_put(ctx, s, n); }

__attribute__((noreturn)) static void print_message(void)
{
  put_stdout(0, hdr.s, hdr.len);
  if (!firstbody.len) put_stdout(0, "\n", 1);
  put_body(put_stdout, 0);
  if (buffer_flush(buffer_1) < 0) fatal_sys(111, "unable to write output (#4.3.0)");
  _exit(0);
}

__attribute__((noreturn)) static void send_message(void)
{
  static struct qq q;
  stralloc fd6 = {0};
  struct qq_status st;
  size_t i;
  int code;
  qq_start(&q);
  qq_put(&q, hdr.s, hdr.len);
  if (!firstbody.len) qq_put(&q, "\n", 1);
  put_body(put_qq, &q);
  qq_from(&q, sender.s, sender.len);
  for (i = 0; i < rcpts.len; i += strlen(rcpts.s + i) + 1)
    qq_to(&q, rcpts.s + i, strlen(rcpts.s + i));
  code = qq_finish(&q, &fd6);
  qq_status(code, fd6.s, fd6.len, &st);
  if (inject_verbose && !q.inproc) {
    stralloc t = {0};
    if (!stralloc_copyb(&t, st.text, st.textlen) || !stralloc_0(&t)) nomem();
    err_print("queue program", 0,
              st.kind == 'K' ? "accepted: " : st.kind == 'D' ? "refused: " : "deferred: ",
              t.s, (const char *)0);
    stralloc_free(&t);
  }
  if (st.kind == 'K') _exit(0);
  {
    stralloc t = {0};
    if (!stralloc_copyb(&t, st.text, st.textlen) || !stralloc_0(&t)) nomem();
    fatal(st.kind == 'D' ? 100 : 111, t.s);
  }
}

/* ---- options ----------------------------------------------------------------- */

static int parse_options(int argc, char **argv)
{
  int i;
  for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; ++i) {
    const char *o = argv[i] + 1;
    if (strcmp(argv[i], "--") == 0) return i + 1;
    for (; *o; ++o) {
      if (strchr("ahAH", *o)) rcptmode = *o;
      else if (*o == 'n') printonly = 1;
      else if (*o == 'N') printonly = 0;
      else if (*o == 'f') {
        if (o[1]) fsender = o + 1;
        else if (i + 1 < argc) fsender = argv[++i];
        else fatal(100, "usage: qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ] (#5.3.5)");
        break;
      } else
        fatal(100, "usage: qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ] (#5.3.5)");
    }
  }
  return i;
}

void inject_main(int argc, char **argv)
{
  int first = parse_options(argc, argv);
  read_config();
  buffer_init(&in, (ssize_t (*)())read, 0, inbuf, sizeof inbuf);
  read_header();
  complete_header();
  if (printonly) print_message();
  choose_sender();
  verp();
  choose_rcpts(argc - first, argv + first);
  send_message();
}
