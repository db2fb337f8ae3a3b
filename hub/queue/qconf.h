/* qconf.h: the queue's compile-time constants, shared by qmail-queue and
 * the future qmail-send / qmail-clean. The layout, the states and the order
 * of operations are described in hub/queue/QUEUE.md; the owners and modes are
 * qmail's (hier.c; docs/architecture.md sec 4), and hub/queue/mkqueue.sh creates exactly this
 * tree (it repeats the names and modes below in shell: change both). */
#ifndef QCONF_H
#define QCONF_H

/* Messages are spread over QUEUE_SPLIT subdirectories (name: inode % split)
 * in mess/ intd/ todo/ info/ local/ remote/, so no directory holds more
 * than ~1/23 of the queue (no big-todo stall). Prime, as in qmail. */
#define QUEUE_SPLIT 23

/* The queue directory, relative to the home (HOME/queue). */
#define QUEUE_DIR "queue"

/* Subdirectories of HOME/queue. */
#define QDIR_PID "pid"        /* qmail-queue's temporary files, to get an inode */
#define QDIR_MESS "mess"      /* split: message bytes, named by their own inode */
#define QDIR_INTD "intd"      /* split: envelope being written (S3) */
#define QDIR_TODO "todo"      /* split: hard link of intd/N: queued (S4, commit) */
#define QDIR_INFO "info"      /* split: F<sender>; mtime = birth (qmail-send) */
#define QDIR_LOCAL "local"    /* split: local recipients, T->D checkpoints */
#define QDIR_REMOTE "remote"  /* split: remote recipients, T->D checkpoints */
#define QDIR_BOUNCE "bounce"  /* not split: failure paragraphs to bounce */
#define QDIR_LOCK "lock"      /* the three lock/ files below */

/* Files in lock/. */
#define QFILE_SENDMUTEX "lock/sendmutex"  /* flock'd by the one qmail-send */
#define QFILE_TRIGGER "lock/trigger"      /* FIFO: one byte = "look at todo/" */
#define QFILE_TCPTO "lock/tcpto"          /* qmail-remote's timeout table */
#define QTCPTO_SIZE 1024                  /* bytes in a fresh tcpto (zeros) */

/* Owners when installed as root (single-user mode: the installing user
 * owns everything, with the same modes). All queue entries are in the
 * group QGROUP. */
#define QUSER_QUEUE "qmailq"   /* qmail-queue (setuid), qmail-clean: pid mess intd todo lock */
#define QUSER_SEND "qmails"    /* qmail-send: info local remote bounce sendmutex trigger */
#define QUSER_REMOTE "qmailr"  /* qmail-remote: lock/tcpto */
#define QUSER_DAEMON "qmaild"  /* the servers: Received "invoked from network" */
#define QUSER_ALIAS "alias"    /* forwards by the alias user: "invoked by alias" */
#define QGROUP "qmail"

/* Modes (hier.c). The split subdirectories have their parent's mode. */
#define QMODE_QUEUE 0750    /* queue/ itself (qmailq) */
#define QMODE_PID 0700      /* pid/ (qmailq) */
#define QMODE_MESS 0750     /* mess/ (qmailq; group qmail reads messages) */
#define QMODE_INTD 0700     /* intd/ (qmailq; nobody else needs the name) */
#define QMODE_TODO 0750     /* todo/ (qmailq; qmail-send reads it) */
#define QMODE_SEND 0700     /* info/ local/ remote/ bounce/ (qmails) */
#define QMODE_LOCK 0750     /* lock/ (qmailq) */
#define QMODE_SENDMUTEX 0600
#define QMODE_TRIGGER 0622  /* FIFO: anyone in the path may write a byte */
#define QMODE_TCPTO 0644
#define QMODE_FILE 0644     /* mess/ and intd/ files (after umask 033) */
#define QUEUE_UMASK 033

/* qmail-queued, the group-commit queue writer (qmail-queued.8, QUEUE.md
 * section 8). Its socket is common/q_qq.h's QQ_SOCKET, HOME/qq/socket, in
 * a 0755 directory of qmailq outside queue/ (0750: the servers' user
 * qmaild is not in group qmail), mode 0666: every local user may queue
 * mail, as with the 4711 qmail-queue. */
#define QQ_DIR "qq"                    /* HOME/qq (qmailq 0755) */
#define QMODE_QQ 0755
#define QQ_LOCK "qq/lock"              /* flock'd by the one qmail-queued */
#define QFILE_BARRIER "lock/barrier"   /* fdatasync'd after each batch's syncfs */
#define QQD_CLIENTS 256     /* clients at once; more wait in the backlog */
#define QQD_BACKLOG 128     /* listen backlog; a client finding it full runs qmail-queue */
#define QQD_BATCH 256       /* messages in one commit at most */
#define QQD_BATCH_MS 20     /* a batch waits at most this long for input to pause */
#define QQD_IDLE 3600       /* seconds a client may send nothing: 52 */
#define QQD_LOCKWAIT 100    /* tries, 0.1 s apart, for the lock (a daemon ending) */

/* Time limits. */
#define QUEUE_ALARM 86400            /* qmail-queue gives up after 24 h: exit 52 */
#define QUEUE_STALE (36L * 60 * 60)  /* pid/ mess/ intd/ leftovers older than this
                                        are garbage (qmail-send, qmail-clean) */

/* Durability (QUEUE.md "Flushes"): 1 (the default) = fsync mess/S/ too,
 * so the message's name is durable on any filesystem (4 fsyncs per
 * message). 0 = rely on an ordered metadata journal (ext4 data=ordered or
 * journal, xfs), where a later fsync makes every earlier directory
 * operation durable (3 fsyncs); only for a queue known to sit on such a
 * filesystem: ext4 can run without a journal (this project's own build
 * and CI machines do), and then 0 could lose an accepted message. */
#ifndef QUEUE_SYNC_MESSDIR
#define QUEUE_SYNC_MESSDIR 1
#endif

#endif
