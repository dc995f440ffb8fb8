/*
 * Bench helper: an app that takes SIGTERM, finishes its own work in a
 * known time and exits 0, printing the CLOCK_MONOTONIC time (ns) just
 * before it exits, so an init's own stop time can be told from the app's.
 *   termchild DELAY_MS   print "ready", wait for SIGTERM, spend DELAY_MS,
 *                        print "exit NS", exit 0
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long delay = argc > 1 ? atol(argv[1]) : 0;
	struct timespec ts = { delay / 1000, (delay % 1000) * 1000000 };
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	printf("ready\n");
	fflush(stdout);
	while (sigwaitinfo(&term, NULL) != SIGTERM)
		;
	if (delay > 0)
		while (nanosleep(&ts, &ts) < 0)
			;
	printf("exit %lld\n", (long long)now_ns());
	fflush(stdout);
	return 0;
}
