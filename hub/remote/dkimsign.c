/* dkimsign.c: DKIM signing (dkimsign.h): keys from control/dkim/DOMAIN,
 * relaxed canonicalization, the DKIM-Signature field, folded. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "dkimsign.h"
#include "q_home.h"

/* ---- names ------------------------------------------------------------------ */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int alnum(int c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* dnsname: s[0..n) is dot-separated labels of letters, digits, '-' (and
 * '_' when under is set), none empty. */
static int dnsname(const char *s, size_t n, int under)
{
  size_t i, label = 0;
  if (n == 0) return 0;
  for (i = 0; i < n; ++i) {
    int c = lower((unsigned char)s[i]);
    if (c == '.') {
      if (label == 0) return 0;
      label = 0;
    } else if (alnum(c) || c == '-' || (under && c == '_')) {
      if (++label > 63) return 0;
    } else return 0;
  }
  return label != 0;
}

int dkim_domain(const char *sender, char out[DKIM_DOMMAX + 1])
{
  const char *at = strrchr(sender, '@');
  size_t n, i;
  if (!at) return 0;
  n = strlen(at + 1);
  if (n > DKIM_DOMMAX || !dnsname(at + 1, n, 0)) return 0;
  for (i = 0; i < n; ++i) out[i] = (char)lower((unsigned char)at[1 + i]);
  out[n] = 0;
  return 1;
}

/* ---- which messages -------------------------------------------------------- */

/* has: s[0..n) contains w */
static int has(const char *s, size_t n, const char *w)
{
  size_t k = strlen(w), i;
  for (i = 0; i + k <= n; ++i) if (memcmp(s + i, w, k) == 0) return 1;
  return 0;
}

static int startsi(const char *s, size_t n, const char *w)
{
  size_t k = strlen(w);
  return n >= k && strncasecmp(s, w, k) == 0;
}

/* server: the field f[0..n) is a server's Received line: may we sign? */
static int server(const char *f, size_t n)
{
  const char *semi = memchr(f, ';', n);
  size_t end = semi ? (size_t)(semi - f) : n, i, p;
  if (has(f, end, DKIM_RELAYMARK)) return 1;
  for (i = end; i >= 6; --i)                 /* the last " with " */
    if (memcmp(f + i - 6, " with ", 6) == 0) break;
  if (i < 6) return 0;
  for (p = i; p < end && f[p] != ' ' && f[p] != '\n' && f[p] != '\r'; ++p) ;
  return (p - i == 6 && memcmp(f + i, "ESMTPA", 6) == 0) ||
         (p - i == 7 && memcmp(f + i, "ESMTPSA", 7) == 0) ||
         (p - i == 4 && memcmp(f + i, "QMQP", 4) == 0);
}

int dkim_eligible(const char *s, size_t n)
{
  const char *e = memchr(s, '\n', n);
  size_t l1, f, fe;
  if (!e || !startsi(s, n, "Received: (qmail ")) return 0;
  l1 = (size_t)(e - s);
  if (has(s, l1, " invoked for bounce ") || has(s, l1, " invoked by alias ")) return 0;
  f = l1 + 1;                                /* the second field, folds included */
  for (fe = f; fe < n; ++fe)
    if (s[fe] == '\n' && (fe + 1 >= n || (s[fe + 1] != ' ' && s[fe + 1] != '\t'))) break;
  if (startsi(s + f, fe - f, "Received: from ")) return server(s + f, fe - f);
  if (has(s, l1, " invoked from network ")) return 0;
  if (startsi(s + f, fe - f, "Delivered-To:") || startsi(s + f, fe - f, "Return-Path:")) return 0;
  return 1;
}

/* ---- keys ------------------------------------------------------------------- */

static int keyfail(struct dkim_keys *ks, const char *why, int e)
{
  dkim_freekeys(ks);
  ks->why = why;
  errno = e;
  return -1;
}

/* nopass: never ask for a passphrase (a protected key is refused) */
static int nopass(char *buf, int size, int rw, void *u)
{
  (void)buf; (void)size; (void)rw; (void)u;
  return 0;
}

static int loadkey(struct dkim_key *k, const char *path)
{
  BIO *in = BIO_new_file(path, "r");
  EVP_PKEY *p;
  if (!in) return -1;
  p = PEM_read_bio_PrivateKey(in, 0, nopass, 0);
  BIO_free(in);
  if (!p) { errno = EINVAL; return -2; }
  k->ed25519 = EVP_PKEY_get_base_id(p) == EVP_PKEY_ED25519;
  if (!k->ed25519 && (EVP_PKEY_get_base_id(p) != EVP_PKEY_RSA || EVP_PKEY_get_bits(p) < 1024)) {
    EVP_PKEY_free(p);
    errno = EINVAL;
    return -3;
  }
  k->pkey = p;
  return 0;
}

static int cmpkey(const void *a, const void *b)
{
  return strcmp(((const struct dkim_key *)a)->selector, ((const struct dkim_key *)b)->selector);
}

/* keynames: the selectors of dir's SELECTOR.key files into ks->k (no key yet). */
static int keynames(struct dkim_keys *ks, DIR *dir)
{
  struct dirent *de;
  while ((errno = 0, de = readdir(dir))) {
    size_t n = strlen(de->d_name);
    if (de->d_name[0] == '.' || n < 5 || strcmp(de->d_name + n - 4, ".key")) continue;
    if (ks->n >= DKIM_MAXKEYS) return keyfail(ks, "more than 8 keys", EFBIG);
    if (n - 4 > DKIM_SELMAX || !dnsname(de->d_name, n - 4, 1))
      return keyfail(ks, "a selector must be a DNS name (letters, digits, '-', '_', '.')", EINVAL);
    ks->k[ks->n].pkey = 0;
    memcpy(ks->k[ks->n].selector, de->d_name, n - 4);
    ks->k[ks->n++].selector[n - 4] = 0;
  }
  if (errno) return keyfail(ks, strerror(errno), errno);
  return 0;
}

/* keypath: ks->file = HOME/control/dkim/DOMAIN[/SELECTOR.key]. */
static int keypath(struct dkim_keys *ks, const char *selector)
{
  if (!home_path(&ks->file, "control/dkim/")) return 0;
  --ks->file.len;   /* home_path's NUL */
  if (!stralloc_cats(&ks->file, ks->domain)) return 0;
  if (selector && (!stralloc_cats(&ks->file, "/") || !stralloc_cats(&ks->file, selector) ||
                   !stralloc_cats(&ks->file, ".key"))) return 0;
  return stralloc_0(&ks->file);
}

int dkim_loadkeys(struct dkim_keys *ks, const char *domain)
{
  size_t i, n;
  DIR *dir;
  int r;
  ks->n = 0;
  ks->why = 0;
  if (strlen(domain) > DKIM_DOMMAX) return keyfail(ks, "domain too long", EINVAL);
  strcpy(ks->domain, domain);
  if (!keypath(ks, 0)) return keyfail(ks, "out of memory", ENOMEM);
  dir = opendir(ks->file.s);
  if (!dir) {
    if (errno == ENOENT) return 0;
    return keyfail(ks, strerror(errno), errno);
  }
  r = keynames(ks, dir);
  closedir(dir);
  if (r < 0) return -1;
  n = ks->n;
  ks->n = 0;           /* selectors only so far: nothing to free */
  qsort(ks->k, n, sizeof ks->k[0], cmpkey);
  for (i = 0; i < n; ++i) {
    struct dkim_key *k = &ks->k[i];
    if (!keypath(ks, k->selector)) return keyfail(ks, "out of memory", ENOMEM);
    r = loadkey(k, ks->file.s);
    if (r == -1) return keyfail(ks, strerror(errno), errno);
    if (r == -2) return keyfail(ks, "not a PEM private key without a passphrase", EINVAL);
    if (r == -3) return keyfail(ks, "not an RSA key of 1024 bits or more, nor Ed25519", EINVAL);
    ks->n = i + 1;
  }
  return (int)n;
}

void dkim_freekeys(struct dkim_keys *ks)
{
  size_t i;
  for (i = 0; i < ks->n; ++i) EVP_PKEY_free(ks->k[i].pkey);
  ks->n = 0;
}

/* ---- the body, relaxed ---------------------------------------------------- */

void dkim_body_start(struct dkim_body *b, dkim_out out, void *ctx)
{
  memset(b, 0, offsetof(struct dkim_body, buf));
  b->out = out;
  b->ctx = ctx;
}

static void bflush(struct dkim_body *b)
{
  if (b->n && !b->failed && !b->out(b->ctx, b->buf, b->n)) b->failed = 1;
  b->n = 0;
}

static void bput(struct dkim_body *b, const char *s, size_t n)
{
  while (n) {
    size_t k = sizeof b->buf - b->n;
    if (k > n) k = n;
    memcpy(b->buf + b->n, s, k);
    b->n += k;
    s += k;
    n -= k;
    if (b->n == sizeof b->buf) bflush(b);
  }
}

/* content: a byte that is neither WSP nor a line end: the held line ends
 * and WSP are real after all. */
static void content(struct dkim_body *b, char c)
{
  for (; b->crlfs; --b->crlfs) bput(b, "\r\n", 2);
  if (b->wsp) bput(b, " ", 1);
  b->wsp = 0;
  b->any = 1;
  bput(b, &c, 1);
}

void dkim_body_put(struct dkim_body *b, const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; ++i) {
    char c = s[i];
    if (c == '\n') { b->wsp = 0; ++b->crlfs; }
    else if (c == ' ' || c == '\t') b->wsp = 1;
    else content(b, c);
  }
}

