/* The exit-status table across 0..255, signals and remaps. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "../../shim/exitcode.h"
#include "unit.h"

/* Build wait statuses as the kernel does: code << 8, or the signal. */
#define EXITED(code) ((code) << 8)
#define SIGNALED(sig) (sig)
#define SIGNALED_CORE(sig) ((sig) | 0x80)

TEST(exit_codes_pass_through_0_to_255)
{
	struct exit_remap none = { { 0 } };
	int code;

	for (code = 0; code <= 255; code++) {
		CHECK_INT(exit_status_of(EXITED(code)), code);
		CHECK_INT(exit_status_remap(&none, exit_status_of(EXITED(code))),
			  code);
	}
}

TEST(death_by_signal_is_128_plus_n)
{
	int sig;

	for (sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig == SIGSTOP || sig == 0x7f)
			continue;
		CHECK_INT(exit_status_of(SIGNALED(sig)), 128 + sig);
	}
	CHECK_INT(exit_status_of(SIGNALED_CORE(SIGSEGV)), 128 + SIGSEGV);
	CHECK_INT(exit_status_of(SIGNALED(SIGKILL)), 137);
	CHECK_INT(exit_status_of(SIGNALED(SIGTERM)), 143);
}

TEST(remap_applies_after_128_plus_n)
{
	struct exit_remap map = { { 0 } };
	int code;

	exit_remap_add(&map, 143);
	exit_remap_add(&map, 3);
	CHECK_INT(exit_status_remap(&map, exit_status_of(SIGNALED(SIGTERM))),
		  0);
	CHECK_INT(exit_status_remap(&map, exit_status_of(EXITED(3))), 0);
	for (code = 0; code <= 255; code++) {
		int want = (code == 3 || code == 143) ? 0 : code;

		CHECK_INT(exit_status_remap(&map, code), want);
	}
}

TEST(remap_every_code)
{
	struct exit_remap map = { { 0 } };
	int code;

	for (code = 0; code <= 255; code++)
		exit_remap_add(&map, code);
	for (code = 0; code <= 255; code++)
		CHECK(exit_remap_has(&map, code));
	CHECK(!exit_remap_has(&map, 256));
	CHECK(!exit_remap_has(&map, -1));
	exit_remap_add(&map, 999);	/* ignored, never out of bounds */
}

TEST(exec_failures_follow_the_shell)
{
	CHECK_INT(exit_status_exec(ENOENT), 127);
	CHECK_INT(exit_status_exec(EACCES), 126);
	CHECK_INT(exit_status_exec(ENOEXEC), 126);
	CHECK_INT(exit_status_exec(EISDIR), 126);
	CHECK_INT(exit_status_exec(ETXTBSY), 126);
}
