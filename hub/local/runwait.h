/* runwait.h: run a program for a .qmail helper (bouncesaying, except,
 * condredirect) and wait for it: fork + execvp, no shell. */
#ifndef RUNWAIT_H
#define RUNWAIT_H

/* run_wait: run argv[0] with argv, wait, return its exit code. Exits 111
 * (with a message naming progname) when it cannot fork, cannot run the
 * program (in the child) or the program died by a signal. */
int run_wait(char **argv);

#endif
