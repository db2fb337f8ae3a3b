/* qmail-showctl.c: explain the control files of a qmail home.
 *
 *   qmail-showctl [-v]
 *   qmail-showctl -c
 *
 * Prints the home directory in force (q_home.h), then one paragraph per
 * control file this project knows (the table below: qmail-control(5),
 * the QMQP/QMTP client files, dnsservers, and every cap of q_limits.h),
 * "name: <what the value in force means>", with "(Default.)" when the file
 * is missing and a compiled default applies. Then every other file in
 * control/ as "name: I have no idea what this file does." (README.md, the
 * installed copy of control/README.md, is named as documentation). With
 * -v each known file also gets who reads it, on which side (leaf/hub),
 * and its meaning. Works on leaf and hub homes alike; files are only read.
 * Values are printed with non-printable bytes as \ooo.
 * Caps: control files are read through q_control.h (16 MB each).
 * -c checks the leaf's files instead (qmqpservers line by line, with the
 * parser of qmail-qmqpc and a lookup of every name, and for a qmtps: line
 * its CA file or pins (docs/qmtps.md); the timeout files and
 * spoollifetime; spool and spoolmax; me,
 * defaultdomain, defaulthost, plusdomain, idhost as host names) and prints
 * one line per problem, "control/qmqpservers line 2: bad port "99999"",
 * nothing when all is well.
 * Exit codes: 0 printed (a known file that cannot be read is reported in
 * its paragraph), or -c found no problem; 1 -c found a problem; 100 usage;
 * 111 control/ cannot be listed, no memory, or stdout cannot be written. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "q_control.h"
#include "q_err.h"
#include "q_home.h"
#include "q_limits.h"
#include "q_net.h"
#include "q_sa.h"

enum kind { K_LINE, K_NUM, K_LIST, K_QMQP, K_CDB };

struct known {
  const char *name;
  enum kind kind;
  const char *def;      /* default value (text); NULL: none */
  int defme;            /* default is control/me's value; def applies without me */
  const char *pre;      /* sentence around the value (around each item of a list) */
  const char *post;
  const char *none;     /* missing, no default: the whole explanation */
  const char *readers;  /* programs that read it */
  const char *where;    /* leaf, hub, or both */
  const char *meaning;  /* one line */
};