int dkim_body_end(struct dkim_body *b)
{
  if (b->any) bput(b, "\r\n", 2);  /* the last line's end; empty lines after it dropped */
  bflush(b);
  return !b->failed;
}

/* ---- header fields, relaxed --------------------------------------------------- */

static int wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int dkim_relaxed_field(stralloc *out, const char *f, size_t len)
{
  const char *colon = memchr(f, ':', len);
  size_t i, nl;
  int space = 0;
  if (!colon) return 0;
  for (nl = (size_t)(colon - f); nl && wsp(f[nl - 1]); --nl) ;
  for (i = 0; i < nl; ++i) {
    char c = (char)lower((unsigned char)f[i]);
    if (!stralloc_catb(out, &c, 1)) return 0;
  }
  if (!stralloc_catb(out, ":", 1)) return 0;
  for (i = (size_t)(colon - f) + 1; i < len && wsp(f[i]); ++i) ;
  for (; i < len; ++i) {
    if (f[i] == '\r' || f[i] == '\n') continue;    /* unfold */
    if (f[i] == ' ' || f[i] == '\t') { space = 1; continue; }
    if (space && !stralloc_catb(out, " ", 1)) return 0;
    space = 0;
    if (!stralloc_catb(out, f + i, 1)) return 0;
  }
  return stralloc_catb(out, "\r\n", 2);
}

