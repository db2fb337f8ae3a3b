/* qmail-rcptcdb: compile HOME/control/recipients.cdb, the table of local
 * parts this hub delivers, which the servers check at RCPT time
 * (rcptcheck.h; format and rules in rcpttab.h; man page qmail-rcptcdb.8).
 *   qmail-rcptcdb
 * Run by qmailctl cdb, as the user qmail-lspawn runs as (root: passwd
 * users count; anyone else: single-user mode, as qmail-lspawn decides).
 * Sources: HOME/users/cdb (every record, first one of a key wins), the
 * passwd users qmail-getpw would pick (root mode), the alias home
 * HOME/alias, the ".qmail" dash NAME files in every home those name (only
 * the names are read, never the contents), and HOME/control/recipients,
 * the administrator's list ("local@domain", "@domain", "prefix*@domain"),
 * and the names of the aliases cdb (aliasdb.h), which qmail-local follows
 * in the alias home as if they were its ".qmail-NAME" files.
 * Each source's stamp (rt_stamp) is taken before it is read and stored,
 * so a change during or after the build makes the table stale.
 * A home that cannot be listed, or holds more than RT_HOME_FILES .qmail
 * names, accepts every extension (warning on fd 2).
 * Atomic (common/q_cdbmake.h): written to recipients.cdb.tmp, mode 0640
 * (group of qmaild as root), fsynced, renamed, the directory fsynced; on
 * error nothing is replaced.
 * On success one line on stdout counts what went in.
 * Exit: 0 done; 100 usage; 111 any failure (a bad line of
 * control/recipients is named). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdb.h"
#include "stralloc.h"
#include "q_cdbmake.h"
#include "aliasdb.h"
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "qconf.h"
#include "rcpttab.h"
#include "users.h"

#define PASSWD "/etc/passwd"

static struct rt_make mk;   /* big: static */
static int single;
static struct cdbmake cm;   /* the file; its name is cm.tmp */
static stralloc stamp;

/* Every failure removes the half-written table first. */
static void nomem(void) __attribute__((noreturn));
static void nomem(void) { unlink(cm.tmp.s); fatal_nomem(); }
/* die_sys: "unable to VERB WHAT: strerror(errno)", exit 111. */
static void die_sys(const char *verb, const char *what) __attribute__((noreturn));
static void die_sys(const char *verb, const char *what)
{
  int e = errno;
  unlink(cm.tmp.s);
  errno = e;
  fatal_sys(111, "unable to ", verb, " ", what);
}
/* die: the same with a reason of ours. */
static void die(const char *verb, const char *what, const char *why) __attribute__((noreturn));
static void die(const char *verb, const char *what, const char *why)
{
  unlink(cm.tmp.s);
  fatal(111, "unable to ", verb, " ", what, ": ", why);
}
static void die_write(void) __attribute__((noreturn));
static void die_write(void) { die_sys("write", cm.tmp.s); }

/* ---- a string -> id map (open addressing), for homes and user names -- */

struct map {
  stralloc keys;            /* key\0 ... */
  size_t *slot;             /* offset + 1 into keys; 0 empty */
  unsigned long *id;
  size_t size, used;
};

static size_t hash(const char *s, size_t n)
{
  size_t h = 5381;
  while (n--) h = (h * 33) ^ (unsigned char)*s++;
  return h;
}

static void map_grow(struct map *m)
{
  size_t i, n = m->size ? m->size * 2 : 1024;
  size_t *slot = calloc(n, sizeof *slot);
  unsigned long *id = calloc(n, sizeof *id);
  if (!slot || !id || n < m->size) nomem();
  for (i = 0; i < m->size; ++i) {
    const char *k;
    size_t j;
    if (!m->slot[i]) continue;
    k = m->keys.s + m->slot[i] - 1;
    for (j = hash(k, strlen(k)) % n; slot[j]; j = (j + 1) % n) {}
    slot[j] = m->slot[i];
    id[j] = m->id[i];
  }
  free(m->slot); free(m->id);
  m->slot = slot; m->id = id; m->size = n;
}

/* map_get: the id of key (NUL-terminated); a new key gets the next id
 * and *isnew = 1. */
static unsigned long map_get(struct map *m, const char *key, size_t n, int *isnew)
{
  size_t j;
  *isnew = 0;
  if (2 * (m->used + 1) > m->size) map_grow(m);
  for (j = hash(key, n) % m->size; m->slot[j]; j = (j + 1) % m->size) {
    const char *k = m->keys.s + m->slot[j] - 1;
    if (strlen(k) == n && !memcmp(k, key, n)) return m->id[j];
  }
  m->slot[j] = m->keys.len + 1;
  m->id[j] = m->used++;
  if (!stralloc_catb(&m->keys, key, n) || !stralloc_0(&m->keys)) nomem();
  *isnew = 1;
  return m->id[j];
}

