/* qmail-getpw: which user controls a local address, by the password
 * database (qmail-users(5); the rule is users_getpw in users.h).
 *   qmail-getpw local
 * Prints user\0uid\0gid\0home\0dash\0ext\0 on stdout: the longest user
 * name equal to local or followed by '-' in it, with a home owned by that
 * user and not root; else the alias user with dash "-" and ext = local.
 * Caps: local at most USERS_LOCAL_MAX bytes.
 * Exit: 0 printed; 100 usage or local too long; 111 temporary failure or
 * no alias user. */
#include <string.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_err.h"
#include "users.h"

static stralloc out;  /* static: live until exit */

int main(int argc, char **argv)
{
  size_t len, done = 0;
  ssize_t w;
  int r;
  progname = "qmail-getpw";
  if (argc != 2) fatal(100, "usage: qmail-getpw local");
  len = strlen(argv[1]);
  if (len > USERS_LOCAL_MAX) fatal(100, "unable to look up address: too long (#5.1.3)");
  r = users_getpw(argv[1], len, &out);
  if (r == -1) fatal_sys(111, "unable to read the password database (#4.3.0)");
  if (r == 0) fatal(111, "unable to find the alias user (#4.3.0)");
  while (done < out.len) {
    w = write(1, out.s + done, out.len - done);
    if (w <= 0) fatal_sys(111, "unable to write output (#4.3.0)");
    done += (size_t)w;
  }
  return 0;
}
