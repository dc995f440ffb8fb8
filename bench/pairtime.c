/*
 * Bench helper: time two commands in alternation, one pair at a time, and
 * print "A_NS B_NS" per pair.  The order flips on every pair so that
 * neither command always runs second, on a warmer cache.  With --pidns
 * each run starts as PID 1 of a fresh PID namespace with its own /proc
 * (what unshare --pid --fork --mount-proc gives), without an unshare
 * process of its own inside the figure.  Output of the commands is
 * discarded; a run that does not exit 0 fails the whole measurement.  The
 * separator is not "--", which the inits' own command lines use.
 *   pairtime [--pidns] PAIRS CMD_A... --sep-- CMD_B...
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* In the child of a namespace clone: mount a /proc that shows that PID
 * namespace, on a private copy of the mount tree so the host keeps its
 * own. */
static void own_proc(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0) {
		perror("pairtime: mount /proc");
		_exit(125);
	}
}

static int64_t run_once(char **argv, int pidns, int devnull)
{
	int64_t t0, t1;
	pid_t pid;
	int st;

	t0 = now_ns();
	/* A raw clone returns in the child like fork, here in a new PID and
	 * mount namespace. */
	if (pidns)
		pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS |
				     SIGCHLD, 0, 0, 0, 0);
	else
		pid = fork();
	if (pid < 0) {
		perror("pairtime: fork");
		exit(2);
	}
	if (pid == 0) {
		if (pidns)
			own_proc();
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	t1 = now_ns();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "pairtime: %s ended with status 0x%x\n",
			argv[0], st);
		exit(2);
	}
	return t1 - t0;
}

int main(int argc, char **argv)
{
	char **a, **b;
	int i, pairs, pidns = 0, devnull;
	int64_t ta, tb;

	if (argc > 1 && strcmp(argv[1], "--pidns") == 0) {
		pidns = 1;
		argv++;
		argc--;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: pairtime [--pidns] PAIRS CMD_A... --sep-- CMD_B...\n");
		return 2;
	}
	pairs = atoi(argv[1]);
	a = argv + 2;
	for (b = a; *b && strcmp(*b, "--sep--") != 0; b++)
		;
	if (!*b || !b[1]) {
		fprintf(stderr, "pairtime: no --sep-- between the commands\n");
		return 2;
	}
	*b++ = NULL;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0) {
		perror("pairtime: /dev/null");
		return 2;
	}
	for (i = 0; i < pairs; i++) {
		if (i % 2 == 0) {
			ta = run_once(a, pidns, devnull);
			tb = run_once(b, pidns, devnull);
		} else {
			tb = run_once(b, pidns, devnull);
			ta = run_once(a, pidns, devnull);
		}
		printf("%lld %lld\n", (long long)ta, (long long)tb);
	}
	return 0;
}
