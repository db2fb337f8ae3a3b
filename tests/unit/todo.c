/* tests/unit/todo.c: TAP tests for hub/send/todo.c on a temporary queue made by
 * hub/queue/mkqueue.sh -s: a normal message (local, virtual-domain and remote
 * recipients; info, local, remote contents; counts, uid, pid, bytes,
 * birth), todo_clean (intd then todo, ENOENT is success), an entry already
 * gone, a todo without its mess (dropped), malformed or incomplete
 * envelopes (left alone, nothing written), stale files of a crashed run
 * replaced, zero recipients, a recipient too long after rewriting
 * (bounce/N), a large recipient list (buffer flushes), and todo_parse_id;
 * the trace items between p and F (i and m kept, other lowercase items
 * skipped, a malformed i ignored, an m cut at MID_MAX, none at all); the
 * group commit's l and c items (length and CRC-32C of mess): a whole
 * message preprocessed, a truncated, longer or changed one TODO_TORN with
 * nothing written and stale files removed, a malformed or lone item a bad
 * envelope. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"
#include "stralloc.h"
#include "rewrite.h"
#include "chanfile.h"
#include "q_crc32c.h"
#include "todo.h"

static char qd[512];
static struct rewrite rw;

static void put(const char *p, const char *s, size_t len)
{
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd == -1 || write(fd, s, len) != (ssize_t)len) { perror(p); exit(2); }
  close(fd);
}

/* slurp: the whole file into sa; -1 if missing. */
static int slurp(const char *rel, stralloc *sa)
{
  char p[1024], b[4096];
  ssize_t n;
  int fd;
  snprintf(p, sizeof p, "%s/%s", qd, rel);
  sa->len = 0;
  if ((fd = open(p, O_RDONLY)) == -1) return -1;
  while ((n = read(fd, b, sizeof b)) > 0) stralloc_catb(sa, b, (size_t)n);
  close(fd);
  return 0;
}

static int exists(const char *fmt, const char *id)
{
  char p[1024];
  struct stat st;
  snprintf(p, sizeof p, "%s/", qd);
  snprintf(p + strlen(p), sizeof p - strlen(p), fmt, id);
  return stat(p, &st) == 0;
}

/* queue: make mess (unless nomess), intd and todo for an envelope; id out. */
static void queue(const char *env, size_t elen, int nomess, char *id)
{
  char p[1024], q[1024];
  struct stat st;
  static int seq;
  snprintf(p, sizeof p, "%s/pid/t%d", qd, ++seq);
  put(p, "Subject: x\n\nhello\n", 18);
  if (stat(p, &st) == -1) exit(2);
  sprintf(id, "%llu/%llu", (unsigned long long)st.st_ino % 23, (unsigned long long)st.st_ino);
  snprintf(q, sizeof q, "%s/mess/%s", qd, id);
  if (rename(p, q) == -1) exit(2);
  if (nomess) unlink(q);
  snprintf(p, sizeof p, "%s/intd/%s", qd, id);
  snprintf(q, sizeof q, "%s/todo/%s", qd, id);
  put(p, env, elen);
  if (link(p, q) == -1) exit(2);
}
#define QUEUE(lit, nomess, id) queue(lit, sizeof lit - 1, nomess, id)

/* remote recipients come out grouped by domain, envelope order within one */
static void test_group(void)
{
  char id[64], rel[128];
  struct todo_result r = {0};
  stralloc sa = {0};
  static const char want[] = "Tb@A.test\0Td@a.TEST\0Tf@a.test\0Ta@b.test\0Te@b.test\0Tc@c.test\0Tg@c.test.x\0";
  QUEUE("u1\0p1\0Fs@x.test\0Ta@b.test\0Tb@A.test\0Tc@c.test\0Td@a.TEST\0Te@b.test\0Tf@a.test\0Tg@c.test.x\0\0", 0, id);
  is_int(todo_process_flags(qd, id, &rw, &r, TODO_NOSYNC), 0, "group: returns 0 (no sync)");
  is_int(todo_sync(qd), 0, "group: todo_sync");
  {  /* the barrier: todo_sync opens lock/sendmutex to fdatasync it */
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/lock/sendmutex", qd);
    snprintf(b, sizeof b, "%s/lock/sendmutex.away", qd);
    ok(rename(a, b) == 0 && todo_sync(qd) == -1 && errno == ENOENT && rename(b, a) == 0,
       "todo_sync: the barrier file is flushed (missing: ENOENT)");
  }
  is_int(r.nremote, 7, "group: seven remote");
  snprintf(rel, sizeof rel, "remote/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == sizeof want - 1 && !memcmp(sa.s, want, sa.len),
     "group: remote records grouped by domain (case-insensitive), stable");
  is_int(todo_clean(qd, id), 0, "group: clean");
  stralloc_free(&r.sender);
  stralloc_free(&sa);
}