static const struct known known[] = {
  { "authdelay", K_NUM, "1000", 0, "A refused SMTP AUTH waits ",
    " ms, doubled for each further one (at most 30 s).", 0,
    "qmail-smtpd", "hub", "delay after the first refused AUTH, in milliseconds" },
  { "authfailures", K_NUM, "3", 0, "SMTP AUTH: the connection ends after ", " refused attempts.", 0,
    "qmail-smtpd", "hub", "refused AUTH attempts before 421 and the end of the connection" },
  { "authguard", K_NUM, "30", 0, "SMTP AUTH: an address is refused at once after ",
    " refused attempts in the window (0: never).", 0,
    "qmail-smtpd", "hub", "refused AUTH attempts of one address across connections before 421 at once" },
  { "authguardtime", K_NUM, "3600", 0, "SMTP AUTH: the authguard window is ", " seconds.", 0,
    "qmail-smtpd", "hub", "the authguard window, seconds from an address's first refusal" },
  { "authsenders", K_LIST, 0, 0, "AUTH senders: ", ".",
    "Authenticated clients may use any envelope sender.", "qmail-smtpd", "hub",
    "login: address @domain ...: the envelope senders each login may use" },
  { "badmailfrom", K_LIST, 0, 0, "MAIL FROM ", " is rejected.",
    "Any MAIL FROM is allowed.", "qmail-smtpd", "hub",
    "envelope senders refused at SMTP time; @host matches a whole host" },
  { "bouncefrom", K_LINE, "MAILER-DAEMON", 0, "Bounce user name is ", ".", 0,
    "qmail-send", "hub", "local part of the From: of bounces" },
  { "bouncemaxbytes", K_NUM, "65536", 0, "A bounce carries at most ",
    " bytes of the original (0: all of it).", 0,
    "qmail-send", "hub", "cap on the copy of the original message in a bounce" },
  { "bouncestyle", K_LINE, "qsbmf", 0, "Bounce style is ", " (qsbmf or dsn).", 0,
    "qmail-send", "hub", "qsbmf: QSBMF text bounces; dsn: RFC 3464 multipart/report bounces" },
  { "bouncehost", K_LINE, "bouncehost", 1, "Bounce host name is ", ".", 0,
    "qmail-send", "hub", "host part of the From: of bounces" },
  { "checkpwshadow", K_NUM, "0", 0, "System accounts from /etc/shadow may log in: ", " (1 yes, 0 no).", 0,
    "qmail-checkpassword", "hub", "1: logins not in users/passwd.cdb are looked up in /etc/shadow" },
  { "concurrencylocal", K_NUM, "10", 0, "Local concurrency is ", ".", 0,
    "qmail-send", "hub", "most local deliveries at once (1 to 120)" },
  { "concurrencyremote", K_NUM, "20", 0, "Remote concurrency is ", ".", 0,
    "qmail-send", "hub", "most remote jobs at once (1 to 120; a job: one domain's recipients)" },
  { "databytes", K_NUM, "0", 0, "SMTP DATA limit is ", " bytes (0: no limit).", 0,
    "qmail-smtpd, qmail-qmtpd, qmail-qmqpd", "hub", "largest message accepted; $DATABYTES overrides" },
  { "defaultdelivery", K_LINE, "./Maildir/", 0, "Delivery without a .qmail file: ", ".", 0,
    "qmail-send service (qmail-start)", "hub",
    "a .qmail line for addresses without a .qmail file; read when the service starts" },
  { "defaultdomain", K_LINE, "defaultdomain", 1, "Default domain name is ", ".", 0,
    "qmail-inject", "leaf, hub",
    "added to host names without dots; $QMAILDEFAULTDOMAIN overrides" },
  { "defaulthost", K_LINE, "defaulthost", 1, "Default host name is ", ".", 0,
    "qmail-inject", "leaf, hub", "added to addresses without a host; $QMAILDEFAULTHOST overrides" },
  { "dnsservers", K_LIST, 0, 0, "DNS server ", ".",
    "DNS servers are those of /etc/resolv.conf.", "qmail-remote", "hub",
    "DNS servers to ask (address and port) instead of /etc/resolv.conf's" },
  { "doublebouncehost", K_LINE, "doublebouncehost", 1, "2B recipient host: ", ".", 0,
    "qmail-send", "hub", "host part of the double-bounce recipient" },
  { "doublebounceto", K_LINE, "postmaster", 0, "2B recipient user: ", ".", 0,
    "qmail-send", "hub", "local part of the double-bounce recipient" },
  { "envnoathost", K_LINE, "envnoathost", 1, "Presumed domain name is ", ".", 0,
    "qmail-send", "hub", "added to envelope recipients without @" },
  { "helohost", K_LINE, 0, 1, "SMTP client HELO host name is ", ".",
    "No name: qmail-remote refuses to run.", "qmail-remote", "hub",
    "the name qmail-remote gives in HELO/EHLO" },
  { "holdremote", K_LINE, 0, 0, "Remote deliveries are held", ".",
    "Remote deliveries are not held.", "qmail-send (qmailctl hold/flush)", "hub",
    "while it exists no remote delivery starts (link down)" },
  { "idhost", K_LINE, "idhost", 1, "Message-ID host name is ", ".", 0,
    "qmail-inject", "leaf, hub",
    "host part of new Message-IDs; unique per host; $QMAILIDHOST overrides" },
  { "localiphost", K_LINE, "localiphost", 1, "Local IP address becomes ", ".", 0,
    "qmail-smtpd", "hub", "replaces a local [IP] literal in recipients" },
  { "locals", K_LIST, 0, 1, "Messages for ", " are delivered locally.",
    "No local domains (with neither locals nor me, qmail-send refuses to run).", "qmail-send", "hub",
    "domains delivered on this host" },
  { "me", K_LINE, 0, 0, "My name is ", ".",
    "I have no name: files that default to me use their own fallbacks.",
    "every program", "leaf, hub", "this host's fully qualified name; default for many files" },
  { "morercpthosts", K_LIST, 0, 0, "SMTP clients may send messages to recipients at ",
    " (once compiled into morercpthosts.cdb).", "No extra recipient domains.",
    "qmail-newmrh", "hub", "extra rcpthosts entries, compiled to morercpthosts.cdb" },
  { "morercpthosts.cdb", K_CDB, 0, 0, "Compiled list of extra recipient domains, ", " bytes.",
    "No compiled list of extra recipient domains.", "qmail-smtpd, qmail-qmtpd", "hub",
    "morercpthosts compiled by qmail-newmrh" },
  { "outgoingip", K_LIST, 0, 0, "Outgoing connections come from ", ".",
    "The kernel chooses the source address of outgoing connections.", "qmail-remote", "hub",
    "local IPv4 and/or IPv6 address to bind for outgoing connections" },
  { "percenthack", K_LIST, 0, 0, "The percent hack is allowed to transform ", ".",
    "The percent hack is not allowed.", "qmail-send", "hub",
    "domains where user%host@domain becomes user@host" },
  { "plusdomain", K_LINE, "plusdomain", 1, "Plus domain name is ", ".", 0,
    "qmail-inject", "leaf, hub",
    "replaces a trailing + in host names; $QMAILPLUSDOMAIN overrides" },
  { "qmqpservers", K_QMQP, 0, 0, 0, 0,
    "No hubs: qmail-qmqpc cannot send anything (exit 55).", "qmail-qmqpc", "leaf",
    "hubs to try in order: [qmtp:|qmqp:|qmtps:]HOST[:PORT], HOST IPv4, [IPv6] or a name" },
  { "qmqptimeout", K_NUM, "60", 0, "QMQP/QMTP read and write timeout is ", " seconds.", 0,
    "qmail-qmqpc", "leaf", "seconds to wait for each read or write to a hub" },
  { "qmqptimeoutconnect", K_NUM, "10", 0, "QMQP/QMTP connection timeout is ", " seconds.", 0,
    "qmail-qmqpc", "leaf", "seconds to wait for a connection to a hub" },
  { "qmtproutes", K_LIST, 0, 0, "QMTP route: ", ".", "No QMTP routes.",
    "qmail-remote", "hub", "domain:relay[:port] routes to relays that speak QMTP (tried first)" },
  { "queuelifetime", K_NUM, "604800", 0, "Message lifetime in the queue is ", " seconds.", 0,
    "qmail-send", "hub", "after this a temporary failure becomes permanent" },
  { "rcptcheck", K_NUM, "0", 0, "Unknown local recipients are refused at RCPT: ", " (1 yes, 0 no).", 0,
    "qmail-smtpd, qmail-qmtpd, qmail-qmqpd", "hub",
    "1: a local recipient not in recipients.cdb gets 550 5.1.1 (451 if the table is stale)" },
  { "rcpthosts", K_LIST, 0, 0, "SMTP clients may send messages to recipients at ", ".",
    "SMTP and QMTP clients may send to no domain at all unless RELAYCLIENT is set"
    " (unlike qmail, a missing rcpthosts relays nothing).",
    "qmail-smtpd, qmail-qmtpd", "hub", "recipient domains accepted from the network" },
  { "recipients", K_LIST, 0, 0, "Also deliverable: ", " (once compiled into recipients.cdb).",
    "No extra deliverable addresses.", "qmail-rcptcdb", "hub",
    "local@domain, @domain, prefix*@domain: addresses the recipient table cannot see" },
  { "recipients.cdb", K_CDB, 0, 0, "Table of deliverable local addresses, ", " bytes.",
    "No table of deliverable local addresses (qmailctl cdb makes it).",
    "qmail-smtpd, qmail-qmtpd, qmail-qmqpd", "hub",
    "made by qmail-rcptcdb (qmailctl cdb) from users, homes, alias and recipients" },
  { "sessionsperhost", K_NUM, "4", 0, "At most ", " qmail-remote sessions per domain (0: one run per job).", 0,
    "qmail-rspawn", "hub", "long-lived qmail-remote -S sessions per destination domain" },
  { "smtpgreeting", K_LINE, 0, 1, "SMTP greeting: 220 ", ".",
    "No greeting: qmail-smtpd refuses to run.", "qmail-smtpd", "hub",
    "text of the 220 banner; its first word should be this host" },
  { "smtproutes", K_LIST, 0, 0, "SMTP route: ", ".", "No artificial SMTP routes.",
    "qmail-remote", "hub", "domain:relay[:port] routes instead of MX lookups" },
  { "smtpdsn", K_NUM, "0", 0, "DSN (RFC 3461) is offered: ", " (1 yes, 0 no).", 0,
    "qmail-smtpd", "hub", "1: EHLO offers DSN, MAIL and RCPT take its parameters" },
  { "smtputf8", K_NUM, "1", 0, "SMTPUTF8 (RFC 6531) is offered: ", " (1 yes, 0 no).", 0,
    "qmail-smtpd", "hub", "0: do not offer SMTPUTF8; UTF-8 addresses are then refused 553 5.6.7" },
  { "spool", K_LINE, 0, 0, "The spool is set to \"", "\" (none: a message no hub takes is not kept).",
    "The spool is on: a message no hub takes waits in spool/ (docs/spool.md).", "qmail-qmqpc", "leaf",
    "none: keep nothing when no hub takes a message (exit 111 as without a spool)" },
  { "spoollifetime", K_NUM, "604800", 0, "A message waits in the spool at most ", " seconds, then bounces.", 0,
    "qmail-qmqpc", "leaf", "a flush that cannot send an older message bounces it" },
  { "spoolmax", K_NUM, "100000000", 0, "One user's spool holds at most ", " bytes (0: no cap).", 0,
    "qmail-qmqpc", "leaf", "a message that does not fit is not kept (exit 111)" },
  { "timeoutconnect", K_NUM, "60", 0, "SMTP client connection timeout is ", " seconds.", 0,
    "qmail-remote", "hub", "seconds to wait for an SMTP connection" },
  { "timeoutdelivery", K_NUM, "3600", 0, "One remote delivery may take at most ", " seconds.", 0,
    "qmail-remote", "hub", "deadline for one whole remote delivery" },
  { "timeoutidle", K_NUM, "5", 0, "An idle remote session quits after ", " seconds.", 0,
    "qmail-remote -S", "hub", "seconds a session waits for another job" },
  { "timeoutprogram", K_NUM, "3600", 0, "A .qmail program may run at most ", " seconds.", 0,
    "qmail-local", "hub", "then its process group is killed and the delivery deferred" },
  { "timeoutremote", K_NUM, "1200", 0, "SMTP client data timeout is ", " seconds.", 0,
    "qmail-remote", "hub", "seconds to wait for each SMTP server response" },
  { "tcp.qmqp", K_LIST, 0, 0, "QMQP client rule: ", "",
    "No QMQP rules: qmail-qmqpd refuses to start.", "qmailctl cdb, tcpserver", "hub",
    "tcprules for qmail-qmqpd (QMQP relays anything: list trusted leaves)" },
  { "tcp.qmtp", K_LIST, 0, 0, "QMTP client rule: ", "",
    "No QMTP rules: qmail-qmtpd refuses to start.", "qmailctl cdb, tcpserver", "hub",
    "tcprules for qmail-qmtpd (RELAYCLIENT and access)" },
  { "tcp.smtp", K_LIST, 0, 0, "SMTP client rule: ", "",
    "No SMTP rules: qmail-smtpd refuses to start.", "qmailctl cdb, tcpserver", "hub",
    "tcprules for qmail-smtpd (RELAYCLIENT and access)" },
  { "tcp.qmqp.cdb", K_CDB, 0, 0, "Compiled QMQP client rules, ", " bytes.",
    "Not compiled: run qmailctl cdb.", "tcpserver", "hub", "compiled tcp.qmqp" },
  { "tcp.qmtp.cdb", K_CDB, 0, 0, "Compiled QMTP client rules, ", " bytes.",
    "Not compiled: run qmailctl cdb.", "tcpserver", "hub", "compiled tcp.qmtp" },
  { "tcp.smtp.cdb", K_CDB, 0, 0, "Compiled SMTP client rules, ", " bytes.",
    "Not compiled: run qmailctl cdb.", "tcpserver", "hub", "compiled tcp.smtp" },
  { "timeoutqmqpd", K_NUM, "60", 0, "QMQP server timeout is ", " seconds.", 0,
    "qmail-qmqpd", "hub", "seconds to wait for each read or write of a QMQP client" },
  { "timeoutqmtpd", K_NUM, "60", 0, "QMTP server timeout is ", " seconds.", 0,
    "qmail-qmtpd", "hub", "seconds to wait for each read or write of a QMTP client" },
  { "timeoutsmtpd", K_NUM, "300", 0, "SMTP server data timeout is ", " seconds.", 0,
    "qmail-smtpd", "hub", "seconds to wait for each read from an SMTP client" },
  { "virtualdomains", K_LIST, 0, 0, "Virtual domain: ", ".", "No virtual domains.",
    "qmail-send", "hub", "user@domain:prepend or domain:prepend rewrites" },
};
#define NKNOWN (sizeof known / sizeof known[0])

