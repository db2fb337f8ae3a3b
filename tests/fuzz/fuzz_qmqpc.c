/* tests/fuzz/fuzz_qmqpc.c: libFuzzer harness for the leaf's reading of the
 * hub's answers (common/q_qmqpc.c: read_replies, answer, finish), with the
 * file included so its static functions are reachable and no network is
 * needed. The first input byte picks the number of recipients (1..8);
 * the rest is a list of "sessions" separated by "@@@", each a flag byte
 * (QMTP or QMQP; whether the whole request was sent; or a failed connect
 * with no answer) and then the bytes the server answered, served from a
 * memfd. Sessions go on while recipients are pending, as job_run does.
 * Checks, beyond "no crash, no leak, no undefined behaviour", against a
 * model that reads the answers with ns_parse:
 *  - after every session each recipient is accepted, refused or still
 *    pending exactly as the model says: QMTP one K/Z/D netstring per
 *    pending recipient in order, QMQP one for all of them; a K before the
 *    request was completely sent, an empty or other answer, or a broken
 *    netstring leaves the rest pending;
 *  - finish gives 0 only when every recipient was accepted, 31 or 82 "D"
 *    only when none is pending, 71..74 only when all are, and an 82 text
 *    starts with D or Z, is at most 1001 bytes and printable;
 *  - the texts are the hub's own words where the contract says so: the
 *    first refusal's text when all were refused, the last Z text when all
 *    are pending.
 * Build: make fuzz-build (compiles common/q_qmqpc.c in here). */
#include <stdint.h>
#include <sys/mman.h>
#include "q_qmqpc.c"

#define NMAX 8
#define SEP "@@@"

static const char *names[NMAX] = {
  "a@example.org", "b\001\377@example.org", "c@example.org", "d@example.org",
  "e-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  "@example.org", "f@example.org", "g@example.org", "h@example.org"
};

struct model {
  unsigned char st[NMAX];       /* R_PENDING, R_K, R_D */
  int zseen;
  stralloc ztext, dfirst;       /* cleaned as cat_clean does */
  int dseen;
};

static void clean(stralloc *sa, const char *s, size_t n)
{
  size_t i;
  sa->len = 0;
  for (i = 0; i < n && i < TEXT_MAX; ++i) {
    char c = (unsigned char)s[i] >= 32 && (unsigned char)s[i] < 127 ? s[i] : '?';
    if (!stralloc_append(sa, &c)) abort();
  }
}

/* model_session: what one session with answer a[0..n) does. */
static void model_session(struct model *m, size_t nr, const char *a, size_t n, int all, int sent)
{
  const char *r = 0;
  size_t i, pos = 0, rl = 0, used;
  for (i = 0; i < nr; ++i) {
    if (m->st[i] != R_PENDING) continue;
    if (!all || !r) {
      if (ns_parse(a + pos, n - pos, REPLY_MAX, &r, &rl, &used) != NS_OK) return;
      if (rl == 0 || (r[0] != 'K' && r[0] != 'Z' && r[0] != 'D')) return;
      pos += used;
    }
    if (!sent && r[0] == 'K') return;
    if (r[0] == 'K') m->st[i] = R_K;
    if (r[0] == 'Z') { m->zseen = 1; clean(&m->ztext, r + 1, rl - 1); }
    if (r[0] == 'D') {
      m->st[i] = R_D;
      if (!m->dseen) clean(&m->dfirst, r + 1, rl - 1);
      m->dseen = 1;
    }
  }
}

static void check_states(const struct job *j, const struct model *m)
{
  size_t i, k = 0, d = 0;
  for (i = 0; i < j->env.n; ++i) {
    if (j->st[i] != m->st[i]) abort();
    k += m->st[i] == R_K;
    d += m->st[i] == R_D;
  }
  if (j->nk != k || j->nd != d || j->zseen != m->zseen) abort();
}

static void check_result(const struct job *j, const struct model *m, int code, const stralloc *t)
{
  size_t pending = j->env.n - j->nk - j->nd, i;
  if (code == 0) { if (pending || j->nd || t->len) abort(); return; }
  if (code == 31) { if (pending || j->nk || m->dfirst.len) abort(); return; }
  if (code >= 71 && code <= 74) {
    if (pending != j->env.n || (code == 71) != (j->zseen != 0) || (code == 71 && m->ztext.len))
      abort();
    return;
  }
  if (code != 82 || t->len < 2 || t->len > TEXT_MAX + 1) abort();
  for (i = 1; i < t->len; ++i)
    if ((unsigned char)t->s[i] < 32 || (unsigned char)t->s[i] > 126) abort();
  if (t->s[0] == 'D') {
    if (pending) abort();
    if (!j->nk && (t->len != m->dfirst.len + 1 || memcmp(t->s + 1, m->dfirst.s, m->dfirst.len)))
      abort();
  } else if (t->s[0] == 'Z') {
    if (!pending) abort();
    if (pending == j->env.n &&
        (t->len != m->ztext.len + 1 || memcmp(t->s + 1, m->ztext.s, m->ztext.len)))
      abort();
  } else {
    abort();
  }
}

/* answer_fd: a memfd (one per process) holding a[0..n), offset 0. */
static int answer_fd(const char *a, size_t n)
{
  static int fd = -1;
  if (fd < 0 && (fd = memfd_create("answer", 0)) < 0) abort();
  if (ftruncate(fd, 0) || (n && pwrite(fd, a, n, 0) != (ssize_t)n) || lseek(fd, 0, SEEK_SET))
    abort();
  return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  stralloc env = {0, 0, 0}, text = {0, 0, 0};
  struct model m;
  struct job j;
  struct io_limits lim = { 0, 0 };
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  size_t nr, i;
  int code;
  if (size < 1) return 0;
  nr = 1 + (data[0] & 7);
  if (!stralloc_copyb(&env, "Fs@leaf.example\0", 16)) abort();
  for (i = 0; i < nr; ++i)
    if (!stralloc_append(&env, "T") || !stralloc_cats(&env, names[i]) || !stralloc_0(&env)) abort();
  if (!stralloc_0(&env)) abort();
  memset(&j, 0, sizeof j);
  memset(&m, 0, sizeof m);
  if (env_parse(&j.env, env.s, env.len) || j.env.n != nr) abort();
  if (!(j.st = calloc(nr, 1))) abort();

  while (p < end && j.nk + j.nd < j.env.n) {
    const char *s = memmem(p, (size_t)(end - p), SEP, 3), *a = p + 1;
    size_t n = s ? (size_t)(s - p) : (size_t)(end - p), al = n ? n - 1 : 0;
    unsigned char f = n ? (unsigned char)p[0] : 0;
    int all = !(f & 1), sent = !(f & 2), fd, res;
    p += n + (s ? 3 : 0);
    if ((f & 0x0c) == 0x0c) { j.problem = f & 0x10 ? 72 : 73; continue; }  /* no connect */
    fd = answer_fd(a, al);
    model_session(&m, nr, a, al, all, sent);
    mark(&j, R_PENDING, R_SENT);
    res = read_replies(&j, fd, &lim, all, sent);
    mark(&j, R_SENT, R_PENDING);
    if (res == S_NOMEM) abort();
    if (res == S_BROKEN) j.problem = 74;
    check_states(&j, &m);
  }
  code = finish(&j, &text);
  check_result(&j, &m, code, &text);
  job_free(&j);
  stralloc_free(&env);
  stralloc_free(&text);
  stralloc_free(&m.ztext);
  stralloc_free(&m.dfirst);
  return 0;
}
