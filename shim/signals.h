/* The shim's signal set-up, and what the child gets back before exec. */
#ifndef SHIM_SIGNALS_H
#define SHIM_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * What the shim was started with, restored in the child.  The masks are
 * the kernel's 64-bit sets, not libc's: libc will not block the three
 * signals it keeps for itself (32 to 34), but the shim must, since 34 is
 * SIGRTMIN to glibc programs and to `docker kill -s RTMIN`, and a
 * signal PID 1 neither blocks nor handles is dropped by the kernel.
 */
struct sigconf {
	uint64_t orig_mask;	/* the inherited signal mask */
	uint64_t waited;	/* every signal the init loop takes */
	bool chld_ignored;	/* SIGCHLD was inherited as SIG_IGN */
};

/*
 * Block every signal in the calling (only) thread, so that all of them
 * wait for the init loop and every thread created later inherits the
 * full mask.  SIGCHLD inherited as ignored would make the kernel reap
 * our children for us, so it goes back to the default.  The shim uses
 * neither thread cancellation nor set*id, libc's users of 32 to 34.
 */
int signals_setup(struct sigconf *sc);

/*
 * In the forked child, before exec: give back the inherited mask and the
 * inherited SIGCHLD disposition.  Async-signal-safe.
 */
void signals_restore_child(const struct sigconf *sc);

/* True when SIG, forwarded to a stopped child, should also resume it. */
bool signal_ends_stop(int sig);

#endif
