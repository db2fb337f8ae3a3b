/* qmail-remote: deliver one message to the recipients of one domain over
 * SMTP or QMTP (docs/protocols.md; man page qmail-remote.8).
 *
 *   qmail-remote host sender recip [recip ...]
 *   qmail-remote -S host          (session mode: rsession.h, rjobq.h)
 *
 * The message is on fd 0 (a queue file, LF line ends; anything else is
 * first copied to an unlinked temporary file). Destination: rdest.h
 * (address literal, qmtproutes, smtproutes, MX with MXPS, A/AAAA). The
 * hosts are tried in order, the addresses of one host raced with a
 * stagger of RACE_STAGGER_MS (q_net.h); addresses that failed recently
 * are skipped (tcpto.h). The first server that answers decides: SMTP or
 * QMTP (rsess.h); a server that says nothing at all, or a QMTP port that
 * fails before its first response, passes on to the next address.
 * Before connecting, the envelope is checked (raddr.h): a recipient that
 * cannot be written safely gets h (#5.1.3), a sender that cannot fails the
 * job (#5.1.7); over SMTP the rest are written in RFC 5321 form (quoted
 * local parts). The message goes out with no lone CR or LF (rblast.h).
 *
 * Output on fd 1 (rjob.h): r/h/s per recipient, then K/Z/D. Always exit
 * 0; 111 only for a usage error or when the reports cannot be written.
 * Nothing is written to fd 2 otherwise.
 *
 * Session mode (-S): jobs "<tag><S/N>\0<sender>\0<rcpt>\0...\0" on fd 0,
 * messages opened from queue/mess/S/N in the current directory, each
 * job's reports tagged on fd 1; one connection for all of them (SMTP
 * transactions in a row, QMTP packages pipelined), made here by
 * session_connect with the same destination choice and tcpto handling;
 * the loop itself is rsession.c. Exit 0 at EOF or when idle for
 * control/timeoutidle seconds (5); 111 after a protocol error on fd 0 or
 * when the control files cannot be read (said on fd 2).
 *
 * Control files: helohost (default me; one of them is needed),
 * timeoutconnect (60 s), timeoutremote (1200 s per read or write),
 * timeoutdelivery (3600 s for the whole delivery, connects included; per
 * job in session mode), timeoutidle (session mode, 5 s),
 * outgoingip (local addresses to bind, one IPv4 and/or one IPv6 line),
 * dnsservers (rdns.h), qmtproutes, smtproutes, me, locals. The home is
 * q_home.h's (the compiled-in one, or $QMAILHOME). A file that is present
 * but unreadable or invalid (a timeout that is not a number of at least 1
 * second) is never the default: every recipient gets s, "Sorry,
 * qmail-remote cannot use control/NAME: REASON. (#4.3.0)"; in session
 * mode "alert: cannot use control/NAME: REASON" on fd 2 and exit 111. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "stralloc.h"
#include "q_control.h"
#include "q_limits.h"
#include "q_err.h"
#include "q_home.h"
#include "q_io.h"
#include "q_net.h"
#include "qconf.h"
#include "raddr.h"
#include "rblast.h"
#include "rconn.h"
#include "rdest.h"
#include "rdkim.h"
#include "rdns.h"
#include "rjob.h"
#include "rroute.h"
#include "rsess.h"
#include "rsession.h"
#include "rtls.h"
#include "tcpto.h"

#define RACE_STAGGER_MS 300
#define TIMEOUT_CONNECT 60
#define TIMEOUT_REMOTE 1200
#define TIMEOUT_DELIVERY 3600

static struct rjob job;
static struct rjob *jp = &job;              /* the job being connected for */
static int session_mode;
static struct rconn *keep;                  /* session mode: the kept connection */
static int keep_qmtp;
static struct rsmtp_ext *keep_ext;
static struct rdest dest;
static struct net_addr addrs[RDEST_MAX];   /* dest's addresses, for net_connect */
static struct rdest_conf conf;
static stralloc helo, me, locals, qroutes, sroutes, dnsservers, tcptopath;
static stralloc tlsdests, tlsciphers, capath, certpath;
static struct rtls_dest tdest;              /* the job's TLS and AUTH settings */
static int timeout_connect_ms, timeout_idle_ms;
static long long timeout_delivery_ms;