/* ---- homes ----------------------------------------------------------- */

static struct map homes, users;
static stralloc hkey;
static unsigned long nhomes, nall;

/* list_home: the .qmail dash NAME files of home into set. 1 listed,
 * 0 could not (every ext then). */
static int list_home(unsigned long set, const char *home, const char *dash)
{
  stralloc pre = {0};
  unsigned long kept = 0;
  struct dirent *d;
  DIR *dir = opendir(home);
  if (!dir) { warn_sys("unable to list ", home, ": every extension there is accepted"); return 0; }
  if (!stralloc_copys(&pre, ".qmail") || !stralloc_cats(&pre, dash)) nomem();
  for (errno = 0; (d = readdir(dir)); errno = 0) {
    if (strncmp(d->d_name, pre.s, pre.len)) continue;
    if (++kept > RT_HOME_FILES) {
      warn("more than 100000 .qmail files in ", home, ": every extension there is accepted");
      break;
    }
    if (rt_make_file(&mk, set, d->d_name + pre.len) == -1) die_write();
  }
  if (kept <= RT_HOME_FILES && errno)
    warn_sys("unable to list ", home, ": every extension there is accepted");
  closedir(dir);
  stralloc_free(&pre);
  return kept <= RT_HOME_FILES && !errno;
}

/* home_set: the set of (home, dash), listed the first time it is seen. */
static unsigned long home_set(const char *home, const char *dash)
{
  unsigned long set;
  int isnew, all;
  if (!stralloc_copys(&hkey, home) || !stralloc_append(&hkey, "\001") || !stralloc_cats(&hkey, dash))
    nomem();
  set = map_get(&homes, hkey.s, hkey.len, &isnew);
  if (!isnew) return set;
  ++nhomes;
  if (rt_stamp(&stamp, home) == -1) {
    warn_sys("unable to stat ", home, ": every extension there is accepted");
    if (!stralloc_copys(&stamp, "?") || !stralloc_0(&stamp)) nomem();
    all = 1;
  } else {
    all = !list_home(set, home, dash);
  }
  nall += all;
  if (rt_make_home(&mk, set, home, stamp.s, all) == -1) die_write();
  return set;
}

/* ---- sources --------------------------------------------------------- */

static void source(const char *path)
{
  if (rt_stamp(&stamp, path) == -1) die_sys("stat", path);
  if (rt_make_stamp(&mk, path, stamp.s) == -1) nomem();
}

static void cdb_get(struct cdb *c, uint32 pos, uint32 len, stralloc *sa, const char *path)
{
  if (len > 65536) die("read", path, "record too big");
  if (!stralloc_ready(sa, len + 1)) nomem();
  if (cdb_read(c, (unsigned char *)sa->s, len, pos) == -1) die_sys("read", path);
  sa->len = len;
}

/* assign: every record of users/cdb, in file order. */
static unsigned long assign(void)
{
  static stralloc path, key, data;
  struct cdb c;
  uint32 kpos;
  unsigned long n = 0, set;
  int fd, r;
  if (!home_path(&path, "users/cdb")) nomem();
  source(path.s);
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  if (fd == -1 && errno == ENOENT) return 0;
  if (fd == -1) die_sys("open", path.s);
  memset(&c, 0, sizeof c);
  cdb_init(&c, fd);
  for (r = cdb_firstkey(&c, &kpos); r == 1; r = cdb_nextkey(&c, &kpos)) {
    const char *f[6];
    cdb_get(&c, cdb_keypos(&c), cdb_keylen(&c), &key, path.s);
    cdb_get(&c, cdb_datapos(&c), cdb_datalen(&c), &data, path.s);
    if (!key.len || (key.s[0] != '=' && key.s[0] != '+') || !users_fields(&data, f))
      die("read", path.s, "not made by qmail-newu");
    /* an exact entry with an empty ext is deliverable whatever its home
     * holds: no need to list that home for it */
    set = key.s[0] == '=' && !*f[5] ? RT_NOSET : home_set(f[3], f[4]);
    if (rt_make_assign(&mk, key.s[0], key.s + 1, key.len - 1, set, f[5]) == -1) die_write();
    ++n;
  }
  if (r == -1) die_sys("read", path.s);
  cdb_free(&c);
  close(fd);
  return n;
}

/* aliases: every name of the aliases cdb, as a file of the alias home
 * (set): ".qmail-" name, with its dots as ':' (dotqmail.h). */
