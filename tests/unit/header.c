/* tests/unit/header.c: TAP tests for common/q_header.c and common/q_getln.c:
 * field names (hdr_namelen, hdr_is, hdr_value: case, blanks before ':', no
 * colon, empty name, 8-bit and control bytes), hdr_read over in-memory
 * buffers (simple and folded fields with SP and HT, CRLF, the empty line,
 * EOF, a body line with no empty line before it, the field cap on the first
 * line, on a continuation, and exactly at the cap), and getln/getln_peek
 * (last line without newline, exactly cap bytes, cap with the newline last,
 * lines across small buffer refills, read errors). */
#include <errno.h>
#include <string.h>
#include "tap.h"
#include "buffer.h"
#include "stralloc.h"
#include "q_getln.h"
#include "q_header.h"

static buffer fb;
static stralloc f;

static void from(const char *s) { buffer_frombuf(&fb, s, strlen(s)); }

/* ---- names ---------------------------------------------------------------- */

static size_t nl(const char *s) { return hdr_namelen(s, strlen(s)); }
static size_t vo(const char *s) { return hdr_value(s, strlen(s)); }
static int is(const char *s, const char *name) { return hdr_is(s, strlen(s), name); }

static void test_names(void)
{
  is_int(nl("Subject: hi"), 7, "namelen Subject:");
  is_int(nl("subject:hi"), 7, "namelen no space after colon");
  is_int(nl("Subject :"), 7, "namelen blank before colon");
  is_int(nl("Subject \t : x"), 7, "namelen SP and HT before colon");
  is_int(nl("X-A.b_c-1!#$%&'*+/=?^`{|}~: v"), 26, "namelen all printable specials");
  is_int(nl("Subject x"), 0, "namelen no colon");
  is_int(nl("Subject"), 0, "namelen name only");
  is_int(nl("Subject   "), 0, "namelen name and blanks only");
  is_int(nl("Sub ject: x"), 0, "namelen space inside name");
  is_int(nl(""), 0, "namelen empty");
  is_int(nl(":x"), 0, "namelen empty name");
  is_int(nl(" : x"), 0, "namelen blank name");
  is_int(nl(" Subject: x"), 0, "namelen leading space");
  is_int(nl("Sub\001ject: x"), 0, "namelen control byte");
  is_int(nl("Sub\303\251ject: x"), 0, "namelen 8-bit byte");
  is_int(nl("Sub\177: x"), 0, "namelen DEL");
  is_int(hdr_namelen("Subject: x", 7), 0, "namelen colon past len");
  is_int(hdr_namelen("Subject: x", 8), 7, "namelen colon is last byte");
  is_int(hdr_namelen("Subject: x", 0), 0, "namelen len 0");

  is_int(vo("Subject: hi"), 8, "value after colon");
  is_int(vo("Subject :hi"), 9, "value after blank and colon");
  is_int(vo("Subject \t:"), 10, "value at end");
  is_int(vo("no colon here"), 0, "value no name");
  is_int(vo(":x"), 0, "value empty name");
  is_int(vo(""), 0, "value empty");

  is_int(is("Subject: hi", "Subject"), 1, "is exact");
  is_int(is("sUbJeCt: hi", "SUBJECT"), 1, "is case-insensitive");
  is_int(is("Subject : hi", "subject"), 1, "is with blank before colon");
  is_int(is("Subjects: hi", "Subject"), 0, "is longer name");
  is_int(is("Subj: hi", "Subject"), 0, "is shorter name");
  is_int(is("Subject hi", "Subject"), 0, "is no colon");
  is_int(is(":x", ""), 0, "is empty name");
  is_int(is("not a field", ""), 0, "is non-field line against empty name");
  is_int(is("X: y", ""), 0, "is against empty name");
  is_int(is("Received: x", "Received"), 1, "is Received");
}

/* ---- hdr_read --------------------------------------------------------------- */

static void field(size_t cap, int exp_r, const char *exp, const char *name)
{
  int r = hdr_read(&fb, &f, cap);
  is_int(r, exp_r, name);
  if (exp) is_sa(f, exp, name);
}

