/* Whether the container's memory cgroup counted an OOM kill. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oom.h"

/* memory.events and memory.oom_control are a few hundred bytes. */
#define CG_FILE_MAX 4096

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < size - 1) {
		n = read(fd, buf + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

long oom_parse_count(const char *text)
{
	const char *p = text;
	char *end;
	long v;

	while ((p = strstr(p, "oom_kill ")) != NULL) {
		/* A whole-line match: "oom_kill_disable 0" is another key. */
		if (p == text || p[-1] == '\n') {
			v = strtol(p + 9, &end, 10);
			if (end != p + 9 && v >= 0)
				return v;
		}
		p += 9;
	}
	return -1;
}

static long count_in(const char *path)
{
	char buf[CG_FILE_MAX];

	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	return oom_parse_count(buf);
}

/*
 * Our cgroup's path for the v2 hierarchy ("0::/x") or the v1 memory
 * controller ("7:memory:/x") from the text of /proc/self/cgroup.
 */
static int cgroup_path(const char *text, int v2, char *out, size_t size)
{
	const char *line = text, *next, *p;
	const char *want = v2 ? "0::" : ":memory:";
	size_t len;

	for (; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		p = v2 ? (strncmp(line, want, 3) == 0 ? line : NULL)
		       : strstr(line, want);
		if (!p || p > next)
			continue;
		p += strlen(want);
		len = (size_t)(next - p);
		if (len && p[len - 1] == '\n')
			len--;
		if (len >= size)
			return -1;
		memcpy(out, p, len);
		out[len] = '\0';
		return 0;
	}
	return -1;
}

long oom_kill_count_at(const char *root, const char *cgroup_file)
{
	char text[CG_FILE_MAX], rel[PATH_MAX / 2], path[PATH_MAX];
	long n;

	if (read_small(cgroup_file, text, sizeof(text)) < 0)
		text[0] = '\0';
	/*
	 * Inside a container the cgroup file system is usually mounted at
	 * our own cgroup, while /proc/self/cgroup may still name the host's
	 * path; try the named path first, then the root of the mount.
	 */
	if (cgroup_path(text, 1, rel, sizeof(rel)) == 0) {
		snprintf(path, sizeof(path), "%s%s/memory.events", root, rel);
		if ((n = count_in(path)) >= 0)
			return n;
	}
	snprintf(path, sizeof(path), "%s/memory.events", root);
	if ((n = count_in(path)) >= 0)
		return n;
	if (cgroup_path(text, 0, rel, sizeof(rel)) == 0) {
		snprintf(path, sizeof(path), "%s/memory%s/memory.oom_control",
			 root, rel);
		if ((n = count_in(path)) >= 0)
			return n;
	}
	snprintf(path, sizeof(path), "%s/memory/memory.oom_control", root);
	return count_in(path);
}

long oom_kill_count(void)
{
	return oom_kill_count_at("/sys/fs/cgroup", "/proc/self/cgroup");
}
