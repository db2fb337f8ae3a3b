/* q_home.c: the qmail home in force (see q_home.h). */
#include <stdlib.h>
#include <sys/auxv.h>
#include "q_home.h"

const char *home_dir(void)
{
  const char *h;
  if (getauxval(AT_SECURE) == 0) {
    h = getenv("QMAILHOME");
    if (h && *h == '/')
      return h;
  }
  return auto_home;
}

int home_path(stralloc *sa, const char *rel)
{
  return stralloc_copys(sa, home_dir()) && stralloc_cats(sa, "/") &&
         stralloc_cats(sa, rel) && stralloc_0(sa);
}