/* ---- the message stream ----------------------------------------------------- */

static int hashout(void *ctx, const char *s, size_t n)
{
  return EVP_DigestUpdate((EVP_MD_CTX *)ctx, s, n) == 1;
}

int dkimsign_start(struct dkimsign *d)
{
  memset(d, 0, offsetof(struct dkimsign, body));
  d->bol = 1;
  d->md = EVP_MD_CTX_new();
  if (!d->md || EVP_DigestInit_ex(d->md, EVP_sha256(), 0) != 1) return 0;
  dkim_body_start(&d->body, hashout, d->md);
  return 1;
}

/* headbyte: one byte of the header block (LF line ends). */
static void headbyte(struct dkimsign *d, char c)
{
  if (d->bol && c == '\n') { d->inbody = 1; return; }
  d->bol = c == '\n';
  if (d->toobig) return;
  if (d->head.len >= DKIM_HEADMAX || !stralloc_catb(&d->head, &c, 1)) d->toobig = 1;
}

/* onebyte: a byte after the CR rule (rblast.h). */
static void onebyte(struct dkimsign *d, char c)
{
  if (d->inbody) dkim_body_put(&d->body, &c, 1);
  else headbyte(d, c);
}

void dkimsign_put(struct dkimsign *d, const char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    if (d->cr) {
      d->cr = 0;
      if (s[i] != '\n') onebyte(d, ' ');
    }
    if (s[i] == '\r') { d->cr = 1; ++i; continue; }
    if (d->inbody) {   /* the bulk: straight runs to the canonicalizer */
      size_t k = i;
      while (k < n && s[k] != '\r') ++k;
      dkim_body_put(&d->body, s + i, k - i);
      i = k;
      continue;
    }
    onebyte(d, s[i++]);
  }
}

void dkimsign_free(struct dkimsign *d)
{
  stralloc_free(&d->head);
  EVP_MD_CTX_free(d->md);
  d->md = 0;
}

/* ---- choosing the fields ---------------------------------------------------- */

static const char *const signed_names[] = {
  "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
  "in-reply-to", "references", "mime-version", "content-type",
  "content-transfer-encoding", "content-disposition", "list-id", "list-unsubscribe", 0
};

struct field { size_t off, len, namelen; };

/* fields: the header block's fields (a line starting with WSP continues
 * the one before; a line with no colon is no field). */
