/* Signal names both ways, real-time signals included. */
#include <signal.h>

#include "../../shim/sigtab.h"
#include "unit.h"

TEST(standard_names_round_trip)
{
	char buf[SIG_NAME_MAX];
	int sig;

	for (sig = 1; sig < 32; sig++) {
		const char *name = sig_name(sig, buf);

		CHECK_INT(sig_parse(name), sig);
		CHECK_INT(sig_parse(name + 3), sig);	/* without "SIG" */
	}
}

TEST(realtime_names_round_trip)
{
	char buf[SIG_NAME_MAX];
	int sig;

	for (sig = 32; sig <= 64; sig++)
		CHECK_INT(sig_parse(sig_name(sig, buf)), sig);
	/* The kernel's, glibc's and Docker's numbering, not musl's 35. */
	CHECK_STR(sig_name(34, buf), "SIGRTMIN+0");
	CHECK_STR(sig_name(36, buf), "SIGRTMIN+2");
	CHECK_STR(sig_name(32, buf), "SIG32");
	CHECK_INT(sig_parse("RTMIN"), 34);
	CHECK_INT(sig_parse("SIGRTMAX"), 64);
	CHECK_INT(sig_parse("SIGRTMAX-1"), 63);
	CHECK_INT(sig_parse("rtmin+3"), 37);
	CHECK_INT(sig_parse("SIG33"), 33);
}

TEST(names_numbers_and_case)
{
	CHECK_INT(sig_parse("SIGKILL"), SIGKILL);
	CHECK_INT(sig_parse("kill"), SIGKILL);
	CHECK_INT(sig_parse("SigTerm"), SIGTERM);
	CHECK_INT(sig_parse("9"), 9);
	CHECK_INT(sig_parse("IOT"), SIGABRT);
	CHECK_INT(sig_parse("SIGCLD"), SIGCHLD);
}

TEST(bad_names_are_refused)
{
	CHECK_INT(sig_parse(""), -1);
	CHECK_INT(sig_parse("SIG"), -1);
	CHECK_INT(sig_parse("SIGFOO"), -1);
	CHECK_INT(sig_parse("0"), -1);
	CHECK_INT(sig_parse("65"), -1);
	CHECK_INT(sig_parse("9x"), -1);
	CHECK_INT(sig_parse("-9"), -1);
	CHECK_INT(sig_parse("RTMIN+99"), -1);
	CHECK_INT(sig_parse("RTMIN+"), -1);
	CHECK_INT(sig_parse("RTMAX+1"), -1);
	CHECK_INT(sig_parse("SIGKILLX"), -1);
}
