/*
 * Test helper: print every signal it receives, one "signal N" line each,
 * flushed at once.  Prints "ready" once it waits.  Exits with status 0
 * on the signal given by --exit-on (default SIGTERM).
 *   sigprint [--exit-on N]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	/* The kernel's 64-bit set: libc would leave out 32 to 34. */
	uint64_t all = ~(uint64_t)0;
	int i, sig, exit_on = SIGTERM;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--exit-on") == 0 && i + 1 < argc)
			exit_on = atoi(argv[++i]);
	}
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		sig = (int)syscall(SYS_rt_sigtimedwait, &all, NULL, NULL,
				   sizeof(all));
		if (sig < 0)
			continue;
		printf("signal %d\n", sig);
		fflush(stdout);
		if (sig == exit_on)
			return 0;
	}
}