/* What each cap of q_limits.h limits (the sentence around its value) and
 * who takes that input. A cap missing here still prints, as "Cap is N.". */
static const struct { const char *pre, *post, *who; } capsay[LIM_COUNT] = {
  [LIM_SMTPLINE] = { "Longest SMTP command or data line is ", " bytes.", "qmail-smtpd on hub" },
  [LIM_ADDR] = { "Longest address is ", " bytes.",
                 "qmail-inject, forward, qmail-qmqpc on leaf, hub; the hub's servers" },
  [LIM_RCPTS] = { "At most ", " recipients per message.", "qmail-smtpd, qmail-qmtpd on hub" },
  [LIM_HEADER] = { "Largest header block is ", " bytes.", "qmail-inject on leaf, hub" },
  [LIM_HEADERLINE] = { "Longest header field (continuation lines included) is ", " bytes.",
                       "qmail-inject on leaf, hub" },
  [LIM_HOPS] = { "Hop limit (Received and Delivered-To lines) is ", ".",
                 "qmail-smtpd, qmail-qmtpd, qmail-qmqpd, qmail-local on hub" },
  [LIM_NETSTRING] = { "Longest QMQP/QMTP netstring is ", " bytes.",
                      "qmail-qmqpd, qmail-qmtpd on hub" },
  [LIM_QMTPPKGS] = { "At most ", " QMTP packages per connection.", "qmail-qmtpd on hub" },
  [LIM_SESSION] = { "One SMTP, QMTP or QMQP session lasts at most ", " seconds.",
                    "qmail-qmqpc on leaf; qmail-smtpd, qmail-qmtpd, qmail-qmqpd on hub" },
  [LIM_INJECTRCPTS] = { "qmail-inject takes at most ", " recipients per message.",
                        "qmail-inject on leaf, hub" },
};