static void aliases(unsigned long set)
{
  static stralloc src, path, key;
  const char *why = "";
  struct cdb c;
  uint32 kpos;
  size_t i;
  int fd, r = aliasdb_paths(&src, &path, &why);
  if (r == -1) die_sys("read", "control/aliases");
  if (r == 0) die("use", "control/aliases", why);
  source(path.s);
  fd = open(path.s, O_RDONLY | O_CLOEXEC);
  if (fd == -1 && errno == ENOENT) return;
  if (fd == -1) die_sys("open", path.s);
  memset(&c, 0, sizeof c);
  cdb_init(&c, fd);
  for (r = cdb_firstkey(&c, &kpos); r == 1; r = cdb_nextkey(&c, &kpos)) {
    cdb_get(&c, cdb_keypos(&c), cdb_keylen(&c), &key, path.s);
    for (i = 0; i < key.len; ++i) if (key.s[i] == '.') key.s[i] = ':';
    if (!stralloc_0(&key)) nomem();
    if (rt_make_file(&mk, set, key.s) == -1) die_write();
  }
  if (r == -1) die_sys("read", path.s);
  cdb_free(&c);
  close(fd);
}

/* pw_candidate: would qmail-getpw (users_getpw) pick this entry? */
static int pw_candidate(const struct passwd *pw)
{
  struct stat st;
  const char *s;
  size_t n = strlen(pw->pw_name);
  if (!n || n >= 256 || !pw->pw_uid || !pw->pw_dir || pw->pw_dir[0] != '/') return 0;
  for (s = pw->pw_name; *s; ++s)
    if ((*s >= 'A' && *s <= 'Z') || *s == '/' || *s == ':') return 0;
  return stat(pw->pw_dir, &st) == 0 && st.st_uid == pw->pw_uid;
}

/* passwd: every user qmail-getpw would pick; the first entry of a name
 * wins, as getpwnam answers. */
static unsigned long passwd(void)
{
  struct passwd *pw;
  unsigned long n = 0;
  int isnew;
  source(PASSWD);
  setpwent();
  for (errno = 0; (pw = getpwent()); errno = 0) {
    map_get(&users, pw->pw_name, strlen(pw->pw_name), &isnew);
    if (!isnew || !pw_candidate(pw)) continue;
    if (rt_make_user(&mk, pw->pw_name, home_set(pw->pw_dir, "-")) == -1) die_write();
    ++n;
  }
  if (errno && errno != ENOENT && errno != ESRCH) die_sys("read", "the password database");
  endpwent();
  return n;
}

/* admin: control/recipients. */
static unsigned long admin(void)
{
  static stralloc path, list;
  unsigned long n = 0;
  size_t i;
  int r;
  if (!control_path(&path, "recipients")) nomem();
  source(path.s);
  r = control_readlist(&list, "recipients");
  if (r == -1) die_sys("read", path.s);
  if (r == 0) return 0;
  for (i = 0; i < list.len; i += strlen(list.s + i) + 1, ++n) {
    r = rt_make_admin(&mk, list.s + i, strlen(list.s + i));
    if (r == -1) die_write();
    if (r == 0) {
      unlink(cm.tmp.s);
      fatal(111, "bad entry in ", path.s, ": ", list.s + i, " (local@domain, @domain or prefix*@domain)");
    }
  }
  return n;
}

/* ---- the file -------------------------------------------------------- */

static void finish(void)
{
  struct passwd *pw;
  const char *what;
  if (rt_make_finish(&mk) == -1) die_write();
  if (!getuid() && (pw = getpwnam(QUSER_DAEMON)) && fchown(cm.fd, 0, pw->pw_gid) == -1) die_write();
  if (fchmod(cm.fd, 0640) == -1) die_write();
  if (cdbmake_commit(&cm, &what) == -1) fatal_sys(111, "unable to ", what, " ", cm.tmp.s);
}

int main(int argc, char **argv)
{
  static stralloc final, alias;
  unsigned long na, np = 0, nr, aset;
  (void)argv;
  progname = "qmail-rcptcdb";
  if (argc != 1) fatal(100, "usage: qmail-rcptcdb");
  umask(077);
  single = getuid() != 0;   /* qmail-lspawn's rule */
  if (!control_path(&final, "recipients.cdb") || !home_path(&alias, "alias")) fatal_nomem();
  if (cdbmake_open(&cm, final.s, 0600) == -1) fatal_sys(111, "unable to create ", cm.tmp.s);
  if (rt_make_start(&mk, cm.fd, single) == -1) die_write();
  aset = home_set(alias.s, "-");
  if (rt_make_alias(&mk, aset) == -1) die_write();
  aliases(aset);
  na = assign();
  if (!single) np = passwd();
  nr = admin();
  finish();
  printf("%lu users/cdb records, %lu passwd users, %lu homes (%lu not listed), %lu in control/recipients\n",
         na, np, nhomes, nall, nr);
  return fflush(stdout) == 0 ? 0 : 111;
}