static void test_read(void)
{
  stralloc rest = {0};

  from("Subject: hi\nFrom: a@b\n\nbody\n");
  field(100, HDR_FIELD, "Subject: hi\n", "simple field");
  field(100, HDR_FIELD, "From: a@b\n", "second field");
  field(100, HDR_END, 0, "blank line ends header");
  is_int(getln(&fb, &rest, 100), GETLN_LINE, "body left in buffer");
  is_sa(rest, "body\n", "body line intact");

  from("Subject: a\n b\n\tc\nTo: x\n\n");
  field(100, HDR_FIELD, "Subject: a\n b\n\tc\n", "folded with SP and HT");
  field(100, HDR_FIELD, "To: x\n", "field after folded one");
  field(100, HDR_END, 0, "end after folded");

  from("Subject: a\r\n b\r\nTo: x\r\n\r\nbody\r\n");
  field(100, HDR_FIELD, "Subject: a\r\n b\r\n", "CRLF field kept with CRs");
  field(100, HDR_FIELD, "To: x\r\n", "CRLF second field");
  field(100, HDR_END, 0, "CRLF blank line ends header");

  from("");
  field(100, HDR_END, 0, "EOF at once -> HDR_END");
  from("Subject: x");
  field(100, HDR_FIELD, "Subject: x", "last field without newline");
  field(100, HDR_END, 0, "then EOF -> HDR_END");
  from("A: b\n c");
  field(100, HDR_FIELD, "A: b\n c", "continuation without newline at EOF");
  field(100, HDR_END, 0, "then HDR_END");
  from("A: b\n");
  field(100, HDR_FIELD, "A: b\n", "field then EOF");
  field(100, HDR_END, 0, "EOF after field");

  from("not a header\nmore\n");
  field(100, HDR_BODY, "not a header\n", "non-header line -> HDR_BODY");
  from("A: b\nFrom someone Mon Jan 1\n");
  field(100, HDR_FIELD, "A: b\n", "field before body line");
  field(100, HDR_BODY, "From someone Mon Jan 1\n", "mbox From line -> HDR_BODY");
  from(" leading: space\n");
  field(100, HDR_BODY, " leading: space\n", "continuation without a field -> HDR_BODY");
  from("\r\n");
  field(100, HDR_END, 0, "CRLF alone -> HDR_END");
  from(" \n");
  field(100, HDR_BODY, " \n", "space line -> HDR_BODY");

  /* caps: "Subject: abcdef\n" is 16 bytes, " ghijk\n" 7 more */
  from("Subject: 0123456789\n");
  field(10, HDR_TOOLONG, 0, "first line over cap -> HDR_TOOLONG");
  from("Subject: abcdef\nTo: x\n");
  field(16, HDR_FIELD, "Subject: abcdef\n", "field exactly at cap");
  field(16, HDR_FIELD, "To: x\n", "next field after one at cap");
  from("Subject: abcdef\n");
  field(15, HDR_TOOLONG, 0, "field one over cap");
  from("Subject: abcdef\n ghijk\n\n");
  field(23, HDR_FIELD, "Subject: abcdef\n ghijk\n", "folded field exactly at cap");
  field(23, HDR_END, 0, "end after folded field at cap");
  from("Subject: abcdef\n ghijk\n\n");
  field(22, HDR_TOOLONG, 0, "continuation pushes one over cap");
  from("Subject: abcdef\n ghijk\n\n");
  field(20, HDR_TOOLONG, 0, "continuation pushes over cap");
  from("Subject: abcdef\n x\n");
  field(16, HDR_TOOLONG, 0, "continuation after a first line at cap");
  from("Subject: a\n b\n c\n d\n e\n f\n g\n h\n");
  field(20, HDR_TOOLONG, 0, "many short continuations over cap");
  stralloc_free(&rest);
}

/* ---- getln ------------------------------------------------------------------ */

#define DRIP_SPACE 3
#include "drip.h"

static void line(buffer *b, size_t cap, int exp_r, const char *exp, const char *name)
{
  is_int(getln(b, &f, cap), exp_r, name);
  if (exp) is_sa(f, exp, name);
}