static stralloc out;   /* everything printed, written once at the end */
static stralloc me;    /* control/me, NUL-terminated, when haveme */
static int haveme;
static int verbose;
static int checking;   /* -c */

static void cat(const char *s)
{
  if (!stralloc_cats(&out, s)) fatal_nomem();
}

static void catsafe(const char *s, size_t len)
{
  if (!sa_catsafe(&out, s, len)) fatal_nomem();
}

static void catnum(unsigned long long n)
{
  if (!sa_catnum(&out, n)) fatal_nomem();
}

/* head: start a paragraph: "\nname:". */
static void head(const char *name)
{
  cat("\n");
  catsafe(name, strlen(name));
  cat(":");
}

/* oops: the file exists but cannot be used. */
static void oops(const char *why)
{
  cat(" Oops! ");
  cat(why);
  cat("\n");
}

/* sentence: pre value post, then a newline. */
static void sentence(const struct known *k, const char *v, size_t len)
{
  cat(k->pre);
  catsafe(v, len);
  cat(k->post);
  cat("\n");
}

/* defval: the default value of k, or NULL when there is none. */
static const char *defval(const struct known *k)
{
  if (k->defme && haveme) return me.s;
  return k->def;
}

/* show_default: "(Default.) ..." for a missing (or empty) k. */
static void show_default(const struct known *k)
{
  const char *d = defval(k);
  cat(" (Default.) ");
  if (d) sentence(k, d, strlen(d));
  else { cat(k->none); cat("\n"); }
}

