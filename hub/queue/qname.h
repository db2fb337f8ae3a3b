/* qname.h: names of queue files (hub/queue/QUEUE.md). A message is named by the
 * inode number N of its mess/ file; split directories hold it under
 * N % QUEUE_SPLIT: "mess/S/N", "intd/S/N", "todo/S/N", "info/S/N", ...
 * Inode numbers are 64-bit (unsigned long long) everywhere. */
#ifndef QNAME_H
#define QNAME_H

#include <stddef.h>

/* Longest name: a directory of up to QNAME_DIRMAX bytes, "/", two digits
 * of split, "/", 20 digits, NUL. */
#define QNAME_DIRMAX 16
#define QNAME_MAX (QNAME_DIRMAX + 1 + 2 + 1 + 20 + 1)

/* qname_split: the split subdirectory number of inode ino. */
unsigned int qname_split(unsigned long long ino);
/* qname_dir: buf (QNAME_MAX bytes) = "dir/S", NUL-terminated; returns the
 * length, 0 (and buf "") when dir is longer than QNAME_DIRMAX. */
size_t qname_dir(char *buf, const char *dir, unsigned long long ino);
/* qname_file: buf = "dir/S/N", the same way. */
size_t qname_file(char *buf, const char *dir, unsigned long long ino);

#endif
