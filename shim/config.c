/* The init's options and environment, turned into one configuration. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "envparse.h"
#include "log.h"
#include "sigtab.h"

const char config_usage[] =
	"usage: synthorg-shim [-h | -l | --version]\n"
	"       synthorg-shim [-sgwv] [-p SIGNAL] [-e CODE]... [--] COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND as the only child of a container init: forward signals to\n"
	"it, reap every zombie, and exit with its status.\n"
	"\n"
	"  -h          show this help and exit\n"
	"  -l          show the license and exit\n"
	"  --version   show the version (\"tini version ...\") and exit\n"
	"  -s          register as a child subreaper when not PID 1\n"
	"  -g          send forwarded signals to the child's process group\n"
	"  -e CODE     exit 0 when the child's status is CODE (0-255); repeatable\n"
	"  -p SIGNAL   ask the kernel for SIGNAL when the shim's parent dies\n"
	"  -w          warn when reaping a process that is not the child\n"
	"  -v          more verbose; repeat for more\n"
	"\n"
	"Environment: TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP, TINI_VERBOSITY,\n"
	"SYNTHORG_SHIM_GRACE_SECONDS (default 3), and the SYNTHORG_TELEMETRY_*\n"
	"variables of the README.  Telemetry is off unless opted in.\n";

const char config_license[] =
	"synthorg-shim is distributed under the MIT License.\n"
	"Copyright (c) 2026 The synthorg-shim authors.\n"
	"It includes libcurl (curl license), OpenSSL (Apache License 2.0),\n"
	"jansson (MIT), libseccomp (LGPL-2.1) and musl (MIT).\n";

static void usage_error(char *err, size_t size, const char *what,
			const char *arg)
{
	char q[128];

	snprintf(err, size, "%s %s; run synthorg-shim -h for usage", what,
		 log_quote(q, sizeof(q), arg));
}

/* Apply option C with its value VAL (NULL for flags). */
static enum config_result apply_option(struct shim_config *cfg, char c,
				       const char *val, char *err, size_t size)
{
	int code;

	switch (c) {
	case 'h':
		return CONFIG_HELP;
	case 'l':
		return CONFIG_LICENSE;
	case 's':
		cfg->subreaper = true;
		break;
	case 'g':
		cfg->kill_group = true;
		break;
	case 'w':
		cfg->warn_reap = true;
		break;
	case 'v':
		cfg->verbosity++;
		break;
	case 'e':
		if (parse_int_range(val, 0, 255, &code) < 0) {
			usage_error(err, size, "exit code not in 0-255:", val);
			return CONFIG_USAGE_ERROR;
		}
		exit_remap_add(&cfg->remap, code);
		break;
	case 'p':
		cfg->pdeath_sig = sig_parse(val);
		if (cfg->pdeath_sig < 0) {
			usage_error(err, size, "unknown signal", val);
			return CONFIG_USAGE_ERROR;
		}
		break;
	}
	return CONFIG_RUN;
}

/*
 * Walk one word of bundled short options ("-vvs", "-e2", "-e" "2").
 * *I points at the word and moves past any value taken from the next one.
 */
static enum config_result parse_word(struct shim_config *cfg, int argc,
				     char **argv, int *i, char *err,
				     size_t size)
{
	const char *p;
	enum config_result r;

	for (p = argv[*i] + 1; *p; p++) {
		const char *val = NULL;
		char opt[3] = { '-', *p, '\0' };

		if (!strchr("hlsgwvep", *p)) {
			usage_error(err, size, "unknown option", opt);
			return CONFIG_USAGE_ERROR;
		}
		if (*p == 'e' || *p == 'p') {
			if (p[1]) {
				val = p + 1;
			} else if (*i + 1 < argc) {
				val = argv[++*i];
			} else {
				usage_error(err, size, "missing value for",
					    opt);
				return CONFIG_USAGE_ERROR;
			}
		}
		r = apply_option(cfg, *p, val, err, size);
		if (r != CONFIG_RUN || val)
			return r;
	}
	return CONFIG_RUN;
}

static void apply_env(struct shim_config *cfg, env_getter getenv_fn)
{
	const char *v;
	uint64_t ms;
	int n;

	/* tini's variables switch on by presence, whatever their value. */
	if (getenv_fn("TINI_SUBREAPER"))
		cfg->subreaper = true;
	if (getenv_fn("TINI_KILL_PROCESS_GROUP"))
		cfg->kill_group = true;
	v = getenv_fn("TINI_VERBOSITY");
	if (v) {
		if (parse_int_range(v, 0, 10, &n) == 0)
			cfg->verbosity = n;
		else
			log_event(LOG_WARNING, "config.invalid",
				  "variable=TINI_VERBOSITY reason=not_0_to_10 default=%d",
				  cfg->verbosity);
	}
	v = getenv_fn("SYNTHORG_SHIM_GRACE_SECONDS");
	if (v) {
		if (parse_decimal(v, 1000, GRACE_MAX_MS, &ms) == 0)
			cfg->grace_ms = (unsigned)ms;
		else
			log_event(LOG_WARNING, "config.invalid",
				  "variable=SYNTHORG_SHIM_GRACE_SECONDS reason=not_seconds_0_to_3600 default=%u",
				  GRACE_DEFAULT_MS / 1000);
	}
}

enum config_result config_parse(struct shim_config *cfg, int argc, char **argv,
				env_getter getenv_fn, char *err, size_t errsize)
{
	enum config_result r;
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->verbosity = 1;
	cfg->grace_ms = GRACE_DEFAULT_MS;
	err[0] = '\0';

	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		return CONFIG_VERSION;

	/* The environment first, so that -v counts up from TINI_VERBOSITY. */
	apply_env(cfg, getenv_fn);

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break;
		if (argv[i][1] == '-') {
			usage_error(err, errsize, "unknown option", argv[i]);
			return CONFIG_USAGE_ERROR;
		}
		r = parse_word(cfg, argc, argv, &i, err, errsize);
		if (r != CONFIG_RUN)
			return r;
	}
	if (i >= argc) {
		snprintf(err, errsize,
			 "no command given; run synthorg-shim -h for usage");
		return CONFIG_USAGE_ERROR;
	}
	cfg->child_argv = argv + i;
	return CONFIG_RUN;
}
