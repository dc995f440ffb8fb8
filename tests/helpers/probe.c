/*
 * Test helper: report the state a process was started in, as the shim's
 * child sees it: signal mask, ignored signals, open descriptors, process
 * group, terminal foreground and LISTEN_PID.  One "key=value" per line.
 *   probe [--sleep SECONDS] [--exit CODE]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void status_field(const char *name, const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, strlen(name)) == 0) {
			char *v = line + strlen(name);

			while (*v == ' ' || *v == '\t' || *v == ':')
				v++;
			printf("%s=%s", key, v);
		}
	}
	fclose(f);
}

static void list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int first = 1, self;

	if (!d)
		return;
	self = dirfd(d);
	printf("fds=");
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		printf("%s%s", first ? "" : ",", e->d_name);
		first = 0;
	}
	printf("\n");
	closedir(d);
}

int main(int argc, char **argv)
{
	const char *lp = getenv("LISTEN_PID");
	int i, code = 0, secs = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--sleep") == 0)
			secs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--exit") == 0)
			code = atoi(argv[i + 1]);
	}
	printf("pid=%d\nppid=%d\npgid=%d\nsid=%d\ntty_fg=%d\n", getpid(),
	       getppid(), getpgrp(), getsid(0), tcgetpgrp(0));
	printf("listen_pid=%s\n", lp ? lp : "");
	status_field("SigBlk", "blocked");
	status_field("SigIgn", "ignored");
	list_fds();
	fflush(stdout);
	if (secs)
		sleep((unsigned)secs);
	return code;
}