static void show_line(const struct known *k)
{
  stralloc v = {0};
  int r = control_readline(&v, k->name);
  if (r < 0) oops(strerror(errno));
  else if (r == 0 || v.len == 0) show_default(k);
  else { cat(" "); sentence(k, v.s, v.len); }
  stralloc_free(&v);
}

static void show_num(const struct known *k)
{
  unsigned long n = 0;
  int r = control_readulong(&n, k->name);
  if (r < 0 && errno == EINVAL) oops("This is not a plain decimal number.");
  else if (r < 0) oops(control_strerror(errno));
  else if (r == 0) show_default(k);
  else {
    cat(" ");
    cat(k->pre);
    catnum(n);
    cat(k->post);
    cat("\n");
  }
}

/* items: call fn on each NUL-terminated item of list. */
static void items(const stralloc *list, void (*fn)(const struct known *, const char *, size_t),
                  const struct known *k)
{
  size_t i = 0;
  while (i < list->len) {
    size_t l = strlen(list->s + i);
    fn(k, list->s + i, l);
    i += l + 1;
  }
}

static void list_item(const struct known *k, const char *s, size_t len)
{
  sentence(k, s, len);
}

/* hub_line: explain one qmqpservers line, parsed exactly as qmail-qmqpc
 * parses it (q_net.h). */