static void test_getln(void)
{
  char c = 0;
  from("abc\ndef");
  stralloc_copys(&f, "stale");
  line(&fb, 100, GETLN_LINE, "abc\n", "getln line, replaces sa");
  line(&fb, 100, GETLN_EOF, "def", "getln last line without newline");
  line(&fb, 100, GETLN_EOF, "", "getln EOF, empty");
  from("");
  line(&fb, 100, GETLN_EOF, "", "getln empty input");
  from("\n\n");
  line(&fb, 100, GETLN_LINE, "\n", "getln empty line");
  line(&fb, 100, GETLN_LINE, "\n", "getln second empty line");
  line(&fb, 100, GETLN_EOF, "", "getln EOF after empty lines");

  from("abcde");
  line(&fb, 5, GETLN_TOOLONG, "abcde", "getln exactly cap bytes without newline");
  line(&fb, 5, GETLN_EOF, "", "getln nothing left after cap bytes");
  from("abcd\nx");
  line(&fb, 5, GETLN_LINE, "abcd\n", "getln cap with newline as last byte");
  line(&fb, 5, GETLN_EOF, "x", "getln rest after cap line");
  from("abcdef\nz\n");
  line(&fb, 5, GETLN_TOOLONG, "abcde", "getln over cap: cap bytes kept");
  line(&fb, 5, GETLN_LINE, "f\n", "getln over cap: rest unread");
  line(&fb, 5, GETLN_LINE, "z\n", "getln next line");
  buffer_frombuf(&fb, "a\0b\n", 4);
  line(&fb, 10, GETLN_LINE, 0, "getln line with NUL");
  ok(f.len == 4 && memcmp(f.s, "a\0b\n", 4) == 0, "getln line with NUL: bytes");

  drip("hello world\nsecond line that is long\nend", 0);
  line(&db, 100, GETLN_LINE, "hello world\n", "getln across refills");
  line(&db, 100, GETLN_LINE, "second line that is long\n", "getln across refills 2");
  line(&db, 100, GETLN_EOF, "end", "getln across refills, last");
  drip("abcdefgh\n", 0);
  line(&db, 8, GETLN_TOOLONG, "abcdefgh", "getln cap across refills");
  line(&db, 8, GETLN_LINE, "\n", "getln newline after cap across refills");
  drip("abcdefgh\n", 0);
  line(&db, 9, GETLN_LINE, "abcdefgh\n", "getln cap = line across refills");
  drip("partial", 1);
  is_int(getln(&db, &f, 100), GETLN_ERR, "getln read error after partial line");
  is_int(errno, EIO, "getln read error errno");
  drip("", 1);
  is_int(getln(&db, &f, 100), GETLN_ERR, "getln read error at once");

  from("xy");
  is_int(getln_peek(&fb, &c), 1, "peek returns 1");
  is_int(c, 'x', "peek byte");
  is_int(getln_peek(&fb, &c), 1, "peek again");
  line(&fb, 100, GETLN_EOF, "xy", "peek consumed nothing");
  c = 'q';
  is_int(getln_peek(&fb, &c), 0, "peek at EOF -> 0");
  is_int(c, 'q', "peek at EOF leaves c");
  drip("", 1);
  is_int(getln_peek(&db, &c), -1, "peek read error -> -1");
  drip("", 1);
  is_int(hdr_read(&db, &f, 100), HDR_ERR, "hdr_read read error -> HDR_ERR");
  drip("A: b\n c", 1);
  is_int(hdr_read(&db, &f, 100), HDR_ERR, "hdr_read error inside continuation -> HDR_ERR");
  {
    /* an error while peeking for a continuation may end the field, but it
     * must come out at the latest on the next call */
    int r1, r2;
    drip("A: b\n", 1);
    r1 = hdr_read(&db, &f, 100);
    r2 = r1 == HDR_FIELD ? hdr_read(&db, &f, 100) : HDR_ERR;
    ok(r1 == HDR_ERR || (r1 == HDR_FIELD && r2 == HDR_ERR), "hdr_read error after a line is reported");
  }
}

int main(void)
{
  test_names();
  test_read();
  test_getln();
  stralloc_free(&f);
  return done_testing();
}
