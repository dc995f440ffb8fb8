/* Start the application as the shim's child. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

extern char **environ;

/* "LISTEN_PID=" and the digits of a pid (at most 10) and a NUL. */
#define LISTEN_PID_MAX 24

/*
 * Socket activation hands the listening sockets to the process named in
 * LISTEN_PID.  When that is the shim, the child is the real addressee.
 * Returns the index in environ of the entry to rewrite, or -1.
 */
static int listen_pid_index(pid_t self)
{
	const char *v;
	char *end;
	long pid;
	int i;

	for (i = 0; environ[i]; i++) {
		if (strncmp(environ[i], "LISTEN_PID=", 11) != 0)
			continue;
		v = environ[i] + 11;
		pid = strtol(v, &end, 10);
		return (*v && *end == '\0' && pid == self) ? i : -1;
	}
	return -1;
}

/* Format "LISTEN_PID=PID" without stdio: this runs after fork. */
static void format_listen_pid(char buf[LISTEN_PID_MAX], pid_t pid)
{
	char digits[12];
	int n = 0;

	do {
		digits[n++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0);
	memcpy(buf, "LISTEN_PID=", 11);
	buf += 11;
	while (n > 0)
		*buf++ = digits[--n];
	*buf = '\0';
}

/*
 * Run FILE with ARGV, a script without "#!" through /bin/sh as glibc's
 * execvp and tini do (musl's execvp refuses it with ENOEXEC).  Returns
 * only on failure, with errno set.
 */
static void exec_file(const char *file, char *const argv[])
{
	size_t n = 0;

	execve(file, argv, environ);
	if (errno != ENOEXEC)
		return;
	while (argv[n])
		n++;
	{
		/* On the stack: this runs after fork, where malloc may not. */
		char *sh_argv[n + 2];

		sh_argv[0] = (char *)"sh";
		sh_argv[1] = (char *)file;
		memcpy(sh_argv + 2, argv + 1, n * sizeof(*argv));
		execve("/bin/sh", sh_argv, environ);
	}
	errno = ENOEXEC;
}

/* execvp's PATH search, with exec_file's fallback for scripts. */
static void exec_search(char *const argv[])
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];
	size_t flen = strlen(argv[0]), dlen;
	int seen_eacces = 0;

	if (strchr(argv[0], '/')) {
		exec_file(argv[0], argv);
		return;
	}
	if (!path)
		path = "/usr/local/bin:/bin:/usr/bin";
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		if (dlen + 1 + flen < sizeof(buf)) {
			memcpy(buf, p, dlen);
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, argv[0], flen + 1);
			exec_file(dlen ? buf : argv[0], argv);
			/* Keep looking past what is not there or not allowed. */
			if (errno == EACCES)
				seen_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				return;
		}
		if (!*end)
			break;
	}
	errno = seen_eacces ? EACCES : ENOENT;
}

static void write_errno(int fd, int err)
{
	ssize_t r;

	do
		r = write(fd, &err, sizeof(err));
	while (r < 0 && errno == EINTR);
}

/* In the child: everything here is async-signal-safe. */
static __attribute__((noreturn)) void exec_child(char *const argv[],
						 const struct sigconf *sc,
						 int foreground, int listen_idx,
						 int errfd)
{
	char listen_pid[LISTEN_PID_MAX];

	setpgid(0, 0);
	/*
	 * Hand the terminal's foreground to the child, so Ctrl-C and Ctrl-Z
	 * reach it and a shell gets job control.  SIGTTOU is still blocked
	 * here, which is what lets a background group take the terminal.
	 */
	if (foreground)
		tcsetpgrp(STDIN_FILENO, getpid());
	if (listen_idx >= 0) {
		format_listen_pid(listen_pid, getpid());
		environ[listen_idx] = listen_pid;
	}
	signals_restore_child(sc);
	exec_search(argv);
	write_errno(errfd, errno);
	_exit(127);
}

int spawn_child(char *const argv[], const struct sigconf *sc, pid_t *pid,
		int *err)
{
	int fds[2], foreground, listen_idx, child_err;
	ssize_t n;

	*pid = 0;
	/* The pipe closes on exec: EOF means exec worked, 4 bytes are errno. */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*err = errno;
		return -1;
	}
	foreground = tcgetpgrp(STDIN_FILENO) == getpgrp();
	listen_idx = listen_pid_index(getpid());

	*pid = fork();
	if (*pid < 0) {
		*err = errno;
		*pid = 0;
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (*pid == 0) {
		close(fds[0]);
		exec_child(argv, sc, foreground, listen_idx, fds[1]);
	}
	close(fds[1]);
	do
		n = read(fds[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(child_err)) {
		*err = child_err;
		return -1;
	}
	return 0;
}
