/* qname.c: queue file names (see qname.h). */
#include <string.h>
#include "fmt.h"
#include "qconf.h"
#include "qname.h"

unsigned int qname_split(unsigned long long ino)
{
  return (unsigned int)(ino % QUEUE_SPLIT);
}

size_t qname_dir(char *buf, const char *dir, unsigned long long ino)
{
  size_t len = strlen(dir);
  if (len > QNAME_DIRMAX) {
    buf[0] = 0;
    return 0;
  }
  memcpy(buf, dir, len);
  buf[len++] = '/';
  len += fmt_ulong(buf + len, qname_split(ino));
  buf[len] = 0;
  return len;
}

size_t qname_file(char *buf, const char *dir, unsigned long long ino)
{
  size_t len = qname_dir(buf, dir, ino);
  if (!len) return 0;
  buf[len++] = '/';
  len += fmt_ulonglong(buf + len, ino);
  buf[len] = 0;
  return len;
}
