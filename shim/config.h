/* The init's options and environment, turned into one configuration. */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "exitcode.h"

#define GRACE_DEFAULT_MS 3000u
#define GRACE_MAX_MS 3600000u

struct shim_config {
	char **child_argv;		/* COMMAND [ARG...], NULL-terminated */
	int verbosity;			/* tini's scale, default 1 */
	bool subreaper;			/* -s, TINI_SUBREAPER */
	bool kill_group;		/* -g, TINI_KILL_PROCESS_GROUP */
	bool warn_reap;			/* -w */
	int pdeath_sig;			/* -p, 0 when unset */
	struct exit_remap remap;	/* -e */
	unsigned grace_ms;		/* SYNTHORG_SHIM_GRACE_SECONDS */
};

enum config_result {
	CONFIG_RUN,		/* start the child */
	CONFIG_HELP,		/* print usage, exit 0 */
	CONFIG_LICENSE,		/* print the license, exit 0 */
	CONFIG_VERSION,		/* print the version line, exit 0 */
	CONFIG_USAGE_ERROR,	/* ERR holds one line; exit EXIT_SHIM_USAGE */
};

/* How the parser reads the environment; getenv in the binary. */
typedef const char *(*env_getter)(const char *name);

/*
 * Fill CFG from ARGV and the environment.  Options stop at the first word
 * that is not one, so "synthorg-shim sh -c 'x'" needs no "--".  An invalid
 * environment value is warned about once, by name, and its default kept;
 * it never stops the child from starting.
 */
enum config_result config_parse(struct shim_config *cfg, int argc, char **argv,
				env_getter getenv_fn, char *err, size_t errsize);

extern const char config_usage[];
extern const char config_license[];

#endif
