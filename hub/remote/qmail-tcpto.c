/* qmail-tcpto: print qmail-remote's table of addresses that failed to
 * connect recently (HOME/queue/lock/tcpto, format in hub/remote/tcpto.h), one
 * line per used slot:
 *
 *   <address> failed <n> times (<timeout|refused>), last <s> seconds ago[; skipped for <s> more seconds]
 *
 * Exit 0; 111 when the table cannot be read (missing, wrong size). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "stralloc.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "tcpto.h"

/* addr_text: the key as an IPv4 address when it is v4-mapped. */
static void addr_text(const unsigned char *key, char *buf, size_t len)
{
  static const unsigned char mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
  const char *r = memcmp(key, mapped, 12) == 0 ? inet_ntop(AF_INET, key + 12, buf, (socklen_t)len)
                                               : inet_ntop(AF_INET6, key, buf, (socklen_t)len);
  if (!r) snprintf(buf, len, "?");
}

static void show(const struct tcpto_entry *e, long long now)
{
  char ip[INET6_ADDRSTRLEN];
  long long ago = now - e->when, left = e->when + tcpto_backoff(e->fails) - now;
  addr_text(e->ip, ip, sizeof ip);
  printf("%s failed %u time%s (%s), last %lld seconds ago", ip, e->fails,
         e->fails == 1 ? "" : "s", e->kind == TCPTO_TIMEOUT ? "timeout" : "refused", ago);
  if (e->fails >= 2 && ago >= 0 && left > 0) printf("; skipped for %lld more seconds", left);
  printf("\n");
}

int main(void)
{
  stralloc path = {0};
  unsigned char tab[TCPTO_BYTES];
  long long now = (long long)time(0);
  size_t i;
  progname = "qmail-tcpto";
  if (!home_path(&path, QUEUE_DIR "/" QFILE_TCPTO)) fatal_nomem();
  if (tcpto_load(path.s, tab) < 0) fatal_sys(111, "unable to read ", path.s);
  for (i = 0; i < TCPTO_SLOTS; ++i) {
    struct tcpto_entry e;
    if (tcpto_get(tab, i, &e)) show(&e, now);
  }
  stralloc_free(&path);
  if (fflush(stdout) != 0 || ferror(stdout)) fatal_sys(111, "unable to write output");
  return 0;
}
