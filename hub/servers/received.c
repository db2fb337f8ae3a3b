/* received.c: the servers' own name and the Received: line (see
 * received.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "dkimsign.h"
#include "q_control.h"
#include "q_date.h"
#include "received.h"

#define PART_MAX 255

/* readname: control/name's first line into sa, NUL-terminated ("" when
 * missing or empty). 0 ok, -1 error. */
static int readname(stralloc *sa, const char *name)
{
  int r = control_readline(sa, name);
  if (r < 0) return -1;
  if (r == 0) sa->len = 0;
  if (!stralloc_0(sa)) { errno = ENOMEM; return -1; }
  return 0;
}

/* firstword: sa = the first word of g (up to a space), NUL-terminated */
static int firstword(stralloc *sa, const stralloc *g)
{
  size_t i = 0;
  while (g->s[i] && g->s[i] != ' ') ++i;
  if (!stralloc_copyb(sa, g->s, i) || !stralloc_0(sa)) { errno = ENOMEM; return 0; }
  return 1;
}

static int copyz(stralloc *to, const stralloc *from)
{
  if (!stralloc_copy(to, from)) { errno = ENOMEM; return 0; }
  return 1;
}

int srvname_read(struct srvname *n, int want, const char **failed)
{
  const char *h = getenv("TCPLOCALHOST");
  *failed = "me";
  if (readname(&n->me, "me") < 0) return -1;
  if (want == SRVNAME_SMTP || !*n->me.s) {
    *failed = "smtpgreeting";
    if (readname(&n->greeting, "smtpgreeting") < 0) return -1;
    if (!*n->me.s && !firstword(&n->me, &n->greeting)) return -1;
    if (!*n->greeting.s && !copyz(&n->greeting, &n->me)) return -1;
  }
  if (want == SRVNAME_SMTP) {
    *failed = "localiphost";
    if (readname(&n->localiphost, "localiphost") < 0) return -1;
    if (!*n->localiphost.s && !copyz(&n->localiphost, &n->me)) return -1;
  }
  n->by = h && *h && strcmp(h, "0") ? h : *n->me.s ? n->me.s : "unknown";
  return 0;
}

static int safe_cat(stralloc *out, const char *s)
{
  size_t i;
  for (i = 0; s[i] && i < PART_MAX; ++i) {
    char c = s[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
             (c >= '0' && c <= '9') || strchr("-._:[]@+", c);
    if (!stralloc_append(out, ok ? &c : "?")) return 0;
  }
  return 1;
}

int received_with(stralloc *out, const struct received_info *ri)
{
  int smtp = !strcmp(ri->proto, "SMTP");
  int r = stralloc_cats(out, smtp && (ri->tls || ri->auth) ? "ESMTP" : ri->proto);
  if (r && ri->tls) r = stralloc_cats(out, "S");
  if (r && ri->auth) r = stralloc_cats(out, "A");
  if (r && ri->tls) r = stralloc_cats(out, " (") && stralloc_cats(out, ri->tls) && stralloc_cats(out, ")");
  if (r && ri->relay && !ri->auth) r = stralloc_cats(out, DKIM_RELAYMARK);
  return r;
}

int received_line(stralloc *out, const struct received_info *ri, long long when)
{
  char d[DATE822_MAX];
  const char *host = ri->remotehost && *ri->remotehost ? ri->remotehost : "unknown";
  int r = stralloc_cats(out, "Received: from ") &&
          safe_cat(out, ri->helo && *ri->helo ? ri->helo : host) &&
          stralloc_cats(out, " (") && safe_cat(out, host);
  if (r && ri->remoteip && *ri->remoteip)
    r = stralloc_cats(out, " [") && safe_cat(out, ri->remoteip) && stralloc_cats(out, "]");
  if (r && ri->remoteinfo && *ri->remoteinfo)
    r = stralloc_cats(out, " ident=") && safe_cat(out, ri->remoteinfo);
  return r && stralloc_cats(out, ")\n  by ") && safe_cat(out, ri->by ? ri->by : "localhost") &&
         stralloc_cats(out, " with ") && received_with(out, ri) && stralloc_cats(out, "; ") &&
         stralloc_catb(out, d, date_fmt822(d, (time_t)when, 0)) && stralloc_cats(out, "\n");
}
