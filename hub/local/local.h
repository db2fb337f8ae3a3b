/* local.h: the local delivery (hub/local/local.c), qmail-local's code as a
 * module: bin/qmail-local is a main that calls it, and qmail-lspawn's
 * delivery child calls it in-process after becoming the recipient (its
 * user, groups and home; no descriptor above 2; signals at their defaults;
 * the message on fd 0, the report on fds 1 and 2), instead of an exec.
 * One call per process: the module keeps its state in file-scope statics. */
#ifndef LOCAL_H
#define LOCAL_H

/* local_main: qmail-local's argv (argv[0] the name, then
 * [ -nN ] [--] user homedir local dash ext domain sender defaultdelivery).
 * Returns 0 when delivered; on any failure it writes the text on fd 2 and
 * _exits itself: 100 permanent, 111 temporary. Refuses to run as root. */
int local_main(int argc, char **argv);

#endif