static int fields(const stralloc *h, struct field **fv, size_t *nf)
{
  size_t i = 0, cap = 0;
  *fv = 0;
  *nf = 0;
  while (i < h->len) {
    const char *e = memchr(h->s + i, '\n', h->len - i);
    size_t end = e ? (size_t)(e - h->s) : h->len;
    if ((h->s[i] == ' ' || h->s[i] == '\t') && *nf) {
      (*fv)[*nf - 1].len = end - (*fv)[*nf - 1].off;
    } else {
      const char *c = memchr(h->s + i, ':', end - i);
      if (c) {
        if (*nf == cap) {
          struct field *nv;
          if (cap > ((size_t)-1 / sizeof **fv) / 2 - 8) return 0;
          cap = cap * 2 + 16;
          nv = realloc(*fv, cap * sizeof **fv);
          if (!nv) return 0;
          *fv = nv;
        }
        (*fv)[*nf].off = i;
        (*fv)[*nf].len = end - i;
        (*fv)[*nf].namelen = (size_t)(c - (h->s + i));
        while ((*fv)[*nf].namelen && wsp(h->s[i + (*fv)[*nf].namelen - 1])) --(*fv)[*nf].namelen;
        ++*nf;
      }
    }
    i = end + 1;
  }
  return 1;
}

static int named(const stralloc *h, const struct field *f, const char *name)
{
  size_t n = strlen(name);
  return f->namelen == n && strncasecmp(h->s + f->off, name, n) == 0;
}

/* pick: the h= list into hl ("from:to:..."), the canonical fields in the
 * same order into data. 1 ok, 0 no From, -1 no memory. */
static int pick(const stralloc *h, stralloc *hl, stralloc *data)
{
  struct field *fv;
  size_t nf, i, k;
  int from = 0;
  if (!fields(h, &fv, &nf)) return -1;
  for (k = 0; signed_names[k]; ++k)
    for (i = nf; i-- > 0;) {
      if (!named(h, &fv[i], signed_names[k])) continue;
      if (k == 0) from = 1;
      if ((hl->len && !stralloc_cats(hl, ":")) || !stralloc_cats(hl, signed_names[k]) ||
          !dkim_relaxed_field(data, h->s + fv[i].off, fv[i].len)) { free(fv); return -1; }
    }
  free(fv);
  if (!from) return 0;
  return stralloc_cats(hl, ":from") ? 1 : -1;   /* oversigned: the null From */
}

/* ---- the signature field ---------------------------------------------------- */

struct fold { stralloc *out; const char *eol; size_t col; };

/* put: a piece, after a space (sp) or glued; folded first when the line
 * would pass DKIM_WIDTH (a continuation line starts with a tab, 8 columns). */
static int put(struct fold *f, const char *s, size_t n, int sp)
{
  if (f->col + (size_t)sp + n > DKIM_WIDTH && f->col > 8) {
    if (!stralloc_cats(f->out, f->eol) || !stralloc_cats(f->out, "\t")) return 0;
    f->col = 8;
  } else if (sp) {
    if (!stralloc_cats(f->out, " ")) return 0;
    ++f->col;
  }
  f->col += n;
  return stralloc_catb(f->out, s, n);
}
static int puts_(struct fold *f, const char *s, int sp) { return put(f, s, strlen(s), sp); }

/* tags: the field up to and including "b=". */
static int tags(struct fold *f, const struct dkim_keys *ks, const struct dkim_key *k,
                long long now, const stralloc *hl, const char *bh)
{
  char t[32];
  size_t i = 0, j;
  unsigned long long v = now < 0 ? 0 : (unsigned long long)now;
  stralloc tag = {0};
  int ok;
  do t[sizeof t - 2 - i++] = (char)('0' + v % 10); while (v /= 10);
  t[sizeof t - 1] = 0;
  if (!stralloc_cats(f->out, "DKIM-Signature:")) return 0;
  f->col = 15;
  ok = puts_(f, "v=1;", 1) &&
       puts_(f, k->ed25519 ? "a=ed25519-sha256;" : "a=rsa-sha256;", 1) &&
       puts_(f, "c=relaxed/relaxed;", 1) &&
       stralloc_copys(&tag, "d=") && stralloc_cats(&tag, ks->domain) && stralloc_cats(&tag, ";") &&
       put(f, tag.s, tag.len, 1) &&
       stralloc_copys(&tag, "s=") && stralloc_cats(&tag, k->selector) && stralloc_cats(&tag, ";") &&
       put(f, tag.s, tag.len, 1) &&
       puts_(f, "t=", 1) && puts_(f, t + sizeof t - 1 - i, 0) && puts_(f, ";", 0) &&
       puts_(f, "h=", 1);
  for (i = 0; ok && i < hl->len; i = j + 1) {   /* h=: one name per piece, a fold may go before it */
    for (j = i; j < hl->len && hl->s[j] != ':'; ++j) ;
    ok = put(f, hl->s + i, j - i + (j < hl->len), 0);
  }
  ok = ok && puts_(f, ";", 0) && stralloc_copys(&tag, "bh=") && stralloc_cats(&tag, bh) &&
       stralloc_cats(&tag, ";") && put(f, tag.s, tag.len, 1) && puts_(f, "b=", 1);
  stralloc_free(&tag);
  return ok;
}

