/* The shim's signal set-up, and what the child gets back before exec. */
#include <signal.h>
#include <stddef.h>

#include "signals.h"

int signals_setup(struct sigconf *sc)
{
	struct sigaction sa;

	/*
	 * musl's sigfillset leaves out the three signals libc keeps for
	 * itself; the kernel refuses to block SIGKILL and SIGSTOP anyway.
	 */
	sigfillset(&sc->waited);
	if (sigprocmask(SIG_SETMASK, &sc->waited, &sc->orig_mask) < 0)
		return -1;
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
	sigprocmask(SIG_SETMASK, &sc->orig_mask, NULL);
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
