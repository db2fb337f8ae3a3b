/* qreceipt: answer delivery-notice requests.
 *   qreceipt address
 * Reads the message header on stdin. When a Notice-Requested-Upon-Delivery-To
 * field names address (one of its comma-separated entries, <> and blanks
 * ignored, case-insensitive), a short notice is queued for $SENDER with an
 * empty envelope sender (so a failure can never loop). A null $SENDER gets
 * nothing. Exit 0, or 111/100 when queueing fails. Caps: header fields as
 * q_limits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "buffer.h"
#include "stralloc.h"
#include "q_err.h"
#include "q_header.h"
#include "q_limits.h"
#include "q_qq.h"
#include "q_qqstatus.h"

static ssize_t read0(int fd, char *buf, size_t len)
{
  ssize_t r;
  do r = read(fd, buf, len); while (r < 0 && errno == EINTR);
  return r;
}

/* names: 1 if the field's value lists addr. */
static int names(const char *v, size_t len, const char *addr)
{
  size_t al = strlen(addr), i = 0;
  while (i < len) {
    size_t s = i, e;
    while (i < len && v[i] != ',') ++i;
    e = i++;
    while (s < e && strchr(" \t\r\n<", v[s])) ++s;
    while (e > s && strchr(" \t\r\n>", v[e - 1])) --e;
    if (e - s == al && !strncasecmp(v + s, addr, al)) return 1;
  }
  return 0;
}

static int requested(const char *addr)
{
  char space[8192];
  buffer b;
  stralloc f = {0};
  int r, found = 0;
  buffer_init(&b, read0, 0, space, sizeof space);
  while (!found && (r = hdr_read(&b, &f, limit_get(LIM_HEADERLINE))) == HDR_FIELD)
    if (hdr_is(f.s, f.len, "Notice-Requested-Upon-Delivery-To")) {
      size_t v = hdr_value(f.s, f.len);
      found = names(f.s + v, f.len - v, addr);
    }
  stralloc_free(&f);
  if (found) return 1;
  if (r == HDR_ERR) fatal_sys(111, "unable to read input");
  if (r == HDR_NOMEM) fatal_nomem();
  return 0;
}

static void send_notice(const char *to, const char *addr)
{
  struct qq q;
  struct qq_status st;
  stralloc fd6 = {0}, t = {0};
  int code;
  qq_start(&q);
  qq_puts(&q, "To: "); qq_puts(&q, to);
  qq_puts(&q, "\nSubject: success notice\n\n"
              "Hi! This is the qreceipt program. Your message was delivered\n"
              "to the following address: ");
  qq_puts(&q, addr);
  qq_puts(&q, ". Thanks for asking.\n");
  qq_from(&q, "", 0);
  qq_to(&q, to, strlen(to));
  code = qq_finish(&q, &fd6);
  if (code == 0) { stralloc_free(&fd6); return; }
  qq_status(code, fd6.s, fd6.len, &st);
  if (!stralloc_copyb(&t, st.text, st.textlen) || !stralloc_0(&t)) fatal_nomem();
  fatal(qq_permanent(code, fd6.s, fd6.len) ? 100 : 111, "unable to send notice: ", t.s);
}

int main(int argc, char **argv)
{
  const char *sender = getenv("SENDER");
  progname = "qreceipt";
  if (argc != 2) fatal(100, "usage: qreceipt address");
  if (!sender) fatal(111, "SENDER not set (#4.3.0)");
  if (!*sender || !strcmp(sender, "#@[]")) return 0;
  if (strpbrk(sender, "\n\r")) return 0;
  if (requested(argv[1])) send_notice(sender, argv[1]);
  return 0;
}
