/* Signal every process left behind by the child. */
#ifndef SHIM_DESCENDANTS_H
#define SHIM_DESCENDANTS_H

#include <sys/types.h>

/*
 * Send SIG to every process that descends from SELF.  As PID 1 that is
 * every other process of the namespace, reached with one kill(-1); any
 * other shim walks /proc, so that it never signals a process that is not
 * its own.  Returns how many were signalled (1 for "some" as PID 1), 0
 * when none is left.
 */
int descendants_signal(pid_t self, int sig);

/*
 * From the parent links PPIDS[i] of the processes PIDS[i] (N of them),
 * mark in IS_DESC[i] those that descend from ROOT.  Returns their count.
 */
int descendants_mark(const pid_t *pids, const pid_t *ppids, int n,
		     pid_t root, unsigned char *is_desc);

#endif
