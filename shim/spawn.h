/* Start the application as the shim's child. */
#ifndef SHIM_SPAWN_H
#define SHIM_SPAWN_H

#include <sys/types.h>

#include "signals.h"

/*
 * Fork and exec ARGV (PATH is searched as execvp does, and a script with
 * no "#!" runs through /bin/sh as with glibc and tini).  The child gets
 * its own process group, the terminal's foreground when the shim had it,
 * the signal state the shim inherited, and LISTEN_PID naming itself when
 * it named the shim.  Returns 0 with *PID set once exec has succeeded;
 * otherwise -1 with *PID set when a child was forked (it exits at once
 * and must still be reaped) or 0, and *ERR holding the errno of exec or
 * fork.
 */
int spawn_child(char *const argv[], const struct sigconf *sc, pid_t *pid,
		int *err);

#endif