static void hub_line(const struct known *k, const char *s, size_t len)
{
  struct net_server srv;
  (void)k;
  if (net_parse(s, len, &srv) < 0) {
    cat("Not understood (wanted [qmtp:|qmqp:|qmtps:]HOST[:PORT]; qmail-qmqpc sends nothing"
        " while this line is here): ");
    catsafe(s, len);
    cat("\n");
    return;
  }
  cat(srv.proto == NET_QMTPS ? "QMTPS" : srv.proto == NET_QMTP ? "QMTP" : "QMQP");
  cat(" to ");
  cat(srv.family == AF_INET ? "IPv4 address " : srv.family == AF_INET6 ? "IPv6 address "
                                                                      : "host name ");
  catsafe(srv.host, strlen(srv.host));
  cat(" port ");
  catnum(srv.port);
  cat(".\n");
}

static void show_list(const struct known *k)
{
  stralloc v = {0};
  int r = control_readlist(&v, k->name);
  if (r < 0) oops(strerror(errno));
  else if (r == 0) show_default(k);
  else if (v.len == 0) { cat(" (Empty.) "); cat(k->none); cat("\n"); }
  else { cat("\n"); items(&v, k->kind == K_QMQP ? hub_line : list_item, k); }
  stralloc_free(&v);
}

static void show_cdb(const struct known *k)
{
  stralloc path = {0};
  struct stat st;
  if (!control_path(&path, k->name)) fatal_nomem();
  if (stat(path.s, &st) == 0) {
    cat(" ");
    cat(k->pre);
    catnum((unsigned long long)st.st_size);
    cat(k->post);
    cat("\n");
  } else if (errno == ENOENT) show_default(k);
  else oops(strerror(errno));
  stralloc_free(&path);
}

/* show_verbose: -v: who reads k, where, what for. */
static void show_verbose(const struct known *k)
{
  cat("  [read by ");
  cat(k->readers);
  cat(" on ");
  cat(k->where);
  cat(": ");
  cat(k->meaning);
  cat("]\n");
}

static void show_known(const struct known *k)
{
  head(k->name);
  switch (k->kind) {
    case K_LINE: show_line(k); break;
    case K_NUM: show_num(k); break;
    case K_LIST: case K_QMQP: show_list(k); break;
    case K_CDB: show_cdb(k); break;
  }
  if (verbose) show_verbose(k);
}

/* show_cap: one cap of q_limits.h, as limit_get would read it. */
static void show_cap(enum limit_id id)
{
  unsigned long n = 0;
  int r = control_readulong(&n, limit_name(id));
  head(limit_name(id));
  if (r == 0) cat(" (Default.)");
  else if (r < 0 || n == 0) {  /* limit_get fails: the programs stop */
    cat(" Oops! Not usable (");
    cat(r < 0 ? control_strerror(errno) : "0 is not a cap");
    cat("): the programs that take this cap fail until it is fixed. Default:");
  }
  if (r <= 0 || n == 0) n = limit_default(id);
  cat(capsay[id].pre ? " " : " Cap is ");
  if (capsay[id].pre) cat(capsay[id].pre);
  catnum(n);
  cat(capsay[id].pre ? capsay[id].post : ".");
  cat("\n");
  if (verbose) {
    cat("  [read by ");
    cat(capsay[id].who ? capsay[id].who : "the programs taking this input");
    cat(": a cap from the caps table (common/q_limits.h); missing means the default, 0 or junk stops them]\n");
  }
}

