/*
 * Test helper: print every signal it receives, one "signal N" line each,
 * flushed at once.  Prints "ready" once it waits.  Exits with status 0
 * on the signal given by --exit-on (default SIGTERM).
 *   sigprint [--exit-on N]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t all;
	int i, sig, exit_on = SIGTERM;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--exit-on") == 0 && i + 1 < argc)
			exit_on = atoi(argv[++i]);
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		sig = sigwaitinfo(&all, NULL);
		if (sig < 0)
			continue;
		printf("signal %d\n", sig);
		fflush(stdout);
		if (sig == exit_on)
			return 0;
	}
}
