/* The shim's signal set-up, and what the child gets back before exec. */
#ifndef SHIM_SIGNALS_H
#define SHIM_SIGNALS_H

#include <signal.h>
#include <stdbool.h>

/* What the shim was started with, restored in the child. */
struct sigconf {
	sigset_t orig_mask;	/* the inherited signal mask */
	sigset_t waited;	/* every signal the init loop takes */
	bool chld_ignored;	/* SIGCHLD was inherited as SIG_IGN */
};

/*
 * Block every signal in the calling (only) thread, so that all of them
 * wait for sigwaitinfo in the init loop and every thread created later
 * inherits the full mask.  SIGCHLD inherited as ignored would make the
 * kernel reap our children for us, so it goes back to the default.
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
