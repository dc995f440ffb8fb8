/* The one table of exit statuses the shim can return. */
#include <errno.h>
#include <sys/wait.h>

#include "exitcode.h"

void exit_remap_add(struct exit_remap *map, int code)
{
	if (code >= 0 && code <= 255)
		map->bits[code >> 3] |= (uint8_t)(1u << (code & 7));
}

bool exit_remap_has(const struct exit_remap *map, int code)
{
	if (code < 0 || code > 255)
		return false;
	return map->bits[code >> 3] & (1u << (code & 7));
}

int exit_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return EXIT_SIGNAL_BASE + WTERMSIG(wstatus);
	/* Stopped or continued is not an end; callers never pass it. */
	return EXIT_SHIM_FAILURE;
}

int exit_status_remap(const struct exit_remap *map, int status)
{
	return exit_remap_has(map, status) ? 0 : status;
}

int exit_status_exec(int err)
{
	/*
	 * As a shell: 127 when there is nothing by that name, 126 when there
	 * is something that cannot run (a directory, no x bit, a bad format).
	 */
	return err == ENOENT ? EXIT_EXEC_NOT_FOUND : EXIT_EXEC_FAILED;
}
