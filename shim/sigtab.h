/* Signal names and numbers, both ways, real-time signals included. */
#ifndef SHIM_SIGTAB_H
#define SHIM_SIGTAB_H

#include <stddef.h>

/* Longest name written by sig_name: "SIGRTMIN+29" and a NUL. */
#define SIG_NAME_MAX 16

/*
 * Parse "SIGTERM", "TERM", "term", "15", "SIGRTMIN+2", "RTMAX-1".
 * Returns the signal number, or -1 when S names no signal.
 */
int sig_parse(const char *s);

/* Write the canonical name of SIG into BUF ("SIGRTMIN+2", or "SIG99"). */
const char *sig_name(int sig, char buf[SIG_NAME_MAX]);

#endif