/* ---- output ---------------------------------------------------------------- */

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
  stralloc out = {0};
  if (!rjob_output(&job, &out)) _exit(111);
  if (io_writeall(1, out.s, out.len, 0) < 0) _exit(111);
  _exit(0);
}

/* setup_failed: an internal problem: every recipient temporary (in
 * session mode: said on fd 2, exit 111; qmail-rspawn answers the jobs). */
static void setup_failed(const char *what) __attribute__((noreturn));
static void setup_failed(const char *what)
{
  const char *why = errno ? strerror(errno) : "error";
  if (session_mode) fatal(111, "unable to ", what, ": ", why);
  rjob_all(&job, 's', 'Z', "Sorry, qmail-remote was unable to ", what, ": ", why,
           ". (#4.3.0)", (const char *)0);
  finish();
}

/* ---- configuration ------------------------------------------------------- */

/* control_failed: control/name is present but unusable (why): never the
 * default; every recipient temporary, the reason naming the file (in
 * session mode: said on fd 2, exit 111). Also the q_limits hook. */
static void control_failed(const char *name, const char *why) __attribute__((noreturn));
static void control_failed(const char *name, const char *why)
{
  if (session_mode) { err_print("alert", 0, "cannot use control/", name, ": ", why, (const char *)0); _exit(111); }
  rjob_all(&job, 's', 'Z', "Sorry, qmail-remote cannot use control/", name, ": ", why,
           ". (#4.3.0)", (const char *)0);
  finish();
}
static void bad_control(const char *name) __attribute__((noreturn));
static void bad_control(const char *name) { control_failed(name, control_strerror(errno)); }

/* seconds: a timeout file, at least 1, at most 7 days */
static int seconds(const char *name, unsigned long def)
{
  unsigned long t = def;
  if (control_readnum(&t, name, 1) < 0) bad_control(name);
  if (t > 86400 * 7) t = 86400 * 7;
  return (int)t;
}

static void readlist(stralloc *sa, const char *name)
{
  if (control_readlist(sa, name) < 0) bad_control(name);
}

/* outgoing: control/outgoingip, one IPv4 and/or one IPv6 address. */
static void outgoing(void)
{
  stralloc l = {0};
  size_t pos = 0;
  readlist(&l, "outgoingip");
  while (pos < l.len) {
    struct net_addr a;
    char *line = l.s + pos;
    size_t ll = strlen(line);
    char br[80];
    memset(&a, 0, sizeof a);
    pos += ll + 1;
    if (ll + 3 > sizeof br) { errno = EINVAL; setup_failed("use control/outgoingip"); }
    br[0] = '[';
    memcpy(br + 1, line, ll);
    br[ll + 1] = ']';
    if (rroute_literal(br, ll + 2, &a.family, a.ip) < 0 &&
        rroute_literal(line, ll, &a.family, a.ip) < 0) {
      errno = EINVAL;
      setup_failed("use control/outgoingip");
    }
    net_source(&a);
  }
  stralloc_free(&l);
}

static void tls_files(void);

static void config(void)
{
  limit_onfail(control_failed);
  if (control_readline(&me, "me") < 0) setup_failed("read control/me");
  if (!stralloc_0(&me)) setup_failed("allocate memory");
  if (control_rldef(&helo, "helohost", me.s) < 0) setup_failed("read control/helohost");
  if (helo.len == 0) { errno = ENOENT; setup_failed("read control/helohost or control/me"); }
  timeout_connect_ms = seconds("timeoutconnect", TIMEOUT_CONNECT) * 1000;
  job.timeout_ms = seconds("timeoutremote", TIMEOUT_REMOTE) * 1000;
  timeout_delivery_ms = (long long)seconds("timeoutdelivery", TIMEOUT_DELIVERY) * 1000;
  job.deadline_ms = io_now_ms() + timeout_delivery_ms;
  timeout_idle_ms = seconds("timeoutidle", RSESSION_IDLE) * 1000;
  job.helo = helo.s;
  readlist(&locals, "locals");
  readlist(&qroutes, "qmtproutes");
  readlist(&sroutes, "smtproutes");
  readlist(&dnsservers, "dnsservers");
  tls_files();
  outgoing();
  if (rdns_init(dnsservers.s, dnsservers.len) < 0) setup_failed("use control/dnsservers");
  raddr_max();   /* control/maxaddress, read before connecting */
  if (!home_path(&tcptopath, QUEUE_DIR "/" QFILE_TCPTO)) setup_failed("allocate memory");
  conf.qmtproutes = qroutes.s; conf.qlen = qroutes.len;
  conf.smtproutes = sroutes.s; conf.slen = sroutes.len;
  conf.me = me.s;
  conf.locals = locals.s; conf.llen = locals.len;
  conf.ipme = rdest_ipme;
}

