/* The one table of exit statuses the shim can return. */
#ifndef SHIM_EXITCODE_H
#define SHIM_EXITCODE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The shim's own statuses, used only when it never learnt the child's.
 * Everything else is the child's: its code, or 128 + the signal that
 * killed it, then the -e remaps.
 */
enum {
	EXIT_SHIM_FAILURE = 1,		/* a system call failed before the child ran */
	EXIT_SHIM_USAGE = 2,		/* bad option or missing command */
	EXIT_EXEC_FAILED = 126,		/* COMMAND found but could not be executed */
	EXIT_EXEC_NOT_FOUND = 127,	/* COMMAND not found */
	EXIT_SIGNAL_BASE = 128,		/* + N when the child died of signal N */
};

/* Statuses that -e maps to 0: one bit per status 0..255. */
struct exit_remap {
	uint8_t bits[32];
};

void exit_remap_add(struct exit_remap *map, int code);
bool exit_remap_has(const struct exit_remap *map, int code);

/* The status for a wait(2) status of the child, before remapping. */
int exit_status_of(int wstatus);

/* STATUS after the -e remaps. */
int exit_status_remap(const struct exit_remap *map, int status);

/* The status for an exec(2) failure with ERR: 127 or 126, as shells do. */
int exit_status_exec(int err);

#endif
