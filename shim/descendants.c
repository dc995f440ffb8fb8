/* Signal every process left behind by the child. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "descendants.h"
#include "log.h"

int descendants_mark(const pid_t *pids, const pid_t *ppids, int n,
		     pid_t root, unsigned char *is_desc)
{
	int i, count = 0, changed = 1;

	memset(is_desc, 0, (size_t)n);
	/* XXX: quadratic per generation; fine for the few hundred processes
	 * a shim that is not PID 1 leaves, and it runs once, at exit. */
	/* Propagate from the root down, one generation per pass. */
	while (changed) {
		changed = 0;
		for (i = 0; i < n; i++) {
			int j;

			if (is_desc[i])
				continue;
			if (ppids[i] == root) {
				is_desc[i] = 1;
				changed = 1;
				count++;
				continue;
			}
			for (j = 0; j < n; j++) {
				if (is_desc[j] && pids[j] == ppids[i]) {
					is_desc[i] = 1;
					changed = 1;
					count++;
					break;
				}
			}
		}
	}
	return count;
}

/* The parent pid from /proc/PID/stat, whose comm may hold spaces or ')'. */
static pid_t read_ppid(pid_t pid)
{
	char path[32], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	return (pid_t)strtol(p + 4, NULL, 10);
}

static int signal_from_proc(pid_t self, int sig)
{
	pid_t *pids = NULL, *ppids = NULL;
	unsigned char *is_desc = NULL;
	int n = 0, cap = 0, i, sent = 0;
	struct dirent *d;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir) {
		log_event(LOG_WARNING, "drain.no_proc", "err=\"%s\"", strerror(errno));
		return 0;
	}
	while ((d = readdir(dir)) != NULL) {
		pid_t pid = (pid_t)atoi(d->d_name), ppid;

		if (pid <= 0 || pid == self)
			continue;
		ppid = read_ppid(pid);
		if (ppid < 0)
			continue;
		if (n == cap) {
			void *a, *b;

			cap = cap ? cap * 2 : 256;
			a = realloc(pids, (size_t)cap * sizeof(*pids));
			b = a ? realloc(ppids, (size_t)cap * sizeof(*ppids)) : NULL;
			if (a)
				pids = a;
			if (b)
				ppids = b;
			if (!a || !b)
				goto out;
		}
		pids[n] = pid;
		ppids[n] = ppid;
		n++;
	}
	is_desc = malloc(n ? (size_t)n : 1);
	if (!is_desc)
		goto out;
	descendants_mark(pids, ppids, n, self, is_desc);
	for (i = 0; i < n; i++)
		if (is_desc[i] && kill(pids[i], sig) == 0)
			sent++;
out:
	closedir(dir);
	free(is_desc);
	free(pids);
	free(ppids);
	return sent;
}

int descendants_signal(pid_t self, int sig)
{
	if (self == 1) {
		/* kill(-1) spares the caller; ESRCH means nobody is left. */
		return kill(-1, sig) == 0 ? 1 : 0;
	}
	return signal_from_proc(self, sig);
}