/* optional_file: control/name's path in sa when it can be read, NULL when
 * it does not exist; present but unreadable: control_failed. */
static const char *optional_file(stralloc *sa, const char *name)
{
  if (!control_path(sa, name)) setup_failed("allocate memory");
  if (access(sa->s, R_OK) == 0) return sa->s;
  if (errno == ENOENT) return 0;
  bad_control(name);
}

/* tls_files: the files of rtls.h */
static void tls_files(void)
{
  readlist(&tlsdests, RTLS_DESTS);
  if (control_readline(&tlsciphers, RTLS_CIPHERS) < 0) bad_control(RTLS_CIPHERS);
  if (!stralloc_0(&tlsciphers)) setup_failed("allocate memory");
  tdest.ciphers = tlsciphers.len > 1 ? tlsciphers.s : 0;
  tdest.cafile = optional_file(&capath, RTLS_CA);
  tdest.certfile = optional_file(&certpath, RTLS_CERT);
}

/* tls_dest: the TLS policy and AUTH settings for job j (tdest). 0 ok, -1
 * j reported (a bad tlsdestinations line; credentials missing, unreadable
 * or too open: fail closed). A bad smtproutes line is rdest's to report. */
static int tls_dest(struct rjob *j)
{
  struct rroute r;
  int routed = 0, qmtp = 0;
  stralloc why = {0};
  memset(&r, 0, sizeof r);
  tdest.smtps = tdest.auth = tdest.authnotls = 0;
  explicit_bzero(tdest.pass, sizeof tdest.pass);
  if (j->host[0] != '[') qmtp = rroute_find(qroutes.s, qroutes.len, j->host, &r);
  if (j->host[0] != '[' && qmtp == 0)
    routed = rroute_find(sroutes.s, sroutes.len, j->host, &r) == 1;
  if (qmtp == 1) routed = 1;
  if (!routed) memset(&r, 0, sizeof r);
  /* QMTPS (docs/qmtps.md): qmtps belongs in qmtproutes, the SMTP options
   * in smtproutes; tdest.smtps then means TLS from the first byte */
  if (routed && (qmtp == 1 ? r.smtps || r.auth : r.qmtps)) {
    rjob_all(j, 's', 'Z', "Sorry, the route for ", j->host, qmtp == 1 ?
             " in control/qmtproutes takes no SMTP option. (#4.3.5)" :
             " in control/smtproutes has the qmtps option of qmtproutes. (#4.3.5)",
             (const char *)0);
    return -1;
  }
  if (rtls_lookup(tlsdests.s, tlsdests.len, j->host, r.kind == RROUTE_MX ? 0 : r.name, &tdest.policy) < 0) {
    rjob_all(j, 's', 'Z', "Sorry, the line for ", j->host, " in control/" RTLS_DESTS
             " is not valid. (#4.3.5)", (const char *)0);
    return -1;
  }
  tdest.smtps = r.smtps || r.qmtps;
  tdest.auth = r.auth;
  tdest.authnotls = r.authnotls;
  if (!r.auth) return 0;
  if (r.kind == RROUTE_MX || rtls_creds(r.name, &tdest, &why) < 0) {
    if (r.kind == RROUTE_MX) stralloc_copys(&why, "an auth route needs a relay host");
    stralloc_0(&why);
    rjob_all(j, 's', 'Z', "Sorry, qmail-remote cannot AUTH for ", j->host, ": ",
             why.len ? why.s : "out of memory", ". (#4.7.0)", (const char *)0);
    stralloc_free(&why);
    return -1;
  }
  stralloc_free(&why);
  return 0;
}

/* ---- the message --------------------------------------------------------- */

/* spool: copy a non-regular fd 0 into an unlinked temporary file. */
static int spool(void)
{
  static char buf[65536];
  const char *dir = getenv("TMPDIR");
  int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return fd;
    if (io_writeall(fd, buf, (size_t)n, 0) < 0) return -1;
  }
}