/* is_known: name is in the table or is a cap. */
static int is_known(const char *name)
{
  size_t i;
  for (i = 0; i < NKNOWN; ++i)
    if (!strcmp(name, known[i].name)) return 1;
  for (i = 0; i < LIM_COUNT; ++i)
    if (!strcmp(name, limit_name((enum limit_id)i))) return 1;
  return 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* unknown_files: the names in control/ we do not know, sorted, NULL-ended. */
static char **unknown_files(const char *dir)
{
  char **v = NULL;
  size_t n = 0, a = 0;
  struct dirent *d;
  DIR *dp = opendir(dir);
  if (!dp) fatal(111, "unable to open control directory ", dir, ": ", strerror(errno), " (#4.3.0)");
  for (errno = 0; (d = readdir(dp)); errno = 0) {
    if (d->d_name[0] == '.' || is_known(d->d_name)) continue;
    if (n + 2 > a) {
      a = a ? a * 2 : 16;
      if (a > ((size_t)-1) / sizeof *v || !(v = realloc(v, a * sizeof *v))) fatal_nomem();
    }
    if (!(v[n++] = strdup(d->d_name))) fatal_nomem();
  }
  if (errno)
    fatal(111, "unable to read control directory ", dir, ": ", strerror(errno), " (#4.3.0)");
  closedir(dp);
  if (!v && !(v = malloc(sizeof *v))) fatal_nomem();
  qsort(v, n, sizeof *v, by_name);
  v[n] = NULL;
  return v;
}

/* ---- -c: check the leaf's control files ---------------------------------- */

static unsigned long nproblems;

/* problem: one line of the -c report: control/NAME: a b "value" (value
 * cleaned; none when NULL). */
static void problem(const char *name, const char *a, const char *b, const char *value,
                    size_t vlen)
{
  ++nproblems;
  cat("control/");
  cat(name);
  cat(": ");
  cat(a);
  cat(b);
  if (value) {
    cat(" \"");
    catsafe(value, vlen);
    cat("\"");
  }
  cat("\n");
}

/* is_leaf: bin/qmail-queue is the qmail-qmqpc link (as q_qq.c decides). */
static int is_leaf(void)
{
  stralloc path = {0};
  char t[4096];
  ssize_t n;
  const char *base;
  if (!home_path(&path, "bin/qmail-queue")) fatal_nomem();
  n = readlink(path.s, t, sizeof t - 1);
  stralloc_free(&path);
  if (n <= 0) return 0;
  t[n] = 0;
  base = strrchr(t, '/');
  return strcmp(base ? base + 1 : t, "qmail-qmqpc") == 0;
}

/* name_fault: what is wrong with host name s[0..len), or NULL. */
static const char *name_fault(const char *s, size_t len)
{
  static const char empty[] = "an empty label (a dot at the start, at the end or twice):";
  size_t i, label = 0;
  if (len > 253) return "longer than 253 bytes:";
  for (i = 0; i < len; ++i) {
    char c = s[i];
    if (c == '.') {
      if (!label) return empty;
      label = 0;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return "not a host name (letters, digits, '-', '_' and dots):";
    if (++label > 63) return "a label longer than 63 bytes:";
  }
  return label ? 0 : empty;
}

/* check_name: control/NAME holds a sane host name (me: with a dot). A
 * missing file is fine when me is there (NAME defaults to it). */
static void check_name(const char *name)
{
  stralloc v = {0};
  const char *f;
  int r = control_readline(&v, name), isme = !strcmp(name, "me");
  if (r < 0) problem(name, "unable to read: ", strerror(errno), 0, 0);
  else if ((r == 0 || v.len == 0) && isme)
    problem(name, "missing: this host has no name (qmail-inject falls back to the words ",
            "defaulthost, defaultdomain, plusdomain, idhost)", 0, 0);
  else if ((r == 0 || v.len == 0) && !haveme)
    problem(name, "missing, and so is me: qmail-inject uses the word ", name, 0, 0);
  else if (r == 0 || v.len == 0) ;  /* me's value, checked as me */
  else if ((f = name_fault(v.s, v.len)))
    problem(name, f, "", v.s, v.len);
  else if (isme && !memchr(v.s, '.', v.len))
    problem(name, "not fully qualified (no dot):", "", v.s, v.len);
  stralloc_free(&v);
}

/* check_seconds: a timeout file, when present, is a number. */
static void check_seconds(const char *name)
{
  unsigned long n;
  if (control_readulong(&n, name) >= 0) return;
  if (errno == EINVAL || errno == ERANGE) problem(name, "not a number of seconds", "", 0, 0);
  else problem(name, "unable to read: ", strerror(errno), 0, 0);
}

/* check_spool: control/spool empty or "none", spoolmax a number. */
static void check_spool(void)
{
  stralloc v = {0};
  unsigned long n;
  int r = control_readline(&v, "spool");
  if (r < 0) problem("spool", "unable to read: ", strerror(errno), 0, 0);
  else if (r > 0 && v.len && (v.len != 4 || memcmp(v.s, "none", 4)))
    problem("spool", "neither empty nor \"none\": nothing is kept", "", 0, 0);
  if (control_readulong(&n, "spoolmax") < 0)
    problem("spoolmax", errno == EINVAL || errno == ERANGE ? "not a number of bytes" : "unable to read: ",
            errno == EINVAL || errno == ERANGE ? "" : strerror(errno), 0, 0);
  stralloc_free(&v);
}

/* qmtps_checkable: control/qmtpsca.pem or control/qmtpspins exists (a
 * qmtps: line is not used without one; docs/qmtps.md). */
static int qmtps_checkable(void)
{
  stralloc p = {0};
  int ok = control_path(&p, "qmtpsca.pem") && access(p.s, F_OK) == 0;
  if (!ok) ok = control_path(&p, "qmtpspins") && access(p.s, F_OK) == 0;
  stralloc_free(&p);
  return ok;
}

/* check_hub: qmqpservers line no, as qmail-qmqpc reads it; a name must
 * resolve now; a qmtps: line needs a way to check the hub's certificate. */
static void check_hub(size_t no, const char *line, size_t len)
{
  struct net_server srv;
  struct net_addr a[4];
  char why[NET_HOSTMAX + NET_WHY], name[48];
  size_t n;
  snprintf(name, sizeof name, "qmqpservers line %zu", no);
  if (net_parse_why(line, len, &srv, why) < 0) {
    problem(name, why, "", 0, 0);
  } else if (net_resolve(&srv, a, 4, &n) < 0) {
    if (errno == ENOMEM) fatal_nomem();
    snprintf(why, sizeof why, "%s: %s", srv.host, net_strerror(errno));
    problem(name, why, "", 0, 0);
  } else if (srv.proto == NET_QMTPS && !qmtps_checkable()) {
    problem(name, "qmtps: neither control/qmtpsca.pem nor control/qmtpspins exists:"
            " nothing is sent to this hub", "", 0, 0);
  }
}

static void check_hubs(int leaf)
{
  stralloc raw = {0};
  size_t pos = 0, no = 0, len, lines = 0;
  const char *line;
  int r = control_readfile(&raw, "qmqpservers");
  if (r < 0) problem("qmqpservers", "unable to read: ", strerror(errno), 0, 0);
  else if (r == 0 && leaf)
    problem("qmqpservers", "missing: this leaf has no hub to send its mail to", "", 0, 0);
  while (r > 0 && net_line(raw.s, raw.len, &pos, &no, &line, &len)) {
    ++lines;
    check_hub(no, line, len);
  }
  if (r > 0 && !lines && leaf)
    problem("qmqpservers", "names no hub: this leaf cannot send any mail", "", 0, 0);
  stralloc_free(&raw);
}

/* check: -c. One line per problem in the leaf's files; 0 none, 1 some. */
static int check(void)
{
  static const char *const names[] = { "me", "defaultdomain", "defaulthost", "plusdomain", "idhost" };
  size_t i;
  check_hubs(is_leaf());
  check_seconds("qmqptimeoutconnect");
  check_seconds("qmqptimeout");
  check_seconds("spoollifetime");
  check_spool();
  for (i = 0; i < sizeof names / sizeof names[0]; ++i) check_name(names[i]);
  return nproblems ? 1 : 0;
}

/* flush_out: write everything; a short write is our failure. */
static void flush_out(void)
{
  size_t done = 0;
  while (done < out.len) {
    ssize_t w = write(1, out.s + done, out.len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fatal(111, "unable to write output: ", strerror(w ? errno : EIO), " (#4.3.0)");
    done += (size_t)w;
  }
}

int main(int argc, char **argv)
{
  stralloc dir = {0};
  char **unknown;
  size_t i;
  progname = "qmail-showctl";
  if (argc == 2 && !strcmp(argv[1], "-v")) verbose = 1;
  else if (argc == 2 && !strcmp(argv[1], "-c")) checking = 1;
  else if (argc != 1) fatal(100, "usage: qmail-showctl [-v | -c] (#5.3.5)");
  if (!home_path(&dir, "control")) fatal_nomem();
  haveme = control_readline(&me, "me") > 0 && me.len > 0;
  if (haveme && !stralloc_0(&me)) fatal_nomem();
  if (checking) {
    int r = check();
    flush_out();
    stralloc_free(&dir);
    return r;
  }
  unknown = unknown_files(dir.s);
  cat("qmail home directory: ");
  cat(home_dir());
  cat(".\n");
  for (i = 0; i < NKNOWN; ++i) show_known(&known[i]);
  for (i = 0; i < LIM_COUNT; ++i) show_cap((enum limit_id)i);
  for (i = 0; unknown[i]; ++i) {
    head(unknown[i]);
    /* the installer copies control/README.md into every home */
    if (!strcmp(unknown[i], "README.md"))
      cat(" The documentation of the control files; no program reads it.\n");
    else if (!strcmp(unknown[i], "dkim"))   /* a directory (docs/dkim.md) */
      cat(" DKIM signing keys, dkim/DOMAIN/SELECTOR.key: qmail-remote signs the mail of DOMAIN"
          " with each (qmailctl dkimkey makes them).\n");
    else
      cat(" I have no idea what this file does.\n");
  }
  flush_out();
  for (i = 0; unknown[i]; ++i) free(unknown[i]);
  free(unknown);
  stralloc_free(&dir);
  return 0;
}
