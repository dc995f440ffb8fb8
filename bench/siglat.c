/*
 * Bench helper: signal latency through an init to its child.
 *   siglat child         block every signal, print "ready", then print the
 *                        CLOCK_MONOTONIC time (ns) at which each SIGUSR1
 *                        is taken; exit 0 on SIGTERM
 *   siglat send PID N    N times: read the clock, kill(PID, SIGUSR1), read
 *                        the child's receipt time from stdin (the child's
 *                        stdout); print the difference in ns, one a line
 * One signal is in flight at a time, so none merges with another pending.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One write(2) per line: the sender reads as soon as the line exists. */
static void put_line(const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len > 0) {
		n = write(STDOUT_FILENO, s, len);
		if (n <= 0)
			_exit(3);
		s += n;
		len -= (size_t)n;
	}
}

static int child(void)
{
	char line[32];
	sigset_t all;
	int64_t t;
	int sig;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	put_line("ready\n");
	for (;;) {
		sig = sigwaitinfo(&all, NULL);
		/* The time is taken first: the receipt is what is measured. */
		t = now_ns();
		if (sig == SIGTERM)
			return 0;
		if (sig != SIGUSR1)
			continue;
		snprintf(line, sizeof(line), "%lld\n", (long long)t);
		put_line(line);
	}
}

static int send_all(pid_t pid, int count)
{
	char line[32];
	int64_t t0;
	int i;

	for (i = 0; i < count; i++) {
		t0 = now_ns();
		if (kill(pid, SIGUSR1) < 0) {
			perror("siglat: kill");
			return 2;
		}
		if (!fgets(line, sizeof(line), stdin)) {
			fprintf(stderr, "siglat: the child stopped answering\n");
			return 2;
		}
		printf("%lld\n", strtoll(line, NULL, 10) - (long long)t0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "child") == 0)
		return child();
	if (argc == 4 && strcmp(argv[1], "send") == 0)
		return send_all((pid_t)atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: siglat child | siglat send PID COUNT\n");
	return 2;
}