/* message: find the size, line ends and 8-bit-ness of the message. */
static void message(void)
{
  static char buf[65536];
  struct rblast_facts f = {0};
  struct stat st;
  job.msgfd = 0;
  if (fstat(0, &st) < 0) setup_failed("read the message");
  if (!S_ISREG(st.st_mode) || lseek(0, 0, SEEK_SET) < 0) {
    job.msgfd = spool();
    if (job.msgfd < 0) setup_failed("copy the message to a temporary file");
    if (lseek(job.msgfd, 0, SEEK_SET) < 0) setup_failed("read the message");
  }
  job.msgsize = 0;
  for (;;) {
    ssize_t n = read(job.msgfd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) setup_failed("read the message");
    if (n == 0) break;
    job.msgsize += (unsigned long long)n;
    rblast_scan(&f, buf, (size_t)n);
  }
  job.msglfs = f.lfs;
  job.msgcrlfs = f.crlfs;
  job.eightbit = f.eightbit;
}

/* ---- connecting ------------------------------------------------------------ */

struct attempt {
  unsigned char state[RDEST_MAX];
  unsigned char keys[RDEST_MAX][16];
  int kinds[RDEST_MAX];
  size_t nres;                 /* tcpto results to record */
  size_t skipped;              /* addresses skipped as recently dead */
  int lasterr;
  char lastip[64];
  int silent;                  /* some server connected but said nothing */
};

static void note(struct attempt *at, const struct net_addr *a, int kind)
{
  if (at->nres >= RDEST_MAX) return;
  tcpto_key(a->family, a->ip, at->keys[at->nres]);
  at->kinds[at->nres++] = kind;
}

/* skip_dead: mark the addresses the tcpto table says are dead. */
static void skip_dead(struct attempt *at)
{
  unsigned char tab[TCPTO_BYTES];
  size_t i;
  if (tcpto_load(tcptopath.s, tab) < 0) return;
  for (i = 0; i < dest.n; ++i) {
    unsigned char key[16];
    tcpto_key(dest.c[i].a.family, dest.c[i].a.ip, key);
    if (tcpto_dead(tab, key, (long long)time(0))) {
      at->state[i] = NET_FAILED;
      ++at->skipped;
    }
  }
}

/* keep_conn: session mode: keep a QMTP connection as it is, an SMTP one
 * after its greeting and EHLO. 1 done (kept, or jp reported), 0 go on. */
static int keep_conn(struct attempt *at, struct rconn *c, int qmtp)
{
  int r = RSESS_READY;
  c->session = 1;
  r = qmtp ? rqmtp_open(jp, c) : rsmtp_open(jp, c, keep_ext);
  if (r == RSESS_NORESPONSE) {
    at->silent = 1;
    memcpy(at->lastip, c->ip, sizeof at->lastip);
    at->lasterr = c->err;
  }
  if (r != RSESS_READY) {
    rconn_close(c);
    return r == RSESS_DONE;
  }
  *keep = *c;
  keep_qmtp = qmtp;
  return 1;
}

/* converse: run the session on a connected socket. 1 done, 0 go on. */
static int converse(struct attempt *at, int fd, size_t i)
{
  struct rconn c;
  int r;
  rconn_open(&c, fd, &dest.c[i].a, jp->timeout_ms, jp->deadline_ms);
  if (!dest.c[i].qmtp || tdest.smtps) {   /* SMTP, or a qmtps route */
    c.td = &tdest;
    memcpy(c.name, dest.c[i].name, sizeof c.name);
  }
  if (session_mode) return keep_conn(at, &c, dest.c[i].qmtp);
  if (dest.c[i].qmtp) r = rqmtp_open(jp, &c) == RSESS_READY ? rqmtp_deliver(jp, &c) : RSESS_DONE;
  else r = rsmtp_deliver(jp, &c);
  if (r == RSESS_NORESPONSE) {
    at->silent = 1;
    memcpy(at->lastip, c.ip, sizeof at->lastip);
    at->lasterr = c.err;
  }
  rconn_close(&c);
  return r == RSESS_DONE;
}

