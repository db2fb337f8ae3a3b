/* inject.h: qmail-inject's work as a function, so that sendmail can call it
 * in its own process (one exec per message instead of two). */
#ifndef INJECT_H
#define INJECT_H

/* inject_main: run qmail-inject with argv (argv[0] is ignored). Never
 * returns: exits 0, 100 (permanent: bad usage, bad message, queue said D)
 * or 111 (temporary). */
void inject_main(int argc, char **argv) __attribute__((noreturn));

/* inject_verbose: set (by sendmail -v) to say on stderr what the queue
 * program answered when it ran as a separate program (a hub home); on a
 * leaf qmqpc_verbose says each hub's answer. */
extern int inject_verbose;

#endif
