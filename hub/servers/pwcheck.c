/* pwcheck.c: crypt(3) verification with a dummy hash for the misses, and
 * new hashes for qmail-passwd (contracts in pwcheck.h). */
#include <crypt.h>
#include <errno.h>
#include <string.h>
#include "pwcheck.h"
#include "pwfile.h"

static struct crypt_data cd;  /* 32 KB: static, wiped after each use */

/* dummy_setting: a fixed yescrypt setting of the default cost; its salt
 * need not be secret or random: nothing it makes is ever accepted. */
static const char *dummy_setting(void)
{
  static char s[CRYPT_GENSALT_OUTPUT_SIZE];
  static const char rb[16] = "qmail-dummy-salt";
  if (!*s && !crypt_gensalt_rn(PW_METHOD, 0, rb, sizeof rb, s, sizeof s)) { *s = 0; return 0; }
  return s;
}

/* hash: crypt_rn of pass with setting into cd; NULL on failure. */
static const char *hash(const char *pass, const char *setting)
{
  return crypt_rn(pass, setting, &cd, sizeof cd);
}

int pw_verify(const char *pass, const char *stored)
{
  const char *h = stored && *stored ? hash(pass, stored) : 0;
  const char *d;
  int r;
  if (h) {
    r = pw_eq(h, strlen(h), stored, strlen(stored));
    explicit_bzero(&cd, sizeof cd);
    return r;
  }
  d = dummy_setting();          /* no login, or a locked or invalid hash */
  h = d ? hash(pass, d) : 0;
  r = h ? 0 : -1;
  if (!h && !errno) errno = EINVAL;
  explicit_bzero(&cd, sizeof cd);
  return r;
}

int pw_hash(const char *pass, stralloc *out)
{
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  const char *h;
  int r = -1;
  if (!crypt_gensalt_rn(PW_METHOD, 0, 0, 0, setting, sizeof setting)) return -1;
  h = hash(pass, setting);
  if (h && h[0] != '*') {
    if (stralloc_copys(out, h) && stralloc_0(out)) r = 1;
    else errno = ENOMEM;
  } else if (!errno) errno = EINVAL;
  explicit_bzero(&cd, sizeof cd);
  return r;
}