/* bvalue: the signature in base64, folded. */
static int bvalue(struct fold *f, const unsigned char *sig, size_t n)
{
  size_t len = 4 * ((n + 2) / 3), i = 0;
  char *b = malloc(len + 1);
  int ok = 1;
  if (!b) return 0;
  EVP_EncodeBlock((unsigned char *)b, sig, (int)n);
  while (ok && i < len) {
    size_t room = f->col < DKIM_WIDTH ? DKIM_WIDTH - f->col : 0, k;
    if (room == 0) room = DKIM_WIDTH - 8;
    k = len - i < room ? len - i : room;
    ok = put(f, b + i, k, 0);
    i += k;
  }
  free(b);
  return ok;
}

/* sign: the signature of data (the canonical fields and the field being
 * made, without its b= value) under key k. */
static int sign(const struct dkim_key *k, const stralloc *data, unsigned char **sig, size_t *n)
{
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned char dg[32];
  const unsigned char *in = (const unsigned char *)data->s;
  size_t inlen = data->len;
  int ok = c != 0;
  *sig = 0;
  if (ok && k->ed25519) {   /* RFC 8463: Ed25519 over the SHA-256 of the data */
    ok = EVP_Digest(data->s, data->len, dg, 0, EVP_sha256(), 0) == 1;
    in = dg;
    inlen = sizeof dg;
  }
  ok = ok && EVP_DigestSignInit(c, 0, k->ed25519 ? 0 : EVP_sha256(), 0, k->pkey) == 1 &&
       EVP_DigestSign(c, 0, n, in, inlen) == 1 && (*sig = malloc(*n)) != 0 &&
       EVP_DigestSign(c, *sig, n, in, inlen) == 1;
  EVP_MD_CTX_free(c);
  if (!ok) { free(*sig); *sig = 0; }
  return ok;
}

/* one: the field for key k, appended to out. */
static int one(const struct dkim_keys *ks, const struct dkim_key *k, long long now,
               const stralloc *hl, const stralloc *fieldsdata, const char *bh,
               const char *eol, stralloc *out)
{
  stralloc fl = {0}, data = {0};
  struct fold f = { &fl, eol, 0 };
  unsigned char *sig = 0;
  size_t n = 0;
  int ok = tags(&f, ks, k, now, hl, bh) && stralloc_copy(&data, fieldsdata) &&
           dkim_relaxed_field(&data, fl.s, fl.len);
  if (ok) data.len -= 2;                /* the signature field: no CRLF (sec 3.7) */
  ok = ok && sign(k, &data, &sig, &n) && bvalue(&f, sig, n) &&
       stralloc_cats(&fl, eol) && stralloc_cat(out, &fl);
  free(sig);
  stralloc_free(&fl);
  stralloc_free(&data);
  return ok;
}

int dkimsign_finish(struct dkimsign *d, const struct dkim_keys *ks, long long now,
                    const char *eol, stralloc *out, const char **why)
{
  unsigned char dg[32];
  char bh[48];
  stralloc hl = {0}, data = {0};
  size_t i;
  int r;
  *why = 0;
  if (d->cr) { d->cr = 0; onebyte(d, ' '); }
  if (!dkim_body_end(&d->body) || EVP_DigestFinal_ex(d->md, dg, 0) != 1) {
    *why = "the body hash failed";
    return -1;
  }
  if (d->toobig) { *why = "the header is over 256 KB"; return 0; }
  EVP_EncodeBlock((unsigned char *)bh, dg, sizeof dg);
  r = pick(&d->head, &hl, &data);
  if (r == 0) *why = "no From field";
  for (i = 0; r == 1 && i < ks->n; ++i)
    if (!one(ks, &ks->k[i], now, &hl, &data, bh, eol, out)) {
      *why = "signing failed (libcrypto or memory)";
      r = -1;
    }
  if (r < 0 && !*why) *why = "out of memory";
  stralloc_free(&hl);
  stralloc_free(&data);
  return r;
}
