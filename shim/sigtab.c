/* Signal names and numbers, both ways, real-time signals included. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigtab.h"

static const char *const names[] = {
	[SIGHUP] = "HUP",	[SIGINT] = "INT",	[SIGQUIT] = "QUIT",
	[SIGILL] = "ILL",	[SIGTRAP] = "TRAP",	[SIGABRT] = "ABRT",
	[SIGBUS] = "BUS",	[SIGFPE] = "FPE",	[SIGKILL] = "KILL",
	[SIGUSR1] = "USR1",	[SIGSEGV] = "SEGV",	[SIGUSR2] = "USR2",
	[SIGPIPE] = "PIPE",	[SIGALRM] = "ALRM",	[SIGTERM] = "TERM",
	[SIGSTKFLT] = "STKFLT",	[SIGCHLD] = "CHLD",	[SIGCONT] = "CONT",
	[SIGSTOP] = "STOP",	[SIGTSTP] = "TSTP",	[SIGTTIN] = "TTIN",
	[SIGTTOU] = "TTOU",	[SIGURG] = "URG",	[SIGXCPU] = "XCPU",
	[SIGXFSZ] = "XFSZ",	[SIGVTALRM] = "VTALRM",	[SIGPROF] = "PROF",
	[SIGWINCH] = "WINCH",	[SIGIO] = "IO",		[SIGPWR] = "PWR",
	[SIGSYS] = "SYS",
};

#define NNAMES (int)(sizeof(names) / sizeof(names[0]))

/* Parse a whole decimal number in [lo, hi], or return -1. */
static int parse_small(const char *s, int lo, int hi)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	return (int)v;
}

static int parse_rt(const char *s)
{
	int off;

	if (strncasecmp(s, "RTMIN", 5) == 0) {
		if (s[5] == '\0')
			return SIG_RTMIN;
		if (s[5] != '+')
			return -1;
		off = parse_small(s + 6, 0, SIG_RTMAX - SIG_RTMIN);
		return off < 0 ? -1 : SIG_RTMIN + off;
	}
	if (strncasecmp(s, "RTMAX", 5) == 0) {
		if (s[5] == '\0')
			return SIG_RTMAX;
		if (s[5] != '-')
			return -1;
		off = parse_small(s + 6, 0, SIG_RTMAX - SIG_RTMIN);
		return off < 0 ? -1 : SIG_RTMAX - off;
	}
	return -1;
}

int sig_parse(const char *s)
{
	int i;

	if (*s >= '0' && *s <= '9')
		return parse_small(s, 1, SIG_RTMAX);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	/* "SIG34", as sig_name writes a signal it has no name for. */
	if (*s >= '0' && *s <= '9')
		return parse_small(s, 1, SIG_RTMAX);
	for (i = 1; i < NNAMES; i++)
		if (names[i] && strcasecmp(s, names[i]) == 0)
			return i;
	/* Common aliases. */
	if (strcasecmp(s, "IOT") == 0)
		return SIGABRT;
	if (strcasecmp(s, "POLL") == 0)
		return SIGIO;
	if (strcasecmp(s, "CLD") == 0)
		return SIGCHLD;
	return parse_rt(s);
}

const char *sig_name(int sig, char buf[SIG_NAME_MAX])
{
	if (sig > 0 && sig < NNAMES && names[sig])
		snprintf(buf, SIG_NAME_MAX, "SIG%s", names[sig]);
	else if (sig >= SIG_RTMIN && sig <= SIG_RTMAX)
		snprintf(buf, SIG_NAME_MAX, "SIGRTMIN+%d", sig - SIG_RTMIN);
	else
		snprintf(buf, SIG_NAME_MAX, "SIG%d", sig);
	return buf;
}
