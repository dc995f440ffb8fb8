/* Signal names and numbers, both ways, real-time signals included. */
#ifndef SHIM_SIGTAB_H
#define SHIM_SIGTAB_H

#include <stddef.h>

/* Longest name written by sig_name: "SIGRTMIN+30" and a NUL. */
#define SIG_NAME_MAX 16

/*
 * Real-time signals as the kernel, glibc, Docker and shells number them:
 * RTMIN is 34.  musl's own SIGRTMIN is 35 (it keeps 32 to 34), but names
 * must mean what `docker kill -s RTMIN+3` and `kill -RTMIN+3` mean.
 */
#define SIG_RTMIN 34
#define SIG_RTMAX 64

/*
 * Parse "SIGTERM", "TERM", "term", "15", "SIGRTMIN+2", "RTMAX-1".
 * Returns the signal number, or -1 when S names no signal.
 */
int sig_parse(const char *s);

/* Write the canonical name of SIG into BUF ("SIGRTMIN+2", or "SIG99"). */
const char *sig_name(int sig, char buf[SIG_NAME_MAX]);

#endif
