/* received.c: building a safe Received: line (see received.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "q_control.h"
#include "q_date.h"
#include "received.h"

#define PART_MAX 255

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
  return r && stralloc_cats(out, ")\n  by ") && safe_cat(out, ri->local ? ri->local : "localhost") &&
         stralloc_cats(out, " with ") && stralloc_cats(out, ri->proto) &&
         stralloc_cats(out, "; ") &&
         stralloc_catb(out, d, date_fmt822(d, (time_t)when, 0)) && stralloc_cats(out, "\n");
}

int received_localname(stralloc *sa)
{
  const char *h = getenv("TCPLOCALHOST");
  if (h && *h && strcmp(h, "0") != 0) {
    if (!stralloc_copys(sa, h) || !stralloc_0(sa)) { errno = ENOMEM; return -1; }
    return 0;
  }
  return control_me(sa, "unknown") < 0 ? -1 : 0;
}
