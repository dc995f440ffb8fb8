/* The shim's signal set-up, and what the child gets back before exec. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>

#include "signals.h"
#include "sys.h"

int signals_setup(struct sigconf *sc)
{
	struct sigaction sa;
	long rc;

	/* Every bit: the kernel itself leaves out SIGKILL and SIGSTOP. */
	sc->waited = ~(uint64_t)0;
	rc = sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&sc->waited,
		  (long)&sc->orig_mask, KERNEL_SIGSET_BYTES);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	sc->chld_ignored = false;
	if (sigaction(SIGCHLD, NULL, &sa) < 0)
		return -1;
	if (sa.sa_handler == SIG_IGN) {
		sc->chld_ignored = true;
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGCHLD, &sa, NULL) < 0)
			return -1;
	}
	return 0;
}

void signals_restore_child(const struct sigconf *sc)
{
	struct sigaction sa;

	if (sc->chld_ignored) {
		sa.sa_handler = SIG_IGN;
		sa.sa_flags = 0;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
	}
	sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&sc->orig_mask, 0,
	     KERNEL_SIGSET_BYTES);
}

bool signal_ends_stop(int sig)
{
	/*
	 * A stopped process acts on no signal but SIGKILL until continued,
	 * so a stop request (SIGTERM from docker stop, or any other signal
	 * whose default is to end the process) would wait forever.  Signals
	 * that are ignored or themselves stop by default leave it stopped.
	 */
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return false;
	default:
		return true;
	}
}