/* try_group: the addresses of one host, raced; 1 when the job is done. */
static int try_group(struct attempt *at, size_t from, size_t n)
{
  for (;;) {
    unsigned char before[RDEST_MAX];
    size_t w, k;
    int err = 0, fd;
    if (io_now_ms() >= jp->deadline_ms) return 0;
    memcpy(before, at->state + from, n);
    fd = net_connect(addrs + from, at->state + from, n, RACE_STAGGER_MS,
                     timeout_connect_ms, jp->deadline_ms, &w, &err);
    for (k = 0; k < n; ++k)
      if (before[k] == NET_UNTRIED && at->state[from + k] == NET_FAILED)
        note(at, &dest.c[from + k].a, err == ETIMEDOUT ? TCPTO_TIMEOUT : TCPTO_REFUSED);
    if (fd < 0) {
      if (err != ENOENT) at->lasterr = err;
      return 0;
    }
    note(at, &dest.c[from + w].a, TCPTO_OK);
    if (converse(at, fd, from + w)) return 1;
  }
}

static void no_connection(struct attempt *at)
{
  const char *why = at->lasterr ? strerror(at->lasterr) : "no address to try";
  if (at->silent)
    rjob_all(jp, 's', 'Z', "Connected to ", at->lastip, " but it said nothing: ",
             at->lasterr == ETIMEDOUT ? "timed out" : "connection closed", ". (#4.4.2)",
             (const char *)0);
  else if (at->skipped == dest.n)
    rjob_all(jp, 's', 'Z', "Sorry, every address of ", jp->host,
             " failed recently, so I did not try again yet. (#4.4.1)", (const char *)0);
  else
    rjob_all(jp, 's', 'Z', "Sorry, I wasn't able to establish an SMTP connection to ",
             jp->host, ": ", why, ". (#4.4.1)", (const char *)0);
}

/* deliver: walk dest for jp. 1 delivered (or, in session mode, connected
 * or reported), 0 no connection (reported). */
static int deliver(void)
{
  static struct attempt at;
  size_t i = 0;
  memset(&at, 0, sizeof at);
  for (i = 0; i < dest.n; ++i) addrs[i] = dest.c[i].a;
  i = 0;
  skip_dead(&at);
  while (i < dest.n) {
    size_t k = i;
    while (k < dest.n && dest.c[k].group == dest.c[i].group) ++k;
    if (try_group(&at, i, k - i)) break;
    i = k;
  }
  if (at.nres) tcpto_update(tcptopath.s, (const unsigned char (*)[16])at.keys, at.kinds,
                            at.nres, (long long)time(0));
  if (i >= dest.n) no_connection(&at);
  return i < dest.n;
}

/* session_connect: rsession_conf's connect. */
static int session_connect(struct rjob *j, struct rconn *c, int *qmtp, struct rsmtp_ext *x)
{
  jp = j;
  keep = c;
  keep_ext = x;
  c->fd = -1;
  if (tls_dest(j) < 0 || rdest_find(j->host, &conf, &dest, j) < 0) return -1;
  if (!deliver() || c->fd < 0) return -1;
  *qmtp = keep_qmtp;
  return 0;
}

static int session(const char *host)
{
  struct rsession_conf sc;
  session_mode = 1;
  job.host = host;
  config();
  sc.host = host;
  sc.helo = helo.s;
  sc.timeout_ms = job.timeout_ms;
  sc.delivery_ms = timeout_delivery_ms;
  sc.idle_ms = timeout_idle_ms;
  sc.connect = session_connect;
  return rsession_run(&sc);
}

int main(int argc, char **argv)
{
  progname = "qmail-remote";
  signal(SIGPIPE, SIG_IGN);
  if (argc == 3 && strcmp(argv[1], "-S") == 0) return session(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "-D") == 0) {  /* DSN lines (rjob.h) */
    job.dsn = argv[2];
    argc -= 2;
    argv += 2;
  }
  if (argc < 4)
    fatal(111, "usage: qmail-remote [-D dsnlines] host sender recip [recip ...] | qmail-remote -S host");
  job.host = argv[1];
  job.sender = argv[2];
  if (rjob_init(&job, argv + 3, (size_t)argc - 3) < 0) fatal_nomem();
  config();
  if (raddr_job(&job)) finish();
  message();
  if (rdkim_job(&job) < 0) finish();   /* DKIM signature (docs/dkim.md) */
  if (tls_dest(&job) == 0 && rdest_find(job.host, &conf, &dest, &job) == 0) deliver();
  finish();
}
