/*
 * Test helper: leave COUNT orphans for the init to reap.  Each of COUNT
 * children forks a grandchild and exits at once; the grandchild, now an
 * orphan, lives LINGER_MS and exits.  The helper reaps its own children,
 * prints "orphans N" and exits, unless --wait keeps it alive until the
 * orphans are gone.
 *   orphans COUNT [LINGER_MS]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 1;
	long linger = argc > 2 ? atol(argv[2]) : 0;
	int i, made = 0;
	pid_t pid;

	for (i = 0; i < count; i++) {
		pid = fork();
		if (pid < 0)
			break;
		if (pid == 0) {
			if (fork() == 0) {
				struct timespec ts = { linger / 1000,
						       (linger % 1000) * 1000000 };

				if (linger)
					nanosleep(&ts, NULL);
				_exit(0);
			}
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		made++;
	}
	printf("orphans %d\n", made);
	fflush(stdout);
	return made == count ? 0 : 1;
}
