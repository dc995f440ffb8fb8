/* Descriptors the shim inherited and does not need once the child runs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fds.h"
#include "log.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Kernels before 5.9 lack close_range: walk /proc/self/fd instead. */
static void close_from_proc(int lowest)
{
	struct dirent *d;
	DIR *dir;
	int fd, self;

	dir = opendir("/proc/self/fd");
	if (!dir) {
		log_event(LOG_WARNING, "fds.close_failed",
			  "reason=no_close_range_no_proc err=\"%s\"", strerror(errno));
		return;
	}
	self = dirfd(dir);
	while ((d = readdir(dir)) != NULL) {
		fd = atoi(d->d_name);
		if (fd >= lowest && fd != self)
			close(fd);
	}
	closedir(dir);
}

void fds_release_inherited(void)
{
	int null;

	if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
		close_from_proc(3);

	/* O_CLOEXEC is moot: dup2 clears it on the copies. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0) {
		/* Closed is still better than holding the caller's pipe. */
		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		return;
	}
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	if (null > STDERR_FILENO)
		close(null);
}