static void test_normal(void)
{
  char id[64], rel[128];
  struct todo_result r = {0};
  stralloc sa = {0};
  time_t now = time(0);
  QUEUE("u42\0p4711\0Fbob@x.test\0Tjoe@me.test\0Tann@virt.test\0Tfar@away.test\0Tjim\0\0", 0, id);
  is_int(todo_process(qd, id, &rw, &r), 0, "normal: returns 0");
  is_int(r.status, TODO_DONE, "normal: done");
  is_int(r.uid, 42, "uid");
  is_int(r.pid, 4711, "pid");
  is_int(r.bytes, 18, "bytes of mess");
  is_int(r.nlocal, 2, "two local");
  is_int(r.nremote, 2, "two remote");
  is_int(r.nbounce, 0, "no bounce");
  is_sa(r.sender, "bob@x.test", "sender");
  ok(r.birth >= now - 1 && r.birth <= now + 1, "birth is now");
  snprintf(rel, sizeof rel, "info/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == 12 && !memcmp(sa.s, "Fbob@x.test\0", 12), "info content");
  snprintf(rel, sizeof rel, "local/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == 34 &&
     !memcmp(sa.s, "Tjoe@me.test\0Talice-ann@virt.test\0", 34), "local content, rewritten");
  snprintf(rel, sizeof rel, "remote/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == 30 &&
     !memcmp(sa.s, "Tfar@away.test\0Tjim@noat.test\0", 30), "remote content");
  ok(exists("todo/%s", id) && exists("intd/%s", id), "todo and intd left for the caller");
  is_int(todo_clean(qd, id), 0, "todo_clean");
  ok(!exists("todo/%s", id) && !exists("intd/%s", id), "todo and intd gone");
  ok(exists("mess/%s", id), "mess kept");
  is_int(todo_clean(qd, id), 0, "todo_clean again: ENOENT is success");
  is_int(todo_process(qd, id, &rw, &r), 0, "gone: returns 0");
  is_int(r.status, TODO_GONE, "gone: status");
  stralloc_free(&sa);
  stralloc_free(&r.sender);
}

static void test_nomess(void)
{
  char id[64];
  struct todo_result r = {0};
  QUEUE("u1\0p2\0F\0Tjoe@me.test\0\0", 1, id);
  is_int(todo_process(qd, id, &rw, &r), 0, "nomess: returns 0");
  is_int(r.status, TODO_NOMESS, "nomess: status");
  ok(exists("todo/%s", id), "nomess: todo left for the caller (qmail-clean)");
  is_int(todo_clean(qd, id), 0, "nomess: todo_clean");
  ok(!exists("todo/%s", id) && !exists("intd/%s", id), "nomess: todo and intd dropped");
  ok(!exists("info/%s", id) && !exists("local/%s", id), "nomess: nothing written");
  stralloc_free(&r.sender);
}

static void bad(const char *env, size_t len, const char *name)
{
  char id[64];
  struct todo_result r = {0};
  queue(env, len, 0, id);
  is_int(todo_process(qd, id, &rw, &r), 0, name);
  is_int(r.status, TODO_BAD, name);
  ok(exists("todo/%s", id) && exists("intd/%s", id) && exists("mess/%s", id), "bad: left alone");
  ok(!exists("info/%s", id) && !exists("local/%s", id) && !exists("remote/%s", id),
     "bad: nothing written");
  stralloc_free(&r.sender);
}
#define BAD(lit, name) bad(lit, sizeof lit - 1, name)

/* trace: the i and m items of qmail-queue (msgid.h) */
static void trace_case(const char *env, size_t len, const char *qid, const char *mid,
                       const char *name)
{
  char id[64];
  struct todo_result r = {0};
  queue(env, len, 0, id);
  is_int(todo_process(qd, id, &rw, &r), 0, name);
  is_int(r.status, TODO_DONE, name);
  is_str(r.qid, qid, name);
  if (*mid) is_sa(r.mid, mid, name);
  else is_int(r.mid.len, 0, name);
  is_sa(r.sender, "s@x.test", name);
  is_int(r.nlocal, 1, name);
  todo_clean(qd, id);
  stralloc_free(&r.sender);
  stralloc_free(&r.mid);
}
#define TRACE(lit, qid, mid, name) trace_case(lit, sizeof lit - 1, qid, mid, name)

static void test_trace(void)
{
  char env[600], want[MID_MAX + 1];
  size_t n;
  TRACE("u1\0p2\0i1733561234.123456789.4711\0m<a@b>\0Fs@x.test\0Tjoe@me.test\0\0",
        "1733561234.123456789.4711", "<a@b>", "trace: i and m");
  TRACE("u1\0p2\0i1.000000000.2\0Fs@x.test\0Tjoe@me.test\0\0", "1.000000000.2", "",
        "trace: i only");
  TRACE("u1\0p2\0Fs@x.test\0Tjoe@me.test\0\0", "", "", "trace: none (an older envelope)");
  TRACE("u1\0p2\0ijunk\0m<c@d>\0Fs@x.test\0Tjoe@me.test\0\0", "", "<c@d>",
        "trace: a malformed i is ignored");
  TRACE("u1\0p2\0x\0i1.000000000.2\0zwhatever\0Fs@x.test\0Tjoe@me.test\0\0", "1.000000000.2", "",
        "trace: other lowercase items skipped");
  n = (size_t)snprintf(env, sizeof env, "u1%cp2%cm<", 0, 0);
  memset(env + n, 'y', 400);
  n += 400;
  memcpy(env + n, ">\0Fs@x.test\0Tjoe@me.test\0\0", 26);
  n += 26;
  memset(want, 'y', MID_MAX);
  want[0] = '<';
  want[MID_MAX] = 0;
  trace_case(env, n, "", want, "trace: a long m is cut at MID_MAX");
  BAD("u1\0p2\0i1.000000000.2\0Xa\0Fs@x.test\0\0", "trace: an unknown uppercase item");
}

static void test_bad(void)
{
  BAD("u1\0p2\0Fa@b\0Tjoe@me.test\0Tx@y.test\0", "no final empty item");
  BAD("u1\0p2\0Fa@b\0Tjoe@me.test\0Tx@y.te", "ends inside an item");
  BAD("u1\0p2\0Fa@b\0Tjoe@me.test\0\0junk", "bytes after the end");
  BAD("u1\0p2\0Fa@b\0Tjoe@me.test\0\0\0", "two empty items");
  BAD("u1\0p2\0Tjoe@me.test\0Fa@b\0\0", "T before F");
  BAD("p2\0u1\0Fa@b\0\0", "p before u");
  BAD("u1x\0p2\0Fa@b\0\0", "uid not a number");
  BAD("u\0p2\0Fa@b\0\0", "empty uid");
  BAD("u1\0p99999999999999999999\0Fa@b\0\0", "pid overflow");
  BAD("u1\0p2\0Fa@b\0Xjoe@me.test\0\0", "unknown item");
  BAD("", "empty file");
}

/* queue_mess: queue() with the message file's content given */
static void queue_mess(const char *mess, size_t mlen, const char *env, size_t elen, char *id)
{
  char p[1024];
  queue(env, elen, 0, id);
  snprintf(p, sizeof p, "%s/mess/%s", qd, id);
  put(p, mess, mlen);
}

/* lc_env: env = u, p, i, the items, F and recipients (many: 8000 more, over 64 KB per channel file) */
static void lc_env(stralloc *env, const char *items, size_t ilen, int many)
{
  static const char head[] = "u1\0p2\0i1.000000000.2\0";
  static const char tail[] = "Fs@x.test\0Tjoe@me.test\0Tfar@away.test\0";
  stralloc_copyb(env, head, sizeof head - 1);
  stralloc_catb(env, items, ilen);
  stralloc_catb(env, tail, sizeof tail - 1);
  for (int i = 0; many && i < 8000; ++i) {
    char a[64];
    int n = snprintf(a, sizeof a, "Tuser%05d@%s.test", i, i % 2 ? "me" : "far");
    stralloc_catb(env, a, (size_t)n + 1);
  }
  stralloc_catb(env, "\0", 1);
}

/* lc_items: "l<len>\0c<crc32c of m[0..mlen)>\0" into out; returns its length */
static size_t lc_items(char *out, unsigned long long len, const char *m, size_t mlen)
{
  uint32_t c = crc32c_final(crc32c_update(crc32c_init(), m, mlen));
  size_t n = (size_t)sprintf(out, "l%llu", len) + 1;
  out[n++] = 'c';
  n += crc32c_fmt(out + n, c);
  out[n++] = 0;
  return n;
}

/* lc_case: the envelope promises (len, crc of promised[0..plen)); mess/S/N
 * holds actual[0..alen); want is the status */
static void lc_case(const char *promised, size_t plen, const char *actual, size_t alen,
                    int many, int want, const char *name)
{
  char id[64], items[64];
  struct todo_result r = {0};
  stralloc env = {0};
  lc_env(&env, items, lc_items(items, plen, promised, plen), many);
  queue_mess(actual, alen, env.s, env.len, id);
  is_int(todo_process(qd, id, &rw, &r), 0, name);
  is_int(r.status, want, name);
  if (want == TODO_DONE) {
    ok(exists("info/%s", id) && exists("local/%s", id) && exists("remote/%s", id), name);
    is_int(r.bytes, alen, name);
    is_str(r.qid, "1.000000000.2", name);
  } else {
    ok(!exists("info/%s", id) && !exists("local/%s", id) && !exists("remote/%s", id),
       "torn: nothing written");
    ok(exists("todo/%s", id) && exists("intd/%s", id) && exists("mess/%s", id),
       "torn: todo, intd and mess left for the caller");
  }
  todo_clean(qd, id);
  stralloc_free(&env);
  stralloc_free(&r.sender);
}

/* lc_bad: the items as given make the envelope malformed */
static void lc_bad(const char *items, size_t ilen, const char *name)
{
  stralloc env = {0};
  lc_env(&env, items, ilen, 0);
  bad(env.s, env.len, name);
  stralloc_free(&env);
}
#define LC_BAD(lit, name) lc_bad(lit, sizeof lit - 1, name)

/* test_lc_stale: a torn message removes the stale files of an earlier run
 * (so that no info/S/N outlives its todo and gets delivered) */
static void test_lc_stale(void)
{
  char id[64], items[64], p[1024];
  struct todo_result r = {0};
  stralloc env = {0};
  const char *d[] = { "info", "local", "remote" };
  int i;
  lc_env(&env, items, lc_items(items, 5, "hello", 5), 0);
  queue_mess("hellO", 5, env.s, env.len, id);
  for (i = 0; i < 3; ++i) {
    snprintf(p, sizeof p, "%s/%s/%s", qd, d[i], id);
    put(p, "Tjoe@me.test\0", 13);
  }
  snprintf(p, sizeof p, "%s/bounce/%s", qd, strchr(id, '/') + 1);
  put(p, "old paragraph\n", 14);
  is_int(todo_process(qd, id, &rw, &r), 0, "torn, stale files: returns 0");
  is_int(r.status, TODO_TORN, "torn, stale files: torn");
  ok(!exists("info/%s", id) && !exists("local/%s", id) && !exists("remote/%s", id) &&
     !exists("bounce/%s", strchr(id, '/') + 1), "torn: stale info, local, remote, bounce removed");
  todo_clean(qd, id);
  stralloc_free(&env);
  stralloc_free(&r.sender);
}

static void test_lc(void)
{
  static const char m[] = "Received: (qmail 1 invoked by uid 1 id 1.000000000.2); x\nSubject: x\n\nhello\n";
  size_t n = sizeof m - 1;
  char *big = malloc(200000), *big2 = malloc(200000), flip[sizeof m];
  if (!big || !big2) exit(2);
  for (size_t i = 0; i < 200000; ++i) big[i] = (char)('a' + i % 26);
  memcpy(big2, big, 200000);
  memcpy(flip, m, sizeof m);
  flip[20] ^= 1;
  lc_case(m, n, m, n, 0, TODO_DONE, "lc: whole message preprocessed");
  lc_case(m, n, m, n - 1, 0, TODO_TORN, "lc: truncated by one byte");
  lc_case(m, n, m, 0, 0, TODO_TORN, "lc: empty message file");
  lc_case(m, n - 1, m, n, 0, TODO_TORN, "lc: one byte longer");
  lc_case(m, n, flip, n, 0, TODO_TORN, "lc: one bit flipped, same length");
  lc_case(big, 200000, big, 200000, 0, TODO_DONE, "lc: 200 KB whole (several reads)");
  big2[199999] ^= 0x20;
  lc_case(big, 200000, big2, 200000, 0, TODO_TORN, "lc: 200 KB, last byte changed");
  lc_case(m, n, flip, n, 1, TODO_TORN, "lc: torn with 8000 recipients (files begun, dropped)");
  lc_case(m, n, m, n, 1, TODO_DONE, "lc: whole with 8000 recipients");
  free(big);
  free(big2);
  test_lc_stale();
  LC_BAD("l5\0", "lc: l without c");
  LC_BAD("c00000000\0", "lc: c without l");
  LC_BAD("l5\0c0000000A\0", "lc: c in uppercase");
  LC_BAD("l5\0c0000000\0", "lc: c of seven digits");
  LC_BAD("l5\0c000000000\0", "lc: c of nine digits");
  LC_BAD("l5\0c0000000g\0", "lc: c not hex");
  LC_BAD("l\0c00000000\0", "lc: empty l");
  LC_BAD("l5x\0c00000000\0", "lc: l not a number");
  LC_BAD("l-5\0c00000000\0", "lc: negative l");
  LC_BAD("l99999999999999999999\0c00000000\0", "lc: l overflow");
  LC_BAD("l5\0l5\0c00000000\0", "lc: l twice");
  LC_BAD("l5\0c00000000\0c00000000\0", "lc: c twice");
}

static void test_stale(void)
{
  char id[64], p[1024], rel[128];
  struct todo_result r = {0};
  stralloc sa = {0};
  const char *d[] = { "info", "local", "remote" };
  int i;
  QUEUE("u1\0p2\0Fs@x.test\0Tjoe@me.test\0\0", 0, id);
  for (i = 0; i < 3; ++i) {
    snprintf(p, sizeof p, "%s/%s/%s", qd, d[i], id);
    put(p, "Dold\0", 5);
  }
  snprintf(p, sizeof p, "%s/bounce/%s", qd, strchr(id, '/') + 1);
  put(p, "old paragraph\n", 14);
  is_int(todo_process(qd, id, &rw, &r), 0, "stale: returns 0");
  snprintf(rel, sizeof rel, "local/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == 13 && !memcmp(sa.s, "Tjoe@me.test\0", 13), "stale local replaced");
  ok(!exists("remote/%s", id), "stale remote removed");
  snprintf(rel, sizeof rel, "bounce/%s", strchr(id, '/') + 1);
  ok(slurp(rel, &sa) == -1, "stale bounce removed");
  snprintf(rel, sizeof rel, "info/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == 10 && !memcmp(sa.s, "Fs@x.test\0", 10), "stale info replaced");
  todo_clean(qd, id);
  stralloc_free(&sa);
  stralloc_free(&r.sender);
}

static void test_norcpt(void)
{
  char id[64];
  struct todo_result r = {0};
  QUEUE("u1\0p2\0F\0\0", 0, id);
  is_int(todo_process(qd, id, &rw, &r), 0, "no recipients: returns 0");
  is_int(r.status, TODO_DONE, "no recipients: done");
  ok(r.nlocal == 0 && r.nremote == 0 && r.sender.len == 0, "no recipients: counts, empty sender");
  ok(exists("info/%s", id) && !exists("local/%s", id) && !exists("remote/%s", id),
     "no recipients: info only");
  todo_clean(qd, id);
  stralloc_free(&r.sender);
}

static void test_toolong(void)
{
  char id[64], rel[128];
  struct todo_result r = {0};
  stralloc env = {0}, sa = {0};
  stralloc_copyb(&env, "u1\0p2\0Fs@x.test\0T", 17);
  for (int i = 0; i < 4096; ++i) stralloc_append(&env, "a");
  stralloc_catb(&env, "\0Tjoe@me.test\0\0", 15);
  queue(env.s, env.len, 0, id);
  is_int(todo_process(qd, id, &rw, &r), 0, "too long: returns 0");
  is_int(r.status, TODO_DONE, "too long: done");
  ok(r.nbounce == 1 && r.nlocal == 1 && r.nremote == 0, "too long: one bounce paragraph, one local");
  snprintf(rel, sizeof rel, "bounce/%s", strchr(id, '/') + 1);
  ok(slurp(rel, &sa) == 0 && sa.len > 2048 && sa.s[0] == '<' &&
     memmem(sa.s, sa.len, "#5.1.3", 6), "too long: bounce paragraph");
  /* one byte more than the reader's cap: a bad envelope */
  stralloc_copyb(&env, "u1\0p2\0Fs@x.test\0T", 17);
  for (int i = 0; i < 4097; ++i) stralloc_append(&env, "a");
  stralloc_catb(&env, "\0\0", 2);
  bad(env.s, env.len, "address over the cap");
  todo_clean(qd, id);
  stralloc_free(&env);
  stralloc_free(&sa);
  stralloc_free(&r.sender);
}

static void test_many(void)
{
  char id[64], p[1024];
  struct todo_result r = {0};
  stralloc env = {0};
  unsigned long t = 0, d = 1;
  char a[64];
  stralloc_copyb(&env, "u1\0p2\0Fs@x.test\0", 16);
  for (int i = 0; i < 5000; ++i) {
    int n = snprintf(a, sizeof a, "Tuser%05d@%s.test", i, i % 2 ? "me" : "far");
    stralloc_catb(&env, a, (size_t)n + 1);
  }
  stralloc_catb(&env, "\0", 1);
  queue(env.s, env.len, 0, id);
  is_int(todo_process(qd, id, &rw, &r), 0, "many: returns 0");
  ok(r.nlocal == 2500 && r.nremote == 2500, "many: counts");
  snprintf(p, sizeof p, "%s/local/%s", qd, id);
  ok(chanfile_count(p, &t, &d) == 0 && t == 2500 && d == 0, "many: local file complete");
  snprintf(p, sizeof p, "%s/remote/%s", qd, id);
  ok(chanfile_count(p, &t, &d) == 0 && t == 2500 && d == 0, "many: remote file complete");
  todo_clean(qd, id);
  stralloc_free(&env);
  stralloc_free(&r.sender);
}

/* DSN items (hub/queue/QUEUE.md): kept in info after F, the recipients'
 * under their channel address; malformed words dropped; a d item where
 * no T precedes it is a bad envelope */
static void test_dsn(void)
{
  char id[64], rel[128];
  struct todo_result r = {0};
  stralloc sa = {0};
  static const char want[] = "Fbob@x.test\0dRET=HDRS ENVID=e1\0"
    "Ralice-ann@virt.test\0dNOTIFY=NEVER\0Rfar@away.test\0dNOTIFY=SUCCESS ORCPT=rfc822;f+40a\0";
  QUEUE("u1\0p1\0ix\0dRET=HDRS ENVID=e1\0Fbob@x.test\0Tann@virt.test\0dNOTIFY=NEVER\0"
        "Tjoe@me.test\0Tfar@away.test\0dNOTIFY=SUCCESS ORCPT=rfc822;f+40a\0"
        "Tbad@me.test\0dNOTIFY=SOMETIMES\0\0", 0, id);
  is_int(todo_process(qd, id, &rw, &r), 0, "dsn: returns 0");
  is_int(r.status, TODO_DONE, "dsn: done");
  is_int(r.dsn, 1, "dsn: the result says info has DSN items");
  is_int(r.nlocal + r.nremote, 4, "dsn: d items are no recipients");
  snprintf(rel, sizeof rel, "info/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == sizeof want - 1 && !memcmp(sa.s, want, sa.len),
     "dsn: info has F, the message's words, the recipients' under their channel address; a malformed item dropped");
  snprintf(rel, sizeof rel, "local/%s", id);
  ok(slurp(rel, &sa) == 0 && sa.len == 47 &&
     !memcmp(sa.s, "Talice-ann@virt.test\0Tjoe@me.test\0Tbad@me.test\0", 47),
     "dsn: the channel files are as without them");
  todo_clean(qd, id);
  QUEUE("u1\0p1\0Fbob@x.test\0Tjoe@me.test\0\0", 0, id);
  todo_process(qd, id, &rw, &r);
  is_int(r.dsn, 0, "dsn: none without d items");
  todo_clean(qd, id);
  BAD("u1\0p1\0Fbob@x.test\0dNOTIFY=NEVER\0Tjoe@me.test\0\0", "dsn: d right after F is bad");
  BAD("u1\0p1\0Fbob@x.test\0Tjoe@me.test\0dNOTIFY=NEVER\0dORCPT=a;b\0\0", "dsn: two d after a T is bad");
  stralloc_free(&sa);
  stralloc_free(&r.sender);
}

static void test_parse_id(void)
{
  unsigned long long n = 0;
  ok(todo_parse_id("3/26", &n) == 0 && n == 26, "parse 3/26");
  ok(todo_parse_id("0/0", &n) == 0 && n == 0, "parse 0/0");
  ok(todo_parse_id("4/26", &n) == -1 && errno == EINVAL, "wrong split");
  ok(todo_parse_id("03/26", &n) == -1, "leading zero in split");
  ok(todo_parse_id("3/026", &n) == -1, "leading zero in id");
  ok(todo_parse_id("3/26x", &n) == -1, "trailing junk");
  ok(todo_parse_id("../26", &n) == -1, "no dots");
  ok(todo_parse_id("3/", &n) == -1, "no id");
  ok(todo_parse_id("5/18446744073709551615", &n) == 0 && n == 18446744073709551615ULL, "max id");
  ok(todo_parse_id("0/18446744073709551616", &n) == -1, "id overflow");
  struct todo_result r = {0};
  ok(todo_process(qd, "1/2", &rw, &r) == -1 && errno == EINVAL, "process refuses a bad id");
}

int main(void)
{
  char cmd[1200];
  const char *src = getenv("SRCDIR");
  snprintf(qd, sizeof qd, "/tmp/todo-test.%d", (int)getpid());
  snprintf(cmd, sizeof cmd, "sh %s/hub/queue/mkqueue.sh -s %s", src ? src : ".", qd);
  if (system(cmd) != 0) { printf("Bail out! mkqueue.sh failed\n"); return 1; }
  strcat(qd, "/queue");
  if (rewrite_load_text(&rw, "me.test\n", "me.test\n", "virt.test:alice\n", 0, "noat.test") != 0) {
    printf("Bail out! rewrite_load_text\n");
    return 1;
  }
  test_normal();
  test_group();
  test_nomess();
  test_trace();
  test_bad();
  test_lc();
  test_stale();
  test_norcpt();
  test_toolong();
  test_many();
  test_dsn();
  test_parse_id();
  rewrite_free(&rw);
  qd[strlen(qd) - 6] = 0;
  snprintf(cmd, sizeof cmd, "rm -rf %s", qd);
  if (system(cmd) != 0) return 1;
  return done_testing();
}
